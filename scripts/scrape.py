"""Rule scrape: fetch one chunk of story pages and their panel images; write its manifest."""

from pathlib import Path

import pandas as pd
from panelmatch import logs, scrape, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
p = snakemake.params
first, last = p.pages
fetch = scrape.fetcher_for(
    p.root,
    timeout=p.timeout,
    delay=p.delay,
    retries=p.retries,
    max_bytes=p.max_image_bytes,
    user_agent=p.user_agent,
    allowed_hosts=tuple(p.allowed_hosts),
)
rows = scrape.scrape_pages(
    range(first, last + 1),
    p.root,
    p.page_path,
    p.selector,
    fetch,
    Path(p.images_dir),
    reuse=scrape.is_web(p.root),
    log=log.info,
    allowed_hosts=p.allowed_hosts,
    concurrency=p.concurrency,
    on_page=logs.Progress(log, "pages", last - first + 1).step,
)
manifest = pd.DataFrame(rows, columns=tables.MANIFEST.names)
tables.write(manifest, snakemake.output[0], tables.MANIFEST)
log.info("pages %d-%d: %s", first, last, manifest["status"].value_counts().to_dict())
