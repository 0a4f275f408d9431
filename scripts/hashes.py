"""Rule hashes: perceptual hashes of each frame (and optionally of its edge map),
bit-packed, one column per metric."""

import numpy as np
import pandas as pd
from panelmatch import bits, hashes, logs, metrics, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
p = snakemake.params
methods, edge_methods, size = list(p.methods), list(p.edge_methods), p.hash_size
images = tables.frame_images(snakemake.input.frames)
rows = {m: [] for m in methods}
progress = logs.Progress(log, "hashes", len(images))
for _image, rgb in tables.iter_frames(snakemake.input.frames):
    for m, value in hashes.perceptual_hashes(rgb, methods, size).items():
        rows[m].append(value)
    progress.step()
if edge_methods:
    edge_table = tables.read(snakemake.input.edges)
    if edge_table["image"].tolist() != images:
        raise ValueError(f"{snakemake.input.edges} does not list the frames' images")
    width, height = p.edge_size
    maps = bits.unpack(bits.from_bytes(edge_table["edges"]), width * height)
    for m in edge_methods:
        rows[metrics.EDGE_HASH + m] = []
    for edge_map in maps.reshape(len(maps), height, width):
        for name, value in hashes.edge_map_hashes(edge_map, edge_methods, size).items():
            rows[name].append(value)
out = pd.DataFrame({"image": images})
for name, values in rows.items():
    method = name.removeprefix(metrics.EDGE_HASH)
    matrix = np.array(values, dtype=bool).reshape(len(images), hashes.hash_bits(method, size))
    out[name] = bits.to_bytes(bits.pack(matrix))
tables.write(out, snakemake.output[0], tables.hashes_schema(list(rows)))
log.info("%d images hashed with %s, edge maps with %s", len(out), methods, edge_methods)
