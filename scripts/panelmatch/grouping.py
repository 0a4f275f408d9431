"""From linked pairs to groups: community detection, the chaining guard, and numbering.

Groups are found by :func:`groups` (one of :data:`METHODS`) on the graph of linked image
pairs, whose edge weights are ``matching.WEIGHT_TOP - ratio``. Every community larger than
``max_group_size`` is then a *family*: community detection runs again on its own links
(:func:`split_families`), because in a graph of thousands of images modularity cannot see
tight sub-groups (one drawing in six skin tones) joined by many looser links (other
drawings on the same template). Last, the chaining guard (:func:`split_chains`) keeps a
group from growing beyond ``max_group_size`` except through strong links.
:func:`group_images` runs the whole matching rule, from stored frame pairs to image labels
and families.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit, types
from numba.typed import Dict, List

from panelmatch import matching
from panelmatch.settings import Matching

#: Grouping methods accepted in configuration.
METHODS = ("connected_components", "greedy_modularity", "louvain", "sequential")


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
    deterministic) and by sequential: the method of the train/test notebook, in which
    images are taken in order (0..n-1) and each joins the group of its strongest link to an
    earlier image (ties: the earlier group), or starts a new group when it has none.
    """
    if method not in METHODS:
        raise ValueError(f"matching.method must be one of {list(METHODS)}, got {method!r}")
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
            # imported here: the distance stage and the query import this module (through
            # embeddings) and never run Louvain; networkx is a fifth of their start-up
            import networkx as nx

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
    """Labels from member lists, numbered from 1: larger groups first, ties by their
    smallest member."""
    members = sorted((sorted(m) for m in members), key=lambda m: (-len(m), m[0]))
    labels = np.empty(n, dtype=np.int32)
    for label, member in enumerate(members, start=1):
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
    """Renumber groups deterministically, from 1: larger groups first, ties by their
    smallest member."""
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
    """The train/test notebook's sequential nearest-group rule. A group is named by its
    first image, so group names increase in creation order."""
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
    strong: npt.ArrayLike,
    max_size: int,
) -> npt.NDArray[np.int32]:
    """The chaining guard: rebuild every group larger than `max_size` from its own links.

    A group's links are taken strongest first (smallest ratio; ties by the pair): a strong
    link (`strong`, see :mod:`panelmatch.matching`) always joins its two parts, a weak one only
    while the joined part stays within `max_size`. So two panels joined only through a long
    path of weak links do not end up in one giant group, and no group exceeds `max_size`
    unless strong links hold it together. Groups within the bound are left as they are.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if max_size < 2:
        raise ValueError(f"max_size must be >= 2, got {max_size}")
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    r = np.asarray(ratio, dtype=np.float64)
    strong = np.broadcast_to(np.asarray(strong, dtype=bool), r.shape)
    big = sizes(labels) > max_size
    if not big.any():
        return labels.astype(np.int32)
    inside = big[a] & (labels[a] == labels[b])
    parent = np.arange(n)
    size = np.ones(n, dtype=np.int64)

    def root(vertex: int) -> int:
        while parent[vertex] != vertex:
            parent[vertex] = parent[parent[vertex]]
            vertex = int(parent[vertex])
        return vertex

    order = np.lexsort((b, a, r))
    for k in order[inside[order]].tolist():
        x, y = root(int(a[k])), root(int(b[k]))
        if x != y and (strong[k] or size[x] + size[y] <= max_size):
            if size[x] < size[y]:
                x, y = y, x
            parent[y] = x
            size[x] += size[y]
    # a rebuilt group is named by its root (an image), a kept one by minus its label + 1
    return number([root(v) if big[v] else -1 - int(labels[v]) for v in range(n)])


def split_families(
    labels: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    weight: npt.ArrayLike,
    max_size: int,
    method: str,
) -> npt.NDArray[np.int32]:
    """Community detection again inside every group larger than `max_size`, on that group's
    own links (a[k], b[k]) with their `weight`, and again inside each part still larger,
    until no part splits. Returns the new labels (numbered as :func:`number`).

    Modularity compares a group's links with what the whole graph would give it by chance,
    so in a large graph two tight sub-groups joined by many looser links (the skin tones of
    two professions drawn on one bust) score as one community: its resolution limit. On the
    group's own links they are two. A group that is one tight cluster (a clique of copies)
    stays whole. Only the community methods split (greedy_modularity, louvain); for the
    others the labels are returned renumbered.
    """
    labels = np.asarray(labels)
    if max_size < 2:
        raise ValueError(f"max_size must be >= 2, got {max_size}")
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    w = np.asarray(weight, dtype=np.float64)
    out = labels.astype(np.int64)
    if method not in ("greedy_modularity", "louvain") or not len(out):
        return number(out)
    todo = sorted(np.nonzero(np.bincount(out) > max_size)[0].tolist(), reverse=True)
    fresh = int(out.max()) + 1
    while todo:
        label = todo.pop()
        inside = (out[a] == label) & (out[b] == label)
        if method == "louvain":
            nodes = np.unique(np.concatenate([a[inside], b[inside]]))
            local = groups(
                len(nodes), *np.searchsorted(nodes, (a[inside], b[inside])), w[inside], method
            )
            parts = [nodes[local == k].tolist() for k in np.unique(local)]
        else:
            parts = greedy_modularity(a[inside], b[inside], w[inside])
        if len(parts) < 2:
            continue
        for part in parts[1:]:
            out[part] = fresh
            if len(part) > max_size:
                todo.append(fresh)
            fresh += 1
        if len(parts[0]) > max_size:
            todo.append(label)
    return number(out)


class Grouping(NamedTuple):
    """The result of :func:`group_images`: image labels, the rule applied to every frame pair,
    the index of each image pair's best frame pair (matching.best_pairs), and each image's
    family (the community before :func:`split_families` and the chaining guard: groups
    that share a template, a background or a pose)."""

    labels: npt.NDArray[np.int32]
    links: matching.Links
    pairs: npt.NDArray[np.int64]
    families: npt.NDArray[np.int32]


def group_images(
    n: int,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    distances: Mapping[str, npt.ArrayLike],
    counts: Mapping[str, npt.ArrayLike],
    hash_bits: Mapping[str, int],
    settings: Matching,
    image_of: npt.ArrayLike | None = None,
) -> Grouping:
    """Groups of `n` images from their stored frame pairs (a[k], b[k]) under a matching
    rule (the ``matching`` section, `settings`): matching.link on every frame pair, each image
    pair's best frame pair (matching.best_pairs), then :func:`groups` with its ``method``
    (the families), :func:`split_families` and the chaining guard :func:`split_chains`.

    `counts` holds the per-frame counts (tables.FRAME_COUNTS; at least ``edge_pixels``) and
    `image_of` gives each frame's image (by default frame k is image k: one frame per image).
    """
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    px = np.asarray(counts["edge_pixels"], dtype=np.int64)
    image_of = np.arange(len(px)) if image_of is None else np.asarray(image_of, np.int64)
    links = matching.link(distances, *matching.pair_counts(counts, a, b), hash_bits, settings)
    pick = matching.best_pairs(image_of, a, b, links)
    ia, ib = image_of[a[pick]], image_of[b[pick]]
    keep = links.keep[pick]
    ratio = links.ratio[pick][keep]
    strong = links.strong[pick][keep]
    weight = matching.WEIGHT_TOP - ratio
    families = groups(n, ia[keep], ib[keep], weight, settings.method)
    largest = settings.max_group_size
    labels = split_families(families, ia[keep], ib[keep], weight, largest, settings.method)
    labels = split_chains(labels, ia[keep], ib[keep], ratio, strong, largest)
    return Grouping(labels, links, pick, families)


def sizes(labels: npt.ArrayLike) -> npt.NDArray[np.int32]:
    """Size of each image's group."""
    labels = np.asarray(labels)
    if not len(labels):
        return np.zeros(0, dtype=np.int32)
    counts = np.bincount(labels)
    return counts[labels].astype(np.int32)


