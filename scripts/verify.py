"""Rule verify: each frame's candidate pairs (shared visual words) verified by local
features, with every distance of the pairs kept (results/verified.parquet)."""

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pandas as pd
from panelmatch import local, logs, stored, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, p = snakemake.input, snakemake.params
metric_names = list(p.metric_max)
cv2.setNumThreads(1)  # one pair per thread instead

found, names, frame_numbers = [], [], []
for path in inp.keypoints:
    table = tables.read(path)
    found += [local.from_row(row) for row in table.to_dict("records")]
    names += table["image"].tolist()
    frame_numbers += table["frame"].tolist()
edge_tables = [tables.read_arrow(path) for path in inp.edges]
side = stored.side(
    edge_tables,
    [tables.read_arrow(path) for path in inp.hashes],
    list(p.chunks),
    metric_names,
    dict(p.hash_bits),
    p.width,
    p.height,
    p.distance_tolerance,
)
if list(side.images) != names or side.frames.tolist() != frame_numbers:
    raise ValueError(f"{list(inp.keypoints)} list other frames than {list(inp.edges)}")
if inp.embeddings:
    vector_names, side.vectors = tables.read_vectors(inp.embeddings)
    if len(vector_names) != len(side):
        raise ValueError(f"{list(inp.embeddings)} hold {len(vector_names)} vectors for {len(side)}")

plain, mirror = local.word_matrices(
    [local.words(f.plain.descriptors, local.WORD_TABLES) for f in found],
    [local.words(f.mirror.descriptors, local.WORD_TABLES) for f in found],
    local.COMMON_WORDS,
)
i, j = local.candidates(plain, mirror, side.image_of, p.candidates, threads=snakemake.threads)
log.info("%d frames, %d candidate pairs (%d per frame)", len(found), len(i), p.candidates)
progress = logs.Progress(log, "verify", len(i))


def verify(pair):
    a, b = found[pair[0]], found[pair[1]]
    # RANSAC's tolerance is in pixels at the keypoints' size: in frame b's pixels here
    longest = max(b.drawn.shape) / b.dense_scale
    match = local.verify(a, b, p.ratio, p.tolerance * longest / p.size, p.min_matches)
    progress.step()
    return match


with ThreadPoolExecutor(snakemake.threads) as pool:
    matches = list(pool.map(verify, zip(i.tolist(), j.tolist(), strict=True)))
keep = np.array([m.inliers > 0 for m in matches], dtype=bool)
i, j = i[keep], j[keep]
matches = [m for m, k in zip(matches, keep, strict=True) if k]
stored.compared(side, side, p.common_blocks)
distances = stored.pair_distances(side, side, i, j, metric_names, p.width, p.art_tolerance)
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
tables.write(out, snakemake.output[0], tables.verified_schema(dict(p.metric_max)))
log.info("%d of the %d candidate pairs have a transform", len(out), int(keep.size))
