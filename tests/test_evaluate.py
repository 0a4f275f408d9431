"""Pair scores against a ground truth, with "don't care" pairs."""

import pytest
from panelmatch import evaluate


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


def test_dont_care_pairs_are_neither_right_nor_wrong():
    # two sprites of one species in two groups (a recolour pair each): a, b | c, d; e alone
    truth = {"a": "s1", "b": "s1", "c": "s2", "d": "s2", "e": ""}
    family = {"a": "x", "b": "x", "c": "x", "d": "x", "e": "y"}
    # predicted: a b c together (c with a and b: don't care), d alone, e alone
    pred = {"a": 0, "b": 0, "c": 0, "d": 1, "e": 2}
    plain = evaluate.pair_scores(truth, pred)
    assert (plain["tp"], plain["fp"], plain["fn"]) == (1, 2, 1)
    s = evaluate.pair_scores(truth, pred, family=family)
    # ab is right, cd is missed; ac and bc are "don't care": out of both counts
    assert (s["tp"], s["fp"], s["fn"]) == (1, 0, 1)
    assert s["precision"] == 1.0 and s["recall"] == 0.5
    assert s["dont_care"] == 4  # ac ad bc bd
    assert s["dont_care_predicted"] == [("a", "c"), ("b", "c")]
    # a pair of one family in one true group is a true pair, not "don't care"
    same = evaluate.pair_scores({"a": "g", "b": "g"}, {"a": 0, "b": 1}, family={"a": "x", "b": "x"})
    assert same["fn"] == 1 and same["dont_care"] == 0


def test_coverage_counts_the_run_images_the_truth_names():
    got = evaluate.coverage(["a", "b", "z"], ["a", "b", "c", "d"])
    assert got == {"run_images": 4, "truth_images": 3, "covered": 2, "not_in_run": 1}


def test_relation_scores_count_only_linked_pairs_with_the_original():
    truth = {"o": "f", "r": "f", "m": "f", "x": "f", "p": "g", "q": "g", "z": ""}
    reuse = {"o": "original", "r": "recolour", "m": "mirrored", "x": "reletter", "p": "original"}
    reuse |= {"q": "identical", "z": ""}
    predicted = {
        ("o", "r"): "recolour",  # right
        ("m", "o"): "similar",  # either order; wrong
        ("r", "m"): "recolour",  # two reuses: not scored
        ("p", "q"): "identical",  # right
    }  # ("o", "x") is not linked: labelled, not scored
    found = evaluate.relation_scores(truth, reuse, predicted)
    assert found["labelled"] == 4 and found["scored"] == 3
    assert found["accuracy"] == pytest.approx(2 / 3)
    assert found["confusion"] == {
        "recolour": {"recolour": 1},
        "mirrored": {"similar": 1},
        "identical": {"identical": 1},
    }


def test_relation_scores_without_originals_score_nothing():
    found = evaluate.relation_scores({"a": "f", "b": "f"}, {"a": "", "b": "recolour"}, {})
    assert found == {"labelled": 0, "scored": 0, "accuracy": None, "confusion": {}}


def test_leaking_groups_are_the_groups_that_span_folds():
    import pandas as pd
    from panelmatch import evaluate

    groups = pd.DataFrame(
        {
            "image": [
                "train/a.png",
                "test/a.png",
                "train/b.png",
                "train/c.png",
                "x.png",
                "other/d.png",
            ],
            "group": [1, 1, 2, 2, 3, 3],
            "group_size": [2, 2, 2, 2, 2, 2],
        }
    )
    found = evaluate.leaking_groups(groups, ["train", "test"])
    assert found.to_dict("records") == [
        {"group": 1, "group_size": 2, "folds": "test,train", "images": "train/a.png;test/a.png"}
    ]
    assert evaluate.leaking_groups(groups, ["train"]).empty
