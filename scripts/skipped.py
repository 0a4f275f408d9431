"""Rule skipped: the entries of the input folder that are not input images, and why.

Inputs: none (the folder's listing, as params).
Output: results/skipped.csv (tables.SKIPPED_COLUMNS)."""

import pandas as pd
from panelmatch import logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
entries = pd.DataFrame(list(snakemake.params.entries), columns=tables.SKIPPED_COLUMNS)
tables.write_csv(entries, snakemake.output[0])
log.info("%d entries skipped: %s", len(entries), entries["reason"].value_counts().to_dict())
