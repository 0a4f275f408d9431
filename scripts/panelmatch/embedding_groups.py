"""Groups of deep fingerprints (opt-in), the methods of the train/test notebook: hierarchical
groups cut at a cosine similarity, de-duplication, and k-medoids representatives with k
chosen by silhouette.

Vectors are L2-normalised float arrays of shape (n, d) (panelmatch.embeddings).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from panelmatch import grouping, pairs, tables

Vectors = npt.NDArray[np.float32]

#: Linkage methods accepted for the hierarchical clustering.
LINKAGES = ("average", "single", "complete")


def hierarchical(
    vectors: Vectors,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    distance: npt.ArrayLike,
    similarity: float,
    linkage: str,
    max_component: int = 20_000,
) -> npt.NDArray[np.int32]:
    """Hierarchical clustering of the vectors cut at cosine similarity `similarity`.

    Groups are the flat groups whose merge distance (cosine distance, under `linkage`)
    is at most ``1 - similarity``. Only the stored pairs (a[k], b[k]) with their cosine
    `distance` are needed, not the N x N matrix: single, average and complete linkage
    never merge two groups that no pair within the cut joins, so the clustering is run
    separately on each connected component of the pairs within the cut (exactly, with all
    distances inside the component). The stored pairs must hold every pair within the
    cut (a cosine cap of at least ``1 - similarity``).
    """
    from scipy.cluster import hierarchy
    from scipy.spatial.distance import pdist

    if linkage not in LINKAGES:
        raise ValueError(f"linkage must be one of {LINKAGES}, got {linkage!r}")
    if not 0 <= similarity <= 1:
        raise ValueError(f"similarity must be in 0..1, got {similarity}")
    v = np.asarray(vectors, dtype=np.float64)
    n = len(v)
    cut = 1.0 - similarity
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    near = np.asarray(distance, dtype=np.float64) <= cut
    component = grouping.components(n, a[near], b[near])
    labels = np.full(n, -1, dtype=np.int64)
    next_label = 0
    for members in grouping.members(component):
        if len(members) == 1:
            labels[members[0]] = next_label
            next_label += 1
            continue
        if len(members) > max_component:
            raise ValueError(
                f"a connected component of {len(members)} images is over {max_component}: "
                "raise embeddings.similarity"
            )
        d = np.clip(pdist(v[members], "cosine"), 0, None)
        flat = hierarchy.fcluster(hierarchy.linkage(d, linkage), t=cut, criterion="distance")
        labels[members] = flat - 1 + next_label
        next_label += int(flat.max())
    return grouping.number(labels)


class Duplicates(NamedTuple):
    keep: npt.NDArray[np.bool_]
    duplicate_of: npt.NDArray[np.int64]  # -1 for a kept image
    distance: npt.NDArray[np.float32]  # to the image it duplicates (nan when kept)


def duplicates(
    n: int, a: npt.ArrayLike, b: npt.ArrayLike, distance: npt.ArrayLike, similarity: float
) -> Duplicates:
    """De-duplication at a cosine similarity: images are taken in order (0..n-1); an image
    whose similarity to an already kept image is at least `similarity` is a duplicate of
    the most similar such image (ties: the earlier); otherwise it is kept."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    d = np.asarray(distance, dtype=np.float64)
    close = d <= 1.0 - similarity
    lo, hi, dd = np.minimum(a, b)[close], np.maximum(a, b)[close], d[close]
    order = np.lexsort((lo, dd, hi))
    keep = np.ones(n, dtype=bool)
    of = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan, dtype=np.float32)
    for k in order.tolist():
        later, earlier = int(hi[k]), int(lo[k])
        if of[later] < 0 and keep[earlier]:
            keep[later] = False
            of[later] = earlier
            dist[later] = dd[k]
    return Duplicates(keep, of, dist)


