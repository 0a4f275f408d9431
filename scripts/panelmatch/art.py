"""Same art under new lettering: blocks of detailed art that two frames share exactly.

When a panel is re-lettered wholesale (big captions over a flame image, a translated
edition's lettering over busy art), the lettering's edges swamp the edge distance and
change the hashes. But wherever neither panel is lettered, the art is the same pixels. The
``same_art`` metric counts those places.

Both frames are compared at the comparison size (``edges.width`` x ``edges.height``, the
grey of the resized frame that Canny saw), cut into :data:`BLOCK` x :data:`BLOCK` blocks.
A block is *detailed* in a frame when, leaving out its rows and columns that are edge pixels
from end to end (straight lines across it: a panel border, the frame of a text box, and
their corners), its edge pixels occupy at least :data:`DETAIL` distinct rows and as many
distinct columns. A plain area, a straight line or a corner of two is not detailed.
``same_art`` of a pair is the number of blocks detailed in both frames whose grey values
all agree within ``tolerance``. Two
unrelated drawings share none (a detailed block identical to a grey level is a copy); a
copy shares all of its detailed blocks. It is a count: larger means more shared art.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from panelmatch import bits

#: Side of a block, in pixels of the comparison size.
BLOCK = 10
#: A detailed block has edge pixels in at least this many rows and this many columns.
DETAIL = 3


def blocks(width: int, height: int) -> int:
    """Number of whole blocks of a width x height comparison size (the rest is not used)."""
    return (width // BLOCK) * (height // BLOCK)


def detailed(edge_maps: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Which blocks of each edge map (n, height, width) are detailed: (n, blocks), blocks
    in row-major order; pixels beyond the last whole block are not used."""
    maps = np.asarray(edge_maps, dtype=bool)
    if maps.ndim != 3:
        raise ValueError(f"need edge maps (n, h, w), got shape {maps.shape}")
    n, h, w = maps.shape
    by, bx = h // BLOCK, w // BLOCK
    cells = maps[:, : by * BLOCK, : bx * BLOCK].reshape(n, by, BLOCK, bx, BLOCK)
    full_rows = cells.all(axis=4, keepdims=True)  # (n, by, BLOCK, bx, 1): lines across
    full_cols = cells.all(axis=2, keepdims=True)  # (n, by, 1, bx, BLOCK)
    rest = cells & ~full_rows & ~full_cols
    rows = rest.any(axis=4).sum(axis=2)  # (n, by, bx): rows with an edge pixel left
    cols = rest.any(axis=2).sum(axis=3)
    return ((rows >= DETAIL) & (cols >= DETAIL)).reshape(n, by * bx)


