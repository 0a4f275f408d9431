"""From stored pairs to groups: which pairs become graph edges, and how groups are found.

A *rule* (the ``clusters`` section of the configuration, a plain dict) decides which pairs
are linked (:func:`link`):

- the edge rule (the original study's final method): the pair's edge distance, the
  smallest of ``edge_metrics`` (``edges``, and ``edges_mirror`` for mirrored redraws), is
  below the *edge threshold* of both images. With ``threshold: scaled`` an image's
  threshold is ``min(edge_scale * edge_pixels, edge_cap)``: a nearly blank panel has few
  edge pixels, so its threshold is small and it cannot match busy panels. With
  ``threshold: global`` it is ``edge_cap`` for every image;
- "edge OR hash": a hash distance at most ``hash_max[hash]``;
- the mixed metric: ``(edge / (edge_pixels_a + edge_pixels_b) + hash / (bits / 2)) / 2`` at
  most ``mixed[hash]``. Each distance is divided by its typical value between unrelated
  images (their edge pixels rarely overlap; half of a hash's bits differ), then the two are
  averaged, as the study did with its corpus means;
- with embeddings, the cosine rule: a cosine distance at most ``cosine_max``;
- the low-content guard: an image with fewer than ``min_edge_pixels`` edge pixels links only
  to an identical image (edge distance and every frame-hash distance zero).

Each linked pair gets a *ratio*, its distance over the limit of the rule that linked it
(0 = identical, below 1 = linked); the graph's edge weight is ``1.01 - ratio``. Groups are
then found by :func:`groups`, and the chaining guard (:func:`split_chains`) keeps a group
from growing beyond ``max_group_size`` except through strong links (ratio <= ``strong``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import networkx as nx
import numpy as np
import numpy.typing as npt
from numba import njit, types
from numba.typed import Dict, List

from panelmatch import metrics

#: Grouping methods accepted in configuration.
METHODS = ("connected_components", "greedy_modularity", "louvain", "sequential")
#: Edge weight of a link is WEIGHT_TOP - ratio (in 0.01 .. 1.01).
WEIGHT_TOP = 1.01


def edge_thresholds(
    edge_pixels: npt.ArrayLike, edge_scale: float, edge_cap: float
) -> npt.NDArray[np.float64]:
    """Each image's edge threshold: ``min(edge_scale * edge_pixels, edge_cap)``."""
    if edge_scale < 0 or edge_cap < 0:
        raise ValueError(f"edge_scale and edge_cap must be >= 0, got {edge_scale}, {edge_cap}")
    return np.minimum(edge_scale * np.asarray(edge_pixels, dtype=np.float64), float(edge_cap))


def linked(
    edge_distance: npt.ArrayLike, threshold_a: npt.ArrayLike, threshold_b: npt.ArrayLike
) -> npt.NDArray[np.bool_]:
    """The edge rule alone: ``edge_distance < min(threshold_a, threshold_b)``."""
    d = np.asarray(edge_distance, dtype=np.float64)
    return d < np.minimum(
        np.asarray(threshold_a, dtype=np.float64), np.asarray(threshold_b, dtype=np.float64)
    )


class Links(NamedTuple):
    """Which pairs a rule links, and how strongly (see the module docstring)."""

    keep: npt.NDArray[np.bool_]
    ratio: npt.NDArray[np.float64]  # distance over the linking rule's limit; inf if unlinked
    edge: npt.NDArray[np.int64]  # the edge distance (smallest of the rule's edge_metrics)
    limit: npt.NDArray[np.float64]  # the pair's edge threshold


def edge_distance(
    distances: Mapping[str, npt.ArrayLike], edge_metrics: Sequence[str]
) -> npt.NDArray[np.int64]:
    """The edge rule's distance of each pair: the smallest of its `edge_metrics`."""
    missing = [m for m in edge_metrics if m not in distances]
    if missing:
        raise ValueError(f"edge_metrics {missing} were not computed (distances.bitmaps)")
    return np.min([np.asarray(distances[m], dtype=np.int64) for m in edge_metrics], axis=0)


