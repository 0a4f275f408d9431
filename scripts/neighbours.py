"""Rule neighbours: each image's k nearest images among the stored pairs, with distances."""

import numpy as np
import pandas as pd
from panelmatch import logs, nearest, pairs, rule, tables, templates

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, p = snakemake.input, snakemake.params
metric_max = dict(p.metric_max)
matching = dict(p.rule)

frames, offsets = tables.read_images(inp.edges)
names, image_of = tables.image_numbers(frames["image"])
frame_number = frames["frame"].to_numpy(np.int64)
width, height = p.edge_size
# the edge rule compares the edge maps without the run's templates, as in groups
found = templates.of(
    tables.read_edge_codes(inp.edges, width * height), width, height, matching["template_frames"]
)
counts = found.counts({k: frames[k].to_numpy(np.int64) for k in tables.FRAME_COUNTS})

# one shard at a time: each image pair through its best pair of frames (all frames of an
# image are in one chunk, so all frame pairs of two images are in one shard), ranked by
# the matching rule's edge distance; only pairs among some image's k nearest are kept
best = nearest.Nearest(len(names), p.k)
for shard in pairs.stream(inp.shards, offsets, list(metric_max)):
    shard = shard._replace(distances=found.rescore(shard.a, shard.b, shard.distances, p.tolerance))
    links = rule.link(
        shard.distances, *rule.pair_counts(counts, shard.a, shard.b), dict(p.hash_bits), matching
    )
    pick = rule.best_pairs(image_of, shard.a, shard.b, links)
    columns = {m: shard.distances[m][pick] for m in metric_max}
    columns |= {
        "frame_a": frame_number[shard.a[pick]],
        "frame_b": frame_number[shard.b[pick]],
        "edge_threshold": links.limit[pick],
        "linked": links.keep[pick],
        "link": rule.kind_names(links.kind[pick]),
    }
    best.add(image_of[shard.a[pick]], image_of[shard.b[pick]], links.edge[pick], columns)
img, rank, nb, first, found = best.result()

out = pd.DataFrame({"image": names[img], "rank": rank, "neighbour": names[nb]})
# the image's own frame and the neighbour's, whichever side of the pair each was on
out["frame"] = np.where(first, found.get("frame_a", []), found.get("frame_b", []))
out["neighbour_frame"] = np.where(first, found.get("frame_b", []), found.get("frame_a", []))
for m in metric_max:
    out[m] = found.get(m, np.zeros(0))
out["edge_threshold"] = np.asarray(found.get("edge_threshold", []), dtype=np.float32)
# the same rule as the groups rule, so exactly the pairs of results/pairs.parquet
out["linked"] = np.asarray(found.get("linked", []), dtype=bool)
out["link"] = found.get("link", np.zeros(0, dtype=object))
metric_types = {m: tables.distance_type(largest) for m, largest in metric_max.items()}
tables.write(out, snakemake.output[0], tables.neighbours_schema(metric_types))
log.info("%d neighbour rows for %d images (k=%d)", len(out), len(names), p.k)
