"""From linked pairs to groups: community detection, the chaining guard, sensitivity."""

import networkx as nx
import numpy as np
import pytest
from panelmatch import grouping, matching
from test_link import HASH_BITS, RULE


def two_triangles():
    # triangles {0,1,2} and {3,4,5}, strong inside, one weak bridge 2-3; node 6 alone
    a = [0, 0, 1, 3, 3, 4, 2]
    b = [1, 2, 2, 4, 5, 5, 3]
    w = [10, 10, 10, 10, 10, 10, 1]
    return a, b, w


def test_connected_components_chain_through_the_bridge():
    labels = grouping.groups(7, *two_triangles(), "connected_components")
    assert len(set(labels[:6])) == 1 and labels[6] != labels[0]
    assert grouping.sizes(labels).tolist() == [6] * 6 + [1]


def test_greedy_modularity_splits_at_the_weak_bridge():
    labels = grouping.groups(7, *two_triangles(), "greedy_modularity")
    assert labels[0] == labels[1] == labels[2]
    assert labels[3] == labels[4] == labels[5]
    assert labels[0] != labels[3] and labels[6] not in labels[:6]


def networkx_greedy(n, a, b, w):
    g = nx.Graph()
    g.add_nodes_from(range(n))  # sorted node order, as groups() had it
    g.add_weighted_edges_from(zip(a, b, w, strict=True))
    linked_nodes = g.subgraph([v for v in g if g.degree(v) > 0])
    found = nx.community.greedy_modularity_communities(linked_nodes, weight="weight")
    return sorted(sorted(c) for c in found)


@pytest.mark.parametrize("seed", range(60))
def test_greedy_modularity_is_networkx_cnm(seed):
    # random sparse graphs with repeated weights (ties in the merge order) and isolated
    # nodes: the compiled CNM must give exactly the communities networkx gives
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 80))
    pairs = {tuple(sorted(p)) for p in rng.integers(0, n, (int(rng.integers(1, 3 * n)), 2))}
    pairs = sorted(p for p in pairs if p[0] != p[1])
    if not pairs:
        pairs = [(0, 1)]
    a, b = (list(x) for x in zip(*pairs, strict=True))
    w = rng.choice([0.5, 1.0, 1.0, 2.0, 3.25], len(a)).tolist()
    order = rng.permutation(len(a))  # exact weights: the order of the edges must not matter
    mine = grouping.greedy_modularity(np.take(a, order), np.take(b, order), np.take(w, order))
    assert sorted(sorted(m) for m in mine) == networkx_greedy(n, a, b, w)


def test_greedy_modularity_rejects_self_loops():
    with pytest.raises(ValueError, match="itself"):
        grouping.greedy_modularity([0, 1], [1, 1], [1.0, 1.0])


def test_louvain_splits_at_the_weak_bridge_and_is_deterministic():
    first = grouping.groups(7, *two_triangles(), "louvain")
    assert first[0] == first[1] == first[2] and first[3] == first[4] == first[5]
    assert first[0] != first[3] and first[6] not in first[:6]
    assert (grouping.groups(7, *two_triangles(), "louvain") == first).all()


def sequential_notebook(n, distance, threshold):
    """The train/test notebook, literally: each image joins the cluster holding its nearest
    earlier image (first cluster on ties) when that distance is under the threshold."""
    groups = []
    for k in range(n):
        best, nearest = None, None
        for index, members in enumerate(groups):
            d = min(distance[k][m] for m in members)
            if best is None or d < best:
                best, nearest = d, index
        if best is not None and best < threshold:
            groups[nearest].append(k)
        else:
            groups.append([k])
    return groups


@pytest.mark.parametrize("seed", range(6))
def test_sequential_is_the_notebooks_method(seed):
    rng = np.random.default_rng(seed)
    n, threshold = 30, 10
    distance = rng.integers(0, 40, size=(n, n))
    distance = np.triu(distance, 1) + np.triu(distance, 1).T
    a, b = np.nonzero(np.triu(distance < threshold, 1))
    weight = matching.WEIGHT_TOP - distance[a, b] / threshold  # stronger = nearer
    labels = grouping.groups(n, a, b, weight, "sequential")
    want = sequential_notebook(n, distance.tolist(), threshold)
    got = {}
    for v, label in enumerate(labels.tolist()):
        got.setdefault(label, []).append(v)
    assert sorted(got.values()) == sorted(want)


def chain(n, ratio):
    a = np.arange(n - 1)
    return a, a + 1, np.full(n - 1, ratio)


