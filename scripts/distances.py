"""Rule distances: all pairs of two chunk groups under a cap, with every distance."""

import numpy as np
import pandas as pd
from panelmatch import bits, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, p = snakemake.input, snakemake.params
metric_bits = dict(p.metric_bits)
bits.set_threads(snakemake.threads)


def load(chunks, edges_paths, hashes_paths):
    """Codes of every metric for a group's images, with each row's chunk and row number."""
    codes = {m: [] for m in metric_bits}
    chunk_of, row_of = [], []
    for chunk, edges_path, hashes_path in zip(chunks, edges_paths, hashes_paths, strict=True):
        edges = tables.read(edges_path)
        hashes = tables.read(hashes_path)
        if not edges["image"].equals(hashes["image"]):
            raise ValueError(f"{edges_path} and {hashes_path} do not list the same images")
        codes["edges"].append(bits.from_bytes(edges["edges"], metric_bits["edges"]))
        for m in metric_bits:
            if m != "edges":
                codes[m].append(bits.from_bytes(hashes[m], metric_bits[m]))
        chunk_of.append(np.full(len(edges), chunk, dtype=np.int64))
        row_of.append(np.arange(len(edges), dtype=np.int64))
    return (
        {m: np.concatenate(v) for m, v in codes.items()},
        np.concatenate(chunk_of),
        np.concatenate(row_of),
    )


same = snakemake.wildcards.a == snakemake.wildcards.b
a, chunk_a, row_a = load(p.chunks_a, inp.edges_a, inp.hashes_a)
b, chunk_b, row_b = (a, chunk_a, row_a) if same else load(p.chunks_b, inp.edges_b, inp.hashes_b)
i, j, dist = bits.pairs_within(a, b, dict(p.caps), same, dict(p.candidates) or None)
out = pd.DataFrame(
    {"chunk_a": chunk_a[i], "row_a": row_a[i], "chunk_b": chunk_b[j], "row_b": row_b[j]}
)
for m in metric_bits:
    out[m] = dist[m]
tables.write(out, snakemake.output[0], tables.shard_schema(metric_bits))
log.info(
    "chunks %s x %s: %d x %d images, %d pairs kept under caps %s (%d threads)",
    list(p.chunks_a),
    list(p.chunks_b),
    len(chunk_a),
    len(chunk_b),
    len(out),
    dict(p.caps),
    snakemake.threads,
)
