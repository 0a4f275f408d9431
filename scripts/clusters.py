"""Rule clusters: apply the matching rule to the stored pairs and find groups of reused art."""

import numpy as np
import pandas as pd
from panelmatch import graph, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, p = snakemake.input, snakemake.params
metric_max = dict(p.metric_max)
rule = dict(p.rule)

images, offsets = tables.read_images(inp.edges)
n = len(images)
pixels = images["edge_pixels"].to_numpy(np.int64)

manifest = tables.read_many(inp.manifests, ["page", "image", "path", "status"])
manifest = manifest[manifest["status"] == tables.OK].set_index("image")

shards = tables.read_many(inp.shards)
a, b = tables.pair_numbers(shards, offsets)
distances = {m: shards[m].to_numpy() for m in metric_max}
labels, links = graph.cluster(n, a, b, distances, pixels, dict(p.hash_bits), rule)
sizes = graph.sizes(labels)
keep = links.keep
# each group's medoid: the smallest total ratio to the other members over the linked pairs
# (an unlinked pair of members counts as 1, the weakest link); a singleton is its own
medoid = graph.medoids(labels, a[keep], b[keep], links.ratio[keep], 1.0)

clusters = pd.DataFrame(
    {
        "image": images["image"],
        "path": manifest["path"].reindex(images["image"]).to_numpy(),
        "page": manifest["page"].reindex(images["image"]).to_numpy(),
        "cluster": labels,
        "cluster_size": sizes,
        "medoid": medoid,
        "order": np.arange(n),
    }
).sort_values(["cluster", "order"], kind="stable")
tables.write(clusters, snakemake.output.clusters, tables.CLUSTERS)
tables.write_csv(clusters[tables.CLUSTERS.names], snakemake.output.csv)

metric_types = {m: tables.distance_type(largest) for m, largest in metric_max.items()}
names = images["image"].to_numpy()
pairs = pd.DataFrame({"image_a": names[a[keep]], "image_b": names[b[keep]]})
for m in metric_max:
    pairs[m] = distances[m][keep]
pairs["edge_threshold"] = links.limit[keep].astype(np.float32)
pairs["ratio"] = links.ratio[keep].astype(np.float32)
pairs["order"] = a[keep] * n + b[keep]
pairs = pairs.sort_values("order", kind="stable")
tables.write(pairs, snakemake.output.pairs, tables.pairs_schema(metric_types))

log.info(
    "%d images, %d stored pairs, %d linked, %d groups of 2+ holding %d images (rule %s)",
    n,
    len(shards),
    int(keep.sum()),
    len(set(labels[sizes > 1].tolist())),
    int((sizes > 1).sum()),
    rule,
)
