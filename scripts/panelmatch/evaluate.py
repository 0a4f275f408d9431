"""Pair-level precision, recall and F1 of groups against a ground truth.

A *true pair* is two images of the same non-empty truth group; a *predicted pair* two images
of the same predicted group. With a "don't care" family per image (the truth column named by
``evaluation.dont_care``, such as a sprite's species), a pair of one family but of different
groups is neither right nor wrong: it is left out of both counts, and listed.

With a ``reuse`` column (how each image reuses its group's original; the demo writes it),
:func:`relation_scores` scores the relation (panelmatch.relation) of the linked pairs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from itertools import combinations

from panelmatch.relation import ORIGINAL


def _pairs(groups: Mapping[str, Iterable[str]]) -> set[tuple[str, str]]:
    out = set()
    for members in groups.values():
        out.update(combinations(sorted(set(members)), 2))
    return out


def _prf(right_predicted: int, predicted: int, found_true: int, true: int) -> dict:
    """Precision, recall and F1 (1.0 when there is nothing to predict or find)."""
    precision = right_predicted / predicted if predicted else 1.0
    recall = found_true / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def pair_scores(
    truth: Mapping[str, str],
    predicted: Mapping[str, object],
    relation: Mapping[str, str] | None = None,
    family: Mapping[str, str] | None = None,
) -> dict:
    """Compare predicted groups with true ones, pair by pair.

    `truth` maps image -> true group ('' for an image in no group); `predicted` maps image ->
    cluster label. Only images present in both are scored.

    With `family` (image -> family, '' for none), a pair of two images of the same family
    that is not a true pair is "don't care": neither a false positive when predicted nor
    counted otherwise. ``dont_care`` gives their number and ``dont_care_predicted`` the
    predicted ones, sorted.

    With `relation` (image -> relation type, such as recolour or blank), the scores are also
    given per relation type R under ``by_relation``: recall over the true pairs whose
    members both have type R, precision over the predicted pairs with a member of type R.
    So a nearly blank panel wrongly grouped lowers the precision of ``blank``.
    """
    images = sorted(set(truth) & set(predicted))
    true_groups: dict[str, list[str]] = defaultdict(list)
    pred_groups: dict[object, list[str]] = defaultdict(list)
    families: dict[str, list[str]] = defaultdict(list)
    for image in images:
        if truth[image]:
            true_groups[truth[image]].append(image)
        pred_groups[predicted[image]].append(image)
        if family is not None and family.get(image):
            families[family[image]].append(image)
    true_pairs = _pairs(true_groups)
    dont_care = _pairs(families) - true_pairs
    pred_pairs = _pairs({str(k): v for k, v in pred_groups.items()})
    ignored = pred_pairs & dont_care
    pred_pairs -= dont_care
    tp = len(true_pairs & pred_pairs)
    result: dict = {
        "images": len(images),
        "true_pairs": len(true_pairs),
        "predicted_pairs": len(pred_pairs),
        "tp": tp,
        "fp": len(pred_pairs) - tp,
        "fn": len(true_pairs) - tp,
        **_prf(tp, len(pred_pairs), tp, len(true_pairs)),
        "dont_care": len(dont_care),
        "dont_care_predicted": sorted(ignored),
    }
    if relation is not None:
        kinds = sorted({relation.get(image, "") for image in images} - {""})
        by: dict[str, dict] = {}
        for kind in kinds:
            true_k = {(a, b) for a, b in true_pairs if relation.get(a) == relation.get(b) == kind}
            pred_k = {(a, b) for a, b in pred_pairs if kind in (relation.get(a), relation.get(b))}
            scores = _prf(
                len(pred_k & true_pairs), len(pred_k), len(true_k & pred_pairs), len(true_k)
            )
            by[kind] = {**scores, "true_pairs": len(true_k), "predicted_pairs": len(pred_k)}
        result["by_relation"] = by
    return result


def coverage(truth_images: Iterable[str], run_images: Iterable[str]) -> dict:
    """How much of the run the truth covers: run images, truth images, both, and the truth's
    images that the run does not have."""
    truth_set, run_set = set(truth_images), set(run_images)
    return {
        "run_images": len(run_set),
        "truth_images": len(truth_set),
        "covered": len(truth_set & run_set),
        "not_in_run": len(truth_set - run_set),
    }


def relation_scores(
    truth: Mapping[str, str],
    reuse: Mapping[str, str],
    predicted: Mapping[tuple[str, str], str],
) -> dict:
    """How well the linked pairs' relations match the truth's.

    `truth` maps image -> true group; `reuse` maps image -> how it reuses its group's
    original (a relation name), relation.ORIGINAL for that original, '' when unknown;
    `predicted` maps each linked image pair (a, b) -> its relation (either order).

    Scored: the pairs (original, member) of one true group that are linked. Returns their
    number (``scored``), the labelled pairs (``labelled``: linked or not), ``accuracy``
    (None when none is scored) and ``confusion`` (true relation -> predicted -> count).
    """
    originals = {truth[i]: i for i, r in reuse.items() if r == ORIGINAL and truth.get(i)}
    confusion: dict[str, dict[str, int]] = {}
    labelled = scored = right = 0
    for image, expected in sorted(reuse.items()):
        group = truth.get(image, "")
        if not expected or expected == ORIGINAL or group not in originals:
            continue
        labelled += 1
        source = originals[group]
        found = predicted.get((source, image), predicted.get((image, source)))
        if found is None:
            continue
        scored += 1
        right += found == expected
        row = confusion.setdefault(expected, {})
        row[found] = row.get(found, 0) + 1
    return {
        "labelled": labelled,
        "scored": scored,
        "accuracy": right / scored if scored else None,
        "confusion": confusion,
    }