class Sensitivity:
    """Groups (connected components of 2+ images) and grouped images for each edge_scale
    in `scales` under the edge rule alone, over pairs added a shard at a time.

    Each scale keeps one component label per image, merged shard by shard, so memory is
    ``len(scales) x n`` labels whatever the number of stored pairs. `edge_pixels` is per
    frame and `image_of` gives each frame's image (by default frame k is image k).
    """

    def __init__(
        self,
        n: int,
        edge_pixels: npt.ArrayLike,
        scales: npt.ArrayLike,
        edge_cap: float,
        image_of: npt.ArrayLike | None = None,
    ):
        self.n = n
        self.px = np.asarray(edge_pixels, dtype=np.int64)
        self.image_of = (
            np.arange(len(self.px)) if image_of is None else np.asarray(image_of, np.int64)
        )
        self.scales = [round(float(s), 4) for s in np.asarray(scales, dtype=np.float64)]
        self.edge_cap = edge_cap
        self.labels = [np.arange(n) for _ in self.scales]

    def add(self, a: npt.ArrayLike, b: npt.ArrayLike, edge_distance: npt.ArrayLike) -> None:
        """Frame pairs (a[k], b[k]) with their edge distances."""
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        d = np.asarray(edge_distance)
        for k, scale in enumerate(self.scales):
            t = matching.edge_thresholds(self.px, scale, self.edge_cap)
            keep = matching.linked(d, t[a], t[b])
            if keep.any():
                current = self.labels[k]
                merged = components(
                    self.n, current[self.image_of[a[keep]]], current[self.image_of[b[keep]]]
                )
                self.labels[k] = merged[current]

    def result(self) -> dict[str, list]:
        out: dict[str, list] = {"edge_scale": [], "groups": [], "grouped_images": []}
        for scale, labels in zip(self.scales, self.labels, strict=True):
            counts = np.bincount(labels, minlength=1)
            out["edge_scale"].append(scale)
            out["groups"].append(int((counts > 1).sum()))
            out["grouped_images"].append(int(counts[counts > 1].sum()))
        return out


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
    """:class:`Sensitivity` over the pairs (a[k], b[k]) all at once."""
    found = Sensitivity(n, edge_pixels, scales, edge_cap, image_of)
    found.add(a, b, edge_distance)
    return found.result()
