"""Rule neighbours: each image's k nearest images among the stored pairs, with distances."""

import numpy as np
import pandas as pd
from panelmatch import graph, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, p = snakemake.input, snakemake.params
metric_max = dict(p.metric_max)

images, offsets = tables.read_images(inp.edges)
names = images["image"].to_numpy()
shards = tables.read_many(inp.shards)
a, b = tables.pair_numbers(shards, offsets)
pixels = images["edge_pixels"].to_numpy(np.int64)
distances = {m: shards[m].to_numpy() for m in metric_max}
# ranked by the matching rule's edge distance (the smallest of clusters.edge_metrics)
links = graph.link(distances, pixels[a], pixels[b], dict(p.hash_bits), dict(p.rule))
img, rank, nb, pair = graph.neighbours(len(images), a, b, links.edge, p.k)

out = pd.DataFrame({"image": names[img], "rank": rank, "neighbour": names[nb]})
for m in metric_max:
    out[m] = distances[m][pair]
out["edge_threshold"] = links.limit[pair].astype(np.float32)
# the same rule as the clusters rule, so exactly the pairs of results/pairs.parquet
out["linked"] = links.keep[pair]
metric_types = {m: tables.distance_type(largest) for m, largest in metric_max.items()}
tables.write(out, snakemake.output[0], tables.neighbours_schema(metric_types))
log.info("%d neighbour rows for %d images (k=%d)", len(out), len(images), p.k)
