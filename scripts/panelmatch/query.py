"""Reverse lookup: the images of a finished run nearest to a query image.

A query image's features are computed exactly as the run computed its own (the settings
in ``results/settings.json``): the same frames (frames.mode), resize then Canny,
black-and-white image, hashes, and the embedding when the run had a model. Its distances
to every stored frame are then computed with the same kernel and metrics; each stored
image is represented by its best pair of frames with the query (matching.best_pairs). The
images the run's matching rule links to the query come first, then the nearest others, each part
ranked by the matching rule's edge distance (the smallest of ``matching.edge_metrics``).
Nothing stored is recomputed.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from panelmatch import comparison, features, frames, matching, metrics, tables, templates
from panelmatch.settings import RunSettings


@dataclass
class Index:
    """The stored features of a run (one row per stored frame), loaded once for many
    queries."""

    settings: RunSettings
    images: npt.NDArray[np.object_]  # the stored images, in order
    side: comparison.Side  # every stored frame, as one side of a comparison
    groups: pd.Series  # image -> group
    template_keys: npt.NDArray[np.uint64]  # the run's templates (panelmatch.templates)
    cleared: templates.Templates  # every stored frame's edge map without them


def load(results: str | os.PathLike) -> Index:
    """Load a finished run's settings and stored features from its results folder."""
    settings_path = os.path.join(results, "settings.json")
    if not os.path.isfile(settings_path):
        raise FileNotFoundError(
            f"{settings_path} not found: is {results!r} the results folder of a finished run?"
        )
    with open(settings_path, encoding="utf-8") as handle:
        settings = RunSettings.of(json.load(handle))
    edge_files = sorted(glob.glob(os.path.join(results, "frame_features", "*.parquet")))
    hash_files = sorted(glob.glob(os.path.join(results, "hashes", "*.parquet")))
    if not edge_files or len(edge_files) != len(hash_files):
        raise FileNotFoundError(f"{results}: edges and hashes tables are missing or incomplete")
    side = _side(
        [tables.read_arrow(p) for p in edge_files],
        [tables.read_arrow(p) for p in hash_files],
        settings,
    )
    if metrics.COSINE in settings.metrics:
        files = sorted(glob.glob(os.path.join(results, "embeddings", "*.parquet")))
        side.vectors = tables.read_vectors(files)[1]
    groups = tables.read(os.path.join(results, "groups.parquet"), ["image", "group"])
    names, _ = tables.image_numbers(pd.Series(side.images))
    # the run's templates: the blocks that more than template_frames stored frames hold
    # (a query does not count); computed once for every query
    width, height = settings.edges.width, settings.edges.height
    codes = side.codes["edges"].probe
    keys = templates.block_keys(codes, width, height)
    drop = templates.common(codes, width, height, settings.matching.template_frames, keys)
    cleared = templates.cleared(codes, drop, width, height, keys)
    return Index(settings, names, side, groups.set_index("image")["group"], drop, cleared)


def _side(edge_tables, hash_tables, settings: RunSettings) -> comparison.Side:
    return comparison.side(
        edge_tables,
        hash_tables,
        list(range(len(edge_tables))),
        settings.metrics,
        settings.hash_bits,
        settings.edges.width,
        settings.edges.height,
        settings.tolerance,
    )


def nearest(
    index: Index,
    query_frames: Sequence[frames.Frame],
    k: int,
    vectors: Sequence[npt.NDArray[np.float32]] | None = None,
) -> pd.DataFrame:
    """The stored images the run's matching rule links to a query image (its kept frames, from
    :func:`read_frames`), then the `k` stored images nearest to it among the others, each
    part by the rule's edge distance of their best pair of frames.

    Columns: rank, image, group, frame (the stored image's) and query_frame (the query's)
    of that pair, every metric, edge_threshold (the pair's threshold under the run's rule),
    linked (whether the run's rule links the query to the image through any frame) and link
    (the kind of link). `vectors` holds one embedding per query frame when the run had a
    model.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if not query_frames:
        raise ValueError("the query has no frames")
    settings = index.settings
    edge_settings = settings.edges
    found = [
        ("query", f.index, features.describe(f.rgb, edge_settings, settings.hashes, f.alpha))
        for f in query_frames
    ]
    edge_table, hash_table = features.tables_of(found, edge_settings, settings.hash_bits)
    query_side = _side([edge_table], [hash_table], settings)
    if index.side.vectors is not None and vectors is not None:
        query_side.vectors = np.asarray(vectors, dtype=np.float32)
    comparison.compared(query_side, index.side, settings.common_blocks)
    names = [m for m in settings.metrics if m != metrics.COSINE or query_side.vectors is not None]
    stored_frames = len(index.side)
    # pairs (query frame, stored frame); the query is image number len(images)
    a = np.repeat(np.arange(len(query_frames)), stored_frames)
    b = np.tile(np.arange(stored_frames), len(query_frames))
    flat = comparison.pair_distances(
        query_side, index.side, a, b, names, edge_settings.width, settings.art_tolerance
    )
    # the edge rule compares the edge maps without the run's templates, as the run did
    query_codes = query_side.codes["edges"].probe
    mine = templates.cleared(
        query_codes, index.template_keys, edge_settings.width, edge_settings.height
    )
    found = templates.joined(mine, index.cleared)
    flat = found.rescore(a, b + len(query_frames), flat, settings.tolerance)
    counts = {
        key: np.concatenate([query_side.counts[key], index.side.counts[key]])
        for key in tables.FRAME_COUNTS
    }
    counts = found.counts(counts)
    links = matching.link(
        flat,
        {key: value[a] for key, value in counts.items()},
        {key: value[b + len(query_frames)] for key, value in counts.items()},
        settings.hash_bits,
        settings.matching,
    )
    image_of = np.concatenate([np.full(len(query_frames), len(index.images)), index.side.image_of])
    best = matching.best_pairs(image_of, a, b + len(query_frames), links)
    # every image the rule links to the query first, then the k nearest others: a group
    # member linked by same_art or lines may be far by edge distance
    order = best[np.lexsort((index.side.image_of[b[best]], links.edge[best]))]
    order = np.concatenate([order[links.keep[order]], order[~links.keep[order]][:k]])
    out = pd.DataFrame({"rank": np.arange(1, len(order) + 1)})
    out["image"] = index.images[index.side.image_of[b[order]]]
    out["group"] = index.groups.reindex(out["image"]).to_numpy()
    out["frame"] = index.side.frames[b[order]]
    out["query_frame"] = [query_frames[q].index for q in a[order]]
    for m in names:
        out[m] = flat[m][order]
    out["edge_threshold"] = links.limit[order].round(1)
    out["linked"] = links.keep[order]
    out["link"] = matching.kind_names(links.kind[order])
    return out


def read_frames(path: str | os.PathLike, settings: RunSettings) -> list[frames.Frame]:
    """A query image's kept frames, decoded and selected exactly as the run did."""
    try:
        return frames.read_file(path, settings.frames).kept
    except frames.FrameError as exc:
        raise ValueError(f"{path}: {exc}") from exc
