"""Rule clusters: threshold the stored pairs into a graph and find groups of reused art."""

import numpy as np
import pandas as pd
from panelmatch import graph, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, p = snakemake.input, snakemake.params
metric_bits = dict(p.metric_bits)

images, offsets = tables.read_images(inp.edges)
n = len(images)
pixels = images["edge_pixels"].to_numpy(np.int64)

manifest = tables.read_many(inp.manifests, ["page", "image", "path", "status"])
manifest = manifest[manifest["status"] == tables.OK].set_index("image")

shards = tables.read_many(inp.shards)
a, b = tables.pair_numbers(shards, offsets)
distance = shards["edges"].to_numpy(np.int64)

thresholds = graph.edge_thresholds(pixels, p.edge_scale, p.edge_cap)
pair_threshold = np.minimum(thresholds[a], thresholds[b])
content_ok = (pixels[a] >= p.min_edge_pixels) & (pixels[b] >= p.min_edge_pixels)
hash_distances = {m: shards[m].to_numpy() for m in p.hash_max}
keep = graph.linked(
    distance, thresholds[a], thresholds[b], hash_distances, dict(p.hash_max), content_ok
)
weight = np.maximum(pair_threshold - distance, 0) + 1
labels = graph.groups(n, a[keep], b[keep], weight[keep], p.method)
sizes = graph.sizes(labels)

clusters = pd.DataFrame(
    {
        "image": images["image"],
        "path": manifest["path"].reindex(images["image"]).to_numpy(),
        "page": manifest["page"].reindex(images["image"]).to_numpy(),
        "cluster": labels,
        "cluster_size": sizes,
        "order": np.arange(n),
    }
).sort_values(["cluster", "order"], kind="stable")
tables.write(clusters, snakemake.output.clusters, tables.CLUSTERS)
tables.write_csv(clusters[tables.CLUSTERS.names], snakemake.output.csv)

metric_types = {m: tables.distance_type(bits) for m, bits in metric_bits.items()}
names = images["image"].to_numpy()
pairs = pd.DataFrame({"image_a": names[a[keep]], "image_b": names[b[keep]]})
for m in metric_bits:
    pairs[m] = shards[m].to_numpy()[keep]
pairs["edge_threshold"] = pair_threshold[keep].astype(np.float32)
pairs["order"] = a[keep] * n + b[keep]
pairs = pairs.sort_values("order", kind="stable")
tables.write(pairs, snakemake.output.pairs, tables.pairs_schema(metric_types))

grouped = int((sizes > 1).sum())
log.info(
    "%d images, %d stored pairs, %d linked, %d groups of 2+ holding %d images (method %s)",
    n,
    len(shards),
    int(keep.sum()),
    len(set(labels[sizes > 1].tolist())),
    grouped,
    p.method,
)
