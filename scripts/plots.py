"""Rule plots: distance histograms with thresholds, group sizes, threshold sensitivity."""

import numpy as np
import pandas as pd
from panelmatch import graph, logs, plots, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, out, p = snakemake.input, snakemake.output, snakemake.params

frames, offsets = tables.read_images(inp.edges)
names, image_of = tables.image_numbers(frames["image"])
pixels = frames["edge_pixels"].to_numpy(np.int64)
shards = tables.read_many(inp.shards)
a, b = tables.pair_numbers(shards, offsets)

lines = {m: [(cap, f"cap {cap}")] for m, cap in p.caps.items()}
rule = dict(p.rule)
for m in rule["edge_metrics"]:
    lines[m].append((rule["edge_cap"], f"edge_cap {rule['edge_cap']}"))
for m, limit in rule["hash_max"].items():
    if limit is not None:
        lines.setdefault(m, []).append((limit, f"hash_max {limit}"))
tables.write_bytes(
    plots.distance_histograms({m: shards[m].to_numpy() for m in p.metrics}, lines), out.distances
)
clusters = tables.read(inp.clusters, ["cluster", "cluster_size"]).drop_duplicates("cluster")
tables.write_bytes(plots.group_sizes(clusters["cluster_size"].to_numpy()), out.sizes)
scales = np.round(np.arange(0.05, 1.5001, 0.05), 2)
edge = graph.edge_distance(shards, rule["edge_metrics"])
curve = graph.sensitivity(
    len(names), a, b, edge, pixels, scales, rule["edge_cap"], image_of=image_of
)
tables.write_csv(pd.DataFrame(curve), out.curve)
tables.write_bytes(plots.sensitivity(curve, rule["edge_scale"]), out.sensitivity)
log.info("plots of %d stored pairs", len(shards))
