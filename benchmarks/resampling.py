"""Does resampling.py earn its place? Its compiled copy of Pillow's resize and grey
conversion against plain Pillow, per image, on the work the features pass does.

    python benchmarks/resampling.py [--varied 2000] [--shapes 200] [--corpus DIR] [--panels 2000]

Two inputs, each timed in a fresh state (no shape seen before):

- ``varied``: --varied RGB images in --shapes different shapes (sides 60..2,400 pixels, a
  fixed seed), the case of a folder of photos or scans of every size: the compiled copy
  runs only for a shape seen (and checked against Pillow) before;
- ``unique``: as many images, every one a shape of its own: the worst case of the copy;
- ``corpus``: --panels panels of the throughput corpus (650 x 450 GIFs, decoded first and
  not timed), the case of a comic.

For each image, both paths do what the features pass does: the box resize of the frame to
100 x 100 (before Canny), and the grey conversion and Lanczos thumbnails of pHash (32 x
32) and dHash (9 x 8); both give the same bits (checked). Prints the milliseconds per
image of each path and their ratio, then one JSON line. Not a test: it measures speed.
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
import time
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from panelmatch import frames, resampling  # noqa: E402
from panelmatch.settings import FrameSelection  # noqa: E402


def compiled(rgb: np.ndarray) -> tuple[np.ndarray, ...]:
    small = resampling.resize(rgb, (100, 100), "box")
    grey = resampling.grey(rgb)
    return (
        small,
        resampling.resize(grey, (32, 32), "lanczos"),
        resampling.resize(grey, (9, 8), "lanczos"),
    )


def pillow(rgb: np.ndarray) -> tuple[np.ndarray, ...]:
    img = Image.fromarray(rgb, "RGB")
    small = np.asarray(img.resize((100, 100), Image.Resampling.BOX))
    grey = img.convert("L")
    return (
        small,
        np.asarray(grey.resize((32, 32), Image.Resampling.LANCZOS)),
        np.asarray(grey.resize((9, 8), Image.Resampling.LANCZOS)),
    )


def clear() -> None:
    resampling.cache_clear()


def time_path(fn, images) -> float:
    clear()
    start = time.perf_counter()
    for rgb in images:
        fn(rgb)
    return (time.perf_counter() - start) / len(images) * 1e3


def measure(name: str, images: list[np.ndarray]) -> dict:
    for rgb in images[:50]:  # the same bits, or the comparison means nothing
        for a, b in zip(compiled(rgb), pillow(rgb), strict=True):
            assert np.array_equal(a, b), name
    compiled(images[0])  # load the compiled code outside the timing
    rounds = [(time_path(compiled, images), time_path(pillow, images)) for _ in range(3)]
    ours, theirs = min(r[0] for r in rounds), min(r[1] for r in rounds)
    print(
        f"{name:<8} {len(images):>6} images in {len({i.shape for i in images}):>4} shapes:"
        f" compiled {ours:.3f} ms, Pillow {theirs:.3f} ms per image, ratio {ours / theirs:.2f}"
    )
    return {"images": len(images), "compiled_ms": round(ours, 4), "pillow_ms": round(theirs, 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--varied", type=int, default=2000)
    ap.add_argument("--shapes", type=int, default=200)
    ap.add_argument("--corpus", type=Path, default=Path("/tmp/panelmatch-corpus-9442"))
    ap.add_argument("--panels", type=int, default=2000)
    args = ap.parse_args()
    rng = np.random.default_rng(17)
    shapes = [
        (int(rng.integers(60, 2400)), int(rng.integers(60, 2400))) for _ in range(args.shapes)
    ]
    varied = [
        rng.integers(0, 256, (*shapes[k % len(shapes)], 3), dtype=np.uint8)
        for k in range(args.varied)
    ]
    out = {"varied": measure("varied", varied)}
    unique = [
        rng.integers(
            0, 256, (int(rng.integers(60, 2400)), int(rng.integers(60, 2400)), 3), dtype=np.uint8
        )
        for _ in range(min(args.varied, 500))
    ]
    out["unique"] = measure("unique", unique)
    paths = sorted(glob.glob(str(args.corpus / "*" / "*.gif")))[: args.panels]
    if paths:
        frames_section = yaml.safe_load((REPO / "config.yaml").read_text())["frames"]
        settings = FrameSelection.within(frames_section)
        panels = [frames.read_file(p, settings).kept[0].rgb for p in paths]
        out["corpus"] = measure("corpus", panels)
    else:
        print(f"corpus: skipped, no GIFs under {args.corpus} (run benchmarks/throughput.py)")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
