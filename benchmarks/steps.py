"""Where the features pass spends its time: milliseconds per panel of each step, on one
core, with the default configuration.

    python benchmarks/steps.py [--corpus /tmp/panelmatch-corpus-9442] [--panels 600] [--repeat 3]

Takes the first --panels GIFs of the throughput corpus (``benchmarks/throughput.py``
generates it) and times, each over all of them: reading and decoding the file
(``frames.read_file``), the resize before Canny, Canny, the black-and-white map, the grey
conversion and perceptual hashes, the text-line signature, the thumbnail,
``features.describe`` (all steps on a decoded frame) and ``features.from_file`` (all of
it), and the reference loop body (the train/test notebook's imagehash pHash of the opened
file) as the yardstick.
Each step's figure is the best of --repeat passes (the machine is noisy). The first pass
also compiles and checks what needs it. Prints a table and one JSON line. Not a test: it
measures speed.
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from panelmatch import colour, edges, features, frames, hashes, textlines  # noqa: E402
from panelmatch.settings import Edges, FrameSelection, Hashes  # noqa: E402


def best_ms(fn, items, repeat: int) -> float:
    """Milliseconds per item of fn over items, the best of `repeat` passes."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for item in items:
            fn(item)
        best = min(best, time.perf_counter() - start)
    return 1000 * best / len(items)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path("/tmp/panelmatch-corpus-9442"))
    ap.add_argument("--panels", type=int, default=600)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    paths = sorted(glob.glob(str(args.corpus / "*" / "*.gif")))[: args.panels]
    if not paths:
        sys.exit(f"no GIFs under {args.corpus}: run benchmarks/throughput.py first")
    features.steady_allocator()
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    selection = FrameSelection.within(cfg["frames"])
    edge_settings, hash_settings = Edges.of(cfg["edges"]), Hashes.of(cfg["hashes"])
    e, h = cfg["edges"], cfg["hashes"]
    thumb = cfg["frames"]["thumbnail_size"]
    size = (e["width"], e["height"])
    rgbs = [frames.read_file(p, selection).kept[0].rgb for p in paths]
    smalls = [edges.resize(rgb, size, e["resample"]) for rgb in rgbs]

    import imagehash
    from PIL import Image

    steps = {
        "read and decode": (lambda p: frames.read_file(p, selection), paths),
        "resize before Canny": (lambda r: edges.resize(r, size, e["resample"]), rgbs),
        "Canny": (lambda s: edges.canny(s, e["canny_low"], e["canny_high"], e["channels"]), smalls),
        "black and white": (lambda s: edges.black_and_white(s, e["bw_threshold"]), smalls),
        "grey and hashes": (
            lambda r: hashes.perceptual_hashes(r, h["methods"], h["hash_size"]),
            rgbs,
        ),
        "text lines": (textlines.signature, rgbs),
        "hue histogram": (colour.histogram, smalls),
        "thumbnail": (lambda r: frames.thumbnail(r, thumb), rgbs),
        "describe (all on a frame)": (
            lambda r: features.describe(r, edge_settings, hash_settings, None, thumb),
            rgbs,
        ),
        "from_file (all of it)": (
            lambda p: features.from_file(p, selection, edge_settings, hash_settings, thumb),
            paths,
        ),
        "reference loop body (imagehash pHash)": (lambda p: imagehash.phash(Image.open(p)), paths),
    }
    for fn, items in steps.values():  # compile, check, warm the caches
        fn(items[0])
    out = {name: round(best_ms(fn, items, args.repeat), 3) for name, (fn, items) in steps.items()}
    width = max(map(len, out))
    print(f"{len(paths)} panels of {args.corpus}, one core, best of {args.repeat}")
    print(f"{'step':<{width}}  ms per panel")
    for name, ms in out.items():
        print(f"{name:<{width}}  {ms:8.3f}")
    print(json.dumps({"panels": len(paths), "repeat": args.repeat, "ms_per_panel": out}))


if __name__ == "__main__":
    main()
