"""Rule features: decode each image's kept frames once and compute every feature of each
(edge map, black-and-white image, hashes); list the images that could not be used."""

import functools
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
from panelmatch import bits, features, logs, tables
from threadpoolctl import threadpool_limits

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
p = snakemake.params
manifest = tables.read(snakemake.input.manifest)
usable = manifest[manifest["status"] == tables.OK]
work = functools.partial(
    features.from_file, frame_settings=dict(p.frames), e=dict(p.edges), h=dict(p.hashes)
)

rows = {"image": [], "frame": [], "edges": [], "bw": [], "hashes": []}
failed = []
progress = logs.Progress(log, "features", len(usable))
# one process per thread of the job (the per-image Python work would serialise threads),
# each with a single-threaded BLAS: its small matrix products gain nothing from threads,
# and 2 x 2 threads on 2 cores took 2.3x longer (README, "End-to-end throughput")
workers = max(1, snakemake.threads)
threadpool_limits(1)
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
        for index, found in result:
            rows["image"].append(row.image)
            rows["frame"].append(index)
            rows["edges"].append(found.edges)
            rows["bw"].append(found.bw)
            rows["hashes"].append(found.hashes)

n, shape = len(rows["image"]), (p.edges["height"], p.edges["width"])
edge_codes = bits.pack(np.array(rows["edges"], dtype=bool).reshape(n, *shape))
out = pd.DataFrame({"image": rows["image"], "frame": rows["frame"]})
out["edge_pixels"] = bits.popcount(edge_codes)
out["edges"] = bits.to_bytes(edge_codes)
out["bw"] = bits.to_bytes(bits.pack(np.array(rows["bw"], dtype=bool).reshape(n, *shape)))
tables.write(out, snakemake.output.edges, tables.EDGES)

names = list(p.hash_bits)
hashed = out[["image", "frame"]].copy()
for name in names:
    matrix = np.array([h[name] for h in rows["hashes"]], dtype=bool).reshape(n, p.hash_bits[name])
    hashed[name] = bits.to_bytes(bits.pack(matrix))
tables.write(hashed, snakemake.output.hashes, tables.hashes_schema(names))
tables.write(
    pd.DataFrame(failed, columns=tables.FAILURES.names), snakemake.output.failures, tables.FAILURES
)
log.info(
    "%d images: %d frames (mode %s), %d failures; edge maps of %dx%d, hashes %s",
    len(usable),
    n,
    p.frames["mode"],
    len(failed),
    p.edges["width"],
    p.edges["height"],
    names,
)
