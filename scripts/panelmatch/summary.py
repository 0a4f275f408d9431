"""What the summary stage tells a person: the accounting of inputs, groups and scores."""

from __future__ import annotations

import json
import os
from typing import NamedTuple

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


class Table(NamedTuple):
    """A table of a summary section: its caption, column names and rows (cells as text;
    "—" where a figure is undefined)."""

    caption: str
    header: list[str]
    rows: list[list[str]]


class Section(NamedTuple):
    """One part of the summary: a title, label and value rows, tables, and notes."""

    title: str
    rows: list[tuple[str, str]]
    tables: list[Table]
    notes: list[str]


#: The width of a label column in the summary's text.
LABEL_WIDTH = 28


def sections(
    manifest: pd.DataFrame,
    failed: pd.DataFrame,
    groups: pd.DataFrame,
    pairs_stored: int,
    pairs_linked: int,
    evaluation: dict | None = None,
    embedding: Section | None = None,
    skipped: pd.DataFrame | None = None,
    undecodable: int = 0,
) -> list[Section]:
    """The summary, as sections (results/summary.txt and the gallery's summary page show
    them); `evaluation` is results/evaluation.json's content, `embedding` the deep
    fingerprints' section (:func:`embedding_summary`), `skipped` the folder entries that are
    not input images (results/skipped.csv), `undecodable` the image files whose name is not
    valid UTF-8 (inputs, and failed)."""
    inputs = int(manifest["image"].notna().sum()) + undecodable
    processed = len(groups)
    images_failed = failed[~failed["stage"].isin(NOT_AN_IMAGE_FAILURE)]
    accounted = processed + len(images_failed)
    # what else results/failures.csv lists, so that its rows add up
    others = failed[failed["stage"].isin(NOT_AN_IMAGE_FAILURE)]["stage"].value_counts()
    other_words = {"folder": "unreadable folder", "frame": "dropped frame"}
    listed = f"{len(failed)} row{'' if len(failed) == 1 else 's'} in results/failures.csv"
    if len(others):
        listed += ": also " + ", ".join(
            f"{count} {other_words[stage]}{'' if count == 1 else 's'}"
            for stage, count in sorted(others.items())
        )
    rows = [
        ("inputs (images found)", f"{inputs}"),
        ("images processed", f"{processed}"),
        ("images failed", f"{len(images_failed)}  ({listed})"),
        (
            "processed + failed",
            f"{accounted}"
            + ("" if accounted == inputs else f"  (MISMATCH: {inputs - accounted} unaccounted)"),
        ),
    ]
    notes = []
    if len(images_failed):
        reasons = images_failed["reason"].str.split(r" [(]|: ", regex=True).str[0].value_counts()
        rows.append(
            ("failures by reason", ", ".join(f"{r}: {c}" for r, c in sorted(reasons.items())))
        )
    dropped = failed[failed["stage"] == "frame"]
    if len(dropped):
        rows.append(
            (
                "frames dropped",
                f"{len(dropped)} (undecodable frames of {dropped['image'].nunique()} processed"
                " images; results/failures.csv)",
            )
        )
    if skipped is not None:
        counts = skipped["reason"].value_counts().to_dict() if len(skipped) else {}
        if not inputs:
            notes.append("the folder holds no image files (source.extensions)")
        rows.append(
            (
                "folder entries skipped",
                (", ".join(f"{r}: {c}" for r, c in sorted(counts.items())) or "none")
                + ("  (listed in results/skipped.csv)" if counts else ""),
            )
        )
    page_rows = manifest[manifest["page"].notna() & (manifest["index"] == 0)]
    if manifest["page"].notna().any():
        statuses = page_rows["status"].value_counts().sort_index().to_dict()
        rows += [
            ("pages requested", f"{manifest['page'].nunique()}"),
            ("pages without images", json.dumps(statuses) if statuses else "0"),
        ]
    found = [Section("inputs", rows, [], notes)]
    sizes = groups.drop_duplicates("group")["group_size"]
    by_size = sizes[sizes > 1].value_counts().sort_index()
    found.append(
        Section(
            "groups",
            [
                ("pairs stored (under caps)", f"{pairs_stored}"),
                ("pairs linked (graph edges)", f"{pairs_linked}"),
                (
                    "groups of 2 or more",
                    f"{int((sizes > 1).sum())} holding {int((groups['group_size'] > 1).sum())}"
                    " images",
                ),
                (
                    "groups by size",
                    ", ".join(
                        f"{c} group{'s' if c != 1 else ''} of {s}" for s, c in by_size.items()
                    )
                    or "none",
                ),
                ("images in no group", f"{int((groups['group_size'] == 1).sum())}"),
            ],
            [],
            [],
        )
    )
    if embedding is not None:
        found.append(embedding)
    if evaluation is not None:
        found.append(evaluation_section(evaluation))
    return found


def text(*args, **kwargs) -> str:
    """The text of results/summary.txt: :func:`sections` (same arguments) as text."""
    return as_text(sections(*args, **kwargs))


def as_text(found: list[Section]) -> str:
    """Sections as plain text: the inputs and groups first with a label column, then each
    other section under its title, indented, its tables with aligned columns."""
    lines = ["panelmatch summary", "=================="]
    for section in found:
        top = section.title in ("inputs", "groups")
        indent = "" if top else "  "
        if not top:
            lines += ["", f"{section.title}:"]
        lines += [f"{indent}{note}" for note in section.notes]
        lines += [f"{indent}{label + ':':<{LABEL_WIDTH}}{value}" for label, value in section.rows]
        for table in section.tables:
            lines += ["", f"{table.caption}:"] if table.caption else []
            lines += _table_lines(table, "  ")
    return "\n".join(lines) + "\n"


