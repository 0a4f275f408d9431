"""Rule leakage: groups whose members come from more than one fold (train/test leakage).

Input: results/groups.parquet.
Output: results/leakage.csv (tables.LEAKAGE_COLUMNS; panelmatch.evaluate.leaking_groups).
"""

from panelmatch import evaluate, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
folds = list(snakemake.params.folds)
groups = tables.read(snakemake.input.groups, ["image", "group", "group_size"])
leaking = evaluate.leaking_groups(groups, folds)
tables.write_csv(leaking, snakemake.output[0])
log.info("%d groups span the folds %s", len(leaking), folds)
