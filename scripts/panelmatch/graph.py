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
