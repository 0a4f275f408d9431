"""Rule neighbours: each image's k nearest images among the stored pairs, with distances."""

import numpy as np
import pandas as pd
from panelmatch import graph, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, p = snakemake.input, snakemake.params
metric_bits = dict(p.metric_bits)

images, offsets = tables.read_images(inp.edges)
names = images["image"].to_numpy()
shards = tables.read_many(inp.shards)
a, b = tables.pair_numbers(shards, offsets)
img, rank, nb, pair = graph.neighbours(len(images), a, b, shards["edges"].to_numpy(), p.k)

thresholds = graph.edge_thresholds(images["edge_pixels"].to_numpy(), p.edge_scale, p.edge_cap)
linked = tables.read(inp.pairs, ["image_a", "image_b"])
linked_keys = set(zip(linked["image_a"], linked["image_b"], strict=True))
out = pd.DataFrame({"image": names[img], "rank": rank, "neighbour": names[nb]})
for m in metric_bits:
    out[m] = shards[m].to_numpy()[pair]
out["edge_threshold"] = np.minimum(thresholds[img], thresholds[nb]).astype(np.float32)
out["linked"] = [
    (x, y) in linked_keys or (y, x) in linked_keys
    for x, y in zip(out["image"], out["neighbour"], strict=True)
]
metric_types = {m: tables.distance_type(bits) for m, bits in metric_bits.items()}
tables.write(out, snakemake.output[0], tables.neighbours_schema(metric_types))
log.info("%d neighbour rows for %d images (k=%d)", len(out), len(images), p.k)
