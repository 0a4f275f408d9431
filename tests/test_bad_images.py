"""A folder holding every kind of broken or unusual file: each is processed or listed in
results/failures.csv with its reason, and processed + failed = inputs."""

import io
import struct
import zlib

import numpy as np
import pandas as pd
import pytest
from conftest import snakemake, write_config
from PIL import Image

pytestmark = pytest.mark.workflow


def encode(img, fmt, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def drawing(w=200, h=150, seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    arr = np.full((h, w, 3), 250, dtype=np.uint8)
    for _ in range(12):
        x, y = rng.integers(0, max(1, w - 20)), rng.integers(0, max(1, h - 20))
        arr[y : y + 15, x : x + 15] = rng.integers(0, 200, 3)
    return Image.fromarray(arr)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb() -> bytes:
    """A valid PNG header declaring 100,000 x 100,000 pixels (a few bytes of data)."""
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1000)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def broken_second_frame() -> bytes:
    first, second = drawing(seed=1), drawing(seed=2)
    data = encode(first.quantize(32), "GIF", save_all=True, append_images=[second.quantize(32)])
    one = encode(first.quantize(32), "GIF")
    return data[: len(one) + 40]  # first frame whole, second cut off in its data


def files() -> dict[str, bytes]:
    gif = encode(drawing().quantize(64), "GIF")
    transparent = drawing().quantize(16)
    rgba16 = np.asarray(drawing().convert("L"), dtype=np.uint16) * 257
    return {
        "ok/plain.gif": gif,
        "ok/same.gif": gif,
        "small/red_1x1.png": encode(Image.new("RGB", (1, 1), (200, 10, 10)), "PNG"),
        "small/blue_strip.png": encode(Image.new("RGB", (20_000, 2), (10, 10, 200)), "PNG"),
        "ok/very_wide.png": encode(drawing(12_000, 8), "PNG"),
        "ok/sixteen_bit.png": encode(Image.fromarray(rgba16), "PNG"),
        "ok/cmyk.jpg": encode(drawing().convert("CMYK"), "JPEG"),
        "ok/palette_transparent.gif": encode(transparent, "GIF", transparency=0),
        "ok/animated_broken_second_frame.gif": broken_second_frame(),
        "bad/zero_bytes.gif": b"",
        "bad/truncated.gif": gif[: len(gif) // 2],
        "bad/text_named.gif": b"hello, I am a text file\n",
        "bad/header_then_garbage.gif": b"GIF89a"
        + bytes(np.random.default_rng(3).integers(0, 256, 500, dtype=np.uint8)),
        "bad/bomb.png": bomb(),
    }


def test_every_bad_file_is_listed_and_the_rest_go_through(tmp_path):
    folder = tmp_path / "in"
    for rel, data in files().items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    run = tmp_path / "run"
    run.mkdir()
    cfg = {
        "source": {"folder": str(folder), "images_per_chunk": 4},
        "frames": {"max_pixels": 50_000_000},
        "evaluation": {"truth": None},
    }
    snakemake(run, configfile=write_config(tmp_path / "bad.yaml", cfg))
    groups = pd.read_csv(run / "results/groups.csv")
    failures = pd.read_csv(run / "results/failures.csv")
    assert sorted(groups["image"]) == sorted(k for k in files() if k.startswith("ok/"))
    reasons = dict(zip(failures["image"], failures["reason"], strict=True))
    assert sorted(reasons) == sorted(k for k in files() if k.startswith(("bad/", "small/")))
    # trivial images are too small to compare, not identical to each other
    assert reasons["small/red_1x1.png"] == (
        "too small to compare: 1x1 pixels, a side under frames.min_side (8)"
    )
    assert reasons["small/blue_strip.png"].startswith("too small to compare: 20000x2")
    assert reasons["bad/zero_bytes.gif"] == "empty file"
    assert reasons["bad/text_named.gif"].startswith("not a recognised image")
    assert reasons["bad/bomb.png"].startswith("image too large")
    assert reasons["bad/truncated.gif"].startswith(("corrupt image data", "unreadable"))
    assert set(failures["stage"]) == {"frames"}
    assert (failures["input"] == str(folder) + "/" + failures["image"]).all()
    by_image = groups.set_index("image")
    assert by_image.loc["ok/plain.gif", "group"] == by_image.loc["ok/same.gif", "group"]
    summary = (run / "results/summary.txt").read_text()
    assert (
        "inputs (images found):      14" in summary and "processed + failed:         14" in summary
    )
    assert "too small to compare: 2" in summary


def test_every_frame_mode_keeps_the_frames_before_a_broken_one(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "broken.gif").write_bytes(broken_second_frame())
    (folder / "plain.gif").write_bytes(encode(drawing().quantize(64), "GIF"))
    run = tmp_path / "run"
    run.mkdir()
    cfg = {"source": {"folder": str(folder)}, "frames": {"mode": "all"}}
    snakemake(run, configfile=write_config(tmp_path / "all.yaml", cfg))
    groups = pd.read_csv(run / "results/groups.csv")
    assert sorted(groups["image"]) == ["broken.gif", "plain.gif"]
    edges = pd.read_parquet(next((run / "results/frame_features").glob("*.parquet")))
    assert edges.loc[edges["image"] == "broken.gif", "frame"].tolist() == [0]
    failures = pd.read_csv(run / "results/failures.csv")
    assert failures[["image", "stage"]].values.tolist() == [["broken.gif", "frame"]]
    assert failures["reason"][0] == "frame 1: truncated: the file ends before its trailer"
    summary = (run / "results/summary.txt").read_text()
    assert "processed + failed:         2" in summary and "images failed:              0" in summary
    assert "frames dropped:             1 (undecodable frames of 1 processed images" in summary
