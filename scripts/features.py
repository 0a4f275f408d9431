"""Rule features: decode each image's kept frames once and compute every feature of each
(edge map, black-and-white, silhouette and grey images, hashes, text lines, thumbnail);
list the images that could not be used and the frames that could not be decoded.

Input: the chunk's manifest (results/manifest/{chunk}.parquet).
Outputs: the chunk's frame features (results/frame_features/{chunk}.parquet), hashes,
thumbnails and failures (tables.FRAME_FEATURES, hashes_schema, THUMBS, FAILURES).
"""

import functools
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from panelmatch import features, logs, tables
from panelmatch.settings import Edges, FrameSelection, Hashes
from threadpoolctl import threadpool_limits

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
params = snakemake.params
selection = FrameSelection.of(params.frames)
edge_settings = Edges.of(params.edges)
manifest = tables.read(snakemake.input.manifest)
usable = manifest[manifest["status"] == tables.OK]
images = list(zip(usable["image"], usable["path"], strict=True))
work = functools.partial(
    features.of_images,
    selection=selection,
    edge_settings=edge_settings,
    hash_settings=Hashes.of(params.hashes),
    hash_bits=dict(params.hash_bits),
    thumbnail_size=params.thumbnail_size,
)
# One process per thread of the job (the per-image Python work would serialise threads),
# each with a single-threaded BLAS (its small matrix products gain nothing from threads),
# each computing finished tables for consecutive shares of the chunk: only compact tables
# cross between processes (docs/performance.md).
workers = max(1, snakemake.threads)
share = max(1, min(250, -(-len(images) // (4 * workers))))
shares = [images[k : k + share] for k in range(0, len(images), share)]
threadpool_limits(1)
steady = features.steady_allocator()
progress = logs.Progress(log, "features", len(images))
parts = []
with ProcessPoolExecutor(
    workers,
    mp_context=multiprocessing.get_context("fork"),
    initializer=threadpool_limits,
    initargs=(1,),
) as pool:
    results = pool.map(work, shares) if workers > 1 else map(work, shares)
    for images_of, part in zip(shares, results, strict=True):
        parts.append(part)
        progress.step(len(images_of))
found = features.concat(parts) if parts else work([])
for row in found.failures.itertuples(index=False):
    if row.stage == "frame":
        log.warning("%s (%s): %s; the frames before it are kept", row.image, row.path, row.reason)
    else:
        log.warning("%s (%s): %s", row.image, row.path, row.reason)

tables.write(found.frame_features, snakemake.output.frame_features, tables.FRAME_FEATURES)
tables.write(found.hashes, snakemake.output.hashes, tables.hashes_schema(list(params.hash_bits)))
tables.write(found.thumbs, snakemake.output.thumbs, tables.THUMBS)
tables.write(found.failures, snakemake.output.failures, tables.FAILURES)
log.info(
    "%d images: %d frames (mode %s), %d failures; edge maps of %dx%d, hashes %s%s",
    len(usable),
    len(found.frame_features),
    selection.mode,
    len(found.failures),
    edge_settings.width,
    edge_settings.height,
    list(params.hash_bits),
    "" if steady else " (malloc thresholds left to the C library)",
)
