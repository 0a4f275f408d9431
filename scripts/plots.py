"""Rule plots: distance histograms with thresholds, group sizes, threshold sensitivity.

Inputs: the distance shards, every chunk's frame features, results/groups.parquet.
Outputs: results/plots/distances.png, group_sizes.png, sensitivity.png and
sensitivity.csv."""

import numpy as np
import pandas as pd
from panelmatch import grouping, logs, matching, pairs, plots, tables
from panelmatch.settings import Matching

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, out, params = snakemake.input, snakemake.output, snakemake.params
settings = Matching.of(params.matching)

frames, offsets = tables.read_images(inp.frame_features)
names, image_of = tables.image_numbers(frames["image"])
pixels = frames["edge_pixels"].to_numpy(np.int64)

lines = {m: [(cap, f"cap {cap}")] for m, cap in params.caps.items()}
for m in settings.edge_metrics:
    lines[m].append((settings.edge_cap, f"edge_cap {settings.edge_cap}"))
for m, limit in settings.hash_max.items():
    if limit is not None:
        lines.setdefault(m, []).append((limit, f"hash_max {limit}"))
# each metric from 0 to half again its cap (its largest value when it has none)
histograms = plots.Histograms(
    {m: 1.5 * params.caps[m] if m in params.caps else params.metric_max[m] for m in params.metrics}
)
scales = np.round(np.arange(0.05, 1.5001, 0.05), 2)
curve = grouping.Sensitivity(len(names), pixels, scales, settings.edge_cap, image_of)
# one shard at a time: histogram counts and components per scale, never every pair at once
for shard in pairs.stream(inp.shards, offsets, list(params.metrics)):
    histograms.add(shard.distances)
    curve.add(shard.a, shard.b, matching.edge_distance(shard.distances, settings.edge_metrics))
tables.write_bytes(plots.distance_histograms(histograms, lines), out.distances)
groups = tables.read(inp.groups, ["group", "group_size"]).drop_duplicates("group")
tables.write_bytes(plots.group_sizes(groups["group_size"].to_numpy()), out.sizes)
found = curve.result()
tables.write_csv(pd.DataFrame(found), out.curve)
tables.write_bytes(plots.sensitivity(found, settings.edge_scale), out.sensitivity)
log.info("plots of %d metrics, sensitivity at %d scales", len(params.metrics), len(scales))
