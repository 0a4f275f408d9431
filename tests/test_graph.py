import networkx as nx
import numpy as np
import pytest
from panelmatch import evaluate, graph


def test_edge_thresholds_scale_and_cap():
    t = graph.edge_thresholds([0, 100, 2000], 0.95, 1100)
    assert t.tolist() == [0.0, 95.0, 1100.0]
    with pytest.raises(ValueError):
        graph.edge_thresholds([1], -1, 10)


def test_linked_needs_both_thresholds_and_is_strict():
    d = np.array([10, 10, 94, 95])
    ta = np.array([20, 20, 95, 95])
    tb = np.array([20, 5, 1000, 1000])
    assert graph.linked(d, ta, tb).tolist() == [True, False, True, False]


def test_nearly_blank_panel_cannot_match_a_busy_one():
    # a busy panel (1000 edge pixels) against a blank one (10): distance is at least 990
    t = graph.edge_thresholds([1000, 10], 0.95, 1100)
    assert not graph.linked([990], [t[0]], [t[1]])[0]


RULE = {
    "edge_metrics": ["edges", "edges_mirror"],
    "threshold": "scaled",
    "edge_scale": 0.95,
    "edge_cap": 1100,
    "hash_max": {},
    "mixed": {},
    "min_edge_pixels": 150,
    "method": "connected_components",
    "max_group_size": 12,
    "strong": 0.5,
}
HASH_BITS = {"phash": 64, "dhash": 64}


def link(distances, pa, pb, **changes):
    return graph.link(distances, pa, pb, HASH_BITS, {**RULE, **changes})


def test_edge_rule_takes_the_smallest_edge_metric_and_the_threshold_of_both():
    d = {"edges": np.array([1000, 300, 300]), "edges_mirror": np.array([200, 900, 900])}
    d |= {"phash": np.array([30, 30, 30]), "dhash": np.array([30, 30, 30])}
    got = link(d, [1000, 1000, 1000], [1000, 1000, 300])
    # thresholds 950, 950 and min(950, 285): the third pair's 300 is too far for image b
    assert got.keep.tolist() == [True, True, False]
    assert got.edge.tolist() == [200, 300, 300]
    assert got.limit.tolist() == [950, 950, 285]
    assert got.ratio[:2] == pytest.approx([200 / 950, 300 / 950]) and got.ratio[2] == np.inf
    only_plain = link(d, [1000] * 3, [1000, 1000, 300], edge_metrics=["edges"])
    assert only_plain.keep.tolist() == [False, True, False]
    flat = link(d, [1000] * 3, [1000, 1000, 300], threshold="global", edge_cap=250)
    assert flat.keep.tolist() == [True, False, False] and flat.limit.tolist() == [250] * 3
    with pytest.raises(ValueError, match="not computed"):
        link(d, [1] * 3, [1] * 3, edge_metrics=["edges_tolerant"])


def test_hash_rule_only_between_images_with_content():
    d = {"edges": np.array([900, 900, 900]), "edges_mirror": np.array([900, 900, 900])}
    d |= {"phash": np.array([4, 4, 30]), "dhash": np.array([40, 40, 40])}
    got = link(d, [500, 100, 500], [500, 500, 500], hash_max={"phash": 10, "dhash": None})
    assert got.keep.tolist() == [True, False, False]
    assert got.ratio[0] == pytest.approx(4 / 11)
    with pytest.raises(ValueError, match="not a computed hash"):
        link(d, [500] * 3, [500] * 3, hash_max={"whash": 10})


def test_mixed_metric_averages_the_normalised_distances():
    # edge 600 of 500 + 500 edge pixels -> 0.6; phash 8 of 64 bits (32 typical) -> 0.25
    d = {"edges": np.array([600]), "edges_mirror": np.array([990]), "phash": np.array([8])}
    d["dhash"] = np.array([40])
    assert link(d, [500], [500], edge_scale=0.5).keep.tolist() == [False]
    got = link(d, [500], [500], edge_scale=0.5, mixed={"phash": 0.425})
    assert got.keep.tolist() == [True] and got.ratio[0] == pytest.approx(1.0)
    assert not link(d, [500], [500], edge_scale=0.5, mixed={"phash": 0.42}).keep[0]