def test_chaining_guard_cuts_long_weak_chains_into_bounded_groups():
    a, b, r = chain(30, 0.8)
    labels = grouping.groups(30, a, b, matching.WEIGHT_TOP - r, "connected_components")
    assert grouping.sizes(labels).max() == 30
    guarded = grouping.split_chains(labels, a, b, r, np.asarray(r) <= 0.5, 8)
    sizes = grouping.sizes(guarded)
    assert sizes.max() <= 8 and len(guarded) == 30
    # every remaining group is a run of neighbours along the chain
    for label in set(guarded.tolist()):
        members = np.nonzero(guarded == label)[0]
        assert (np.diff(members) == 1).all()


def test_chaining_guard_keeps_groups_held_by_strong_links_and_small_groups():
    a, b, r = chain(30, 0.3)
    labels = grouping.groups(30, a, b, matching.WEIGHT_TOP - r, "connected_components")
    assert (grouping.split_chains(labels, a, b, r, np.asarray(r) <= 0.5, 8) == labels).all()
    # a weak bridge between two strong groups of 6 goes; a small weak group stays whole
    a = [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 5, 12, 13]
    b = [1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 6, 13, 14]
    r = [0.1] * 10 + [0.9, 0.9, 0.9]
    labels = grouping.groups(15, a, b, matching.WEIGHT_TOP - np.array(r), "connected_components")
    guarded = grouping.split_chains(labels, a, b, r, np.asarray(r) <= 0.5, 8)
    assert grouping.sizes(guarded).tolist() == [6] * 12 + [3] * 3
    assert guarded[0] != guarded[6] and guarded[12] == guarded[14]
    with pytest.raises(ValueError, match="max_size"):
        grouping.split_chains(labels, a, b, r, np.asarray(r) <= 0.5, 1)


def test_cluster_links_groups_and_guards():
    # images 0-3 share a drawing (one mirrored); 4 is blank; 5 is unrelated
    pixels = [800, 800, 800, 800, 10, 900]
    a = [0, 0, 0, 1, 1, 2, 0, 4]
    b = [1, 2, 3, 2, 3, 3, 4, 5]
    d = {
        "edges": np.array([100, 120, 1500, 90, 1500, 1500, 800, 1600]),
        "edges_mirror": np.array([1500, 1500, 110, 1500, 100, 95, 800, 1600]),
        "phash": np.array([30] * 8),
        "dhash": np.array([30] * 8),
    }
    settings = RULE.but(method="greedy_modularity")
    labels, links, _, _ = grouping.group_images(
        6, a, b, d, {"edge_pixels": pixels}, HASH_BITS, settings
    )
    assert links.keep.tolist() == [True, True, True, True, True, True, False, False]
    assert grouping.sizes(labels).tolist() == [4, 4, 4, 4, 1, 1]


def test_labels_are_deterministic_and_ordered():
    labels = grouping.groups(6, [4, 1], [5, 2], [1, 1], "connected_components")
    # groups of 2 first, ordered by their smallest member; then singletons 0 and 3
    assert labels.tolist() == [3, 1, 1, 4, 2, 2]  # numbered from 1


def test_groups_validate():
    with pytest.raises(ValueError, match="one of"):
        grouping.groups(2, [], [], [], "kmeans")
    with pytest.raises(ValueError, match="0..1"):
        grouping.groups(2, [0], [2], [1], "connected_components")


def test_sensitivity_counts_groups_per_threshold():
    # 4 images with 100 edge pixels each; pair distances 10, 50, 90 along a chain 0-1-2-3
    counts = grouping.sensitivity(
        5, [0, 1, 2], [1, 2, 3], [10, 50, 90], [100] * 4 + [0], [0.05, 0.2, 0.6, 1.0], 1100
    )
    assert counts["groups"] == [0, 1, 1, 1]
    assert counts["grouped_images"] == [0, 2, 3, 4]


