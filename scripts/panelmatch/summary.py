"""What the summary stage tells a person: the accounting of inputs, groups and scores."""

from __future__ import annotations

import json
import os

import pandas as pd

from . import tables

#: failures.csv stages that are not images: a folder that could not be read, and a frame
#: of a processed image that could not be decoded (the image is processed).
NOT_AN_IMAGE_FAILURE = ("folder", "frame")


def failures(
    manifest: pd.DataFrame,
    stage_failures: pd.DataFrame,
    skipped: pd.DataFrame | None = None,
    folder: str = "",
    undecodable: list[str] | None = None,
) -> pd.DataFrame:
    """Every input that was not processed, with the stage and the reason; also the frames
    that were dropped and the folders that could not be read.

    Columns: input (URL or file), image, stage, reason. The image files whose name is not
    valid UTF-8 come first (stage listing, named by their printable path: folder.printable),
    then manifest rows of images that were found but not usable (stage scrape or ingest),
    then later stages' failures (frames: the whole image; frame: one frame, the image
    processed from those before it), then the input folder's subfolders that could not be
    read (stage folder).
    """
    bad = manifest[manifest["image"].notna() & (manifest["status"] != tables.OK)]
    web = bad["page"].notna()
    first = pd.DataFrame(
        {
            "input": bad["url"].where(bad["url"].notna(), bad["path"]),
            "image": bad["image"],
            "stage": web.map({True: "scrape", False: "ingest"}),
            "reason": bad["status"],
        }
    )
    later = stage_failures.rename(columns={"path": "input"})[["input", "image", "stage", "reason"]]
    names = list(undecodable or [])
    listing = pd.DataFrame(
        {
            "input": [os.path.join(folder, n) for n in names],
            "image": names,
            "stage": "listing",
            "reason": "undecodable_name: the file name is not valid UTF-8 (rename it to read it)",
        },
        columns=["input", "image", "stage", "reason"],
    )
    parts = [listing, first, later]
    if skipped is not None and len(skipped):
        unreadable = skipped[skipped["reason"] == "unreadable_folder"]
        parts.append(
            pd.DataFrame(
                {
                    "input": [os.path.join(folder, p) if p else folder for p in unreadable["path"]],
                    "image": "",
                    "stage": "folder",
                    "reason": "unreadable folder: " + unreadable["detail"],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def text(
    manifest: pd.DataFrame,
    failed: pd.DataFrame,
    groups: pd.DataFrame,
    pairs_stored: int,
    pairs_linked: int,
    evaluation: dict | None = None,
    embedding: list[str] | None = None,
    skipped: pd.DataFrame | None = None,
    undecodable: int = 0,
) -> str:
    """The text of results/summary.txt; `evaluation` is results/evaluation.json's content,
    `skipped` the folder entries that are not input images (results/skipped.csv),
    `undecodable` the image files whose name is not valid UTF-8 (inputs, and failed)."""
    inputs = int(manifest["image"].notna().sum()) + undecodable
    processed = len(groups)
    images_failed = failed[~failed["stage"].isin(NOT_AN_IMAGE_FAILURE)]
    accounted = processed + len(images_failed)
    # what else results/failures.csv lists, so that its rows add up
    others = failed[failed["stage"].isin(NOT_AN_IMAGE_FAILURE)]["stage"].value_counts()
    other_words = {"folder": "unreadable folder", "frame": "dropped frame"}
    rows = f"{len(failed)} row{'' if len(failed) == 1 else 's'} in results/failures.csv"
    if len(others):
        rows += ": also " + ", ".join(
            f"{count} {other_words[stage]}{'' if count == 1 else 's'}"
            for stage, count in sorted(others.items())
        )
    lines = [
        "panelmatch summary",
        "==================",
        f"inputs (images found):      {inputs}",
        f"images processed:           {processed}",
        f"images failed:              {len(images_failed)}  ({rows})",
        f"processed + failed:         {accounted}"
        + ("" if accounted == inputs else f"  (MISMATCH: {inputs - accounted} unaccounted)"),
    ]
    if len(images_failed):
        reasons = images_failed["reason"].str.split(r" [(]|: ", regex=True).str[0].value_counts()
        lines.append(
            "failures by reason:         "
            + ", ".join(f"{r}: {c}" for r, c in sorted(reasons.items()))
        )
    dropped = failed[failed["stage"] == "frame"]
    if len(dropped):
        lines.append(
            f"frames dropped:             {len(dropped)} (undecodable frames of"
            f" {dropped['image'].nunique()} processed images; results/failures.csv)"
        )
    if skipped is not None:
        counts = skipped["reason"].value_counts().to_dict() if len(skipped) else {}
        if not inputs:
            lines.append("the folder holds no image files (source.extensions)")
        lines.append(
            "folder entries skipped:     "
            + (", ".join(f"{r}: {c}" for r, c in sorted(counts.items())) or "none")
            + ("  (listed in results/skipped.csv)" if counts else "")
        )
    page_rows = manifest[manifest["page"].notna() & (manifest["index"] == 0)]
    if manifest["page"].notna().any():
        statuses = page_rows["status"].value_counts().sort_index().to_dict()
        lines += [
            f"pages requested:            {manifest['page'].nunique()}",
            f"pages without images:       {json.dumps(statuses) if statuses else 0}",
        ]
    sizes = groups.drop_duplicates("group")["group_size"]
    by_size = sizes.value_counts().sort_index()
    lines += [
        f"pairs stored (under caps):  {pairs_stored}",
        f"pairs linked (graph edges): {pairs_linked}",
        f"groups of 2 or more:        {int((sizes > 1).sum())}"
        f" holding {int((groups['group_size'] > 1).sum())} images",
        "groups by size:             " + ", ".join(f"{s}: {c}" for s, c in by_size.items()),
    ]
    if embedding is not None:
        lines += ["", *embedding]
    if evaluation is not None:
        lines += ["", *evaluation_table(evaluation)]
    return "\n".join(lines) + "\n"


def evaluation_table(evaluation: dict) -> list[str]:
    """Lines of the summary's evaluation: how much of the run the truth covers, the
    configured rule's scores overall and per relation type, the "don't care" pairs it
    ignored, then one row per compared rule."""
    covered = (
        f"the truth covers {evaluation['covered']} of the run's {evaluation['run_images']}"
        " images"
        + (
            f" ({evaluation['not_in_run']} of its images are not in the run)"
            if evaluation["not_in_run"]
            else ""
        )
    )
    lines = [f"evaluation against {evaluation['truth']} (pair level): {covered}"]
    results = evaluation["results"]
    if not results:
        return [*lines, f"  no score: {evaluation.get('message', 'nothing to score')}"]
    main = results["configured"]
    lines += [
        f"  precision {main['precision']:.3f}  recall {main['recall']:.3f}  F1 {main['f1']:.3f}",
        f"  true pairs {main['true_pairs']}, predicted {main['predicted_pairs']}:"
        f" tp {main['tp']}, fp {main['fp']}, fn {main['fn']}",
    ]
    if evaluation.get("dont_care"):
        lines.append(
            f'  "don\'t care" (same {evaluation["dont_care"]}, other group):'
            f" {main['dont_care_predicted']} predicted pairs ignored, of {main['dont_care']}"
            " (listed in results/evaluation.json)"
        )
    by = main.get("by_relation", {})
    if by:
        lines.append(
            f"  {'relation':<15} {'precision':>9} {'recall':>7} {'F1':>6} {'true':>5} {'pred':>5}"
        )
        for kind, s in by.items():
            if not s["true_pairs"] and not s["predicted_pairs"]:
                scores = f"{'—':>9} {'—':>7} {'—':>6}"  # nothing to score: undefined
            else:
                scores = f"{s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1']:>6.3f}"
            lines.append(f"  {kind:<15} {scores} {s['true_pairs']:>5} {s['predicted_pairs']:>5}")
    relations = evaluation.get("relations") or {}
    if relations.get("scored"):
        lines.append(
            f"  relation of the linked pairs (each reuse with its original): accuracy"
            f" {relations['accuracy']:.3f} over {relations['scored']} of"
            f" {relations['labelled']} labelled pairs (confusion in results/evaluation.json)"
        )
    if len(results) > 1:
        width = max(len(name) for name in results)
        lines += [
            "",
            "matching rules compared (evaluation.compare; configured = the configured rule):",
            f"  {'rule':<{width}} {'precision':>9} {'recall':>7} {'F1':>6}"
            f" {'groups':>6} {'largest':>7}  lowest relation recall",
        ]
        for name, s in results.items():
            worst = min(
                ((v["recall"], k) for k, v in s.get("by_relation", {}).items() if v["true_pairs"]),
                default=(1.0, "-"),
            )
            lines.append(
                f"  {name:<{width}} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1']:>6.3f}"
                f" {s['groups']:>6} {s['largest_group']:>7}  {worst[1]} {worst[0]:.2f}"
            )
    return lines


def embedding_summary(
    groups: pd.DataFrame, duplicates: pd.DataFrame, representatives: pd.DataFrame
) -> list[str]:
    """Summary lines of the deep fingerprints: hierarchical groups, duplicates and the
    k-medoids representatives (tables of the embedding_groups rule)."""
    sizes = groups.drop_duplicates("group")["group_size"]
    dup = duplicates[duplicates["keep"].astype(str) != "True"]  # as read from its CSV
    reps = ", ".join(
        f"{row.image} ({row.members})" for row in representatives.itertuples(index=False)
    )
    return [
        "embeddings (deep fingerprints):",
        f"  hierarchical groups of 2+:  {int((sizes > 1).sum())}"
        f" holding {int((groups['group_size'] > 1).sum())} images",
        f"  duplicates:                 {len(dup)} of {len(duplicates)} images"
        " (results/duplicates.csv)",
        f"  k-medoids representatives:  k = {len(representatives)}: {reps}",
    ]
