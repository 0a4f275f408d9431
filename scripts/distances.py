"""Rule distances: all pairs of frames of two chunk groups under a cap, with every
distance; the frames of one image are never paired with each other."""

import pandas as pd
from panelmatch import bits, logs, stored, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, p = snakemake.input, snakemake.params
metric_names = list(p.metric_max)
bits.set_threads(snakemake.threads)


def load(chunks, edges_paths, hashes_paths, vector_paths):
    side = stored.side(
        [tables.read_arrow(path) for path in edges_paths],
        [tables.read_arrow(path) for path in hashes_paths],
        chunks,
        metric_names,
        dict(p.hash_bits),
        p.width,
        p.height,
        p.tolerance,
    )
    if vector_paths:
        names, side.vectors = tables.read_vectors(vector_paths)
        if len(names) != len(side):
            raise ValueError(
                f"{list(vector_paths)} hold {len(names)} vectors for {len(side)} frames"
            )
    return side


same = snakemake.wildcards.a == snakemake.wildcards.b
a = load(p.chunks_a, inp.edges_a, inp.hashes_a, inp.embeddings_a)
b = a if same else load(p.chunks_b, inp.edges_b, inp.hashes_b, inp.embeddings_b)
stored.compared(a, b, p.common_blocks)
i, j, found = stored.search(
    a, b, dict(p.caps), same, p.relative_cap, dict(p.candidates) or None, p.shared_blocks
)
dist = stored.pair_distances(a, b, i, j, metric_names, p.width, p.art_tolerance, found)
out = pd.DataFrame(
    {"chunk_a": a.chunk_of[i], "row_a": a.row_of[i], "chunk_b": b.chunk_of[j], "row_b": b.row_of[j]}
)
for m in metric_names:
    out[m] = dist[m]
tables.write(out, snakemake.output[0], tables.shard_schema(dict(p.metric_max)))
log.info(
    "chunks %s x %s: %d x %d frames, %d pairs kept under caps %s (%d threads)",
    list(p.chunks_a),
    list(p.chunks_b),
    len(a),
    len(b),
    len(out),
    dict(p.caps),
    snakemake.threads,
)