def as_json(found: list[Section]) -> list[dict]:
    """Sections as plain JSON (results/summary.json, which the gallery shows)."""
    return [
        {
            "title": section.title,
            "rows": [list(row) for row in section.rows],
            "tables": [table._asdict() for table in section.tables],
            "notes": section.notes,
        }
        for section in found
    ]


def _table_lines(table: Table, indent: str) -> list[str]:
    widths = [
        max(len(str(cell)) for cell in [name, *(row[k] for row in table.rows)])
        for k, name in enumerate(table.header)
    ]
    # figures to the right, words to the left
    numeric = [all(_is_figure(row[k]) for row in table.rows) for k in range(len(widths))]
    out = []
    for row in [table.header, *table.rows]:
        cells = [
            f"{cell:>{w}}" if right else f"{cell:<{w}}"
            for cell, w, right in zip(row, widths, numeric, strict=True)
        ]
        out.append(indent + " ".join(cells).rstrip())
    return out


def _is_figure(cell: str) -> bool:
    """Whether a table cell is a figure ("—" for an undefined one)."""
    try:
        float(cell)
    except ValueError:
        return cell == "—"
    return True


def _score(value: float, defined: bool) -> str:
    return f"{value:.3f}" if defined else "—"


def evaluation_section(evaluation: dict) -> Section:
    """The summary's evaluation: how much of the run the truth covers, the configured
    rule's scores overall and per relation type (a dash where a score is undefined: no
    predicted pair for a precision, no true pair for a recall), the "don't care" pairs it
    ignored, then one row per compared rule."""
    covered = f"{evaluation['covered']} of the run's {evaluation['run_images']} images" + (
        f" ({evaluation['not_in_run']} of its images are not in the run)"
        if evaluation["not_in_run"]
        else ""
    )
    title = f"evaluation against {evaluation['truth']} (pair level)"
    notes = [f"the truth covers {covered}"]
    results = evaluation["results"]
    if not results:
        notes.append(f"no score: {evaluation.get('message', 'nothing to score')}")
        return Section(title, [], [], notes)
    main = results["configured"]
    rows = [
        ("precision", f"{main['precision']:.3f}"),
        ("recall", f"{main['recall']:.3f}"),
        ("F1", f"{main['f1']:.3f}"),
        (
            "pairs",
            f"true {main['true_pairs']}, predicted {main['predicted_pairs']}: tp {main['tp']},"
            f" fp {main['fp']}, fn {main['fn']}",
        ),
    ]
    if evaluation.get("dont_care"):
        notes.append(
            f'"don\'t care" (same {evaluation["dont_care"]}, other group):'
            f" {main['dont_care_predicted']} predicted pairs ignored, of {main['dont_care']}"
            " (listed in results/evaluation.json)"
        )
    tables = []
    by = main.get("by_relation", {})
    if by:
        table_rows = []
        for kind, s in by.items():
            precise, recalled = s["predicted_pairs"] > 0, s["true_pairs"] > 0
            table_rows.append(
                [
                    kind,
                    _score(s["precision"], precise),
                    _score(s["recall"], recalled),
                    _score(s["f1"], precise and recalled),
                    str(s["true_pairs"]),
                    str(s["predicted_pairs"]),
                ]
            )
        header = ["relation", "precision", "recall", "F1", "true", "pred"]
        tables.append(Table("", header, table_rows))
    relations = evaluation.get("relations") or {}
    if relations.get("scored"):
        rows.append(
            (
                "relations of the pairs",
                f"accuracy {relations['accuracy']:.3f} over {relations['scored']} of"
                f" {relations['labelled']} labelled pairs, each reuse with its original"
                " (confusion in results/evaluation.json)",
            )
        )
    if len(results) > 1:
        table_rows = []
        for name, s in results.items():
            worst = min(
                ((v["recall"], k) for k, v in s.get("by_relation", {}).items() if v["true_pairs"]),
                default=None,
            )
            table_rows.append(
                [
                    name,
                    f"{s['precision']:.3f}",
                    f"{s['recall']:.3f}",
                    f"{s['f1']:.3f}",
                    str(s["groups"]),
                    str(s["largest_group"]),
                    f"{worst[1]} {worst[0]:.2f}" if worst else "—",
                ]
            )
        header = [
            "rule",
            "precision",
            "recall",
            "F1",
            "groups",
            "largest",
            "lowest relation recall",
        ]
        caption = "matching rules compared (evaluation.compare; configured = the configured rule)"
        tables.append(Table(caption, header, table_rows))
    return Section(title, rows, tables, notes)


def embedding_summary(
    groups: pd.DataFrame, duplicates: pd.DataFrame, representatives: pd.DataFrame
) -> Section:
    """The summary's section of the deep fingerprints: hierarchical groups, duplicates and
    the k-medoids representatives (tables of the embedding_groups rule)."""
    sizes = groups.drop_duplicates("group")["group_size"]
    dup = duplicates[duplicates["keep"].astype(str) != "True"]  # as read from its CSV
    reps = ", ".join(
        f"{row.image} ({row.members})" for row in representatives.itertuples(index=False)
    )
    return Section(
        "embeddings (deep fingerprints)",
        [
            (
                "hierarchical groups of 2+",
                f"{int((sizes > 1).sum())} holding {int((groups['group_size'] > 1).sum())} images",
            ),
            ("duplicates", f"{len(dup)} of {len(duplicates)} images (results/duplicates.csv)"),
            ("k-medoids representatives", f"k = {len(representatives)}: {reps}"),
        ],
        [],
        [],
    )
