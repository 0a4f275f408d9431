"""Rule clusters: apply the matching rule to the stored pairs and find groups of reused art."""

import numpy as np
import pandas as pd
from panelmatch import graph, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, p = snakemake.input, snakemake.params
metric_max = dict(p.metric_max)
rule = dict(p.rule)

frames, offsets = tables.read_images(inp.edges)
names, image_of = tables.image_numbers(frames["image"])
n = len(names)
pixels = frames["edge_pixels"].to_numpy(np.int64)
frame_number = frames["frame"].to_numpy(np.int64)

manifest = tables.read_many(inp.manifests, ["page", "image", "path", "status"])
manifest = manifest[manifest["status"] == tables.OK].set_index("image")

# one shard at a time, keeping only the pairs the rule links: memory holds one shard and
# the links, never every stored pair (only linked pairs can join or describe a group)
stored, kept = 0, []
for path in inp.shards:
    shard = tables.read(path)
    sa, sb = tables.pair_numbers(shard, offsets)
    found = {m: shard[m].to_numpy() for m in metric_max}
    linked = graph.link(found, pixels[sa], pixels[sb], dict(p.hash_bits), rule).keep
    kept.append((sa[linked], sb[linked], {m: v[linked] for m, v in found.items()}))
    stored += len(shard)
    del shard, found
a = np.concatenate([k[0] for k in kept]) if kept else np.zeros(0, np.int64)
b = np.concatenate([k[1] for k in kept]) if kept else np.zeros(0, np.int64)
distances = {
    m: np.concatenate([k[2][m] for k in kept]) if kept else np.zeros(0) for m in metric_max
}
labels, links, pick = graph.cluster(n, a, b, distances, pixels, dict(p.hash_bits), rule, image_of)
sizes = graph.sizes(labels)
# the linked image pairs, each through its best frame pair
pick = pick[links.keep[pick]]
ia, ib = image_of[a[pick]], image_of[b[pick]]
# each group's medoid: the smallest total ratio to the other members over the linked pairs
# (an unlinked pair of members counts as 1, the weakest link); a singleton is its own
medoid = graph.medoids(labels, ia, ib, links.ratio[pick], 1.0)

clusters = pd.DataFrame(
    {
        "image": names,
        "path": manifest["path"].reindex(names).to_numpy(),
        "page": manifest["page"].reindex(names).to_numpy(),
        "cluster": labels,
        "cluster_size": sizes,
        "medoid": medoid,
        "order": np.arange(n),
    }
).sort_values(["cluster", "order"], kind="stable")
tables.write(clusters, snakemake.output.clusters, tables.CLUSTERS)
tables.write_csv(clusters[tables.CLUSTERS.names], snakemake.output.csv)

metric_types = {m: tables.distance_type(largest) for m, largest in metric_max.items()}
pairs = pd.DataFrame({"image_a": names[ia], "image_b": names[ib]})
pairs["frame_a"] = frame_number[a[pick]]
pairs["frame_b"] = frame_number[b[pick]]
for m in metric_max:
    pairs[m] = distances[m][pick]
pairs["edge_threshold"] = links.limit[pick].astype(np.float32)
pairs["ratio"] = links.ratio[pick].astype(np.float32)
pairs["order"] = ia * n + ib
pairs = pairs.sort_values("order", kind="stable")
tables.write(pairs, snakemake.output.pairs, tables.pairs_schema(metric_types))

log.info(
    "%d images (%d frames), %d stored pairs, %d linked, %d groups of 2+ holding %d images "
    "(rule %s)",
    n,
    len(frames),
    stored,
    len(pick),
    len(set(labels[sizes > 1].tolist())),
    int((sizes > 1).sum()),
    rule,
)
