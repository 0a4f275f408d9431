"""Rule groups: apply the matching rule to the stored pairs and find groups of reused art.

Inputs: the distance shards (results/distances/*.parquet) and, with local features,
results/verified.parquet; every chunk's frame features (results/frame_features/*.parquet) and
manifest (results/manifest/*.parquet).
Outputs: results/groups.parquet and groups.csv (tables.GROUPS), results/pairs.parquet
(tables.pairs_schema: the linked image pairs with their distances and relation).
"""

from panelmatch import linked, logs, pairs, tables
from panelmatch.settings import Matching

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, params = snakemake.input, snakemake.params
settings = Matching.of(params.matching)
metric_max = dict(params.metric_max)
shards = [*inp.shards, *inp.verified]

run = linked.Run.read(inp.frame_features, *params.edge_size)
manifest = tables.read_many(inp.manifests, ["page", "image", "path", "status"])
found = linked.groups_and_pairs(
    run,
    shards,
    manifest[manifest["status"] == tables.OK],
    settings,
    dict(params.hash_bits),
    metric_max,
    params.tolerance,
    params.local,
)
tables.write(found.groups, snakemake.output.groups, tables.GROUPS)
tables.write_csv(found.groups[tables.GROUPS.names], snakemake.output.csv)
metric_types = {m: tables.distance_type(largest) for m, largest in metric_max.items()}
tables.write(found.pairs, snakemake.output.pairs, tables.pairs_schema(metric_types, params.local))
log.info(
    "%d images (%d frames, %d holding a template), %d stored pairs, %d linked (%s; %s), %d "
    "groups of 2+ holding %d images (matching %s)",
    len(run),
    len(run.image_of),
    found.templates,
    pairs.count(shards),
    len(found.pairs),
    found.pairs["link"].value_counts().to_dict(),
    found.pairs["relation"].value_counts().to_dict(),
    found.groups_of_two_or_more,
    found.grouped_images,
    settings.plain(),
)