def _nearest(vectors: Vectors, centres: Vectors, block: int = 4096):
    best = np.empty(len(vectors), dtype=np.int64)
    dist = np.empty(len(vectors), dtype=np.float64)
    for start in range(0, len(vectors), block):
        d = 1.0 - vectors[start : start + block] @ centres.T
        best[start : start + block] = d.argmin(axis=1)
        dist[start : start + block] = d.min(axis=1)
    return best, np.clip(dist, 0, None)


class Medoids(NamedTuple):
    medoids: npt.NDArray[np.int64]  # image index of each medoid
    labels: npt.NDArray[np.int64]  # medoid number (0..k-1) of each image
    inertia: float  # sum of cosine distances to the own medoid


def kmedoids(
    vectors: Vectors, k: int, seed: int, iterations: int = 30, sample: int = 2000
) -> Medoids:
    """k representatives (medoids) of the vectors under cosine distance.

    k-medoids++ initialisation (seeded), then alternating assignment and update: each
    medoid moves to the member with the smallest total distance to its cluster (among at
    most `sample` candidates drawn from a large cluster), until nothing changes.
    """
    v = np.asarray(vectors, dtype=np.float32)
    n = len(v)
    if not 1 <= k <= n:
        raise ValueError(f"k must be in 1..{n}, got {k}")
    rng = np.random.default_rng(seed)
    medoids = [int(rng.integers(n))]
    closest = np.clip(1.0 - v @ v[medoids[0]], 0, None)
    for _ in range(1, k):
        weights = closest**2
        total = weights.sum()
        pick = int(rng.choice(n, p=weights / total)) if total > 0 else int(rng.integers(n))
        medoids.append(pick)
        closest = np.minimum(closest, np.clip(1.0 - v @ v[pick], 0, None))
    medoids_arr = np.array(medoids, dtype=np.int64)
    for _ in range(iterations):
        labels, _ = _nearest(v, v[medoids_arr])
        updated = medoids_arr.copy()
        for c in range(k):
            members = np.nonzero(labels == c)[0]
            if not len(members):
                continue
            candidates = members
            if len(members) > sample:
                candidates = np.sort(rng.choice(members, sample, replace=False))
            cost = (1.0 - v[candidates] @ v[members].T).sum(axis=1)
            updated[c] = candidates[int(np.argmin(cost))]
        if (updated == medoids_arr).all():
            break
        medoids_arr = updated
    labels, dist = _nearest(v, v[medoids_arr])
    return Medoids(medoids_arr, labels, float(dist.sum()))


def silhouette(vectors: Vectors, labels: npt.ArrayLike) -> float:
    """Mean silhouette coefficient under cosine distance (0 when fewer than 2 groups)."""
    v = np.asarray(vectors, dtype=np.float64)
    labels = np.asarray(labels)
    kinds = np.unique(labels)
    if len(kinds) < 2 or len(kinds) >= len(v):
        return 0.0
    d = np.clip(1.0 - v @ v.T, 0, None)
    index = np.searchsorted(kinds, labels)
    onehot = np.zeros((len(v), len(kinds)))
    onehot[np.arange(len(v)), index] = 1.0
    counts = onehot.sum(axis=0)
    sums = d @ onehot  # (n, groups): total distance to each cluster
    own = counts[index]
    a = sums[np.arange(len(v)), index] / np.maximum(own - 1, 1)
    means = sums / counts
    means[np.arange(len(v)), index] = np.inf
    b = means.min(axis=1)
    top = np.maximum(a, b)
    scores = np.where((own > 1) & (top > 0), (b - a) / np.where(top > 0, top, 1), 0.0)
    return float(scores.mean())


class Scan(NamedTuple):
    ks: list[int]
    inertia: list[float]
    silhouette: list[float]
    chosen: int


