"""Pair-level precision, recall and F1 of groups against a ground truth.

A *true pair* is two images of the same non-empty truth group; a *predicted pair* two images
of the same predicted group. With a "don't care" family per image (the truth column named by
``evaluation.dont_care``, such as a sprite's species), a pair of one family but of different
groups is neither right nor wrong: it is left out of both counts, and listed.

With a ``reuse`` column (how each image reuses its group's original; the demo writes it),
:func:`relation_scores` scores the relation (panelmatch.relation) of the linked pairs.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations

import pandas as pd

from panelmatch import grouping, linked, pairs, tables
from panelmatch.relation import ORIGINAL, RELATIONS
from panelmatch.settings import Matching


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
    group label. Only images present in both are scored.

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


def check_truth(truth: pd.DataFrame, path: str | os.PathLike) -> pd.DataFrame:
    """`truth` (tables.read_truth), after checking that its ``reuse`` column holds only
    relations (panelmatch.relation.RELATIONS), ORIGINAL or ''; names the file if not."""
    known = {"", ORIGINAL, *RELATIONS}
    unknown = sorted(set(truth["reuse"]) - known)
    if unknown:
        raise ValueError(
            f"{path}: column 'reuse' holds {unknown[0]!r}; it takes {ORIGINAL!r} or"
            f" one of {list(RELATIONS)}"
        )
    return truth


def document(
    run: linked.Run,
    shards: Sequence[str | os.PathLike],
    truth_path: str,
    dont_care: str | None,
    settings: Matching,
    compare: Mapping[str, Mapping],
    hash_bits: Mapping[str, int],
    metric_names: Sequence[str],
    tolerance: int,
    local: bool = False,
) -> dict:
    """The evaluation of the configured rule (`settings`) and of every rule of `compare`
    (its overrides of `settings`) against the ground truth at `truth_path`: coverage,
    pair scores of each rule, the "don't care" pairs and the relation scores of the
    configured rule (results/evaluation.json)."""
    names = run.names.tolist()
    truth = check_truth(tables.read_truth(truth_path, dont_care), truth_path)
    covered = coverage(truth["image"], names)
    out: dict = {
        "truth": truth_path,
        "dont_care": dont_care if (truth["family"] != "").any() else None,
        **covered,
        "matching": settings.plain(),
    }
    if not covered["covered"]:
        out["message"] = (
            f"{truth_path} covers none of the run's {len(names)} images (its image names"
            " must be the run's: PAGE_INDEX for a site, the path under source.folder for a"
            " folder); nothing was scored"
        )
        out["results"] = {}
        return out
    columns = list(metric_names) + (tables.LOCAL_COLUMNS if local else [])
    rules = {"configured": settings}
    rules |= {name: settings.but(**overrides) for name, overrides in compare.items()}
    true_group = dict(zip(truth["image"], truth["group"], strict=True))
    kind_of = dict(zip(truth["image"], truth["relation"], strict=True))
    family = dict(zip(truth["image"], truth["family"], strict=True))
    stream = pairs.stream(shards, run.offsets, list(metric_names), local)
    by_rule = linked.linked_pairs(run, stream, hash_bits, rules, tolerance, columns, local)
    results = {}
    for name, rule_settings in rules.items():
        found = by_rule[name]
        labels, links, pick, _ = linked.grouped(run, found, hash_bits, rule_settings)
        sizes = grouping.sizes(labels)
        scores = pair_scores(
            true_group, dict(zip(names, labels.tolist(), strict=True)), kind_of, family
        )
        ignored = scores.pop("dont_care_predicted")
        results[name] = {
            "overrides": dict(compare.get(name, {})),
            **scores,
            "dont_care_predicted": len(ignored),
            "links": int(links.keep[pick].sum()),
            "groups": len(set(labels[sizes > 1].tolist())),
            "grouped_images": int((sizes > 1).sum()),
            "largest_group": int(sizes.max()) if len(sizes) else 0,
        }
        if name == "configured":
            out["dont_care_pairs"] = [list(pair) for pair in ignored]
            # the relation of each linked image pair, as pairs.parquet gives it
            kept = pick[links.keep[pick]]
            found_relations = linked.pair_relations(found, links, kept, columns)
            image_a = [names[i] for i in run.image_of[found.a[kept]]]
            image_b = [names[i] for i in run.image_of[found.b[kept]]]
            reuse = dict(zip(truth["image"], truth["reuse"], strict=True))
            out["relations"] = relation_scores(
                true_group,
                reuse,
                dict(
                    zip(zip(image_a, image_b, strict=True), found_relations.tolist(), strict=True)
                ),
            )
    out["results"] = results
    return out


def leaking_groups(groups: pd.DataFrame, folds: Sequence[str]) -> pd.DataFrame:
    """The groups of 2+ images (groups.parquet's image, group, group_size) whose members
    come from more than one of `folds`: an image's fold is the first folder of its name
    (``train/cat.png`` is in ``train``); images outside every fold are left out. Columns
    tables.LEAKAGE_COLUMNS, one row per group in group order."""
    groups = groups[["image", "group", "group_size"]].copy()
    groups["fold"] = (
        groups["image"].str.split("/").str[0].where(groups["image"].str.contains("/", regex=False))
    )
    groups = groups[groups["fold"].isin(list(folds)) & (groups["group_size"] > 1)]
    rows = []
    for group, members in groups.groupby("group", sort=True):
        if members["fold"].nunique() > 1:
            rows.append(
                {
                    "group": group,
                    "group_size": int(members["group_size"].iloc[0]),
                    "folds": ",".join(sorted(members["fold"].unique())),
                    "images": ";".join(members["image"]),
                }
            )
    return pd.DataFrame(rows, columns=tables.LEAKAGE_COLUMNS)
