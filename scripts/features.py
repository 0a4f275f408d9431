"""Rule features: decode each image's kept frames once and compute every feature of each
(edge map, black-and-white, silhouette and grey images, hashes, text lines); list the
images that could not be used and the frames that could not be decoded."""

import functools
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
from panelmatch import features, logs, tables
from threadpoolctl import threadpool_limits

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
p = snakemake.params
manifest = tables.read(snakemake.input.manifest)
usable = manifest[manifest["status"] == tables.OK]
work = functools.partial(
    features.from_file, frame_settings=dict(p.frames), e=dict(p.edges), h=dict(p.hashes)
)

rows, failed = [], []
progress = logs.Progress(log, "features", len(usable))
# one process per thread of the job (the per-image Python work would serialise threads),
# each with a single-threaded BLAS: its small matrix products gain nothing from threads,
# and 2 x 2 threads on 2 cores took 2.3x longer (docs/performance.md)
workers = max(1, snakemake.threads)
threadpool_limits(1)
steady = features.steady_allocator()
with ProcessPoolExecutor(
    workers,
    mp_context=multiprocessing.get_context("fork"),
    initializer=threadpool_limits,
    initargs=(1,),
) as pool:
    results = (
        pool.map(work, usable["path"], chunksize=16) if workers > 1 else map(work, usable["path"])
    )
    for row, result in zip(usable.itertuples(index=False), results, strict=True):
        progress.step()
        if isinstance(result, str):
            failed.append(
                {"image": row.image, "path": row.path, "stage": "frames", "reason": result}
            )
            log.warning("%s (%s): %s", row.image, row.path, result)
            continue
        kept, broken = result
        for index, why in broken:
            reason = f"frame {index}: {why}"
            failed.append(
                {"image": row.image, "path": row.path, "stage": "frame", "reason": reason}
            )
            log.warning("%s (%s): %s; the frames before it are kept", row.image, row.path, reason)
        rows += [(row.image, index, found) for index, found in kept]

edge_table, hash_table = features.tables_of(rows, dict(p.edges), dict(p.hash_bits))
tables.write(edge_table, snakemake.output.edges, tables.EDGES)
tables.write(hash_table, snakemake.output.hashes, tables.hashes_schema(list(p.hash_bits)))
tables.write(
    pd.DataFrame(failed, columns=tables.FAILURES.names), snakemake.output.failures, tables.FAILURES
)
log.info(
    "%d images: %d frames (mode %s), %d failures; edge maps of %dx%d, hashes %s%s",
    len(usable),
    len(rows),
    p.frames["mode"],
    len(failed),
    p.edges["width"],
    p.edges["height"],
    list(p.hash_bits),
    "" if steady else " (malloc thresholds left to the C library)",
)
