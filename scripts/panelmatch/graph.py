"""From stored pairs to groups: which pairs become graph edges, and how groups are found.

The default is the original study's final method: two images are linked when their edge-map
distance is at most the *edge threshold* of both, where an image's edge threshold is
``min(edge_scale * edge_pixels, edge_cap)``. A nearly blank panel has few edge pixels, so its
threshold is small and it cannot match busy panels (whose distance to it is about their own
edge count). Optionally, pairs whose hash distance is at most a per-hash limit are linked too
("edge OR hash"), but only between images with at least `min_edge_pixels` edge pixels, so that
blank panels, whose hashes all look alike, stay out of hash matches.
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx
import numpy as np
import numpy.typing as npt

#: Grouping methods accepted in configuration.
METHODS = ("connected_components", "greedy_modularity")


def edge_thresholds(
    edge_pixels: npt.ArrayLike, edge_scale: float, edge_cap: float
) -> npt.NDArray[np.float64]:
    """Each image's edge threshold: ``min(edge_scale * edge_pixels, edge_cap)``."""
    if edge_scale < 0 or edge_cap < 0:
        raise ValueError(f"edge_scale and edge_cap must be >= 0, got {edge_scale}, {edge_cap}")
    return np.minimum(edge_scale * np.asarray(edge_pixels, dtype=np.float64), float(edge_cap))


def linked(
    edge_distance: npt.ArrayLike,
    threshold_a: npt.ArrayLike,
    threshold_b: npt.ArrayLike,
    hash_distances: Mapping[str, npt.ArrayLike] | None = None,
    hash_max: Mapping[str, int] | None = None,
    content_ok: npt.ArrayLike | None = None,
) -> npt.NDArray[np.bool_]:
    """Which pairs become graph edges.

    A pair is linked when ``edge_distance < min(threshold_a, threshold_b)``, or when, for
    some hash in `hash_max`, its distance is at most that limit and `content_ok` (both images
    have enough edge pixels) holds.
    """
    d = np.asarray(edge_distance, dtype=np.float64)
    mask = d < np.minimum(
        np.asarray(threshold_a, dtype=np.float64), np.asarray(threshold_b, dtype=np.float64)
    )
    if hash_max:
        if hash_distances is None or content_ok is None:
            raise ValueError("hash_max needs hash_distances and content_ok")
        ok = np.asarray(content_ok, dtype=bool)
        for name, limit in hash_max.items():
            if name not in hash_distances:
                raise ValueError(
                    f"clusters.hash_max names {name!r}, which hashes.methods does not compute"
                )
            mask |= ok & (np.asarray(hash_distances[name]) <= limit)
    return mask


def groups(
    n: int,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    weight: npt.ArrayLike,
    method: str,
) -> npt.NDArray[np.int32]:
    """Group label of each of `n` images (0..n-1) given the graph's edges (a[k], b[k]).

    Labels are numbered deterministically: larger groups first, ties by their smallest
    member; singletons (no edges) get their own labels after all larger groups.
    `weight` (larger = stronger link) is used by greedy_modularity.
    """
    if method not in METHODS:
        raise ValueError(f"clusters.method must be one of {list(METHODS)}, got {method!r}")
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    w = np.asarray(weight, dtype=np.float64)
    if len(a) != len(b) or len(a) != len(w):
        raise ValueError("a, b and weight must have the same length")
    if len(a) and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n):
        raise ValueError(f"edge endpoints must be in 0..{n - 1}")
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_weighted_edges_from(zip(a.tolist(), b.tolist(), w.tolist(), strict=True))
    if method == "connected_components":
        members = [sorted(c) for c in nx.connected_components(graph)]
    else:
        linked_nodes = graph.subgraph([v for v in graph if graph.degree(v) > 0])
        members = []
        if linked_nodes.number_of_edges():
            members = [
                sorted(c)
                for c in nx.community.greedy_modularity_communities(linked_nodes, weight="weight")
            ]
        seen = {v for m in members for v in m}
        members += [[v] for v in range(n) if v not in seen]
    members.sort(key=lambda m: (-len(m), m[0]))
    labels = np.empty(n, dtype=np.int32)
    for label, member in enumerate(members):
        labels[member] = label
    return labels


def sizes(labels: npt.ArrayLike) -> npt.NDArray[np.int32]:
    """Size of each image's group."""
    labels = np.asarray(labels)
    if not len(labels):
        return np.zeros(0, dtype=np.int32)
    counts = np.bincount(labels)
    return counts[labels].astype(np.int32)


def neighbours(
    n: int, a: npt.ArrayLike, b: npt.ArrayLike, distance: npt.ArrayLike, k: int
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]
]:
    """Each image's k nearest images among the stored pairs, by `distance` (ties: lower index).

    Returns (image, rank, neighbour, pair) sorted by image then rank; rank starts at 1 and
    `pair` is the index of the pair (into a, b) that links them.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    d = np.asarray(distance, dtype=np.int64)
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    pair = np.concatenate([np.arange(len(a)), np.arange(len(a))])
    dd = np.concatenate([d, d])
    order = np.lexsort((dst, dd, src))
    src, dst, pair = src[order], dst[order], pair[order]
    start = np.searchsorted(src, np.arange(n))
    rank = np.arange(len(src)) - start[src] + 1
    keep = rank <= k
    return src[keep], rank[keep], dst[keep], pair[keep]


def medoids(
    labels: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    distance: npt.ArrayLike,
    missing: float,
) -> npt.NDArray[np.bool_]:
    """Mark each group's medoid: the member with the smallest total distance to the others.

    Distances come from the stored pairs; a pair of members that was not stored counts as
    `missing`. Ties go to the lower index; a singleton is its own medoid.
    """
    labels = np.asarray(labels)
    n = len(labels)
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    d = np.asarray(distance, dtype=np.float64)
    same = labels[a] == labels[b]
    total = np.zeros(n)
    known = np.zeros(n)
    np.add.at(total, a[same], d[same])
    np.add.at(total, b[same], d[same])
    np.add.at(known, a[same], 1)
    np.add.at(known, b[same], 1)
    size = sizes(labels)
    total += (size - 1 - known) * missing
    is_medoid = np.zeros(n, dtype=bool)
    order = np.lexsort((np.arange(n), total, labels))
    first = np.ones(n, dtype=bool)
    first[1:] = labels[order][1:] != labels[order][:-1]
    is_medoid[order[first]] = True
    return is_medoid


def sensitivity(
    n: int,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    edge_distance: npt.ArrayLike,
    edge_pixels: npt.ArrayLike,
    scales: npt.ArrayLike,
    edge_cap: float,
) -> dict[str, list]:
    """Groups (connected components of 2+) and grouped images for each edge_scale in `scales`.

    Computed from the stored pairs only, so no distance is recomputed.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    px = np.asarray(edge_pixels)
    out: dict[str, list] = {"edge_scale": [], "groups": [], "grouped_images": []}
    for scale in np.asarray(scales, dtype=np.float64):
        t = edge_thresholds(px, float(scale), edge_cap)
        keep = linked(edge_distance, t[a], t[b])
        graph = coo_matrix((np.ones(int(keep.sum())), (a[keep], b[keep])), shape=(n, n))
        _, comp = connected_components(graph, directed=False)
        counts = np.bincount(comp)
        out["edge_scale"].append(round(float(scale), 4))
        out["groups"].append(int((counts > 1).sum()))
        out["grouped_images"].append(int(counts[counts > 1].sum()))
    return out