def link(
    distances: Mapping[str, npt.ArrayLike],
    pixels_a: npt.ArrayLike,
    pixels_b: npt.ArrayLike,
    hash_bits: Mapping[str, int],
    rule: Mapping,
) -> Links:
    """Apply a matching rule to pairs of images.

    `distances` maps each metric to its values for the pairs; `pixels_a`, `pixels_b` are the
    two images' edge-pixel counts; `hash_bits` gives the bits of every hash metric; `rule`
    has the keys of the ``clusters`` configuration section.
    """
    edge = edge_distance(distances, rule["edge_metrics"])
    pa = np.asarray(pixels_a, dtype=np.int64)
    pb = np.asarray(pixels_b, dtype=np.int64)
    if rule["threshold"] == "scaled":
        ta = edge_thresholds(pa, rule["edge_scale"], rule["edge_cap"])
        tb = edge_thresholds(pb, rule["edge_scale"], rule["edge_cap"])
        limit = np.minimum(ta, tb)
    elif rule["threshold"] == "global":
        limit = np.full(len(edge), float(rule["edge_cap"]))
    else:
        raise ValueError(f"threshold must be scaled or global, got {rule['threshold']!r}")
    keep = linked(edge, limit, limit)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(keep, edge / limit, np.inf)
    content = (pa >= rule["min_edge_pixels"]) & (pb >= rule["min_edge_pixels"])
    # the rules besides the edge rule: (field, metric, limit); None switches one off
    # (configuration merges cannot delete a key)
    others = [(f, m, v) for f in ("hash_max", "mixed") for m, v in rule[f].items()]
    others.append(("cosine_max", metrics.COSINE, rule.get("cosine_max")))
    for field, name, value in others:
        if value is None:
            continue
        if field == "cosine_max" and name not in distances:
            raise ValueError("cosine_max needs the embeddings' cosine distances")
        if field != "cosine_max" and (name not in distances or name not in hash_bits):
            raise ValueError(f"{field} names {name!r}, which is not a computed hash")
        d = np.asarray(distances[name], dtype=np.float64)
        if field == "hash_max":
            score, hit = d / (value + 1), d <= value
        elif field == "mixed":
            mixed = (edge / np.maximum(pa + pb, 1) + d / (hash_bits[name] / 2)) / 2
            score, hit = mixed / value, mixed <= value
        else:
            score, hit = (d / value if value > 0 else np.zeros_like(d)), d <= value
        hit &= content
        keep |= hit
        ratio = np.where(hit, np.minimum(ratio, score), ratio)
    identical = edge == 0
    for name in hash_bits:
        if name in distances and not name.startswith(metrics.EDGE_HASH):
            identical &= np.asarray(distances[name]) == 0
    keep = np.where(content, keep, identical)
    ratio = np.where(content, ratio, np.where(identical, 0.0, np.inf))
    return Links(keep, np.where(keep, np.minimum(ratio, 1.0), np.inf), edge, limit)


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
    `weight` (larger = stronger link) is used by greedy_modularity and louvain (seeded,
    deterministic) and by sequential: the method of the seeds' pHash notebook, in which
    images are taken in order (0..n-1) and each joins the group of its strongest link to an
    earlier image (ties: the earlier group), or starts a new group when it has none.
    """
    if method not in METHODS:
        raise ValueError(f"clusters.method must be one of {list(METHODS)}, got {method!r}")
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    w = np.asarray(weight, dtype=np.float64)
    if len(a) != len(b) or len(a) != len(w):
        raise ValueError("a, b and weight must have the same length")
    if len(a) and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n):
        raise ValueError(f"edge endpoints must be in 0..{n - 1}")
    if method == "connected_components":
        found = members(components(n, a, b))
    elif method == "sequential":
        found = _sequential(n, a, b, w)
    else:
        if method == "louvain":
            graph = nx.Graph()
            graph.add_nodes_from(range(n))
            graph.add_weighted_edges_from(zip(a.tolist(), b.tolist(), w.tolist(), strict=True))
            linked_nodes = graph.subgraph([v for v in graph if graph.degree(v) > 0])
            communities = nx.community.louvain_communities(linked_nodes, weight="weight", seed=0)
            found = [sorted(c) for c in communities]
        else:
            found = greedy_modularity(a, b, w)
        seen = {v for m in found for v in m}
        found += [[v] for v in range(n) if v not in seen]
    return _number(n, found)


def _number(n: int, members: list[list[int]]) -> npt.NDArray[np.int32]:
    """Labels from member lists: larger groups first, ties by their smallest member."""
    members = sorted((sorted(m) for m in members), key=lambda m: (-len(m), m[0]))
    labels = np.empty(n, dtype=np.int32)
    for label, member in enumerate(members):
        labels[member] = label
    return labels


def members(labels: npt.ArrayLike) -> list[list[int]]:
    """The images (0..n-1) of each group of `labels` (any hashable labels), in order of
    each group's first image."""
    out: dict[object, list[int]] = {}
    for v, label in enumerate(np.asarray(labels).tolist()):
        out.setdefault(label, []).append(v)
    return list(out.values())


