"""Matching quality on labelled collections: the demo comic and the real ones beside it.

    python benchmarks/quality.py [--shared DIR] [--workdir DIR] [--cores N]
        [--configfile EXTRA.yaml] [--only demo,homestuck,sprites]

Runs the real workflow once per collection, each in a directory of its own (default
/tmp/panelmatch-quality/<collection>), up to results/evaluation.json:

- ``demo``: the default configuration, which draws the demo comic and scores it against
  its own truth;
- ``homestuck``: ``<shared>/data/homestuck/panels`` (real panels) as a folder, against
  ``groups.csv`` beside it;
- ``sprites``: ``<shared>/data/sprites`` (real regular/shiny sprite pairs) as a folder,
  against its ``groups.csv``, with the ``species`` column as "don't care", and a ``reuse``
  column added (in the work directory): each shiny sprite is a ``recolour`` of its regular
  one, so the relations are scored too;
- ``emoji``: ``<shared>/data/emoji`` (real emoji in up to six skin tones among thousands of
  drawings that share a template) as a folder, against its ``groups.csv``, with
  ``subcategory`` as "don't care". As its README says, recall is taken over the
  ``skin_tones`` pairs only (the multi-person ``skin_tones_multi`` pairs are reported on
  their own), precision over every predicted pair that is not "don't care".

Besides precision, recall, F1 and the largest group, each collection gets a *strict*
precision, in which a predicted "don't care" pair counts as false.

A collection whose folder is absent is skipped with a message. Every rule of
``evaluation.compare`` is scored with the configured one (``matching``) from the same stored
distances. Prints one table (rule x collection: precision, recall, F1, largest group, and
each rule's worst F1 over the collections), the accuracy of the relation of the linked true
pairs where the truth says how they are related, then one JSON line. Extra configuration files
(--configfile, repeatable) are applied to every collection, after its own settings.
Not part of the test suite: it measures quality on data we did not draw.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def collections(shared: Path) -> dict[str, dict | None]:
    """Each collection's configuration, or None when its data is absent."""
    panels = shared / "data" / "homestuck"
    sprites = shared / "data" / "sprites"
    emoji = shared / "data" / "emoji"
    return {
        "demo": {},
        "homestuck": {
            "source": {"folder": str(panels / "panels")},
            "evaluation": {"truth": str(panels / "groups.csv")},
        }
        if (panels / "panels").is_dir() and (panels / "groups.csv").is_file()
        else None,
        "sprites": {
            "source": {"folder": str(sprites)},
            "evaluation": {"truth": str(sprites / "groups.csv"), "dont_care": "species"},
        }
        if (sprites / "groups.csv").is_file()
        else None,
        "emoji": {
            "source": {"folder": str(emoji)},
            "evaluation": {"truth": str(emoji / "groups.csv"), "dont_care": "subcategory"},
        }
        if (emoji / "groups.csv").is_file()
        else None,
    }


#: The truth relation whose pairs a collection's recall is taken over (its README's
#: scoring rule), where it is not every true pair.
RECALL_OVER = {"emoji": "skin_tones"}


def scored(name: str, r: dict) -> dict:
    """One rule's figures on one collection from its evaluation.json entry `r`: the
    collection's own scoring rule (RECALL_OVER), the strict precision, the largest group."""
    by = r.get("by_relation") or {}
    recall = r["recall"]
    if name in RECALL_OVER:
        recall = by[RECALL_OVER[name]]["recall"]
    precision = r["precision"]
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    predicted = r["tp"] + r["fp"] + r["dont_care_predicted"]
    return {
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "f1": round(f1, 3),
        "strict_precision": round(r["tp"] / predicted if predicted else 1.0, 3),
        "largest_group": r["largest_group"],
        "tp": r["tp"],
        "fp": r["fp"],
        "fn": r["fn"],
        "dont_care_predicted": r["dont_care_predicted"],
        "by_relation": {
            k: {m: round(v[m], 3) for m in ("precision", "recall", "f1")} for k, v in by.items()
        },
    }


