"""Rule group_folders: results/group_folders/size_N/group_K/ with relative symlinks."""

import os
from pathlib import Path

from panelmatch import logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
out_dir = Path(snakemake.output[0])
groups = tables.read(snakemake.input.groups)
grouped = groups[groups["group_size"] > 1]
with tables.staged_dir(out_dir) as stage:
    for row in grouped.itertuples(index=False):
        where = Path(f"size_{row.group_size}") / f"group_{row.group}"
        (stage / where).mkdir(parents=True, exist_ok=True)
        name = row.image.replace("/", "__") + (
            "" if Path(row.image).suffix else Path(row.path).suffix
        )
        # relative to where the link will finally live, not to the staging folder
        target = os.path.relpath(os.path.abspath(row.path), os.path.abspath(out_dir / where))
        os.symlink(target, stage / where / name)
log.info("%d images in %d group folders", len(grouped), grouped["group"].nunique())
