"""Rule neighbours: each image's k nearest images among the stored pairs, with distances.

Inputs: the distance shards (results/distances/*.parquet) and every chunk's frame features
(results/frame_features/*.parquet).
Output: results/neighbours.parquet (tables.neighbours_schema).
"""

from panelmatch import linked, logs, tables
from panelmatch.settings import Matching

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, params = snakemake.input, snakemake.params
metric_max = dict(params.metric_max)

run = linked.Run.read(inp.frame_features, *params.edge_size)
out = linked.neighbours(
    run,
    inp.shards,
    Matching.of(params.matching),
    dict(params.hash_bits),
    metric_max,
    params.tolerance,
    params.k,
)
metric_types = {m: tables.distance_type(largest) for m, largest in metric_max.items()}
tables.write(out, snakemake.output[0], tables.neighbours_schema(metric_types))
log.info("%d neighbour rows for %d images (k=%d)", len(out), len(run), params.k)
