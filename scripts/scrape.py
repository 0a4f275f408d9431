"""Rule scrape: fetch one chunk of story pages and their panel images; write its manifest.

Inputs: the site (source.site: a URL, or an offline mirror's folder).
Output: results/manifest/{chunk}.parquet (tables.MANIFEST), the images under
results/images/."""

from pathlib import Path

import pandas as pd
from panelmatch import logs, scrape, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
params = snakemake.params
first, last = params.pages
fetch = scrape.fetcher_for(
    params.root,
    timeout=params.timeout,
    delay=params.delay,
    retries=params.retries,
    max_bytes=params.max_image_bytes,
    user_agent=params.user_agent,
    allowed_hosts=tuple(params.allowed_hosts),
)
rows = scrape.scrape_pages(
    range(first, last + 1),
    params.root,
    params.page_path,
    params.selector,
    fetch,
    Path(params.images_dir),
    reuse=scrape.is_web(params.root),
    log=log.info,
    allowed_hosts=params.allowed_hosts,
    concurrency=params.concurrency,
    on_page=logs.Progress(log, "pages", last - first + 1).step,
)
manifest = pd.DataFrame(rows, columns=tables.MANIFEST.names)
tables.write(manifest, snakemake.output[0], tables.MANIFEST)
log.info("pages %d-%d: %s", first, last, manifest["status"].value_counts().to_dict())
