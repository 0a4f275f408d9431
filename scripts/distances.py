"""Rule distances: all pairs of frames of two chunk groups under a cap, with every
distance; the frames of one image are never paired with each other.

Inputs: the frame features and hashes tables (and fingerprints, with a model) of the
chunks of both groups.
Output: results/distances/{a}_{b}.parquet (tables.shard_schema)."""

import pandas as pd
from panelmatch import bits, comparison, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, params = snakemake.input, snakemake.params
metric_names = list(params.metric_max)
bits.set_threads(snakemake.threads)


def load(chunks, edges_paths, hashes_paths, vector_paths):
    side = comparison.side(
        [tables.read_arrow(path) for path in edges_paths],
        [tables.read_arrow(path) for path in hashes_paths],
        chunks,
        metric_names,
        dict(params.hash_bits),
        params.width,
        params.height,
        params.tolerance,
    )
    if vector_paths:
        names, side.vectors = tables.read_vectors(vector_paths)
        if len(names) != len(side):
            raise ValueError(
                f"{list(vector_paths)} hold {len(names)} vectors for {len(side)} frames"
            )
    return side


same = snakemake.wildcards.a == snakemake.wildcards.b
a = load(params.chunks_a, inp.frame_features_a, inp.hashes_a, inp.embeddings_a)
b = a if same else load(params.chunks_b, inp.frame_features_b, inp.hashes_b, inp.embeddings_b)
comparison.compared(a, b, params.common_blocks)
i, j, found = comparison.search(
    a,
    b,
    dict(params.caps),
    same,
    params.relative_cap,
    dict(params.candidates) or None,
    params.shared_blocks,
)
dist = comparison.pair_distances(
    a, b, i, j, metric_names, params.width, params.art_tolerance, found
)
out = pd.DataFrame(
    {"chunk_a": a.chunk_of[i], "row_a": a.row_of[i], "chunk_b": b.chunk_of[j], "row_b": b.row_of[j]}
)
for m in metric_names:
    out[m] = dist[m]
tables.write(out, snakemake.output[0], tables.shard_schema(dict(params.metric_max)))
log.info(
    "chunks %s x %s: %d x %d frames, %d pairs kept under caps %s (%d threads)",
    list(params.chunks_a),
    list(params.chunks_b),
    len(a),
    len(b),
    len(out),
    dict(params.caps),
    snakemake.threads,
)
