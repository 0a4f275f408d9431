"""Rule demo_site: draw the demo comic's site and write its ground truth."""

import shutil
import tempfile
from pathlib import Path

import pandas as pd
from panelmatch import demo, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
p = snakemake.params
site = Path(snakemake.output.site)
site.parent.mkdir(parents=True, exist_ok=True)
staging = Path(tempfile.mkdtemp(prefix=".site.", dir=site.parent))
try:
    truth = demo.write_site(staging, p.seed, p.pages, p.families_per_relation, p.singles)
    if site.exists():
        shutil.rmtree(site)
    staging.rename(site)
finally:
    shutil.rmtree(staging, ignore_errors=True)
tables.write_csv(pd.DataFrame(truth, columns=tables.TRUTH.names), snakemake.output.truth)
log.info("demo site: %d pages, %d panels", p.pages, len(truth))
