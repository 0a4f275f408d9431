"""Every feature of one frame, as the features rule and the query compute it.

Resize, then Canny (the order matters; see edges), the black-and-white image and the grey
image of the same resized frame, the silhouette (the resized alpha), the perceptual hashes
of the full frame (and of the edge map), the colour layout of its text lines, and its hue
histogram.
"""

from __future__ import annotations

import ctypes
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from panelmatch import art, bits, colour, edges, frames, hashes, resampling, tables, textlines
from panelmatch.settings import Edges, FrameSelection, Hashes


class Features(NamedTuple):
    """One frame's features; the bitmaps and `grey` have shape (edges.height, edges.width)."""

    edges: npt.NDArray[np.bool_]
    bw: npt.NDArray[np.bool_]
    silhouette: npt.NDArray[np.bool_]  # opaque pixels (all True for an opaque frame)
    grey: npt.NDArray[np.uint8]  # the resized frame in grey (the same_art metric)
    hashes: dict[str, npt.NDArray[np.bool_]]  # metric name -> flat boolean row
    lines: textlines.Signature  # text-line colours (lines, 3); empty when uninformative
    hue: npt.NDArray[np.float32]  # colour.histogram: (colour.BINS,), all 0 without a hue
    thumbnail: tuple[bytes, int, int] | None = None  # (JPEG, width, height), when asked for


def describe(
    rgb: npt.NDArray[np.uint8],
    edge_settings: Edges,
    hash_settings: Hashes,
    alpha: npt.NDArray[np.uint8] | None = None,
    thumbnail_size: int | None = None,
) -> Features:
    """The features of an RGB frame (height, width, 3), with its `alpha` (height, width) when
    it has transparency, under the ``edges`` and ``hashes`` configuration sections; with
    `thumbnail_size`, also its thumbnail (frames.thumbnail), made from the frame already
    decoded."""
    e, h = edge_settings, hash_settings
    size = (e.width, e.height)
    small = edges.resize(rgb, size, e.resample)
    edge_map = edges.canny(small, e.canny_low, e.canny_high, e.channels)
    bw = edges.black_and_white(small, e.bw_threshold)
    silhouette = edges.silhouette(alpha, size)
    values = hashes.perceptual_hashes(rgb, h.methods, h.hash_size)
    if h.edge_methods:
        values |= hashes.edge_map_hashes(edge_map, h.edge_methods, h.hash_size)
    return Features(
        edge_map,
        bw,
        silhouette,
        resampling.grey(small),
        values,
        textlines.signature(rgb),
        colour.histogram(small, silhouette),
        frames.thumbnail(rgb, thumbnail_size) if thumbnail_size else None,
    )


def from_file(
    path: str,
    selection: FrameSelection,
    edge_settings: Edges,
    hash_settings: Hashes,
    thumbnail_size: int | None = None,
) -> tuple[list[tuple[int, Features]], list[tuple[int, str]]] | str:
    """The (frame index, Features) of each kept frame of the image file at `path`
    (frames.read_file with the frame `selection`) and its broken frames (index, why), or
    why the file cannot be used at all."""
    try:
        decoded = frames.read_file(path, selection)
    except (OSError, frames.FrameError) as exc:
        return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    found = [
        (f.index, describe(f.rgb, edge_settings, hash_settings, f.alpha, thumbnail_size))
        for f in decoded.kept
    ]
    return found, decoded.broken


class Tables(NamedTuple):
    """The features stage's tables of some images: frame features (tables.FRAME_FEATURES),
    hashes (tables.hashes_schema), thumbnails (tables.THUMBS), and failures (tables.FAILURES:
    stage ``frames`` for an image that cannot be used, ``frame`` for a broken frame)."""

    frame_features: pd.DataFrame
    hashes: pd.DataFrame
    thumbs: pd.DataFrame
    failures: pd.DataFrame


