"""Rule summary: counts, failures and (with a ground truth) pair scores, for people."""

import pyarrow.parquet as pq
from panelmatch import evaluate, logs, report, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp = snakemake.input

manifest = tables.read_many(inp.manifests)
clusters = tables.read(inp.clusters)
failed = report.failures(manifest, tables.read_many(inp.failures))
tables.write_csv(failed, snakemake.output.failures)

scores = None
if inp.truth:
    truth = tables.read_truth(inp.truth[0])
    scores = evaluate.pair_scores(
        dict(zip(truth["image"], truth["group"], strict=True)),
        dict(zip(clusters["image"], clusters["cluster"], strict=True)),
        dict(zip(truth["image"], truth["relation"], strict=True)),
    )
text = report.summary(
    manifest,
    failed,
    clusters,
    pairs_stored=sum(pq.ParquetFile(path).metadata.num_rows for path in inp.shards),
    pairs_linked=pq.ParquetFile(inp.pairs).metadata.num_rows,
    scores=scores,
    truth_name=inp.truth[0] if inp.truth else "",
)
tables.write_text(text, snakemake.output.summary)
log.info("\n%s", text)
