"""Rule neighbours: each image's k nearest images among the stored pairs, with distances."""

import numpy as np
import pandas as pd
from panelmatch import graph, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, p = snakemake.input, snakemake.params
metric_max = dict(p.metric_max)

frames, offsets = tables.read_images(inp.edges)
names, image_of = tables.image_numbers(frames["image"])
frame_number = frames["frame"].to_numpy(np.int64)
shards = tables.read_many(inp.shards)
a, b = tables.pair_numbers(shards, offsets)
pixels = frames["edge_pixels"].to_numpy(np.int64)
distances = {m: shards[m].to_numpy() for m in metric_max}
links = graph.link(distances, pixels[a], pixels[b], dict(p.hash_bits), dict(p.rule))
# each pair of images through its best pair of frames, ranked by the matching rule's edge
# distance (the smallest of clusters.edge_metrics)
best = graph.best_pairs(image_of, a, b, links)
img, rank, nb, pair = graph.neighbours(
    len(names), image_of[a[best]], image_of[b[best]], links.edge[best], p.k
)
pair = best[pair]
# the image's own frame and the neighbour's, whichever side of the pair each was on
mine = np.where(image_of[a[pair]] == img, a[pair], b[pair])
theirs = np.where(image_of[a[pair]] == img, b[pair], a[pair])

out = pd.DataFrame({"image": names[img], "rank": rank, "neighbour": names[nb]})
out["frame"] = frame_number[mine]
out["neighbour_frame"] = frame_number[theirs]
for m in metric_max:
    out[m] = distances[m][pair]
out["edge_threshold"] = links.limit[pair].astype(np.float32)
# the same rule as the clusters rule, so exactly the pairs of results/pairs.parquet
out["linked"] = links.keep[pair]
metric_types = {m: tables.distance_type(largest) for m, largest in metric_max.items()}
tables.write(out, snakemake.output[0], tables.neighbours_schema(metric_types))
log.info("%d neighbour rows for %d images (k=%d)", len(out), len(names), p.k)