def choose_k(vectors: Vectors, ks: Sequence[int], seed: int, sample: int = 2000) -> Scan:
    """k-medoids for every k in `ks`: inertia (the elbow plot) and the silhouette (on at most
    `sample` images, seeded); the chosen k has the largest silhouette (ties: smaller k)."""
    v = np.asarray(vectors, dtype=np.float32)
    ks = sorted({int(k) for k in ks if 2 <= k <= len(v)})
    if not ks:
        raise ValueError(f"no k to try: need 2 <= k <= {len(v)}")
    rng = np.random.default_rng(seed)
    subset = np.sort(rng.choice(len(v), min(sample, len(v)), replace=False))
    inertia, sil = [], []
    for k in ks:
        result = kmedoids(v, k, seed)
        inertia.append(result.inertia)
        sil.append(silhouette(v[subset], result.labels[subset]))
    best = max(range(len(ks)), key=lambda t: (round(sil[t], 9), -ks[t]))
    return Scan(ks, inertia, sil, ks[best])


class Found(NamedTuple):
    """What the embedding_groups rule writes (see :func:`of_run`)."""

    groups: pd.DataFrame  # tables.EMBEDDING_GROUPS
    duplicates: pd.DataFrame  # image, keep, duplicate_of, similarity
    representatives: pd.DataFrame  # representative, image, members
    scan: pd.DataFrame  # k, inertia, silhouette (empty when k is configured or n < 3)
    k: int  # the number of representatives
    chosen: bool  # whether k was chosen by the scan (not configured)


def of_run(
    frame_images: Sequence[str],
    vectors: Vectors,
    shards: Iterable[pairs.Shard],
    *,
    similarity: float,
    linkage: str,
    duplicate_similarity: float,
    representatives: int,
    k_range: Sequence[int],
    seed: int,
) -> Found:
    """The notebook's methods on a run's fingerprints: `frame_images` names each frame's
    image (the frame features tables' order, which `vectors` follows), `shards` are the
    stored pairs with their ``cosine`` distances (pairs.stream). Each image counts by its
    first kept frame (with frames.mode first, its only one). The keyword arguments are the
    ``embeddings`` section's keys of those names."""
    # the pairs within the looser of the two cuts (no method below reads a pair beyond it),
    # one shard at a time
    cut = 1.0 - min(similarity, duplicate_similarity)
    near = [s.take(s.distances["cosine"] <= cut) for s in shards]
    a, b, found = pairs.concat(near, ["cosine"])
    distance = found["cosine"].astype(np.float64)
    names, image_of = tables.image_numbers(pd.Series(frame_images))
    first = np.ones(len(image_of), dtype=bool)
    first[1:] = image_of[1:] != image_of[:-1]
    both = first[a] & first[b]
    a, b, distance = image_of[a[both]], image_of[b[both]], distance[both]
    vectors = vectors[first]
    n = len(names)

    labels = hierarchical(vectors, a, b, distance, similarity, linkage)
    sizes = np.bincount(labels, minlength=1)[labels]
    groups = pd.DataFrame({"image": names, "group": labels, "group_size": sizes})
    dup = duplicates(n, a, b, distance, duplicate_similarity)
    duplicated = pd.DataFrame(
        {
            "image": names,
            "keep": dup.keep,
            "duplicate_of": np.where(dup.keep, "", names[np.maximum(dup.duplicate_of, 0)]),
            "similarity": np.round(1.0 - dup.distance, 4),
        }
    )
    # k-medoids: k as configured, or the best silhouette of the scan (at most one k per image)
    ks = list(range(k_range[0], min(k_range[1], n - 1) + 1))
    scan = choose_k(vectors, ks, seed) if ks else None
    k = min(representatives or (scan.chosen if scan else 1), n)
    medoids = kmedoids(vectors, k, seed) if k else None
    chosen = pd.DataFrame(
        {
            "representative": np.arange(k),
            "image": names[medoids.medoids] if medoids else [],
            "members": np.bincount(medoids.labels, minlength=k) if medoids else [],
        }
    )
    curve = pd.DataFrame(
        {
            "k": scan.ks if scan else [],
            "inertia": scan.inertia if scan else [],
            "silhouette": scan.silhouette if scan else [],
        }
    )
    return Found(groups, duplicated, chosen, curve, k, not representatives)
