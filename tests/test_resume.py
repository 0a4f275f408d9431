"""Interruption and determinism: a SIGKILLed run resumes to the same results, downloads
are not repeated, no half-written file looks finished, and clean runs are byte-identical."""

import copy
import os
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import SMALL_DEMO, snakemake, snakemake_cmd, write_config

pytestmark = pytest.mark.workflow
FINAL = ["groups.parquet", "pairs.parquet", "summary.txt"]


def start(workdir: Path, configfile: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        snakemake_cmd(workdir, *args, configfile=configfile),
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill_when(proc: subprocess.Popen, ready, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline, "the interruption point was never reached"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def assert_nothing_half_written(workdir: Path) -> None:
    for path in (workdir / "results").rglob("*.parquet"):
        pq.read_metadata(path)  # raises on a partial file
    assert not [p for p in (workdir / "results").rglob("*.tmp")], "temporary files promoted"


def images_on_disk(workdir: Path) -> set[str]:
    folder = workdir / "results/images"
    return (
        {p.name for p in folder.iterdir() if not p.name.startswith(".")}
        if folder.is_dir()
        else set()
    )


def test_kill_during_scrape_resumes_without_downloading_again(small_demo_run, serve, tmp_path):
    server = serve(small_demo_run / "resources/demo/site", delay=0.08)
    cfg = copy.deepcopy(SMALL_DEMO)
    cfg["source"]["site"].update({"root": server.url, "delay": 0.0, "concurrency": 1})
    path = write_config(tmp_path / "web.yaml", cfg)
    proc = start(tmp_path, path)
    kill_when(proc, lambda: len(images_on_disk(tmp_path)) >= 6)
    had = images_on_disk(tmp_path)
    manifests = list((tmp_path / "results/manifest").glob("*.parquet"))
    assert len(manifests) < 3, "scraping had already finished"
    assert_nothing_half_written(tmp_path)

    server.requests.clear()
    snakemake(tmp_path, "--unlock", configfile=path)
    snakemake(tmp_path, configfile=path)
    manifest = pd.concat(
        pd.read_parquet(p) for p in (tmp_path / "results/manifest").glob("*.parquet")
    )
    ok = manifest[manifest["status"] == "ok"]
    file_of_path = {
        urlsplit(url).path: Path(local).name
        for url, local in zip(ok["url"], ok["path"], strict=True)
    }
    fetched_again = {file_of_path.get(r) for r in server.requests} - {None}
    assert had and fetched_again and not (fetched_again & had)
    assert any(r.startswith("/images/") for r in server.requests)  # the rest was fetched
    cols = ["image", "page", "group", "group_size"]
    got = pd.read_parquet(tmp_path / "results/groups.parquet")[cols]
    pd.testing.assert_frame_equal(
        got, pd.read_parquet(small_demo_run / "results/groups.parquet")[cols]
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "results/pairs.parquet"),
        pd.read_parquet(small_demo_run / "results/pairs.parquet"),
    )


def test_kill_during_distances_resumes_to_identical_results(small_demo_run, tmp_path):
    path = write_config(tmp_path / "c.yaml", SMALL_DEMO)
    proc = start(tmp_path, path, "--cores", "1")
    shards = tmp_path / "results/distances"
    kill_when(proc, lambda: shards.is_dir() and len(list(shards.glob("*.parquet"))) >= 2)
    assert len(list(shards.glob("*.parquet"))) < 6, "the distance stage had already finished"
    assert not (tmp_path / "results/groups.parquet").exists()
    assert_nothing_half_written(tmp_path)
    snakemake(tmp_path, "--unlock", configfile=path)
    snakemake(tmp_path, configfile=path)
    for name in FINAL:
        assert (tmp_path / "results" / name).read_bytes() == (
            small_demo_run / "results" / name
        ).read_bytes(), name


def test_two_clean_runs_are_byte_identical(small_demo_run, tmp_path):
    snakemake(tmp_path, configfile=write_config(tmp_path / "c.yaml", SMALL_DEMO))
    for name in FINAL + ["groups.csv", "failures.csv"]:
        assert (tmp_path / "results" / name).read_bytes() == (
            small_demo_run / "results" / name
        ).read_bytes(), name
