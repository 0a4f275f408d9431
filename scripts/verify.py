"""Rule verify: each frame's candidate pairs (shared visual words) verified by local
features, with every distance of the pairs kept.

Inputs: every chunk's keypoints, frame features and hashes (and fingerprints, with a
model).
Output: results/verified.parquet (tables.verified_schema).

The keypoint tables are read once, a batch of rows at a time: each row and its visual
words go to temporary files (local.StoredKeypoints). The candidates come from the inverted
word index built from those words, a block of frames' rows at a time; then a block of
candidate pairs at a time has its frames' rows read and decoded (local.VERIFY_BLOCK).
Memory holds the word index and a block, never every frame's keypoints or words."""

import cv2
import numpy as np
import pandas as pd
import pyarrow as pa
from panelmatch import comparison, local, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, params = snakemake.input, snakemake.params
metric_names = list(params.metric_max)
cv2.setNumThreads(1)  # one pair per thread instead

stored = local.StoredKeypoints(list(inp.keypoints))
pa.default_memory_pool().release_unused()  # the pages the Parquet reads decompressed
names, frame_numbers = stored.images, stored.frames
listed = [tables.read_arrow(path, ["image", "frame"]) for path in inp.frame_features]
if [x for t in listed for x in t.column("image").to_pylist()] != names or [
    x for t in listed for x in t.column("frame").to_pylist()
] != frame_numbers:
    raise ValueError(f"{list(inp.keypoints)} list other frames than {list(inp.frame_features)}")

image_of = np.unique(np.asarray(names, dtype=object), return_inverse=True)[1]
i, j = local.stored_candidates(stored, image_of, params.candidates, snakemake.threads)
log.info("%d frames, %d candidate pairs (%d per frame)", len(names), len(i), params.candidates)
progress = logs.Progress(log, "verify", len(i))
matches = local.verify_stored(
    stored,
    i,
    j,
    ratio=params.ratio,
    tolerance=params.tolerance,
    size=params.size,
    min_matches=params.min_matches,
    threads=snakemake.threads,
    step=progress.step,
)
stored.close()

# the whole-panel features of every frame, for the distances of the verified pairs: read
# only now, when the keypoints' memory is free
edge_tables = [tables.read_arrow(path) for path in inp.frame_features]
side = comparison.side(
    edge_tables,
    [tables.read_arrow(path) for path in inp.hashes],
    list(params.chunks),
    metric_names,
    dict(params.hash_bits),
    params.width,
    params.height,
    params.distance_tolerance,
)
del edge_tables
pa.default_memory_pool().release_unused()
if inp.embeddings:
    vector_names, side.vectors = tables.read_vectors(inp.embeddings)
    if len(vector_names) != len(side):
        raise ValueError(f"{list(inp.embeddings)} hold {len(vector_names)} vectors for {len(side)}")
keep = np.array([m.inliers > 0 for m in matches], dtype=bool)
i, j = i[keep], j[keep]
matches = [m for m, k in zip(matches, keep, strict=True) if k]
comparison.compared(side, side, params.common_blocks)
distances = comparison.pair_distances(
    side, side, i, j, metric_names, params.width, params.art_tolerance
)
out = pd.DataFrame(
    {
        "chunk_a": side.chunk_of[i],
        "row_a": side.row_of[i],
        "chunk_b": side.chunk_of[j],
        "row_b": side.row_of[j],
    }
)
for m in metric_names:
    out[m] = distances[m]
for column in tables.LOCAL_COLUMNS:
    out[column] = [getattr(m, column) for m in matches]
tables.write(out, snakemake.output[0], tables.verified_schema(dict(params.metric_max)))
log.info("%d of the %d candidate pairs have a transform", len(out), int(keep.size))
