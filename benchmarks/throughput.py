"""End-to-end throughput: a full-size corpus of GIF panels through the real workflow.

    python benchmarks/throughput.py [--images 9442] [--corpus DIR] [--workdir DIR]
        [--cores 2] [--images-per-chunk N] [--chunks-per-shard N] [--configfile EXTRA.yaml]
        [--target groups|default|both] [--reference] [--repeat N]
        [--truth] [--embeddings] [--query N]

Generates, once and deterministically, N GIF panels of 650x450 in --corpus (outside the
repository; default /tmp/panelmatch-corpus-N). They are derived from the demo comic's
scenes: 1 in 5 is a fresh drawing, the others reuse one with a crop, a shift, a recolour
(palette permutation), new lettering, or an exact copy. Then it runs the real workflow in
folder mode from a clean results directory, up to results/groups.parquet (``--target
groups``, the default), the default target (``default``: what ``snakemake --cores all``
builds, the gallery included) or both, and prints for each the wall time of each stage
(sums and maxima of Snakemake's benchmark files), the total wall time, the peak memory of
any job, and images per second.

``--reference`` also times the reference method (the train/test notebook's pHash loop) on
the same corpus, in a child process like the workflow: imagehash's pHash of every image,
one core, the pairs within 10 bits, and connected components (:func:`reference_loop`). It
prints the ratio of each target's wall time to it. With ``--repeat N`` the runs are
interleaved N times (reference, then each target) and the medians are reported: the
machine is noisy, the ratios within a round are not.
``--truth``, ``--embeddings`` and ``--query N`` add the stages a user may add, to measure
their memory at scale: a ground truth written from the corpus's own drawings (so
``evaluate`` runs), a random-projection ONNX model built here with the onnx helper API (so
``embeddings`` and ``embedding_groups`` run; no download), and ``python -m panelmatch query``
of N corpus images against the finished run (its wall time and peak RSS are printed). With
either of the first two the groups target also builds their outputs.
Ends with one JSON line. Not part of the test suite: it measures speed, the tests check
behaviour.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import democomic as demo  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

BASES = 400  # distinct drawings of a corpus of up to 10,000 panels
PER_BASE = 25  # larger corpora: one drawing per 25 panels, so reuse stays comic-like


def base_of(k: int, images: int) -> int:
    """The drawing panel k reuses. Up to 10,000 panels: one of 400 at random (the corpus
    the published figures used); beyond, 25 consecutive panels share one, so the number of
    drawings grows with the corpus instead of each being reused thousands of times."""
    if images <= 10_000:
        return random.Random(k * 7919).randrange(BASES)
    return k // PER_BASE


def _base(k: int) -> Image.Image:
    rng = random.Random(10_000 + k)
    scene = demo.new_scene(rng, demo.HEIGHT, busy=rng.random() < 0.1)
    return Image.open(io.BytesIO(demo.to_gif([demo.render(scene)]))).convert("P")


def _variant(base: Image.Image, k: int) -> bytes:
    rng = random.Random(k)
    img = base.copy()
    kind = rng.choice(["crop", "shift", "recolour", "letter", "exact"])
    if kind == "crop":
        c = rng.uniform(0.02, 0.05)
        w, h = img.size
        img = img.crop((int(w * c), int(h * c), int(w * (1 - c)), int(h * (1 - c))))
        img = img.resize((w, h), Image.Resampling.NEAREST)
    elif kind == "shift":
        dx, dy = rng.randint(-9, 9), rng.randint(-7, 7)
        moved = Image.new("P", img.size, 0)
        moved.putpalette(img.getpalette())
        moved.paste(img, (dx, dy))
        img = moved
    elif kind == "recolour":
        palette = img.getpalette()
        colours = [palette[i : i + 3] for i in range(0, len(palette), 3)]
        dark = [i for i, c in enumerate(colours) if sum(c) < 120]  # keep the ink
        other = [i for i in range(len(colours)) if i not in dark]
        shuffled = other[:]
        rng.shuffle(shuffled)
        new = list(colours)
        for src, dst in zip(other, shuffled, strict=True):
            new[src] = colours[dst]
        img.putpalette([v for c in new for v in c])
    elif kind == "letter":
        draw = ImageDraw.Draw(img)
        x0, y0 = rng.randint(10, 200), rng.choice([10, 360])
        draw.rectangle([x0, y0, x0 + 420, y0 + 70], fill=0, outline=1, width=3)
        for line in range(2):
            draw.text((x0 + 16, y0 + 12 + 24 * line), " ".join(demo.sentence(rng)), fill=1)
    buf = io.BytesIO()
    img.save(buf, format="GIF")
    return buf.getvalue()


def _write(args: tuple[int, int, str, int]) -> None:
    start, stop, folder, images = args
    bases: dict[int, Image.Image] = {}
    for k in range(start, stop):
        b = base_of(k, images)
        if b not in bases:
            bases[b] = _base(b)
        data = (
            _variant(bases[b], k)
            if k % 5
            else demo.to_gif([demo.render(demo.new_scene(random.Random(50_000 + k)))])
        )
        Path(folder, f"{k // 1000:03d}", f"{k:06d}.gif").write_bytes(data)


def make_corpus(folder: Path, images: int, cores: int) -> float:
    """Write the corpus unless it is complete already; returns the seconds spent."""
    stamp = folder / ".complete"
    version = f"{images} panels, drawings per {'25' if images > 10_000 else 'random 400'}"
    if stamp.is_file() and stamp.read_text() in (version, str(images) * (images <= 10_000)):
        return 0.0
    start = time.perf_counter()
    shutil.rmtree(folder, ignore_errors=True)
    for sub in range(-(-images // 1000)):
        (folder / f"{sub:03d}").mkdir(parents=True, exist_ok=True)
    step = 500
    jobs = [(s, min(images, s + step), str(folder), images) for s in range(0, images, step)]
    with multiprocessing.Pool(cores) as pool:
        pool.map(_write, jobs)
    stamp.write_text(version)
    return time.perf_counter() - start


def write_truth(corpus: Path, images: int, out: Path) -> Path:
    """image,group of the corpus: a reuse shares its drawing's group; a fresh drawing (every
    fifth panel) is alone. Image names are relative to the corpus, as in folder mode."""
    with open(out, "w", encoding="utf-8") as fh:
        fh.write("image,group\n")
        for k in range(images):
            group = f"d{base_of(k, images)}" if k % 5 else ""
            fh.write(f"{k // 1000:03d}/{k:06d}.gif,{group}\n")
    return out


def write_model(out: Path, size: int = 32, dims: int = 64) -> Path:
    """An ONNX model of a fixed random projection: each RGB input (n, 3, size, size), minus
    its own mean, times a seeded Gaussian matrix to `dims` values. Cosine similarity of the
    outputs approximates the correlation of the pixels, so related panels are close and
    unrelated ones are not, as with a real fingerprint model (but with no download)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    flat = 3 * size * size
    weight = np.random.default_rng(0).standard_normal((flat, dims)).astype(np.float32)
    x = helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["n", 3, size, size])
    y = helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", dims])
    nodes = [
        helper.make_node("Flatten", ["pixels"], ["flat"], axis=1),
        helper.make_node("ReduceMean", ["flat"], ["mean"], axes=[1], keepdims=1),
        helper.make_node("Sub", ["flat", "mean"], ["centred"]),
        helper.make_node("MatMul", ["centred", "w"], ["features"]),
    ]
    weights = [numpy_helper.from_array(weight, "w")]
    graph = helper.make_graph(nodes, "panelmatch-benchmark", [x], [y], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
    return out


def run_query(corpus: Path, workdir: Path, count: int) -> dict:
    """`python -m panelmatch query` of `count` corpus images against the finished run in
    `workdir`, in a child process: its wall time and peak RSS (from wait4)."""
    files = sorted(corpus.rglob("*.gif"))
    step = max(1, len(files) // count)
    chosen = [str(f) for f in files[::step][:count]]
    cmd = [
        sys.executable,
        "-m",
        "panelmatch",
        "query",
        *chosen,
        "--results",
        str(workdir / "results"),
        "--csv",
        str(workdir / "query.csv"),
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO / "scripts"))
    errors = workdir / "query.log"  # a file, not a pipe: nothing is read until it ends
    start = time.perf_counter()
    with open(errors, "wb") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"query failed ({errors}): {errors.read_text()[-3000:]}")
    return {
        "queries": len(chosen),
        "wall_seconds": round(wall, 2),
        "peak_mb": round(usage.ru_maxrss / 1024, 1),
    }


