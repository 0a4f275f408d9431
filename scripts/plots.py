"""Rule plots: distance histograms with thresholds, group sizes, threshold sensitivity.

Inputs: the distance shards, every chunk's frame features, results/groups.parquet.
Outputs: results/plots/distances.png, group_sizes.png, sensitivity.png and
sensitivity.csv (panelmatch.plots.of_run)."""

import numpy as np
from panelmatch import logs, pairs, plots, tables
from panelmatch.settings import Matching

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, out, params = snakemake.input, snakemake.output, snakemake.params

frames, offsets = tables.read_images(inp.frame_features)
names, image_of = tables.image_numbers(frames["image"])
groups = tables.read(inp.groups, ["group", "group_size"]).drop_duplicates("group")
metric_max = {m: params.metric_max[m] for m in params.metrics}
found = plots.of_run(
    pairs.stream(inp.shards, offsets, list(params.metrics)),
    len(names),
    frames["edge_pixels"].to_numpy(np.int64),
    image_of,
    groups["group_size"].to_numpy(),
    dict(params.caps),
    metric_max,
    Matching.of(params.matching),
)
tables.write_bytes(found.distances, out.distances)
tables.write_bytes(found.sizes, out.sizes)
tables.write_csv(found.curve, out.curve)
tables.write_bytes(found.sensitivity, out.sensitivity)
log.info("plots of %d metrics, sensitivity at %d scales", len(params.metrics), len(plots.SCALES))
