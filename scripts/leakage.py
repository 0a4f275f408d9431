"""Rule leakage: groups whose members come from more than one fold (train/test leakage)."""

import pandas as pd
from panelmatch import logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
folds = list(snakemake.params.folds)
clusters = tables.read(snakemake.input.clusters, ["image", "cluster", "cluster_size"])
clusters["fold"] = (
    clusters["image"].str.split("/").str[0].where(clusters["image"].str.contains("/", regex=False))
)
clusters = clusters[clusters["fold"].isin(folds) & (clusters["cluster_size"] > 1)]
rows = []
for cluster, members in clusters.groupby("cluster", sort=True):
    if members["fold"].nunique() > 1:
        rows.append(
            {
                "cluster": cluster,
                "cluster_size": int(members["cluster_size"].iloc[0]),
                "folds": ",".join(sorted(members["fold"].unique())),
                "images": ";".join(members["image"]),
            }
        )
tables.write_csv(pd.DataFrame(rows, columns=tables.LEAKAGE_COLUMNS), snakemake.output[0])
log.info("%d groups span the folds %s", len(rows), folds)
