"""Every feature of one frame, as the features rule and the query compute it.

Resize, then Canny (the order matters; see edges), the black-and-white image of the same
resized frame, and the perceptual hashes of the full frame (and of the edge map).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from panelmatch import edges, frames, hashes


class Features(NamedTuple):
    """One frame's features; `edges` and `bw` have shape (edges.height, edges.width)."""

    edges: npt.NDArray[np.bool_]
    bw: npt.NDArray[np.bool_]
    hashes: dict[str, npt.NDArray[np.bool_]]  # metric name -> flat boolean row


def describe(rgb: npt.NDArray[np.uint8], e: Mapping, h: Mapping) -> Features:
    """The features of an RGB frame (height, width, 3) under the ``edges`` settings `e`
    and the ``hashes`` settings `h` (the configuration sections of those names)."""
    small = edges.resize(rgb, (e["width"], e["height"]), e["resample"])
    edge_map = edges.canny(small, e["canny_low"], e["canny_high"], e["channels"])
    bw = edges.black_and_white(small, e["bw_threshold"])
    values = hashes.perceptual_hashes(rgb, h["methods"], h["hash_size"])
    if h.get("edge_methods"):
        values |= hashes.edge_map_hashes(edge_map, h["edge_methods"], h["hash_size"])
    return Features(edge_map, bw, values)


def from_file(
    path: str, frame_settings: Mapping, e: Mapping, h: Mapping
) -> list[tuple[int, Features]] | str:
    """The (frame index, Features) of each kept frame of the image file at `path`
    (frames.read_file with the ``frames`` settings), or why the file cannot be used."""
    try:
        kept = frames.read_file(path, frame_settings)
    except (OSError, frames.FrameError) as exc:
        return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return [(index, describe(rgb, e, h)) for index, rgb in kept]