def number(labels: npt.ArrayLike) -> npt.NDArray[np.int32]:
    """Renumber groups deterministically: larger groups first, ties by their smallest member."""
    return _number(len(labels), members(labels))


def components(n: int, a: npt.ArrayLike, b: npt.ArrayLike) -> npt.NDArray[np.int32]:
    """Connected component of each of `n` images under the edges (a[k], b[k])."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def greedy_modularity(a: npt.ArrayLike, b: npt.ArrayLike, weight: npt.ArrayLike) -> list[list[int]]:
    """Communities of the graph with edges (a[k], b[k]) and positive weights, by
    Clauset-Newman-Moore greedy modularity maximisation: the partition of
    ``networkx.community.greedy_modularity_communities(graph, weight="weight")`` on the
    graph of those edges, computed the same way, compiled.

    As there, the pair of communities whose merge raises modularity most is merged (ties:
    the pair (u, v), u < v, of smallest labels; v keeps its label), with the same
    floating-point updates, until no merge raises it (a merge adding exactly 0 is made).
    Returns the member lists of the nodes that have edges. Edges must not repeat a pair or
    join a node to itself.
    """
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    w = np.asarray(weight, dtype=np.float64)
    if not len(a):
        return []
    if (a == b).any():
        raise ValueError("greedy_modularity: an edge joins a node to itself")
    nodes, index = np.unique(np.concatenate([a, b]), return_inverse=True)
    root = _cnm(len(nodes), index[: len(a)], index[len(a) :], w)
    return [nodes[m].tolist() for m in members(root)]


@njit(cache=True)
def _before(hd, hu, hv, i, j):  # pragma: no cover - numba
    """Heap order: larger gain first (hd holds minus the gain), then the smaller pair."""
    if hd[i] != hd[j]:
        return hd[i] < hd[j]
    if hu[i] != hu[j]:
        return hu[i] < hu[j]
    return hv[i] < hv[j]


@njit(cache=True)
def _swap(hd, hu, hv, i, j):  # pragma: no cover - numba
    hd[i], hd[j] = hd[j], hd[i]
    hu[i], hu[j] = hu[j], hu[i]
    hv[i], hv[j] = hv[j], hv[i]


@njit(cache=True)
def _sift_down(hd, hu, hv, i, size):  # pragma: no cover - numba
    while 2 * i + 1 < size:
        c = 2 * i + 1
        if c + 1 < size and _before(hd, hu, hv, c + 1, c):
            c += 1
        if not _before(hd, hu, hv, c, i):
            break
        _swap(hd, hu, hv, c, i)
        i = c


@njit(cache=True)
def _push(hd, hu, hv, size, gain, x, y):  # pragma: no cover - numba
    """Add the pair (x, y) with `gain` at position `size` of the heap; returns the arrays
    (grown when full)."""
    if size == hd.shape[0]:
        hd, hu, hv = _grow(hd), _grow(hu), _grow(hv)
    hd[size], hu[size], hv[size] = -gain, min(x, y), max(x, y)
    i = size
    while i > 0 and _before(hd, hu, hv, i, (i - 1) >> 1):
        _swap(hd, hu, hv, i, (i - 1) >> 1)
        i = (i - 1) >> 1
    return hd, hu, hv


@njit(cache=True)
def _grow(x):  # pragma: no cover - numba
    out = np.empty(2 * x.shape[0] + 16, x.dtype)
    out[: x.shape[0]] = x
    return out


@njit(cache=True)
def _cnm(n, a, b, w):  # pragma: no cover - numba
    """Each node's community (a node's label) after networkx's greedy modularity merges.

    dq[u][x] is the gain of merging communities u and x, updated exactly as networkx does.
    A max-heap of (gain, pair) entries is kept lazily: an entry is used only while its
    pair is still adjacent with that gain. A negative gain never enters it: networkx
    stops at the first negative best gain, which is when no gain of 0 or more is left.
    """
    dq = List()
    for _ in range(n):
        dq.append(Dict.empty(key_type=types.int64, value_type=types.float64))
    for k in range(a.shape[0]):
        dq[a[k]][b[k]] = w[k]
        dq[b[k]][a[k]] = w[k]
    degree = np.zeros(n)
    for u in range(n):
        for x in dq[u].values():  # summed in the order the edges were given, as networkx
            degree[u] += x
    m = 0.0
    for u in range(n):
        m += degree[u]
    q0 = 1 / (m / 2)
    share = degree * q0 * 0.5  # networkx's a (= b for an undirected graph)
    hd = np.empty(a.shape[0] + 16)
    hu = np.empty(a.shape[0] + 16, np.int64)
    hv = np.empty(a.shape[0] + 16, np.int64)
    size = 0
    for u in range(n):
        row = dq[u]
        for x in row.keys():
            gain = q0 * row[x] - (share[u] * share[x] + share[u] * share[x])
            row[x] = gain
            if u < x and gain >= 0:
                hd[size], hu[size], hv[size] = -gain, u, x
                size += 1
    for i in range(size // 2 - 1, -1, -1):
        _sift_down(hd, hu, hv, i, size)
    label = np.arange(n)
    alive = np.ones(n, np.bool_)
    only_v = np.empty(n, np.int64)
    while size > 0:
        gain, u, v = -hd[0], hu[0], hv[0]
        size -= 1
        hd[0], hu[0], hv[0] = hd[size], hu[size], hv[size]
        _sift_down(hd, hu, hv, 0, size)
        if not (alive[u] and alive[v]) or v not in dq[u] or dq[u][v] != gain:
            continue  # a stale entry
        ru, rv = dq[u], dq[v]
        su, sv = share[u], share[v]
        for x, gain_ux in ru.items():  # u merges into v
            if x == v:
                continue
            sx = share[x]
            if x in rv:
                new = rv[x] + gain_ux
            else:
                new = gain_ux - (sv * sx + sx * sv)
            rv[x] = new
            dq[x][v] = new
            del dq[x][u]
            if new >= 0:
                hd, hu, hv = _push(hd, hu, hv, size, new, x, v)
                size += 1
        k = 0
        for x in rv.keys():
            if x != u and x not in ru:
                only_v[k] = x
                k += 1
        for t in range(k):
            x = only_v[t]
            sx = share[x]
            new = rv[x] - (su * sx + sx * su)
            rv[x] = new
            dq[x][v] = new
            if new >= 0:
                hd, hu, hv = _push(hd, hu, hv, size, new, x, v)
                size += 1
        del rv[u]
        ru.clear()
        alive[u] = False
        label[u] = v
        share[v] = share[v] + su
        share[u] = 0.0
    for u in range(n):  # follow each node's merges to its community's final label
        r = u
        while label[r] != r:
            r = label[r]
        label[u] = r
    return label


def _sequential(
    n: int, a: npt.NDArray[np.int64], b: npt.NDArray[np.int64], w: npt.NDArray[np.float64]
) -> list[list[int]]:
    """The seeds' sequential nearest-group rule. A group is named by its first image, so
    group names increase in creation order."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    # by the later image, so an earlier image's group is final when it is read
    order = np.lexsort((lo, -w, hi))
    group = np.arange(n)
    best = np.full(n, -np.inf)
    for k in order.tolist():
        later, earlier = int(hi[k]), int(lo[k])
        g = int(group[earlier])
        if w[k] > best[later] or (w[k] == best[later] and g < group[later]):
            best[later] = w[k]
            group[later] = g
    return members(group)