def test_low_content_guard_links_blank_panels_only_when_identical():
    d = {
        "edges": np.array([0, 2, 0, 1980]),
        "edges_mirror": np.array([0, 2, 0, 1990]),
        "phash": np.array([0, 0, 2, 0]),
        "dhash": np.array([0, 0, 0, 0]),
    }
    got = link(d, [20, 20, 20, 20], [20, 20, 20, 2000], hash_max={"dhash": 8})
    # identical; edges differ; a hash differs; a blank and a busy panel
    assert got.keep.tolist() == [True, False, False, False]
    assert got.ratio[0] == 0
    loose = link(d, [20] * 4, [20, 20, 20, 2000], hash_max={"dhash": 8}, min_edge_pixels=0)
    assert loose.keep.tolist() == [True, True, True, True]


def two_triangles():
    # triangles {0,1,2} and {3,4,5}, strong inside, one weak bridge 2-3; node 6 alone
    a = [0, 0, 1, 3, 3, 4, 2]
    b = [1, 2, 2, 4, 5, 5, 3]
    w = [10, 10, 10, 10, 10, 10, 1]
    return a, b, w


def test_connected_components_chain_through_the_bridge():
    labels = graph.groups(7, *two_triangles(), "connected_components")
    assert len(set(labels[:6])) == 1 and labels[6] != labels[0]
    assert graph.sizes(labels).tolist() == [6] * 6 + [1]


def test_greedy_modularity_splits_at_the_weak_bridge():
    labels = graph.groups(7, *two_triangles(), "greedy_modularity")
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
    mine = graph.greedy_modularity(np.take(a, order), np.take(b, order), np.take(w, order))
    assert sorted(sorted(m) for m in mine) == networkx_greedy(n, a, b, w)


def test_greedy_modularity_rejects_self_loops():
    with pytest.raises(ValueError, match="itself"):
        graph.greedy_modularity([0, 1], [1, 1], [1.0, 1.0])


def test_louvain_splits_at_the_weak_bridge_and_is_deterministic():
    first = graph.groups(7, *two_triangles(), "louvain")
    assert first[0] == first[1] == first[2] and first[3] == first[4] == first[5]
    assert first[0] != first[3] and first[6] not in first[:6]
    assert (graph.groups(7, *two_triangles(), "louvain") == first).all()


def sequential_notebook(n, distance, threshold):
    """The seeds' notebook, literally: each image joins the cluster holding its nearest
    earlier image (first cluster on ties) when that distance is under the threshold."""
    clusters = []
    for k in range(n):
        best, nearest = None, None
        for index, members in enumerate(clusters):
            d = min(distance[k][m] for m in members)
            if best is None or d < best:
                best, nearest = d, index
        if best is not None and best < threshold:
            clusters[nearest].append(k)
        else:
            clusters.append([k])
    return clusters


@pytest.mark.parametrize("seed", range(6))
def test_sequential_is_the_notebooks_method(seed):
    rng = np.random.default_rng(seed)
    n, threshold = 30, 10
    distance = rng.integers(0, 40, size=(n, n))
    distance = np.triu(distance, 1) + np.triu(distance, 1).T
    a, b = np.nonzero(np.triu(distance < threshold, 1))
    weight = graph.WEIGHT_TOP - distance[a, b] / threshold  # stronger = nearer
    labels = graph.groups(n, a, b, weight, "sequential")
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
    labels = graph.groups(30, a, b, graph.WEIGHT_TOP - r, "connected_components")
    assert graph.sizes(labels).max() == 30
    guarded = graph.split_chains(labels, a, b, r, max_size=8, strong=0.5)
    sizes = graph.sizes(guarded)
    assert sizes.max() <= 8 and len(guarded) == 30
    # every remaining group is a run of neighbours along the chain
    for label in set(guarded.tolist()):
        members = np.nonzero(guarded == label)[0]
        assert (np.diff(members) == 1).all()


def test_chaining_guard_keeps_groups_held_by_strong_links_and_small_groups():
    a, b, r = chain(30, 0.3)
    labels = graph.groups(30, a, b, graph.WEIGHT_TOP - r, "connected_components")
    assert (graph.split_chains(labels, a, b, r, 8, 0.5) == labels).all()
    # a weak bridge between two strong groups of 6 goes; a small weak group stays whole
    a = [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 5, 12, 13]
    b = [1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 6, 13, 14]
    r = [0.1] * 10 + [0.9, 0.9, 0.9]
    labels = graph.groups(15, a, b, graph.WEIGHT_TOP - np.array(r), "connected_components")
    guarded = graph.split_chains(labels, a, b, r, 8, 0.5)
    assert graph.sizes(guarded).tolist() == [6] * 12 + [3] * 3
    assert guarded[0] != guarded[6] and guarded[12] == guarded[14]
    with pytest.raises(ValueError, match="max_size"):
        graph.split_chains(labels, a, b, r, 1, 0.5)


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
    rule = {**RULE, "method": "greedy_modularity"}
    labels, links, _ = graph.cluster(6, a, b, d, pixels, HASH_BITS, rule)
    assert links.keep.tolist() == [True, True, True, True, True, True, False, False]
    assert graph.sizes(labels).tolist() == [4, 4, 4, 4, 1, 1]


