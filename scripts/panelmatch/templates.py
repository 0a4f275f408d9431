"""Templates: what many frames of a run share, taken out of the edge maps before the edge
rule compares them.

A collection that repeats a structure draws it into many images: a frame or an ornament
around every picture, a site's header on every translated page, the outline of the bust
that every profession of an emoji set is drawn on. Two different drawings on one template
share its edges, and the edge rule, which scales each image's threshold by its edge
pixels, then links them: the template counts as shared art.

Each edge map is cut into blocks of :data:`panelmatch.art.BLOCK` pixels. A block's *key*
digests its place and its edge pixels (:func:`panelmatch.art.block_keys`), so two frames
share a key where they have exactly the same edges at the same place. A key held by more
than ``matching.template_frames`` frames of the run is a *template*: it says nothing about
any one pair, as a word in every document says nothing in text search. Each frame's
template blocks are cleared from its edge map, and the edge metrics (``edges``,
``edges_mirror``, ``edges_tolerant``) and the edge-pixel counts the rule reads are taken
on what is left (:meth:`Templates.rescore`, :meth:`Templates.counts`). A pair whose frames
hold no template keeps its stored distances. A frame drawn only of templates keeps fewer
than ``matching.min_edge_pixels`` edge pixels and so links only to an identical frame (the
low-content guard).

The stored pairs are those the distance stage kept from the whole edge maps, so clearing
templates only ever re-scores stored pairs: it can unlink a pair, and it almost never
links a pair the caps had left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit

from panelmatch import art, bits, metrics


def block_keys(codes: bits.Codes, width: int, height: int) -> art.Keys:
    """The key (art.block_keys) of every block holding an edge pixel, in every edge map of
    `codes` (bit-packed (n, height * width) edge maps)."""
    codes = np.ascontiguousarray(codes, dtype=np.uint64)
    blocks = art.blocks(width, height)
    keys = art.block_keys(codes, np.ones((len(codes), blocks), bool), width)
    # a block without edge pixels has the key of the same block of an empty map
    empty = art.block_keys(
        np.zeros((1, codes.shape[1]), np.uint64), np.ones((1, blocks), bool), width
    )
    drawn = keys.key != empty.key[keys.block]
    return art.Keys(keys.frame[drawn], keys.block[drawn], keys.key[drawn])


class Templates(NamedTuple):
    """A run's edge maps without its templates (see the module docstring)."""

    codes: bits.Codes  # every frame's edge map, its template blocks cleared
    edge_pixels: npt.NDArray[np.int64]  # what is left of each frame's edge pixels
    touched: npt.NDArray[np.bool_]  # whether a frame held any template block
    width: int
    height: int

    def counts(self, counts: Mapping[str, npt.ArrayLike]) -> dict[str, npt.NDArray]:
        """The per-frame counts the rule reads (tables.FRAME_COUNTS) with the edge pixels
        of the edge maps without templates, and how many were in templates
        (``template_pixels``, for the rule's template guard)."""
        held = np.asarray(counts["edge_pixels"], dtype=np.int64) - self.edge_pixels
        return {**counts, "edge_pixels": self.edge_pixels, "template_pixels": held}

    def rescore(
        self,
        a: npt.ArrayLike,
        b: npt.ArrayLike,
        distances: Mapping[str, npt.NDArray],
        tolerance: int,
    ) -> dict[str, npt.NDArray]:
        """`distances` of the frame pairs (a[k], b[k]) with every edge metric they hold
        (metrics.EDGE_BITMAPS) taken again on the edge maps without templates, for the pairs
        with a frame that held one; the other metrics and pairs as they were."""
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        out = dict(distances)
        redo = np.nonzero(self.touched[a] | self.touched[b])[0]
        names = [m for m in metrics.EDGE_BITMAPS if m in distances]
        if not len(redo) or not names:
            return out
        # the frames of those pairs only, numbered in order
        frames, index = np.unique(np.concatenate([a[redo], b[redo]]), return_inverse=True)
        i, j = index[: len(redo)], index[len(redo) :]
        codes = self.codes[frames]
        for m in names:
            coded = metrics.coded(m, codes, None, self.width, self.height, tolerance)
            found = bits.distances(coded.probe, coded.target, i, j, coded.offset, coded.offset)
            value = np.array(distances[m], copy=True)
            value[redo] = (found // coded.divisor).astype(value.dtype)
            out[m] = value
        return out


def common(
    codes: bits.Codes, width: int, height: int, crowded: int | None, keys: art.Keys | None = None
) -> npt.NDArray:
    """The template keys of the edge maps `codes` (bit-packed (n, height * width)): the
    block keys that more than `crowded` of them hold (None: none). `keys` are their
    :func:`block_keys` when already known."""
    if crowded is None:
        return np.zeros(0, np.uint64)
    if crowded < 1:
        raise ValueError(f"template_frames must be >= 1 or null, got {crowded}")
    keys = block_keys(codes, width, height) if keys is None else keys
    return art.common(keys, keys, crowded)


def cleared(
    codes: bits.Codes,
    drop: npt.ArrayLike,
    width: int,
    height: int,
    keys: art.Keys | None = None,
) -> Templates:
    """The edge maps `codes` with the blocks whose key is in `drop` (:func:`common`)
    cleared. `keys` are their :func:`block_keys` when already known."""
    codes = np.ascontiguousarray(codes, dtype=np.uint64)
    n = len(codes)
    drop = np.asarray(drop, dtype=np.uint64)
    touched = np.zeros(n, bool)
    if not len(drop):
        return Templates(codes, bits.popcount(codes), touched, width, height)
    keys = block_keys(codes, width, height) if keys is None else keys
    gone = np.isin(keys.key, drop)
    touched[keys.frame[gone]] = True
    out = codes.copy()
    blocks = art.blocks(width, height)
    masks = _pixels(np.eye(blocks, dtype=bool), width, height)  # one block's pixels each
    _clear(out, keys.frame[gone], keys.block[gone], masks)
    return Templates(out, bits.popcount(out), touched, width, height)


@njit(cache=True, nogil=True)
def _clear(codes, frame, block, masks):  # pragma: no cover - numba
    for k in range(frame.shape[0]):
        f, b = frame[k], block[k]
        for w in range(codes.shape[1]):
            codes[f, w] &= ~masks[b, w]


def joined(first: Templates, second: Templates) -> Templates:
    """The frames of `first`, then those of `second`, as one Templates (a query's frames
    before a run's stored ones)."""
    if (first.width, first.height) != (second.width, second.height):
        raise ValueError("edge maps of two sizes cannot be joined")
    return Templates(
        np.vstack([first.codes, second.codes]),
        np.concatenate([first.edge_pixels, second.edge_pixels]),
        np.concatenate([first.touched, second.touched]),
        first.width,
        first.height,
    )


def of(codes: bits.Codes, width: int, height: int, crowded: int | None) -> Templates:
    """The edge maps `codes` without their templates: :func:`cleared` of :func:`common`."""
    if crowded is None:
        return cleared(codes, (), width, height)
    keys = block_keys(codes, width, height)
    return cleared(codes, common(codes, width, height, crowded, keys), width, height, keys)


def _pixels(blocks: npt.NDArray[np.bool_], width: int, height: int) -> bits.Codes:
    """The pixels of the given blocks (n, blocks) of each frame, bit-packed like its edge
    map."""
    n = len(blocks)
    by, bx = height // art.BLOCK, width // art.BLOCK
    grid = blocks.reshape(n, by, 1, bx, 1)
    full = np.broadcast_to(grid, (n, by, art.BLOCK, bx, art.BLOCK))
    maps = np.zeros((n, height, width), bool)
    maps[:, : by * art.BLOCK, : bx * art.BLOCK] = full.reshape(n, by * art.BLOCK, bx * art.BLOCK)
    return bits.pack(maps.reshape(n, -1))
