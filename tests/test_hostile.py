"""A hostile folder, every case at once, through the real workflow under a 4 GB address
space: a name that is not UTF-8, a FIFO, a link to /dev/zero, a 20 GB sparse file, a GIF
whose second frame declares 110 megapixels, a GIF whose second frame is cut short, and the
run's own working directory inside the folder; every frame of each animation is read."""

from __future__ import annotations

import io
import os
import resource
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import snakemake_cmd, write_config
from PIL import Image, ImageDraw

pytestmark = pytest.mark.workflow

#: The address space each process of the run may take (the issue's bound).
ADDRESS_SPACE = 4 * 1024**3


def drawing(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (120, 90), "white")
    draw = ImageDraw.Draw(image)
    for _ in range(8):
        line = tuple(int(v) for v in rng.integers(0, 120, 4))
        draw.line(line, fill=tuple(int(c) for c in rng.integers(0, 200, 3)), width=3)
    return image


def frame_blocks(image: Image.Image) -> bytes:
    """A GIF's blocks after its header, logical screen and global colour table."""
    buf = io.BytesIO()
    image.save(buf, "GIF")
    data = buf.getvalue()
    flags = data[10]
    return data[13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0) : -1]


def gif_then(second: bytes) -> bytes:
    """A one-frame GIF of drawing 7 followed by the frame blocks `second`."""
    buf = io.BytesIO()
    drawing(7).convert("P").save(buf, "GIF")
    return buf.getvalue()[:-1] + second + b";"


def hostile_folder(root: Path) -> None:
    root.mkdir()
    for k in range(4):
        drawing(k).save(root / f"scene{k}.gif")
    drawing(0).save(root / "scene0_copy.gif")
    with open(os.fsencode(root) + b"/caf\xe9.gif", "wb") as fh:  # Latin-1: not UTF-8
        drawing(1).save(fh, "GIF")
    os.mkfifo(root / "fifo.png")
    (root / "zero.gif").symlink_to("/dev/zero")
    with open(root / "huge.gif", "wb") as fh:
        fh.truncate(20 * 1024**3)  # sparse: no disk used
    bomb = Image.new("P", (11000, 10000), 0)  # one colour: 82 KB as a GIF
    (root / "bomb.gif").write_bytes(gif_then(frame_blocks(bomb)))
    whole = gif_then(frame_blocks(drawing(9).convert("P")))
    (root / "damaged.gif").write_bytes(whole[: len(whole) - 40])


def limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = snakemake_cmd(workdir, *args, configfile=workdir / "hostile.yaml")
    proc = subprocess.run(
        cmd, capture_output=True, text=True, cwd=workdir, preexec_fn=limited, timeout=900
    )
    proc.stdout += proc.stderr
    return proc


def test_a_hostile_folder_completes_and_accounts_for_every_entry(tmp_path):
    folder = tmp_path / "pictures"
    hostile_folder(folder)
    workdir = folder / "run"  # the run's own results/, logs/ and .snakemake/ inside it
    workdir.mkdir()
    cfg = {"source": {"folder": ".."}, "frames": {"mode": "all"}, "evaluation": {"truth": None}}
    write_config(workdir / "hostile.yaml", cfg)

    first = run(workdir)
    assert first.returncode == 0, first.stdout[-4000:]
    res = workdir / "results"
    failures = pd.read_csv(res / "failures.csv", keep_default_na=False).set_index("image")
    assert failures.loc["caf\\xe9.gif", "stage"] == "listing"
    assert failures.loc["caf\\xe9.gif", "reason"].startswith("undecodable_name")
    assert failures.loc["fifo.png", "reason"] == "not_a_regular_file: a FIFO"
    assert failures.loc["zero.gif", "reason"] == "not_a_regular_file: a character device"
    assert failures.loc["huge.gif", "reason"].startswith("too_large: 21474836480 bytes")
    assert failures.loc["bomb.gif", "stage"] == "frame"
    assert "frames.max_pixels" in failures.loc["bomb.gif", "reason"]
    assert failures.loc["damaged.gif", "stage"] == "frame"
    groups = pd.read_parquet(res / "groups.parquet").set_index("image")
    # processed: the scenes, and the animations from their frames before the bad one
    processed = {"scene0.gif", "scene0_copy.gif", "scene1.gif", "scene2.gif", "scene3.gif"}
    assert set(groups.index) == processed | {"bomb.gif", "damaged.gif"}
    assert groups.loc["scene0.gif", "group"] == groups.loc["scene0_copy.gif", "group"]
    # every image file of the folder is processed or failed; the run's own files are not
    # inputs; the counts agree
    summary = (res / "summary.txt").read_text()
    assert "inputs (images found):      11" in summary
    assert "images failed:              4  (6 rows in results/failures.csv" in summary
    assert "MISMATCH" not in summary
    skipped = pd.read_csv(res / "skipped.csv", keep_default_na=False)
    assert skipped["path"].tolist() == ["run/hostile.yaml"]
    assert not any("thumbs" in name for name in failures.index)

    again = run(workdir)
    assert again.returncode == 0, again.stdout[-4000:]
    assert "Nothing to be done" in again.stdout
    assert "they are not inputs" in again.stdout  # said once, where it applies


def test_a_nested_key_on_the_command_line(tmp_path):
    """Snakemake's own --config parser refuses a dotted key (`source.folder=x`) before the
    workflow is read; the form docs/robustness.md gives instead sets the nested key."""
    folder = tmp_path / "pictures"
    folder.mkdir()
    drawing(1).save(folder / "a.gif")
    cmd = snakemake_cmd(tmp_path, "-n", "--config", f"source={{folder: {folder}}}")
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "ingest" in proc.stdout + proc.stderr  # a folder run: the folder was read
