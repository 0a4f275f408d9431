"""Benchmark of the distance stage's kernel and shard code on random codes.

    python benchmarks/distances.py --n N --bits B [--max-distance D] [--density P]
        [--shards S] [--threads T] [--native]
    python benchmarks/distances.py            # the standard table

Times ``panelmatch.bits.pairs_within``, the call the pipeline's distances rule makes, on N
random codes of B bits (fixed seed; dense, or with a fraction P of bits set, like edge
maps), split into S chunk groups exactly as the workflow's shards are (all pairs once).
Compilation is done before timing (it is cached on disk after the first run). Prints a
readable line, then one JSON line with n, bits, max_distance, seconds, pairs_per_second,
peak_rss_mb, pairs_kept. --native also compiles and runs benchmarks/native_hamming.c
(gcc -O3 -march=native -fopenmp) on the same sizes, as the hardware-limit yardstick.
Not part of the test suite: it measures speed, the tests check behaviour.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from panelmatch import bits, chunks  # noqa: E402

STANDARD = [(1_000, 10_000), (9_442, 10_000), (30_000, 10_000), (9_442, 64), (100_000, 64)]


def random_codes(n: int, nbits: int, density: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, bits.words_for(nbits)), dtype=np.uint64)
    step = max(1, 2_000_000 // max(nbits, 1))
    for start in range(0, n, step):  # generate in slices: bounded memory
        rows = rng.random((min(step, n - start), nbits), dtype=np.float32) < density
        out[start : start + len(rows)] = bits.pack(rows)
    return out


def run(n: int, nbits: int, max_distance: int, density: float, shards: int, threads: int) -> dict:
    codes = random_codes(n, nbits, density)
    bits.set_threads(threads)
    warm = codes[: min(n, 8)]
    bits.pairs_within({"x": warm}, {"x": warm}, {"x": max_distance}, upper_only=True)
    bounds = np.linspace(0, n, shards + 1).astype(int)
    kept = 0
    start = time.perf_counter()
    for a, b in chunks.shards(shards):
        side_a = codes[bounds[a] : bounds[a + 1]]
        side_b = codes[bounds[b] : bounds[b + 1]]
        i, _, _ = bits.pairs_within({"x": side_a}, {"x": side_b}, {"x": max_distance}, a == b)
        kept += len(i)
    seconds = time.perf_counter() - start
    pairs = n * (n - 1) // 2
    return {
        "n": n,
        "bits": nbits,
        "max_distance": max_distance,
        "density": density,
        "shards": len(chunks.shards(shards)),
        "threads": threads,
        "seconds": round(seconds, 4),
        "pairs_per_second": round(pairs / seconds),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "pairs_kept": kept,
    }


def native(n: int, nbits: int, max_distance: int, threads: int) -> str:
    gcc = shutil.which("gcc")
    if gcc is None:
        return "native: gcc not found"
    src = Path(__file__).with_name("native_hamming.c")
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp) / "native_hamming"
        subprocess.run(
            [gcc, "-O3", "-march=native", "-fopenmp", str(src), "-o", str(exe)], check=True
        )
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        done = subprocess.run(
            [str(exe), str(n), str(nbits), str(max_distance)],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        return done.stdout.strip()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, help="number of codes (omit for the standard table)")
    ap.add_argument("--bits", type=int, default=10_000)
    ap.add_argument("--max-distance", type=int, help="cap (default: 15%% of the bits)")
    ap.add_argument("--density", type=float, default=0.5, help="fraction of bits set")
    ap.add_argument("--shards", type=int, default=1, help="chunk groups (shards = S(S+1)/2)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--native", action="store_true", help="also run the native C yardstick")
    args = ap.parse_args(argv)
    if args.n is None:
        print(f"# machine: {platform.machine()}, {os.cpu_count()} cores, {platform.processor()}")
        for n, nbits in STANDARD:
            cmd = [sys.executable, __file__, "--n", str(n), "--bits", str(nbits)]
            cmd += ["--threads", str(args.threads)] + (["--native"] if args.native else [])
            subprocess.run(cmd, check=True)  # one process per size: its own peak RSS
        return
    cap = args.max_distance if args.max_distance is not None else round(0.15 * args.bits)
    result = run(args.n, args.bits, cap, args.density, args.shards, args.threads)
    print(
        f"{result['n']:>7} codes x {result['bits']:>5} bits, cap {cap}, density {args.density}:"
        f" {result['seconds']:.3f} s, {result['pairs_per_second'] / 1e6:,.1f} M pairs/s,"
        f" {result['pairs_kept']} pairs kept, peak RSS {result['peak_rss_mb']} MB,"
        f" {result['shards']} shard(s), {result['threads']} thread(s)"
    )
    if args.native:
        print(native(args.n, args.bits, cap, args.threads))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
