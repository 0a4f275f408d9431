"""Reverse lookup: the images of a finished run nearest to a query image.

A query image's features are computed exactly as the run computed its own (the settings
in ``results/settings.json``): the same frames (frames.mode), resize then Canny,
black-and-white image, hashes, and the embedding when the run had a model. Its distances
to every stored frame are then computed with the same kernel and metrics; each stored
image is represented by its best pair of frames with the query (graph.best_pairs), and
the images are ranked by the matching rule's edge distance (the smallest of
``clusters.edge_metrics``). Nothing stored is recomputed.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from panelmatch import bits, features, frames, graph, metrics, tables


@dataclass
class Index:
    """The stored features of a run (one row per stored frame), loaded once for many
    queries."""

    settings: dict
    images: npt.NDArray[np.object_]  # the stored images, in order
    image_of: npt.NDArray[np.int64]  # each stored frame's image number
    frames: npt.NDArray[np.int64]  # each stored frame's index in its file
    edge_pixels: npt.NDArray[np.int64]
    codes: dict[str, bits.Coded]  # each metric's codes of the stored images (side b)
    vectors: npt.NDArray[np.float32] | None
    clusters: pd.Series  # image -> cluster


def load(results: str | os.PathLike) -> Index:
    """Load a finished run's settings and stored features from its results folder."""
    settings_path = os.path.join(results, "settings.json")
    if not os.path.isfile(settings_path):
        raise FileNotFoundError(
            f"{settings_path} not found: is {results!r} the results folder of a finished run?"
        )
    with open(settings_path, encoding="utf-8") as handle:
        settings = json.load(handle)
    edge_files = sorted(glob.glob(os.path.join(results, "edges", "*.parquet")))
    hash_files = sorted(glob.glob(os.path.join(results, "hashes", "*.parquet")))
    if not edge_files or len(edge_files) != len(hash_files):
        raise FileNotFoundError(f"{results}: edges and hashes tables are missing or incomplete")
    edge_table = tables.read_many(edge_files)
    hash_table = tables.read_many(hash_files)
    e = settings["edges"]
    nbits = e["width"] * e["height"]
    edge_codes = bits.from_bytes(edge_table["edges"], nbits)
    bw_codes = bits.from_bytes(edge_table["bw"], nbits)
    hash_codes = {m: bits.from_bytes(hash_table[m], n) for m, n in settings["hash_bits"].items()}
    codes = metrics.codes(
        settings["metrics"],
        edge_codes,
        bw_codes,
        hash_codes,
        e["width"],
        e["height"],
        settings["tolerance"],
    )
    vectors = None
    if metrics.COSINE in settings["metrics"]:
        files = sorted(glob.glob(os.path.join(results, "embeddings", "*.parquet")))
        vectors = tables.read_vectors(files)[1]
    clusters = tables.read(os.path.join(results, "clusters.parquet"), ["image", "cluster"])
    names, image_of = tables.image_numbers(edge_table["image"])
    return Index(
        settings=settings,
        images=names,
        image_of=image_of,
        frames=edge_table["frame"].to_numpy(np.int64),
        edge_pixels=edge_table["edge_pixels"].to_numpy(np.int64),
        codes=codes,
        vectors=vectors,
        clusters=clusters.set_index("image")["cluster"],
    )


def codes_of(rgb: npt.NDArray[np.uint8], settings: Mapping) -> tuple[dict[str, bits.Coded], int]:
    """A frame's codes of every bitmap and hash metric (side a), and its edge pixels."""
    e = settings["edges"]
    found = features.describe(rgb, e, settings["hashes"])
    edge_codes = bits.pack(found.edges[None])
    codes = metrics.codes(
        settings["metrics"],
        edge_codes,
        bits.pack(found.bw[None]),
        {m: bits.pack(value[None]) for m, value in found.hashes.items()},
        e["width"],
        e["height"],
        settings["tolerance"],
    )
    return codes, int(bits.popcount(edge_codes)[0])


def distances(index: Index, codes: Mapping[str, bits.Coded]) -> dict[str, npt.NDArray]:
    """Every metric's distance from one query frame (its `codes`) to every stored frame."""
    n = len(index.image_of)
    zeros, every = np.zeros(n, dtype=np.int64), np.arange(n, dtype=np.int64)
    out: dict[str, npt.NDArray] = {}
    for m, stored in index.codes.items():
        query = codes[m]
        raw = bits.distances(query.probe, stored.target, zeros, every, query.offset, stored.offset)
        out[m] = raw // stored.divisor
    return out


def nearest(
    index: Index,
    query_frames: Sequence[tuple[int, npt.NDArray[np.uint8]]],
    k: int,
    vectors: Sequence[npt.NDArray[np.float32]] | None = None,
) -> pd.DataFrame:
    """The `k` stored images nearest to a query image (its kept frames, as (index, RGB)
    from :func:`read_frames`) by the rule's edge distance of their best pair of frames.

    Columns: rank, image, cluster, frame (the stored image's) and query_frame (the query's)
    of that pair, every metric, edge_threshold (the pair's threshold under the run's rule)
    and linked (whether the run's rule links the query to the image through any frame).
    `vectors` holds one embedding per query frame when the run had a model.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if not query_frames:
        raise ValueError("the query has no frames")
    stored = len(index.image_of)
    dist: dict[str, list] = {}
    pixels = []
    for q, (_frame, rgb) in enumerate(query_frames):
        codes, count = codes_of(rgb, index.settings)
        for m, values in distances(index, codes).items():
            dist.setdefault(m, []).append(values)
        if index.vectors is not None and vectors is not None:
            cosine = (1.0 - index.vectors @ vectors[q]).astype(np.float32)
            dist.setdefault(metrics.COSINE, []).append(cosine)
        pixels.append(np.full(stored, count))
    flat = {m: np.concatenate(v) for m, v in dist.items()}
    # pairs (query frame, stored frame); the query is image number len(images)
    a = np.repeat(np.arange(len(query_frames)), stored)
    b = np.tile(np.arange(stored), len(query_frames))
    links = graph.link(
        flat,
        np.concatenate(pixels),
        index.edge_pixels[b],
        index.settings["hash_bits"],
        index.settings["rule"],
    )
    image_of = np.concatenate([np.full(len(query_frames), len(index.images)), index.image_of])
    best = graph.best_pairs(image_of, a, b + len(query_frames), links)
    order = best[np.lexsort((index.image_of[b[best]], links.edge[best]))][:k]
    out = pd.DataFrame({"rank": np.arange(1, len(order) + 1)})
    out["image"] = index.images[index.image_of[b[order]]]
    out["cluster"] = index.clusters.reindex(out["image"]).to_numpy()
    out["frame"] = index.frames[b[order]]
    out["query_frame"] = [query_frames[q][0] for q in a[order]]
    for m in index.settings["metrics"]:
        if m in flat:
            out[m] = flat[m][order]
    out["edge_threshold"] = links.limit[order].round(1)
    out["linked"] = links.keep[order]
    return out


def read_frames(
    path: str | os.PathLike, settings: Mapping
) -> list[tuple[int, npt.NDArray[np.uint8]]]:
    """A query image's kept frames, decoded and selected exactly as the run did."""
    try:
        return frames.read_file(path, settings["frames"])
    except frames.FrameError as exc:
        raise ValueError(f"{path}: {exc}") from exc
