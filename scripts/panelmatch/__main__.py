"""Command line: ``python -m panelmatch query IMAGE [IMAGE ...] [--results DIR] [-k 10]``,
and ``python -m panelmatch config --yaml|--markdown`` (the files generated from the
configuration schema: config.yaml, docs/configuration.md).

Prints, for each query image, every stored image the run's matching rule links to it,
then the k nearest others, with every distance, the group of each, the pair's edge
threshold and whether the rule links them. With several images (or --csv) the result is
one table with a ``query`` column.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from panelmatch import query

#: The configuration schema of the checkout this module belongs to.
SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m panelmatch")
    commands = parser.add_subparsers(dest="command", required=True)
    ask = commands.add_parser("query", help="nearest stored images to query images")
    ask.add_argument("images", nargs="+", help="image files (any format the run reads)")
    ask.add_argument("--results", default="results", help="results folder of a finished run")
    ask.add_argument(
        "-k",
        type=int,
        default=10,
        help="nearest images per query besides those the rule links to it (default 10)",
    )
    ask.add_argument("--csv", help="write the table to this CSV file instead of printing it")
    show = commands.add_parser("config", help="print a file generated from the schema")
    which = show.add_mutually_exclusive_group(required=True)
    which.add_argument("--yaml", action="store_true", help="config.yaml, the defaults")
    which.add_argument("--markdown", action="store_true", help="docs/configuration.md")
    show.add_argument("--schema", default=str(SCHEMA), help="the schema (default: this checkout's)")
    args = parser.parse_args(argv)
    if args.command == "config":
        import yaml

        from panelmatch import config

        with open(args.schema, encoding="utf-8") as handle:
            schema = yaml.safe_load(handle)
        sys.stdout.write(
            config.render_yaml(schema) if args.yaml else config.render_markdown(schema)
        )
        return 0
    if args.k < 1:
        parser.error("-k must be at least 1")

    start = time.perf_counter()
    try:
        index = query.load(args.results)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    model = None
    emb = index.settings.embeddings
    if index.side.vectors is not None:
        from panelmatch import embeddings

        model = embeddings.Model(emb.model, emb.output, list(emb.providers))
    loaded = time.perf_counter()
    found, failed = [], 0
    for path in args.images:
        try:
            kept = query.read_frames(path, index.settings)
        except (OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        vectors = None
        if model is not None:
            from panelmatch import embeddings

            size = (emb.width, emb.height)
            inputs = [embeddings.preprocess(f.rgb, size, emb.mean, emb.std) for f in kept]
            vectors = embeddings.embed(model, inputs, len(inputs))
        table = query.nearest(index, kept, args.k, vectors)
        table.insert(0, "query", path)
        found.append(table)
    done = time.perf_counter()
    print(
        f"{len(index.images)} stored images loaded in {loaded - start:.2f} s;"
        f" {len(found)} queries in {done - loaded:.3f} s",
        file=sys.stderr,
    )
    if found:
        result = pd.concat(found, ignore_index=True)
        if args.csv:
            result.to_csv(args.csv, index=False)
        else:
            with pd.option_context("display.max_rows", None, "display.width", 200):
                print(result.to_string(index=False))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