def with_reuse(truth: Path, out: Path) -> Path:
    """The sprites' truth with a ``reuse`` column: ``original`` for a regular sprite,
    ``recolour`` for its shiny version (the collection's README says they are)."""
    with open(truth, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        shiny = Path(row["image"]).name.startswith("shiny_")
        row["reuse"] = ("recolour" if shiny else "original") if row["group"] else ""
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out


def run(name: str, cfg: dict, workdir: Path, cores: int, extra: list[Path]) -> dict:
    """Run the workflow on one collection; returns its evaluation.json."""
    workdir.mkdir(parents=True, exist_ok=True)
    if name == "sprites":
        truth = with_reuse(Path(cfg["evaluation"]["truth"]), workdir / "truth.csv")
        cfg = {**cfg, "evaluation": {**cfg["evaluation"], "truth": str(truth)}}
    (workdir / "collection.yaml").write_text(json.dumps(cfg), encoding="utf-8")
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "results/evaluation.json",
        "results/groups.parquet",
        "results/settings.json",
        "-s",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--cores",
        str(cores),
        "--configfile",
        str(workdir / "collection.yaml"),
        *(str(path) for path in extra),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"{name}: snakemake failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return json.loads((workdir / "results" / "evaluation.json").read_text(encoding="utf-8"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/panelmatch-quality"))
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--configfile", type=Path, action="append", default=[])
    ap.add_argument("--only", default="", help="comma-separated collections to run")
    args = ap.parse_args()
    wanted = {c for c in args.only.split(",") if c}
    scores: dict[str, dict] = {}
    for name, cfg in collections(args.shared).items():
        if wanted and name not in wanted:
            continue
        if cfg is None:
            print(f"{name}: skipped, its data is not in {args.shared / 'data'}")
            continue
        found = run(name, cfg, args.workdir / name, args.cores, args.configfile)
        relations = found.get("relations") or {}
        scores[name] = {
            "images": found["run_images"],
            "covered": found["covered"],
            "relations": {
                "scored": relations.get("scored", 0),
                "accuracy": None
                if relations.get("accuracy") is None
                else round(relations["accuracy"], 3),
                "confusion": relations.get("confusion", {}),
            },
            "rules": {rule: scored(name, r) for rule, r in found["results"].items()},
        }
    if not scores:
        sys.exit("no collection was run")
    names = list(scores)
    rules = list(next(iter(scores.values()))["rules"])
    width = max(len(r) for r in rules)
    header = f"{'rule':<{width}} " + " ".join(
        f"{n + ' P/R/F1 (largest) strict P':>38}" for n in names
    )
    print(header + f" {'worst F1':>9}")
    worst = {}
    for rule in rules:
        cells = []
        for n in names:
            s = scores[n]["rules"][rule]
            prf = f"{s['precision']:.3f} / {s['recall']:.3f} / {s['f1']:.3f}"
            cells.append(f"{prf} ({s['largest_group']:>3}) {s['strict_precision']:.3f}")
        worst[rule] = min(scores[n]["rules"][rule]["f1"] for n in names)
        print(f"{rule:<{width}} " + " ".join(f"{c:>38}" for c in cells) + f" {worst[rule]:>9.3f}")
    covered = ", ".join(f"{n}: {s['covered']} of {s['images']} images" for n, s in scores.items())
    print(f"truth covers {covered}")
    for n in names:
        by = scores[n]["rules"]["configured"]["by_relation"]
        if n in RECALL_OVER and by:
            each = ", ".join(f"{k} {v['recall']:.3f}" for k, v in by.items())
            print(f"{n}: recall by truth relation (configured rule): {each}")
    for n, s in scores.items():
        r = s["relations"]
        if r["scored"]:
            wrong = {
                f"{true}->{got}": count
                for true, row in r["confusion"].items()
                for got, count in row.items()
                if got != true
            }
            print(f"{n}: relation accuracy {r['accuracy']:.3f} of {r['scored']} pairs; {wrong}")
    print(json.dumps({"collections": scores, "worst_f1": worst}))


if __name__ == "__main__":
    main()
