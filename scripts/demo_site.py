"""Rule demo_site: draw the demo comic's site and write its ground truth."""

import democomic
import pandas as pd
from panelmatch import logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
p = snakemake.params
with tables.staged_dir(snakemake.output.site) as site:
    truth = democomic.write_site(site, p.seed, p.pages, p.families_per_relation, p.singles)
tables.write_csv(pd.DataFrame(truth, columns=tables.TRUTH.names), snakemake.output.truth)
log.info("demo site: %d pages, %d panels", p.pages, len(truth))
