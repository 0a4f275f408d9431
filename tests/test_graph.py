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


def test_hash_rule_only_between_images_with_content():
    d = np.array([500, 500, 500])
    t = np.array([100.0, 100.0, 100.0])
    hd = {"phash": np.array([4, 4, 30])}
    ok = np.array([True, False, True])
    got = graph.linked(d, t, t, hd, {"phash": 10}, ok)
    assert got.tolist() == [True, False, False]
    with pytest.raises(ValueError, match="hashes.methods"):
        graph.linked(d, t, t, hd, {"dhash": 10}, ok)


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
    assert s["recall_by_relation"] == {"recolour": pytest.approx(1 / 3), "shift": 1.0}
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
