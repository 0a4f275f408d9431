"""Rule demo_site: draw the demo comic's site and write its ground truth.

Inputs: none (the demo section, as params).
Outputs: the demo site's folder (its pages and panels) and resources/demo/truth.csv."""

import democomic
import pandas as pd
from panelmatch import logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
params = snakemake.params
with tables.staged_dir(snakemake.output.site) as site:
    truth = democomic.write_site(
        site, params.seed, params.pages, params.families_per_relation, params.singles
    )
tables.write_csv(pd.DataFrame(truth, columns=tables.TRUTH.names), snakemake.output.truth)
log.info("demo site: %d pages, %d panels", params.pages, len(truth))