def stage_times(workdir: Path) -> dict[str, dict[str, float]]:
    """Per rule: jobs, summed seconds, longest job, and peak RSS from benchmark files."""
    out: dict[str, dict[str, float]] = {}
    root = workdir / "results" / "benchmarks"
    for tsv in sorted(root.rglob("*.tsv")):
        rule = tsv.relative_to(root).parts[0].removesuffix(".tsv")
        header, values = tsv.read_text().splitlines()[:2]
        row = dict(zip(header.split("\t"), values.split("\t"), strict=False))
        seconds = float(row["s"])
        rss = float(row["max_rss"]) if row.get("max_rss", "NA") != "NA" else 0.0
        r = out.setdefault(rule, {"jobs": 0, "seconds": 0.0, "longest": 0.0, "peak_mb": 0.0})
        r["jobs"] += 1
        r["seconds"] += seconds
        r["longest"] = max(r["longest"], seconds)
        r["peak_mb"] = max(r["peak_mb"], rss)
    return out


def reference_loop(corpus: Path, out: Path) -> int:
    """The reference method, as a user of the train/test notebook would run it on the
    corpus: imagehash's pHash of each image in one loop on one core, every pair within 10
    bits (vectorised: the XOR and popcount of one hash against all later ones), and the
    connected components of those pairs (networkx), written to `out` as image,group.
    Returns the pairs found."""
    import imagehash
    import networkx as nx
    import numpy as np

    files = sorted(str(p.relative_to(corpus)) for p in corpus.rglob("*.gif"))
    codes = np.array(
        [
            np.packbits(imagehash.phash(Image.open(corpus / f)).hash.flatten()).view(">u8")[0]
            for f in files
        ],
        dtype=np.uint64,
    )
    graph = nx.Graph()
    graph.add_nodes_from(range(len(files)))
    pairs = 0
    for i in range(len(files) - 1):
        near = np.flatnonzero(np.bitwise_count(codes[i + 1 :] ^ codes[i]) <= 10) + i + 1
        graph.add_edges_from((i, int(j)) for j in near)
        pairs += len(near)
    with open(out, "w", encoding="utf-8") as fh:
        fh.write("image,group\n")
        for k, members in enumerate(nx.connected_components(graph)):
            fh.writelines(f"{files[i]},{k}\n" for i in sorted(members))
    return pairs


