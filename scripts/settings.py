"""Rule settings: the run's feature and matching settings, for `panelmatch query`."""

import json

from panelmatch import logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
p = snakemake.params
settings = {
    "frames": dict(p.frames),
    "edges": dict(p.edges),
    "hashes": dict(p.hashes),
    "bitmaps": list(p.bitmaps),
    "tolerance": p.tolerance,
    "art_tolerance": p.art_tolerance,
    "common_blocks": p.common_blocks,
    "metrics": list(p.metrics),
    "hash_bits": dict(p.hash_bits),
    "rule": dict(p.rule),
    "embeddings": dict(p.embeddings),
}
tables.write_text(json.dumps(settings, indent=2) + "\n", snakemake.output[0])
log.info("settings of %d metrics written", len(settings["metrics"]))
