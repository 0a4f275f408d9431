"""Rule groups: apply the matching rule to the stored pairs and find groups of reused art."""

import numpy as np
import pandas as pd
from panelmatch import grouping, logs, nearest, pairs, relation, rule, tables, templates

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, p = snakemake.input, snakemake.params
metric_max = dict(p.metric_max)
matching = dict(p.rule)
hash_bits = dict(p.hash_bits)
# with local features, their verified pairs are one more shard, and every pair carries what
# verification measured (tables.LOCAL_COLUMNS; nothing for the distance shards' pairs)
columns = list(metric_max) + (tables.LOCAL_COLUMNS if p.local else [])

frames, offsets = tables.read_images(inp.edges)
names, image_of = tables.image_numbers(frames["image"])
n = len(names)
width, height = p.edge_size
# the edge rule compares the edge maps without the run's templates (panelmatch.templates)
codes = tables.read_edge_codes(inp.edges, width * height)
bound = matching["template_frames"]
cleared = {bound: templates.of(codes, width, height, bound)}
counts = {k: frames[k].to_numpy(np.int64) for k in tables.FRAME_COUNTS}
frame_number = frames["frame"].to_numpy(np.int64)

manifest = tables.read_many(inp.manifests, ["page", "image", "path", "status"])
manifest = manifest[manifest["status"] == tables.OK].set_index("image")

# only the pairs the rule links can join or describe a group
stream = pairs.stream([*inp.shards, *inp.verified], offsets, list(metric_max), p.local)
linked = grouping.linked_pairs(
    stream, counts, hash_bits, {"configured": matching}, cleared, p.tolerance, columns, p.local
)["configured"]
counts = cleared[bound].counts(counts)
a, b, distances = linked
labels, links, pick, families = grouping.group_images(
    n, a, b, distances, counts, hash_bits, matching, image_of
)
sizes = grouping.sizes(labels)
# the linked image pairs, each through its best frame pair
pick = pick[links.keep[pick]]
ia, ib = image_of[a[pick]], image_of[b[pick]]
# each group's medoid: the smallest total ratio to the other members over the linked pairs
# (an unlinked pair of members counts as 1, the weakest link); a singleton is its own
medoid = nearest.medoids(labels, ia, ib, links.ratio[pick], 1.0)

groups = pd.DataFrame(
    {
        "image": names,
        "path": manifest["path"].reindex(names).to_numpy(),
        "page": manifest["page"].reindex(names).to_numpy(),
        "group": labels,
        "group_size": sizes,
        "medoid": medoid,
        "family": families,
        "family_size": grouping.sizes(families),
        "order": np.arange(n),
    }
).sort_values(["group", "order"], kind="stable")
tables.write(groups, snakemake.output.groups, tables.GROUPS)
tables.write_csv(groups[tables.GROUPS.names], snakemake.output.csv)

metric_types = {m: tables.distance_type(largest) for m, largest in metric_max.items()}
out = pd.DataFrame({"image_a": names[ia], "image_b": names[ib]})
out["frame_a"] = frame_number[a[pick]]
out["frame_b"] = frame_number[b[pick]]
for m in metric_max:
    out[m] = distances[m][pick]
out["edge_threshold"] = links.limit[pick].astype(np.float32)
out["ratio"] = links.ratio[pick].astype(np.float32)
out["link"] = rule.kind_names(links.kind[pick])
for m in columns[len(metric_max) :]:
    out[m] = distances[m][pick]
out["relation"] = relation.label(
    {m: out[m].to_numpy() for m in columns},
    out["link"].to_numpy(),
    out["edge_threshold"].to_numpy(),
)
out["order"] = ia * n + ib
out = out.sort_values("order", kind="stable")
tables.write(out, snakemake.output.pairs, tables.pairs_schema(metric_types, p.local))

log.info(
    "%d images (%d frames, %d holding a template), %d stored pairs, %d linked (%s; %s), %d "
    "groups of 2+ holding %d images (rule %s)",
    n,
    len(frames),
    int(cleared[bound].touched.sum()),
    pairs.count([*inp.shards, *inp.verified]),
    len(pick),
    out["link"].value_counts().to_dict(),
    out["relation"].value_counts().to_dict(),
    len(set(labels[sizes > 1].tolist())),
    int((sizes > 1).sum()),
    matching,
)
