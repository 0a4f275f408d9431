"""Rule embedding_groups: the train/test notebook's methods on the deep fingerprints:
hierarchical groups cut at a similarity, de-duplication, and k-medoids representatives
(k from a scan).

Inputs: every chunk's frame features (results/frame_features/*.parquet), the fingerprints
(results/embeddings/*.parquet) and the distance shards.
Outputs: results/embeddings/groups.parquet (tables.EMBEDDING_GROUPS), duplicates.csv,
representatives.csv, the k scan (CSV) and its plot.
"""

import numpy as np
from panelmatch import embedding_groups, logs, pairs, plots, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, out, params = snakemake.input, snakemake.output, snakemake.params

frames, offsets = tables.read_images(inp.frame_features)
vector_images, vectors = tables.read_vectors(inp.embeddings)
if not np.array_equal(vector_images, frames["image"].to_numpy()):
    raise ValueError("results/embeddings does not list the frames of results/frame_features")
shards = pairs.stream(inp.shards, offsets, ["cosine"])
found = embedding_groups.of_run(frames["image"], vectors, shards, **dict(params.items()))
tables.write(found.groups, out.groups, tables.EMBEDDING_GROUPS)
tables.write_csv(found.duplicates, out.duplicates)
tables.write_csv(found.representatives, out.representatives)
tables.write_csv(found.scan, out.scan)
tables.write_bytes(plots.kmedoids(found.scan, found.k), out.plot)
grouped = found.groups[found.groups["group_size"] > 1]
log.info(
    "%d images: %d hierarchical groups of 2+, %d duplicates, k = %d representatives (%s)",
    len(found.groups),
    grouped["group"].nunique(),
    int((~found.duplicates["keep"]).sum()),
    found.k,
    "chosen by silhouette" if found.chosen else "configured",
)
