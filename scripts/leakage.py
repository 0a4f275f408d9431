"""Rule leakage: groups whose members come from more than one fold (train/test leakage)."""

import pandas as pd
from panelmatch import logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
folds = list(snakemake.params.folds)
groups = tables.read(snakemake.input.groups, ["image", "group", "group_size"])
groups["fold"] = (
    groups["image"].str.split("/").str[0].where(groups["image"].str.contains("/", regex=False))
)
groups = groups[groups["fold"].isin(folds) & (groups["group_size"] > 1)]
rows = []
for cluster, members in groups.groupby("group", sort=True):
    if members["fold"].nunique() > 1:
        rows.append(
            {
                "group": cluster,
                "group_size": int(members["group_size"].iloc[0]),
                "folds": ",".join(sorted(members["fold"].unique())),
                "images": ";".join(members["image"]),
            }
        )
tables.write_csv(pd.DataFrame(rows, columns=tables.LEAKAGE_COLUMNS), snakemake.output[0])
log.info("%d groups span the folds %s", len(rows), folds)
