"""Rule cluster_folders: results/clusters/size_N/cluster_K/ with relative symlinks."""

import os
import shutil
import tempfile
from pathlib import Path

from panelmatch import logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
out_dir = Path(snakemake.output[0])
stage = Path(tempfile.mkdtemp(prefix=".clusters.", dir=out_dir.parent))
clusters = tables.read(snakemake.input.clusters)
grouped = clusters[clusters["cluster_size"] > 1]
for row in grouped.itertuples(index=False):
    folder = stage / f"size_{row.cluster_size}" / f"cluster_{row.cluster}"
    folder.mkdir(parents=True, exist_ok=True)
    name = row.image.replace("/", "__") + ("" if Path(row.image).suffix else Path(row.path).suffix)
    final_folder = out_dir / folder.relative_to(stage)
    target = os.path.relpath(os.path.abspath(row.path), os.path.abspath(final_folder))
    os.symlink(target, folder / name)
if out_dir.exists():
    shutil.rmtree(out_dir)
os.rename(stage, out_dir)
log.info("%d images in %d cluster folders", len(grouped), grouped["cluster"].nunique())
