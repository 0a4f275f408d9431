"""Rule group_folders: results/group_folders/size_N/group_K/ with relative symlinks.

Input: results/groups.parquet.
Output: results/group_folders/ (panelmatch.gallery.folder_links).
"""

import os
from pathlib import Path

from panelmatch import gallery, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
out_dir = Path(snakemake.output[0])
links = gallery.folder_links(tables.read(snakemake.input.groups))
with tables.staged_dir(out_dir) as stage:
    for link in links:
        (stage / link.folder).mkdir(parents=True, exist_ok=True)
        # relative to where the link will finally live, not to the staging folder
        target = os.path.relpath(os.path.abspath(link.path), os.path.abspath(out_dir / link.folder))
        os.symlink(target, stage / link.folder / link.name)
log.info("%d images in %d group folders", len(links), len({link.folder for link in links}))