def split_chains(
    labels: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    ratio: npt.ArrayLike,
    max_size: int,
    strong: float,
) -> npt.NDArray[np.int32]:
    """The chaining guard: rebuild every group larger than `max_size` from its own links.

    A group's links are taken strongest first (smallest ratio; ties by the pair): a strong
    link (ratio <= `strong`) always joins its two parts, a weak one only while the joined
    part stays within `max_size`. So two panels joined only through a long path of weak
    links do not end up in one giant group, and no group exceeds `max_size` unless strong
    links hold it together. Groups within the bound are left as they are.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if max_size < 2:
        raise ValueError(f"max_size must be >= 2, got {max_size}")
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    r = np.asarray(ratio, dtype=np.float64)
    big = sizes(labels) > max_size
    if not big.any():
        return labels.astype(np.int32)
    inside = big[a] & (labels[a] == labels[b])
    parent = np.arange(n)
    size = np.ones(n, dtype=np.int64)

    def root(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = int(parent[v])
        return v

    order = np.lexsort((b, a, r))
    for k in order[inside[order]].tolist():
        x, y = root(int(a[k])), root(int(b[k]))
        if x != y and (r[k] <= strong or size[x] + size[y] <= max_size):
            if size[x] < size[y]:
                x, y = y, x
            parent[y] = x
            size[x] += size[y]
    # a rebuilt group is named by its root (an image), a kept one by minus its label + 1
    return number([root(v) if big[v] else -1 - int(labels[v]) for v in range(n)])


def best_pairs(image_of: npt.ArrayLike, a: npt.ArrayLike, b: npt.ArrayLike, links: Links):
    """For every pair of images among the frame pairs (a[k], b[k]), the index k of its best
    frame pair: a linked one before an unlinked one, then the smallest ratio, then the
    smallest edge distance, then the first. Indices in increasing order.

    `image_of` gives each frame's image. An image pair's distance is that of its best frame
    pair, and two images are linked when any pair of their frames is.
    """
    image_of = np.asarray(image_of, dtype=np.int64)
    ia = image_of[np.asarray(a, dtype=np.int64)]
    ib = image_of[np.asarray(b, dtype=np.int64)]
    key = np.minimum(ia, ib) * (int(image_of.max(initial=0)) + 1) + np.maximum(ia, ib)
    order = np.lexsort((np.arange(len(key)), links.edge, links.ratio, ~links.keep, key))
    first = np.ones(len(order), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    return np.sort(order[first])


class Clustering(NamedTuple):
    """The result of :func:`cluster`: image labels, the rule applied to every frame pair,
    and the index of each image pair's best frame pair (:func:`best_pairs`)."""

    labels: npt.NDArray[np.int32]
    links: Links
    pairs: npt.NDArray[np.int64]


