"""What the summary stage tells a person: the accounting of inputs, groups and scores."""

from __future__ import annotations

import json

import pandas as pd

from . import tables


def failures(manifest: pd.DataFrame, stage_failures: pd.DataFrame) -> pd.DataFrame:
    """Every input that was not processed, with the stage and the reason.

    Columns: input (URL or file), image, stage, reason. Manifest rows of images that were
    found but not usable come first (stage scrape or ingest), then later stages' failures.
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
    return pd.concat([first, later], ignore_index=True)


def summary(
    manifest: pd.DataFrame,
    failed: pd.DataFrame,
    clusters: pd.DataFrame,
    pairs_stored: int,
    pairs_linked: int,
    scores: dict | None = None,
    truth_name: str = "",
) -> str:
    """The text of results/summary.txt."""
    inputs = int(manifest["image"].notna().sum())
    processed = len(clusters)
    accounted = processed + len(failed)
    lines = [
        "panelmatch summary",
        "==================",
        f"inputs (images found):      {inputs}",
        f"images processed:           {processed}",
        f"images failed:              {len(failed)}  (listed in results/failures.csv)",
        f"processed + failed:         {accounted}"
        + ("" if accounted == inputs else f"  (MISMATCH: {inputs - accounted} unaccounted)"),
    ]
    if len(failed):
        reasons = failed["reason"].str.split(" [(]", regex=True).str[0].value_counts()
        lines.append(
            "failures by reason:         "
            + ", ".join(f"{r}: {c}" for r, c in sorted(reasons.items()))
        )
    page_rows = manifest[manifest["page"].notna() & (manifest["index"] == 0)]
    if manifest["page"].notna().any():
        statuses = page_rows["status"].value_counts().sort_index().to_dict()
        lines += [
            f"pages requested:            {manifest['page'].nunique()}",
            f"pages without images:       {json.dumps(statuses) if statuses else 0}",
        ]
    groups = clusters.drop_duplicates("cluster")["cluster_size"]
    by_size = groups.value_counts().sort_index()
    lines += [
        f"pairs stored (under caps):  {pairs_stored}",
        f"pairs linked (graph edges): {pairs_linked}",
        f"groups of 2 or more:        {int((groups > 1).sum())}"
        f" holding {int((clusters['cluster_size'] > 1).sum())} images",
        "groups by size:             " + ", ".join(f"{s}: {c}" for s, c in by_size.items()),
    ]
    if scores is not None:
        per = scores.get("recall_by_relation", {})
        lines += [
            "",
            f"evaluation against {truth_name} (pair level, {scores['images']} images):",
            f"  precision {scores['precision']:.3f}"
            f"  recall {scores['recall']:.3f}  F1 {scores['f1']:.3f}",
            f"  true pairs {scores['true_pairs']}, predicted {scores['predicted_pairs']}:"
            f" tp {scores['tp']}, fp {scores['fp']}, fn {scores['fn']}",
            "  recall by relation: "
            + ", ".join(
                f"{k} {v:.2f} ({scores['pairs_by_relation'][k]} pairs)" for k, v in per.items()
            ),
        ]
    return "\n".join(lines) + "\n"
