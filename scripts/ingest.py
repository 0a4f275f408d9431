"""Rule ingest: list one chunk of a folder input as a manifest (size, sha256, status).

Inputs: the chunk's files under source.folder (listed in params).
Output: results/manifest/{chunk}.parquet (tables.MANIFEST)."""

from pathlib import Path

import pandas as pd
from panelmatch import folder as input_folder
from panelmatch import logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
folder = Path(snakemake.params.folder)
follow = snakemake.params.follow_symlinks
max_bytes = snakemake.params.max_bytes
rows = [input_folder.file_row(folder, rel, follow, max_bytes) for rel in snakemake.params.files]
manifest = pd.DataFrame(rows, columns=tables.MANIFEST.names)
tables.write(manifest, snakemake.output[0], tables.MANIFEST)
log.info("%d files: %s", len(manifest), manifest["status"].value_counts().to_dict())