def cluster(
    n: int,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    distances: Mapping[str, npt.ArrayLike],
    edge_pixels: npt.ArrayLike,
    hash_bits: Mapping[str, int],
    rule: Mapping,
    image_of: npt.ArrayLike | None = None,
) -> Clustering:
    """Groups of `n` images from their stored frame pairs (a[k], b[k]) under a matching
    rule: :func:`link` on every frame pair, each image pair's best frame pair
    (:func:`best_pairs`), then :func:`groups` with ``rule["method"]`` and
    :func:`split_chains`.

    `edge_pixels` is per frame and `image_of` gives each frame's image (by default frame k
    is image k: one frame per image).
    """
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    px = np.asarray(edge_pixels, dtype=np.int64)
    image_of = np.arange(len(px)) if image_of is None else np.asarray(image_of, np.int64)
    links = link(distances, px[a], px[b], hash_bits, rule)
    pick = best_pairs(image_of, a, b, links)
    ia, ib = image_of[a[pick]], image_of[b[pick]]
    keep = links.keep[pick]
    ratio = links.ratio[pick][keep]
    labels = groups(n, ia[keep], ib[keep], WEIGHT_TOP - ratio, rule["method"])
    labels = split_chains(labels, ia[keep], ib[keep], ratio, rule["max_group_size"], rule["strong"])
    return Clustering(labels, links, pick)


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
    image_of: npt.ArrayLike | None = None,
) -> dict[str, list]:
    """Groups (connected components of 2+) and grouped images for each edge_scale in `scales`.

    Computed from the stored (frame) pairs only, so no distance is recomputed; `n` and
    `image_of` as in :func:`cluster`.
    """
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    px = np.asarray(edge_pixels)
    image_of = np.arange(len(px)) if image_of is None else np.asarray(image_of, np.int64)
    out: dict[str, list] = {"edge_scale": [], "groups": [], "grouped_images": []}
    for scale in np.asarray(scales, dtype=np.float64):
        t = edge_thresholds(px, float(scale), edge_cap)
        keep = linked(edge_distance, t[a], t[b])
        counts = np.bincount(components(n, image_of[a[keep]], image_of[b[keep]]))
        out["edge_scale"].append(round(float(scale), 4))
        out["groups"].append(int((counts > 1).sum()))
        out["grouped_images"].append(int(counts[counts > 1].sum()))
    return out