def run_target(target: str, args, corpus: Path, workdir: Path) -> dict:
    """One clean run of the workflow up to `target` (groups or default); its figures."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    cfg = {"source": {"folder": str(corpus)}, "evaluation": {"truth": None}}
    extras = []
    if args.truth:
        cfg["evaluation"]["truth"] = str(write_truth(corpus, args.images, workdir / "truth.csv"))
        extras.append("results/evaluation.json")
    if args.embeddings:
        cfg["embeddings"] = {"model": str(write_model(workdir / "projection.onnx"))}
        extras.append("results/embedding_groups.parquet")
    if args.query:
        extras.append("results/settings.json")  # what the query reads besides the features
    if args.images_per_chunk:
        cfg["source"]["images_per_chunk"] = args.images_per_chunk
    if args.chunks_per_shard:
        cfg["distances"] = {"chunks_per_shard": args.chunks_per_shard}
    (workdir / "bench.yaml").write_text(json.dumps(cfg))
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        *(["results/groups.parquet", *extras] if target == "groups" else []),
        "-s",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--cores",
        str(args.cores),
        "--configfile",
        str(workdir / "bench.yaml"),
        *(str(c) for c in args.configfile),
    ]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"snakemake failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    stages = stage_times(workdir)
    return {"wall_seconds": wall, "stages": stages}


def run_reference(corpus: Path, workdir: Path) -> float:
    """Wall seconds of :func:`reference_loop` in a child process (start-up included)."""
    workdir.mkdir(parents=True, exist_ok=True)
    out = str(workdir / "reference.csv")
    cmd = [sys.executable, __file__, "--reference-loop", str(corpus), out]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def print_stages(name: str, result: dict, images: int, cores: int) -> None:
    stages, wall = result["stages"], result["wall_seconds"]
    busy = sum(s["seconds"] for s in stages.values())
    print(f"\n{name}:")
    print(
        f"{'stage':<16} {'jobs':>5} {'job-seconds':>12} {'share':>6} {'longest':>8} {'peak MB':>8}"
    )
    for rule, s in sorted(stages.items(), key=lambda kv: -kv[1]["seconds"]):
        print(
            f"{rule:<16} {s['jobs']:>5} {s['seconds']:>12.1f} {s['seconds'] / busy:>6.0%}"
            f" {s['longest']:>8.1f} {s['peak_mb']:>8.0f}"
        )
    peak = max((s["peak_mb"] for s in stages.values()), default=0.0)
    print(
        f"total: {wall:.1f} s wall for {images} images ({images / wall:.0f} images/s),"
        f" {busy:.1f} job-seconds on {cores} cores, peak job RSS {peak:.0f} MB"
    )


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--reference-loop":
        reference_loop(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=9442)
    ap.add_argument("--corpus", type=Path)
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--images-per-chunk", type=int, default=None)
    ap.add_argument("--chunks-per-shard", type=int, default=None)
    ap.add_argument("--configfile", type=Path, action="append", default=[])
    ap.add_argument("--target", choices=["groups", "default", "both"], default="groups")
    ap.add_argument("--reference", action="store_true", help="also time the reference pHash loop")
    ap.add_argument("--repeat", type=int, default=1, help="interleaved rounds (medians)")
    ap.add_argument("--truth", action="store_true", help="also score against the drawings")
    ap.add_argument("--embeddings", action="store_true", help="also a projection model")
    ap.add_argument("--query", type=int, default=0, help="then query this many images")
    args = ap.parse_args()
    corpus = args.corpus or Path(f"/tmp/panelmatch-corpus-{args.images}")
    workdir = args.workdir or Path(f"/tmp/panelmatch-throughput-{args.images}")
    generated = make_corpus(corpus, args.images, args.cores)
    print(f"corpus: {args.images} GIFs in {corpus} (generated in {generated:.0f} s)")

    targets = ["groups", "default"] if args.target == "both" else [args.target]
    rounds = []
    for k in range(args.repeat):
        found = {}
        if args.reference:
            where = workdir.with_name(workdir.name + "-reference")
            found["reference"] = run_reference(corpus, where)
        for target in targets:
            where = workdir.with_name(f"{workdir.name}-{target}")
            found[target] = run_target(target, args, corpus, where)
        rounds.append(found)
        line = ", ".join(f"{t} {found[t]['wall_seconds']:.1f} s" for t in targets) + (
            f", reference {found['reference']:.1f} s" if args.reference else ""
        )
        print(f"round {k + 1}: {line}", flush=True)
    last = rounds[-1]
    for target in targets:
        name = f"target {target} (round {args.repeat})"
        print_stages(name, last[target], args.images, args.cores)
    queried = {}
    if args.query:
        for target in targets:
            where = workdir.with_name(f"{workdir.name}-{target}")
            queried[target] = q = run_query(corpus, where, args.query)
            print(
                f"query ({target}): {q['queries']} images in {q['wall_seconds']} s,"
                f" peak RSS {q['peak_mb']:.0f} MB"
            )

    def median(values):
        values = sorted(values)
        mid = len(values) // 2
        return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2

    summary = {
        "images": args.images,
        "cores": args.cores,
        "rounds": args.repeat,
        "wall_seconds": {
            t: round(median([r[t]["wall_seconds"] for r in rounds]), 2) for t in targets
        },
        "stages": {
            t: {k: {m: round(v, 2) for m, v in s.items()} for k, s in last[t]["stages"].items()}
            for t in targets
        },
        **({"query": queried} if queried else {}),
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }
    if args.reference:
        summary["reference_seconds"] = round(median([r["reference"] for r in rounds]), 2)
        summary["ratio_to_reference"] = {}
        print("\nratio to the reference loop (imagehash pHash, pairs within 10 bits, components):")
        for t in targets:
            ratios = [r[t]["wall_seconds"] / r["reference"] for r in rounds]
            summary["ratio_to_reference"][t] = round(median(ratios), 3)
            each = ", ".join(f"{x:.2f}" for x in ratios)
            print(f"  {t:<8} {median(ratios):.2f}x  (rounds: {each})")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
