"""Rule keypoints: the local features of each kept frame (ORB keypoints of the frame and of
its mirror image, and the dense copy), per chunk.

Inputs: the chunk's manifest and frame features (its list of kept frames).
Output: results/keypoints/{chunk}.parquet (tables.KEYPOINTS)."""

from concurrent.futures import ThreadPoolExecutor

import cv2
import pandas as pd
from panelmatch import frames, local, logs, tables
from panelmatch.settings import FrameSelection

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
params = snakemake.params
kept, paths = tables.kept_frames(snakemake.input.frame_features, snakemake.input.manifest)
progress = logs.Progress(log, "keypoints", len(kept))
cv2.setNumThreads(1)  # one frame per thread instead


def features(item):
    image, frame, rgb = item
    progress.step()
    return {
        "image": image,
        "frame": frame,
        **local.to_row(local.detect(rgb, params.size, params.features)),
    }


# OpenCV releases the GIL: the threads detect, a batch of decoded frames at a time (a batch
# bounds the memory: each decoded frame is a full-size RGB array)
rows = []
batch = []
with ThreadPoolExecutor(snakemake.threads) as pool:
    for item in frames.stored_frames(kept, paths, FrameSelection.of(params.frames)):
        batch.append(item)
        if len(batch) == 16 * snakemake.threads:
            rows += pool.map(features, batch)
            batch = []
    rows += pool.map(features, batch)
table = pd.DataFrame(rows) if rows else tables.empty(tables.KEYPOINTS)
tables.write(table, snakemake.output[0], tables.KEYPOINTS)
log.info(
    "%d frames: %d keypoints (%d of mirror images), size %d, at most %d per image",
    len(table),
    sum(len(b) // local.DESCRIPTOR_BYTES for b in table["descriptors"]),
    sum(len(b) // local.DESCRIPTOR_BYTES for b in table["mirror_descriptors"]),
    params.size,
    params.features,
)
