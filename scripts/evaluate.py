"""Rule evaluate: score the configured matching rule, and every rule of evaluation.compare,
against the ground truth.

Inputs: the ground truth CSV, the distance shards (and results/verified.parquet with local
features), every chunk's frame features (results/frame_features/*.parquet).
Output: results/evaluation.json (panelmatch.evaluate.document).
"""

import json

from panelmatch import evaluate, linked, logs, tables
from panelmatch.settings import Matching

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, params = snakemake.input, snakemake.params

run = linked.Run.read(inp.frame_features, *params.edge_size)
document = evaluate.document(
    run,
    [*inp.shards, *inp.verified],
    inp.truth[0],
    params.dont_care,
    Matching.of(params.matching),
    dict(params.compare),
    dict(params.hash_bits),
    list(params.metrics),
    params.tolerance,
    params.local,
)
if "message" in document:
    log.warning(document["message"])
for name, scores in document["results"].items():
    log.info(
        "%s: precision %.3f recall %.3f F1 %.3f",
        name,
        *(scores[k] for k in ("precision", "recall", "f1")),
    )
tables.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n", snakemake.output[0])