def of_images(
    images: Sequence[tuple[str, str]],
    selection: FrameSelection,
    edge_settings: Edges,
    hash_settings: Hashes,
    hash_bits: Mapping[str, int],
    thumbnail_size: int,
) -> Tables:
    """Every feature of the kept frames of `images` ((image id, file path), in order), as
    finished tables: what one worker of the features job returns for its share, so that
    only compact tables (not arrays per frame) cross between processes."""
    rows, failed = [], []
    for image, path in images:
        result = from_file(path, selection, edge_settings, hash_settings, thumbnail_size)
        if isinstance(result, str):
            failed.append((image, path, "frames", result))
            continue
        kept, broken = result
        failed += [(image, path, "frame", f"frame {index}: {why}") for index, why in broken]
        rows += [(image, index, found) for index, found in kept]
    edge_table, hash_table = tables_of(rows, edge_settings, hash_bits)
    thumbs = pd.DataFrame(
        {
            "image": edge_table["image"],
            "frame": edge_table["frame"],
            "width": [f.thumbnail[1] for _, _, f in rows],
            "height": [f.thumbnail[2] for _, _, f in rows],
            "jpeg": [f.thumbnail[0] for _, _, f in rows],
        }
    )
    failures = pd.DataFrame(failed, columns=tables.FAILURES.names)
    return Tables(edge_table, hash_table, thumbs, failures)


def concat(parts: Sequence[Tables]) -> Tables:
    """The tables of consecutive shares of images, as one."""
    return Tables(
        *(
            pd.concat([getattr(p, name) for p in parts], ignore_index=True)
            for name in Tables._fields
        )
    )


def tables_of(
    rows: Sequence[tuple[str, int, Features]],
    edge_settings: Edges,
    hash_bits: Mapping[str, int],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The frame features and hashes tables (tables.FRAME_FEATURES and
    tables.hashes_schema) of frames given as (image, frame index, Features), in order, at
    the ``edges`` section's size."""
    n, shape = len(rows), (edge_settings.height, edge_settings.width)
    found = [f for _, _, f in rows]

    def stack(key: str) -> npt.NDArray[np.bool_]:
        return np.array([getattr(f, key) for f in found], dtype=bool).reshape(n, *shape)

    edge_maps = stack("edges")
    edge_codes = bits.pack(edge_maps)
    silhouettes = bits.pack(stack("silhouette"))
    detail = art.detailed(edge_maps)
    keys = {"image": [r[0] for r in rows], "frame": [int(r[1]) for r in rows]}
    edge_table = pd.DataFrame(keys)
    edge_table["edge_pixels"] = bits.popcount(edge_codes)
    edge_table["edges"] = bits.to_bytes(edge_codes)
    edge_table["bw"] = bits.to_bytes(bits.pack(stack("bw")))
    edge_table["silhouette_pixels"] = bits.popcount(silhouettes)
    edge_table["silhouette"] = bits.to_bytes(silhouettes)
    edge_table["detail_blocks"] = detail.sum(axis=1)
    edge_table["detail"] = bits.to_bytes(bits.pack(detail))
    edge_table["grey"] = [np.ascontiguousarray(f.grey, dtype=np.uint8).tobytes() for f in found]
    edge_table["lines"] = [textlines.to_bytes(f.lines) for f in found]
    edge_table["hue"] = [colour.to_bytes(f.hue) for f in found]
    hash_table = pd.DataFrame(keys)
    for name, size in hash_bits.items():
        matrix = np.array([f.hashes[name] for f in found], dtype=bool).reshape(n, size)
        hash_table[name] = bits.to_bytes(bits.pack(matrix))
    return edge_table, hash_table


def steady_allocator(mmap_threshold: int = 32 << 20, trim_threshold: int = 128 << 20) -> bool:
    """Fix glibc malloc's mmap and trim thresholds for this process (and the processes it
    forks); returns whether that was possible (False off glibc).

    A decoded frame is a fresh allocation of about a megabyte. With the thresholds that
    glibc adjusts by itself, the features job's workers came to map and fault in such
    buffers anew for every image: decoding took 2.2 instead of 1.1 ms per panel
    (docs/performance.md). Fixed thresholds keep them in the heap.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    return bool(libc.mallopt(m_mmap_threshold, mmap_threshold)) and bool(
        libc.mallopt(m_trim_threshold, trim_threshold)
    )
