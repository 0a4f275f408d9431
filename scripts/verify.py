"""Rule verify: each frame's candidate pairs (shared visual words) verified by local
features, with every distance of the pairs kept (results/verified.parquet).

The stored keypoint rows of every frame stay as Arrow tables, one per chunk (no Python
object per value); the words come from them a batch at a time, and a block of candidate
pairs at a time has its frames' features decoded (local.VERIFY_BLOCK)."""

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp
from panelmatch import bits, local, logs, stored, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, p = snakemake.input, snakemake.params
metric_names = list(p.metric_max)
cv2.setNumThreads(1)  # one pair per thread instead

parts = [tables.read_arrow(path) for path in inp.keypoints]
pa.default_memory_pool().release_unused()  # the pages the Parquet reads decompressed
names = [name for part in parts for name in part.column("image").to_pylist()]
frame_numbers = [frame for part in parts for frame in part.column("frame").to_pylist()]
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


def counts(column: str) -> sp.csr_matrix:
    return sp.vstack(
        [
            local.word_counts(
                [
                    local.words(local.descriptors_of(blob), local.WORD_TABLES)
                    for blob in batch.column(column).to_pylist()
                ]
            )
            for part in parts
            for batch in part.to_batches(max_chunksize=2000)
        ]
        or [local.word_counts([])],
        format="csr",
    )


plain, mirror = local.word_matrices(
    counts("descriptors"), counts("mirror_descriptors"), local.COMMON_WORDS, local.COMMON_FRAMES
)
i, j = local.candidates(plain, mirror, side.image_of, p.candidates, threads=snakemake.threads)
del plain, mirror
log.info("%d frames, %d candidate pairs (%d per frame)", len(names), len(i), p.candidates)
progress = logs.Progress(log, "verify", len(i))


def verify_block(pool, a: np.ndarray, b: np.ndarray) -> list[local.Match]:
    frames = bits.unique(np.concatenate([a, b]))
    found = dict(
        zip(frames.tolist(), map(local.from_row, tables.take_rows(parts, frames)), strict=True)
    )

    def verify(pair):
        fa, fb = found[pair[0]], found[pair[1]]
        # RANSAC's tolerance is in pixels at the keypoints' size: in frame b's pixels here
        tolerance = p.tolerance * fb.longest / p.size
        match = local.verify(fa, fb, p.ratio, tolerance, p.min_matches)
        progress.step()
        return match

    return list(pool.map(verify, zip(a.tolist(), b.tolist(), strict=True)))


matches = []
with ThreadPoolExecutor(snakemake.threads) as pool:
    for start in range(0, len(i), local.VERIFY_BLOCK):
        end = start + local.VERIFY_BLOCK
        matches += verify_block(pool, i[start:end], j[start:end])
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
