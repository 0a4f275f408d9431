"""Recall and work of the opt-in candidate mode, measured against an exhaustive run.

    python benchmarks/candidates.py RUN_DIR [--limits dhash=16,ahash=16 ...]

Without --limits, the settings of DEFAULT whose hashes the run computed (hashes.methods:
phash and dhash by default) are measured.

RUN_DIR is the working directory of a finished run made with exhaustive distances (the
default, `distances.candidates: {}`). For each candidate setting this prints:
- candidates: the fraction of all image pairs the mode would examine (counted with the
  pipeline's own kernel on the run's stored hashes), i.e. the share of edge-map work left;
- recall of the graph's edges (results/pairs.parquet) and of all stored pairs: the
  fraction the mode would still find. Both are exact, since the exhaustive run stored
  every distance of those pairs.
Ends with one JSON line per setting.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from panelmatch import bits, tables  # noqa: E402

DEFAULT = ["phash=12", "dhash=16", "ahash=16", "dhash=16,ahash=16", "dhash=20,ahash=20,phash=20"]


def parse(setting: str) -> dict[str, int]:
    out = {}
    for part in setting.split(","):
        name, _, value = part.partition("=")
        out[name.strip()] = int(value)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--limits", nargs="+", help="settings like dhash=16,ahash=16")
    args = ap.parse_args(argv)
    res = args.run / "results"
    hashes = tables.read_many(sorted((res / "hashes").glob("*.parquet")))
    computed = [c for c in hashes.columns if c not in ("image", "frame")]
    if args.limits is None:
        args.limits = [d for d in DEFAULT if set(parse(d)) <= set(computed)]
    for setting in args.limits:
        missing = sorted(set(parse(setting)) - set(computed))
        if missing:
            sys.exit(
                f"{args.run}: the run computed the hashes {computed} (hashes.methods);"
                f" {', '.join(missing)} of --limits {setting} is not among them"
            )
    linked = tables.read(res / "pairs.parquet")
    stored = tables.read_many(sorted((res / "distances").glob("*.parquet")))
    n = len(hashes)
    all_pairs = n * (n - 1) // 2
    print(f"{args.run}: {n} images, {len(stored)} stored pairs, {len(linked)} graph edges")
    for setting in args.limits:
        limits = parse(setting)
        keys = [np.zeros(0, np.int64)]
        for m, limit in limits.items():
            codes = bits.from_bytes(hashes[m])
            i, j = bits.within(codes, codes, limit, upper_only=True)
            keys.append(i * n + j)
        examined = len(np.unique(np.concatenate(keys)))

        def found(frame: pd.DataFrame, limits=limits) -> float:
            hit = np.zeros(len(frame), dtype=bool)
            for m, limit in limits.items():
                hit |= frame[m].to_numpy() <= limit
            return float(hit.mean()) if len(frame) else 1.0

        result = {
            "run": str(args.run),
            "limits": limits,
            "images": n,
            "candidates": examined,
            "candidate_fraction": examined / all_pairs if all_pairs else 0.0,
            "recall_graph_edges": found(linked),
            "recall_stored_pairs": found(stored),
        }
        print(
            f"  {setting:<28} examines {examined} of {all_pairs} pairs"
            f" ({100 * result['candidate_fraction']:.3f}%), recall: graph edges"
            f" {result['recall_graph_edges']:.3f}, stored pairs {result['recall_stored_pairs']:.3f}"
        )
        print(json.dumps(result))


if __name__ == "__main__":
    main()
