"""Rule embedding_groups: the seeds' methods on the deep fingerprints: hierarchical groups
cut at a similarity, de-duplication, and k-medoids representatives (k from a scan)."""

import numpy as np
import pandas as pd
from panelmatch import embeddings, logs, pairs, plots, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, out, p = snakemake.input, snakemake.output, snakemake.params

frames, offsets = tables.read_images(inp.edges)
vector_images, vectors = tables.read_vectors(inp.embeddings)
if not np.array_equal(vector_images, frames["image"].to_numpy()):
    raise ValueError("results/embeddings does not list the frames of results/edges")
# one shard at a time, keeping the pairs within the looser of the two cuts (no method
# below reads a pair beyond it)
cut = 1.0 - min(p.similarity, p.duplicate_similarity)
near = [s.take(s.distances["cosine"] <= cut) for s in pairs.stream(inp.shards, offsets, ["cosine"])]
a, b, found = pairs.concat(near, ["cosine"])
distance = found["cosine"].astype(np.float64)
# each image by its first kept frame (with frames.mode first, its only one)
names, image_of = tables.image_numbers(frames["image"])
first = np.ones(len(frames), dtype=bool)
first[1:] = image_of[1:] != image_of[:-1]
both = first[a] & first[b]
a, b, distance = image_of[a[both]], image_of[b[both]], distance[both]
vectors = vectors[first]
n = len(names)

labels = embeddings.hierarchical(vectors, a, b, distance, p.similarity, p.linkage)
sizes = np.bincount(labels, minlength=1)[labels]
tables.write(
    pd.DataFrame({"image": names, "group": labels, "group_size": sizes}),
    out.groups,
    tables.EMBEDDING_GROUPS,
)

dup = embeddings.duplicates(n, a, b, distance, p.duplicate_similarity)
tables.write_csv(
    pd.DataFrame(
        {
            "image": names,
            "keep": dup.keep,
            "duplicate_of": np.where(dup.keep, "", names[np.maximum(dup.duplicate_of, 0)]),
            "similarity": np.round(1.0 - dup.distance, 4),
        }
    ),
    out.duplicates,
)

# k-medoids: k as configured, or the best silhouette of the scan (at most one k per image)
ks = list(range(p.k_range[0], min(p.k_range[1], n - 1) + 1))
scan = embeddings.choose_k(vectors, ks, p.seed) if ks else None
k = min(p.representatives or (scan.chosen if scan else 1), n)
medoids = embeddings.kmedoids(vectors, k, p.seed) if k else None
tables.write_csv(
    pd.DataFrame(
        {
            "representative": np.arange(k),
            "image": names[medoids.medoids] if k else [],
            "members": np.bincount(medoids.labels, minlength=k) if k else [],
        }
    ),
    out.representatives,
)
curve = pd.DataFrame(
    {
        "k": scan.ks if scan else [],
        "inertia": scan.inertia if scan else [],
        "silhouette": scan.silhouette if scan else [],
    }
)
tables.write_csv(curve, out.scan)
tables.write_bytes(plots.kmedoids(curve, k), out.plot)
log.info(
    "%d images: %d hierarchical groups of 2+, %d duplicates, k = %d representatives (%s)",
    n,
    len(set(labels[sizes > 1].tolist())),
    int((~dup.keep).sum()),
    k,
    "chosen by silhouette" if not p.representatives else "configured",
)
