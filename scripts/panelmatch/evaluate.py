"""Pair-level precision, recall and F1 of groups against a ground truth."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from itertools import combinations


def _pairs(groups: Mapping[str, Iterable[str]]) -> set[tuple[str, str]]:
    out = set()
    for members in groups.values():
        out.update(combinations(sorted(set(members)), 2))
    return out


def pair_scores(
    truth: Mapping[str, str],
    predicted: Mapping[str, object],
    relation: Mapping[str, str] | None = None,
) -> dict:
    """Compare predicted groups with true ones, pair by pair.

    `truth` maps image -> true group ('' for an image in no group); `predicted` maps image ->
    cluster label. Only images present in both are scored: a true pair is two images with the
    same non-empty group; a predicted pair is two images with the same label. With
    `relation` (image -> relation type), recall is also given per relation, a pair's relation
    being its members' common type (or 'mixed').
    """
    images = sorted(set(truth) & set(predicted))
    true_groups: dict[str, list[str]] = defaultdict(list)
    pred_groups: dict[object, list[str]] = defaultdict(list)
    for image in images:
        if truth[image]:
            true_groups[truth[image]].append(image)
        pred_groups[predicted[image]].append(image)
    true_pairs = _pairs(true_groups)
    pred_pairs = _pairs({str(k): v for k, v in pred_groups.items()})
    tp = len(true_pairs & pred_pairs)
    fp = len(pred_pairs - true_pairs)
    fn = len(true_pairs - pred_pairs)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    result: dict = {
        "images": len(images),
        "true_pairs": len(true_pairs),
        "predicted_pairs": len(pred_pairs),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }
    if relation is not None:
        per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for a, b in true_pairs:
            ra, rb = relation.get(a, ""), relation.get(b, "")
            kind = ra if ra == rb else "mixed"
            per[kind][1] += 1
            per[kind][0] += (a, b) in pred_pairs
        result["recall_by_relation"] = {k: hit / total for k, (hit, total) in sorted(per.items())}
        result["pairs_by_relation"] = {k: total for k, (_hit, total) in sorted(per.items())}
    return result