def test_labels_are_deterministic_and_ordered():
    labels = graph.groups(6, [4, 1], [5, 2], [1, 1], "connected_components")
    # groups of 2 first, ordered by their smallest member; then singletons 0 and 3
    assert labels.tolist() == [2, 0, 0, 3, 1, 1]


def test_groups_validate():
    with pytest.raises(ValueError, match="one of"):
        graph.groups(2, [], [], [], "kmeans")
    with pytest.raises(ValueError, match="0..1"):
        graph.groups(2, [0], [2], [1], "connected_components")


def test_pair_scores_known_answer():
    truth = {"a": "f", "b": "f", "c": "f", "d": "", "e": "g", "f": "g"}
    pred = {"a": 0, "b": 0, "c": 1, "d": 1, "e": 2, "f": 2, "zz": 0}
    rel = {"a": "recolour", "b": "recolour", "c": "recolour", "e": "shift", "f": "shift"}
    s = evaluate.pair_scores(truth, pred, rel)
    # true pairs ab ac bc ef; predicted ab cd ef
    assert (s["tp"], s["fp"], s["fn"]) == (2, 1, 2)
    assert s["precision"] == pytest.approx(2 / 3) and s["recall"] == pytest.approx(0.5)
    assert s["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    recolour, shift = s["by_relation"]["recolour"], s["by_relation"]["shift"]
    # recall over true recolour pairs (ab ac bc); precision over predicted pairs with a
    # recolour member (ab, cd)
    assert recolour["recall"] == pytest.approx(1 / 3) and recolour["precision"] == 0.5
    assert (recolour["true_pairs"], recolour["predicted_pairs"]) == (3, 2)
    assert recolour["f1"] == pytest.approx(2 * 0.5 * (1 / 3) / (0.5 + 1 / 3))
    assert (shift["precision"], shift["recall"], shift["f1"]) == (1.0, 1.0, 1.0)
    assert set(s["by_relation"]) == {"recolour", "shift"}
    assert s["images"] == 6


def test_pair_scores_perfect_and_empty():
    assert evaluate.pair_scores({"a": "x", "b": "x"}, {"a": 1, "b": 1})["f1"] == 1.0
    assert evaluate.pair_scores({}, {})["f1"] == 1.0


def test_neighbours_are_nearest_first_in_both_directions():
    # pairs: 0-1 d5, 0-2 d3, 1-2 d9, 2-3 d3
    img, rank, nb, pair = graph.neighbours(5, [0, 0, 1, 2], [1, 2, 2, 3], [5, 3, 9, 3], k=2)
    got = list(zip(img.tolist(), rank.tolist(), nb.tolist(), strict=True))
    assert got == [(0, 1, 2), (0, 2, 1), (1, 1, 0), (1, 2, 2), (2, 1, 0), (2, 2, 3), (3, 1, 2)]
    assert pair.tolist() == [1, 0, 0, 2, 1, 3, 3]


def test_medoid_is_the_most_central_member():
    labels = np.array([0, 0, 0, 1, 1, 2])
    # group 0: 1 is close to both others; group 1: tie -> lower index; 2 is a singleton
    med = graph.medoids(labels, [0, 1, 0, 3], [1, 2, 2, 4], [2, 2, 10, 7], missing=100)
    assert med.tolist() == [False, True, False, True, False, True]


def test_sensitivity_counts_groups_per_threshold():
    # 4 images with 100 edge pixels each; pair distances 10, 50, 90 along a chain 0-1-2-3
    counts = graph.sensitivity(
        5, [0, 1, 2], [1, 2, 3], [10, 50, 90], [100] * 4 + [0], [0.05, 0.2, 0.6, 1.0], 1100
    )
    assert counts["groups"] == [0, 1, 1, 1]
    assert counts["grouped_images"] == [0, 2, 3, 4]
