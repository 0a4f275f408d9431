"""Growth without recomputation: a longer comic or a fuller folder computes only what is new,
and ends exactly where a clean run over the whole input ends."""

import copy
import re
import shutil

import pytest
from conftest import SMALL_DEMO, snakemake, write_config

pytestmark = pytest.mark.workflow

#: What these tests compare; the report stages are left out to keep them quick.
TARGETS = ("results/groups.parquet", "results/pairs.parquet", "results/neighbours.parquet")


def job_counts(output: str) -> dict[str, int]:
    """The job counts Snakemake prints before running ("Job stats")."""
    table = output.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def same_files(a, b, names):
    for name in names:
        assert (a / "results" / name).read_bytes() == (b / "results" / name).read_bytes(), name


def test_a_longer_comic_computes_only_the_new_chunk(small_demo_run, tmp_path):
    cfg = copy.deepcopy(SMALL_DEMO)
    cfg["source"]["site"]["last_page"] = 16  # chunks 1-8 and 9-16
    path = write_config(tmp_path / "grow.yaml", cfg)
    snakemake(tmp_path, *TARGETS, configfile=path)
    cfg["source"]["site"]["last_page"] = 24  # adds chunk 17-24
    write_config(path, cfg)
    jobs = job_counts(snakemake(tmp_path, *TARGETS, configfile=path).stdout)
    for rule in ("scrape", "features"):
        assert jobs[rule] == 1, (rule, jobs)
    # chunks_per_shard 2: groups [0, 1] and [2]; the shards with the new group: (0,1), (1,1)
    assert jobs["distances"] == 2
    # the same result as the clean run over pages 1-24
    same_files(tmp_path, small_demo_run, ["groups.parquet", "pairs.parquet", "neighbours.parquet"])


def test_a_fuller_folder_computes_only_new_chunks(small_demo_run, tmp_path):
    images = sorted((small_demo_run / "results/images").glob("*.gif"))
    folder = tmp_path / "panels"
    folder.mkdir()
    for k, image in enumerate(images[:20]):
        shutil.copy(image, folder / f"p{k:03d}.gif")
    cfg = {"source": {"folder": str(folder), "images_per_chunk": 6}, "evaluation": {"truth": None}}
    grown = tmp_path / "grown"
    grown.mkdir()
    path = write_config(tmp_path / "folder.yaml", cfg)
    snakemake(grown, *TARGETS, configfile=path)  # chunks of 6, 6, 6, 2
    for k, image in enumerate(images[20:], start=20):
        shutil.copy(image, folder / f"p{k:03d}.gif")
    jobs = job_counts(snakemake(grown, *TARGETS, configfile=path).stdout)
    new_chunks = -(-len(images) // 6) - 3  # the last old chunk fills up, the rest is new
    for rule in ("ingest", "features"):
        assert jobs[rule] == new_chunks, (rule, jobs)
    # groups of 2 chunks: only shard (0,0) involves no grown or new chunk
    groups = -(-(new_chunks + 3) // 2)
    assert jobs["distances"] == groups * (groups + 1) // 2 - 1
    clean = tmp_path / "clean"
    clean.mkdir()
    snakemake(clean, *TARGETS, configfile=path)
    same_files(grown, clean, ["groups.parquet", "pairs.parquet", "neighbours.parquet"])
