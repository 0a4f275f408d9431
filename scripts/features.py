"""Rule features: decode each image's kept frames once and compute every feature of each
(edge map, black-and-white image, hashes); list the images that could not be used."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from panelmatch import bits, features, frames, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
p = snakemake.params
background = frames.parse_colour(p.frames["background"])
manifest = tables.read(snakemake.input.manifest)
usable = manifest[manifest["status"] == tables.OK]


def work(path):
    """(index, Features) of the kept frames of one file, or the reason it is unusable."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        kept = frames.select(
            data,
            background,
            p.frames["max_pixels"],
            p.frames["mode"],
            p.frames["count"],
            p.frames["same"],
        )
    except (OSError, frames.FrameError) as exc:
        return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return [(index, features.describe(rgb, p.edges, p.hashes)) for index, rgb in kept]


rows = {"image": [], "frame": [], "edges": [], "bw": [], "hashes": []}
failed = []
progress = logs.Progress(log, "features", len(usable))
# decoding, resizing, Canny and hashing release the GIL: threads keep the job's cores busy
with ThreadPoolExecutor(max(1, snakemake.threads)) as pool:
    for row, result in zip(
        usable.itertuples(index=False), pool.map(work, usable["path"]), strict=True
    ):
        if isinstance(result, str):
            failed.append(
                {"image": row.image, "path": row.path, "stage": "frames", "reason": result}
            )
            log.warning("%s (%s): %s", row.image, row.path, result)
        for index, found in result if not isinstance(result, str) else []:
            rows["image"].append(row.image)
            rows["frame"].append(index)
            rows["edges"].append(found.edges)
            rows["bw"].append(found.bw)
            rows["hashes"].append(found.hashes)
        progress.step()

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
