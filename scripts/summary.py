"""Rule summary: counts, failures and (with a ground truth) pair scores, for people.

Inputs: every chunk's manifest and failures, results/groups.parquet and pairs.parquet, the
distance shards, results/skipped.csv (folder runs), and results/evaluation.json and the
embedding groups' tables when the run has them.
Outputs: results/summary.txt and results/failures.csv (tables.FAILURES, for people).
"""

import json

from panelmatch import logs, pairs, summary, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp = snakemake.input

manifest = tables.read_many(inp.manifests)
groups = tables.read(inp.groups)
# a folder run lists what it skipped; a site run has no such list
skipped = tables.read_csv(inp.skipped[0], tables.SKIPPED_COLUMNS) if inp.skipped else None
failed = summary.failures(
    manifest,
    tables.read_many(inp.failures),
    skipped,
    snakemake.params.folder,
    list(snakemake.params.undecodable),
)
tables.write_csv(failed, snakemake.output.failures)

evaluation = None
if inp.evaluation:
    with open(inp.evaluation[0], encoding="utf-8") as handle:
        evaluation = json.load(handle)
embedding = None
if inp.embeddings:
    groups_path, duplicates_path, representatives_path, _plot = inp.embeddings
    embedding = summary.embedding_summary(
        tables.read(groups_path),
        tables.read_csv(duplicates_path),
        tables.read_csv(representatives_path),
    )
text = summary.text(
    manifest,
    failed,
    groups,
    pairs_stored=pairs.count(inp.shards),
    pairs_linked=pairs.count([inp.pairs]),
    evaluation=evaluation,
    embedding=embedding,
    skipped=skipped,
    undecodable=len(snakemake.params.undecodable),
)
tables.write_text(text, snakemake.output.summary)
log.info("\n%s", text)