def template_family(drawings=9, tones=6, pairs_elsewhere=400):
    """`drawings` drawings in `tones` skin tones each: a tone links to the other tones of its
    drawing tightly (ratio 0.15) and to every image of the other drawings loosely (ratio
    0.65: the same bust, another profession). Then `pairs_elsewhere` unrelated linked
    pairs make the graph large, as a real collection's is."""
    a, b, ratio = [], [], []
    n = drawings * tones
    for i in range(n):
        for j in range(i + 1, n):
            a.append(i)
            b.append(j)
            ratio.append(0.15 if i // tones == j // tones else 0.65)
    for k in range(pairs_elsewhere):
        a.append(n + 2 * k)
        b.append(n + 2 * k + 1)
        ratio.append(0.1)
    n += 2 * pairs_elsewhere
    weight = matching.WEIGHT_TOP - np.array(ratio)
    return n, np.array(a), np.array(b), weight


def test_modularity_alone_merges_the_drawings_of_one_template():
    """The resolution limit: in a large graph, tight groups joined by many looser links are
    one community."""
    n, a, b, w = template_family()
    labels = grouping.groups(n, a, b, w, "greedy_modularity")
    assert len(set(labels[:54].tolist())) == 1


@pytest.mark.parametrize("method", ["greedy_modularity", "louvain"])
def test_split_families_finds_each_drawing(method):
    n, a, b, w = template_family()
    families = grouping.groups(n, a, b, w, method)
    labels = grouping.split_families(families, a, b, w, 6, method)
    drawings = [labels[k * 6 : k * 6 + 6] for k in range(9)]
    assert all(len(set(d.tolist())) == 1 for d in drawings)  # each drawing whole
    assert len({int(d[0]) for d in drawings}) == 9  # and apart from the others
    # the pairs elsewhere are untouched
    assert (labels[54::2] == labels[55::2]).all()
    assert (grouping.sizes(labels)[54:] == 2).all()


def test_split_families_keeps_a_clique_and_small_groups_whole():
    # a clique of 10 copies, and a chain of 4 (which modularity alone would cut in two)
    a = [i for i in range(10) for j in range(i + 1, 10)] + [10, 11, 12]
    b = [j for i in range(10) for j in range(i + 1, 10)] + [11, 12, 13]
    w = np.ones(len(a))
    labels = grouping.groups(14, a, b, w, "greedy_modularity")
    out = grouping.split_families(labels, a, b, w, 3, "greedy_modularity")
    assert len(set(out[:10].tolist())) == 1
    out = grouping.split_families(labels, a, b, w, 4, "greedy_modularity")
    assert len(set(out[10:].tolist())) == 1  # a group of max_size is never split


def test_split_families_leaves_components_and_sequential_alone():
    n, a, b, w = template_family(pairs_elsewhere=0)
    for method in ("connected_components", "sequential"):
        labels = grouping.groups(n, a, b, w, method)
        out = grouping.split_families(labels, a, b, w, 6, method)
        assert (out == grouping.number(labels)).all()
    with pytest.raises(ValueError, match="max_size must be >= 2"):
        grouping.split_families(labels, a, b, w, 1, "greedy_modularity")


def test_group_images_gives_groups_within_families():
    n, a, b, w = template_family()
    ratio = matching.WEIGHT_TOP - w
    frames = {"edges": (ratio * 100).astype(np.int64), "edges_mirror": np.full(len(a), 10**4)}
    counts = {
        "edge_pixels": np.full(n, 1000 / 0.95 / 10, dtype=np.int64) * 10,
        "silhouette_pixels": np.zeros(n, np.int64),
        "detail_blocks": np.zeros(n, np.int64),
    }
    settings = RULE.but(edge_cap=100, edge_scale=1.0, max_group_size=6)
    labels, links, _, families = grouping.group_images(n, a, b, frames, counts, HASH_BITS, settings)
    assert links.keep.all()
    assert len(set(families[:54].tolist())) == 1  # one family: the template
    assert len(set(labels[:54].tolist())) == 9  # nine groups: the drawings


def test_plots_of_a_run_from_its_shards():
    """plots.of_run: the plots rule's figures from stored pairs, one shard at a time."""
    import pandas as pd
    from panelmatch import pairs, plots

    shards = [
        pairs.Shard(
            np.array([0, 0]),
            np.array([1, 2]),
            {
                "edges": np.array([100, 900]),
                "edges_mirror": np.array([5000, 5000]),
                "dhash": np.array([2, 30]),
            },
        ),
        pairs.Shard(
            np.array([1]),
            np.array([3]),
            {"edges": np.array([50]), "edges_mirror": np.array([5000]), "dhash": np.array([1])},
        ),
    ]
    settings = RULE.but(hash_max={"dhash": 8})
    found = plots.of_run(
        shards,
        4,
        np.full(4, 1000),
        np.arange(4),
        [3, 1],
        {"edges": 1500, "edges_mirror": 1500},
        {"edges": 10000, "edges_mirror": 10000, "dhash": 64},
        settings,
    )
    assert all(
        png.startswith(b"\x89PNG") for png in (found.distances, found.sizes, found.sensitivity)
    )
    curve = found.curve.set_index("edge_scale")
    assert list(curve.index) == list(plots.SCALES) and len(plots.SCALES) == 30
    # at scale 0.1 (threshold 100) only the 50 pair links; at 1.0 (1000), all three
    assert curve.loc[0.1, "groups"] == 1 and curve.loc[0.1, "grouped_images"] == 2
    assert curve.loc[1.0, "groups"] == 1 and curve.loc[1.0, "grouped_images"] == 4
    lines = plots.threshold_lines({"edges": 1500}, settings)
    assert lines["edges"] == [(1500, "cap 1500"), (1100, "edge_cap 1100")]
    assert lines["dhash"] == [(8, "hash_max 8")]
    assert isinstance(found.curve, pd.DataFrame)