@njit(parallel=True, cache=True, nogil=True)
def _same(grey_a, grey_b, detail_a, detail_b, i, j, width, block, tol, out):  # pragma: no cover
    blocks_x = width // block
    for k in prange(i.shape[0]):
        p, q = i[k], j[k]
        count = 0
        for t in range(detail_a.shape[1]):
            if not (detail_a[p, t] and detail_b[q, t]):
                continue
            y0 = (t // blocks_x) * block
            x0 = (t % blocks_x) * block
            same = True
            for y in range(y0, y0 + block):
                row = y * width
                for x in range(x0 + row, x0 + row + block):
                    d = np.int32(grey_a[p, x]) - np.int32(grey_b[q, x])
                    if d > tol or d < -tol:
                        same = False
                        break
                if not same:
                    break
            if same:
                count += 1
        out[k] = count


def same_art(
    grey_a: npt.ArrayLike,
    grey_b: npt.ArrayLike,
    detail_a: npt.ArrayLike,
    detail_b: npt.ArrayLike,
    i: npt.ArrayLike,
    j: npt.ArrayLike,
    width: int,
    tolerance: int,
) -> npt.NDArray[np.uint16]:
    """``same_art`` of each pair (i[k], j[k]): blocks detailed in both frames whose grey
    values agree within `tolerance`.

    `grey_a`, `grey_b` are the frames' grey images flattened (n, height * width) uint8,
    row-major with rows of `width`; `detail_a`, `detail_b` their detailed blocks
    (:func:`detailed`). Returns uint16 counts.
    """
    ga = np.ascontiguousarray(grey_a, dtype=np.uint8)
    gb = np.ascontiguousarray(grey_b, dtype=np.uint8)
    da = np.ascontiguousarray(detail_a, dtype=np.bool_)
    db = np.ascontiguousarray(detail_b, dtype=np.bool_)
    i = np.ascontiguousarray(i, dtype=np.int64)
    j = np.ascontiguousarray(j, dtype=np.int64)
    if tolerance < 0 or width < BLOCK:
        raise ValueError(f"need tolerance >= 0 and width >= {BLOCK}, got {tolerance}, {width}")
    if ga.shape[1] != gb.shape[1] or da.shape[1] != db.shape[1] or len(i) != len(j):
        raise ValueError("the two sides' grey images, blocks or pair lists do not match")
    if da.shape[1] != blocks(width, ga.shape[1] // width) or ga.shape[1] % width:
        raise ValueError(f"grey images of {ga.shape[1]} pixels do not hold {da.shape[1]} blocks")
    out = np.zeros(len(i), dtype=np.uint16)
    if len(i):
        if min(i.min(), j.min()) < 0 or i.max() >= len(ga) or j.max() >= len(gb):
            raise IndexError("pair index out of range")
        _same(ga, gb, da, db, i, j, width, BLOCK, int(tolerance), out)
    return out


class Keys(NamedTuple):
    """The keys of the detailed blocks of some frames (:func:`block_keys`)."""

    frame: npt.NDArray[np.int64]
    block: npt.NDArray[np.int64]
    key: npt.NDArray[np.uint64]


@njit(cache=True, nogil=True)
def _keys(codes, frame, block, width, out):  # pragma: no cover - numba
    blocks_x = width // BLOCK
    for k in range(frame.shape[0]):
        f, t = frame[k], block[k]
        y0 = (t // blocks_x) * BLOCK
        x0 = (t % blocks_x) * BLOCK
        h = np.uint64(0xCBF29CE484222325) ^ np.uint64(t)
        for y in range(y0, y0 + BLOCK):
            row = np.uint64(0)
            for x in range(BLOCK):
                bit = (y * width) + x0 + x
                if (codes[f, bit >> 6] >> np.uint64(bit & 63)) & np.uint64(1):
                    row |= np.uint64(1) << np.uint64(x)
            h = (h ^ row) * np.uint64(0x100000001B3)
            h ^= h >> np.uint64(29)
        out[k] = h


def block_keys(codes: npt.ArrayLike, detail: npt.ArrayLike, width: int) -> Keys:
    """A key for every detailed block of every frame: (frame, block, key), where the key
    digests the block's position and its edge pixels. Two frames that share a block of art
    share its key (exactly the same edges at the same place); unrelated frames almost never
    do. `codes` are the bit-packed edge maps (bits.pack of (n, height, width)), `detail`
    their detailed blocks (:func:`detailed`)."""
    codes = np.ascontiguousarray(codes, dtype=np.uint64)
    frame, block = np.nonzero(np.asarray(detail, dtype=bool))
    frame, block = frame.astype(np.int64), block.astype(np.int64)
    out = np.zeros(len(frame), dtype=np.uint64)
    if len(frame):
        _keys(codes, frame, block, int(width), out)
    return Keys(frame, block, out)


def common(keys_a: Keys, keys_b: Keys, crowded: int) -> npt.NDArray[np.uint64]:
    """The keys held by more than `crowded` frames of the two sides together (one side
    when they are the same frames): common motifs, such as a watermark or a border ornament
    on every panel, that say nothing about any one pair."""
    both = keys_a.key if keys_a is keys_b else np.concatenate([keys_a.key, keys_b.key])
    values, counts = np.unique(both, return_counts=True)
    return values[counts > crowded]


def without(detail: npt.ArrayLike, keys: Keys, drop: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """`detail` (n, blocks) with the blocks whose key is in `drop` cleared."""
    out = np.array(detail, dtype=bool, copy=True)
    gone = np.isin(keys.key, np.asarray(drop, dtype=np.uint64))
    out[keys.frame[gone], keys.block[gone]] = False
    return out


def shared_blocks(
    keys_a: Keys,
    keys_b: Keys,
    at_least: int,
    upper_only: bool = False,
    drop: npt.ArrayLike = (),
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Pairs (i, j) of frames of two sides (their :func:`block_keys`) that share at least
    `at_least` keys, sorted by (i, j): the candidates of ``same_art``. Keys in `drop`
    (:func:`common`) are not used. With `upper_only`, both sides are the same frames and
    only i < j counts."""
    fa, ka = keys_a.frame, keys_a.key
    fb, kb = keys_b.frame, keys_b.key
    if at_least < 1:
        raise ValueError(f"at_least must be >= 1, got {at_least}")
    empty = np.zeros(0, np.int64)
    if not len(ka) or not len(kb):
        return empty, empty.copy()
    # np.intersect1d and np.setdiff1d call np.unique, which hashes (bits.unique)
    common = np.setdiff1d(
        np.intersect1d(bits.unique(ka), bits.unique(kb), assume_unique=True),
        bits.unique(np.asarray(drop, dtype=np.uint64)),
        assume_unique=True,
    )
    if not len(common):
        return empty, empty.copy()
    sa = np.isin(ka, common)
    sb = np.isin(kb, common)
    ka, fa, kb, fb = ka[sa], fa[sa], kb[sb], fb[sb]
    oa, ob = np.argsort(ka, kind="stable"), np.argsort(kb, kind="stable")
    ka, fa, kb, fb = ka[oa], fa[oa], kb[ob], fb[ob]
    start_a = np.searchsorted(ka, common)
    count_a = np.searchsorted(ka, common, side="right") - start_a
    start_b = np.searchsorted(kb, common)
    count_b = np.searchsorted(kb, common, side="right") - start_b
    # every (a entry, b entry) of each common key, without a Python loop over the keys
    per_key = count_a * count_b
    key_of = np.repeat(np.arange(len(common)), per_key)
    rank = np.arange(len(key_of)) - np.repeat(np.cumsum(per_key) - per_key, per_key)
    i = fa[start_a[key_of] + rank // count_b[key_of]]
    j = fb[start_b[key_of] + rank % count_b[key_of]]
    if upper_only:
        keep = i < j
        i, j = i[keep], j[keep]
    width = int(max(fb.max(initial=0), fa.max(initial=0))) + 1
    pair, count = np.unique(i * width + j, return_counts=True)
    pair = pair[count >= at_least]
    return pair // width, pair % width
