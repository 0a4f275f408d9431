"""Reverse lookup: the images of a finished run nearest to a query image.

A query image's features are computed exactly as the run computed its own (the settings
in ``results/settings.json``): first frame, resize then Canny, black-and-white image,
hashes, and the embedding when the run had a model. Its distances to every stored image
are then computed with the same kernel and metrics, and ranked by the matching rule's
edge distance (the smallest of ``clusters.edge_metrics``). Nothing stored is recomputed.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from panelmatch import bits, edges, frames, graph, hashes, metrics, tables


@dataclass
class Index:
    """The stored features of a run, loaded once for many queries."""

    settings: dict
    images: npt.NDArray[np.object_]
    edge_pixels: npt.NDArray[np.int64]
    codes: dict[str, bits.Coded]  # each metric's codes of the stored images (side b)
    vectors: npt.NDArray[np.float32] | None
    clusters: pd.Series  # image -> cluster
    model: object = None


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
    return Index(
        settings=settings,
        images=edge_table["image"].to_numpy(dtype=object),
        edge_pixels=edge_table["edge_pixels"].to_numpy(np.int64),
        codes=codes,
        vectors=vectors,
        clusters=clusters.set_index("image")["cluster"],
    )


def features(rgb: npt.NDArray[np.uint8], settings: Mapping) -> tuple[dict[str, bits.Coded], int]:
    """A frame's codes of every bitmap and hash metric (side a), and its edge pixels."""
    e, h = settings["edges"], settings["hashes"]
    small = edges.resize(rgb, (e["width"], e["height"]), e["resample"])
    edge_codes = bits.pack(edges.canny(small, e["canny_low"], e["canny_high"], e["channels"])[None])
    bw_codes = bits.pack(edges.black_and_white(small, e["bw_threshold"])[None])
    values = hashes.perceptual_hashes(rgb, h["methods"], h["hash_size"])
    if h.get("edge_methods"):
        edge_map = bits.unpack(edge_codes, e["width"] * e["height"])
        edge_map = edge_map.reshape(e["height"], e["width"])
        values |= hashes.edge_map_hashes(edge_map, h["edge_methods"], h["hash_size"])
    hash_codes = {m: bits.pack(value[None]) for m, value in values.items()}
    codes = metrics.codes(
        settings["metrics"],
        edge_codes,
        bw_codes,
        hash_codes,
        e["width"],
        e["height"],
        settings["tolerance"],
    )
    return codes, int(bits.popcount(edge_codes)[0])


def distances(index: Index, codes: Mapping[str, bits.Coded]) -> dict[str, npt.NDArray]:
    """Every metric's distance from one query (its `codes`) to every stored image."""
    n = len(index.images)
    zeros, every = np.zeros(n, dtype=np.int64), np.arange(n, dtype=np.int64)
    out: dict[str, npt.NDArray] = {}
    for m, stored in index.codes.items():
        query = codes[m]
        raw = bits.distances(query.probe, stored.target, zeros, every, query.offset, stored.offset)
        out[m] = raw // stored.divisor
    return out


def nearest(
    index: Index,
    rgb: npt.NDArray[np.uint8],
    k: int,
    vector: npt.NDArray[np.float32] | None = None,
) -> pd.DataFrame:
    """The `k` stored images nearest to a query frame by the rule's edge distance.

    Columns: rank, image, cluster, every metric, edge_threshold (the pair's threshold under
    the run's rule) and linked (whether the run's rule would link the query to it).
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    codes, pixels = features(rgb, index.settings)
    dist = distances(index, codes)
    if index.vectors is not None and vector is not None:
        dist[metrics.COSINE] = (1.0 - index.vectors @ vector).astype(np.float32)
    rule = index.settings["rule"]
    links = graph.link(
        dist,
        np.full(len(index.images), pixels),
        index.edge_pixels,
        index.settings["hash_bits"],
        rule,
    )
    order = np.lexsort((np.arange(len(index.images)), links.edge))[:k]
    out = pd.DataFrame({"rank": np.arange(1, len(order) + 1), "image": index.images[order]})
    out["cluster"] = index.clusters.reindex(out["image"]).to_numpy()
    for m in index.settings["metrics"]:
        if m in dist:
            out[m] = dist[m][order]
    out["edge_threshold"] = links.limit[order].round(1)
    out["linked"] = links.keep[order]
    return out


def read_frame(path: str | os.PathLike, settings: Mapping) -> npt.NDArray[np.uint8]:
    """A query image's first frame, decoded exactly as the run decoded its images."""
    f = settings["frames"]
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        return frames.first_frame(data, frames.parse_colour(f["background"]), f["max_pixels"])
    except frames.FrameError as exc:
        raise ValueError(f"{path}: {exc}") from exc
