"""The colour layout of a panel's text lines: a chat log told apart from other chat logs.

A chat log (each speaker's lines in their own colour) that is translated or re-lettered
keeps nothing of its glyphs, so neither its edges nor its hashes say it is the same panel;
and any two chat logs look alike to a hash (text on a flat background). What a translation
keeps is the order of the speakers, line by line. This module reads that order.

- :func:`lines`: the text lines of a frame, top to bottom: maximal runs of pixel rows with
  ink (pixels differing from the background colour by more than `ink` in the sum of their
  RGB differences), sampled every :data:`STRIDE` columns and :data:`ROW_STRIDE` rows. A
  line's colour is the direction of its summed ink (background minus pixel) as a unit RGB
  vector: anti-aliasing and thin glyphs scale the ink, they do not turn it, so the same
  speaker's lines share a direction.
- :func:`signature`: a frame's line colours, kept only when the layout says something: at
  least :data:`MIN_LINES` lines and :data:`MIN_CHANGES` changes of colour between
  consecutive lines. A drawing, black lettering or a single speaker gives none.
- :func:`distance`: the edit distance of two signatures, line by line (a line matches a
  line of the same colour, within :data:`MATCH_DEGREES`; an unmatched line costs 1),
  divided by the longer signature: 0 for the same speakers in the same order, line for
  line; about 0.3 or more for unrelated logs, even between the same speakers.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

#: Columns, and rows, between sampled pixels (a text line is several rows tall, and the
#: gaps between lines at least two).
STRIDE = 8
ROW_STRIDE = 2
#: Ink: a pixel whose RGB values differ from the background's by more than this in sum.
INK = 60
#: A signature needs this many lines, and this many changes of colour between them.
MIN_LINES = 8
MIN_CHANGES = 6
#: Two lines have the same colour when their ink directions differ by less than this.
MATCH_DEGREES = 5.0
#: Stored line colours are unit vectors scaled to int8.
SCALE = 127

Signature = npt.NDArray[np.int8]  # (lines, 3)


@njit(cache=True, boundscheck=False)
def _background(rgb, step):  # pragma: no cover - numba
    """The most common colour (16 levels per channel) among pixels sampled every `step`."""
    h, w, _ = rgb.shape
    hist = np.zeros(4096, np.int64)
    for y in range(0, h, step):
        for x in range(0, w, step):
            hist[(rgb[y, x, 0] >> 4) * 256 + (rgb[y, x, 1] >> 4) * 16 + (rgb[y, x, 2] >> 4)] += 1
    key = np.argmax(hist)
    s0 = s1 = s2 = m = 0
    for y in range(0, h, step):
        for x in range(0, w, step):
            if (rgb[y, x, 0] >> 4) * 256 + (rgb[y, x, 1] >> 4) * 16 + (rgb[y, x, 2] >> 4) == key:
                s0 += rgb[y, x, 0]
                s1 += rgb[y, x, 1]
                s2 += rgb[y, x, 2]
                m += 1
    return s0 // m, s1 // m, s2 // m


@njit(cache=True, boundscheck=False)
def _lines(rgb, bg0, bg1, bg2, stride, row_stride, ink):  # pragma: no cover - numba
    h, w, _ = rgb.shape
    need = max(3, (2 * ((w + stride - 1) // stride)) // 100)  # inked samples in a text row
    room = h // 2 + 1
    top = np.empty(room, np.int32)
    bottom = np.empty(room, np.int32)
    colour = np.empty((room, 3), np.float64)
    n = 0
    c0 = c1 = c2 = 0
    start = -1
    for y in range(0, h + row_stride, row_stride):
        count = v0 = v1 = v2 = 0
        if y < h:
            row = rgb[y]
            for x in range(0, w, stride):
                d0 = bg0 - np.int32(row[x, 0])
                d1 = bg1 - np.int32(row[x, 1])
                d2 = bg2 - np.int32(row[x, 2])
                if abs(d0) + abs(d1) + abs(d2) > ink:
                    count += 1
                    v0 += d0
                    v1 += d1
                    v2 += d2
        if count >= need:
            if start < 0:
                start = y
            c0 += v0
            c1 += v1
            c2 += v2
        elif start >= 0:
            norm = np.sqrt(float(c0) ** 2 + float(c1) ** 2 + float(c2) ** 2)
            if norm > 0 and n < room:
                top[n], bottom[n] = start, y
                colour[n, 0], colour[n, 1], colour[n, 2] = c0 / norm, c1 / norm, c2 / norm
                n += 1
            c0 = c1 = c2 = 0
            start = -1
    return top[:n].copy(), bottom[:n].copy(), colour[:n].copy()


def lines(
    rgb: npt.NDArray[np.uint8], stride: int = STRIDE, ink: int = INK, row_stride: int = ROW_STRIDE
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.float64]]:
    """The text lines of an RGB frame (h, w, 3), top to bottom: (first sampled row, the
    sampled row after the last, unit ink direction (n, 3)) of each; rows are sampled every
    `row_stride` and columns every `stride`."""
    if stride < 1 or row_stride < 1 or ink < 0:
        raise ValueError(f"need strides >= 1 and ink >= 0, got {stride}, {row_stride}, {ink}")
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or not rgb.size:
        raise ValueError(f"need an RGB array (h, w, 3), got shape {rgb.shape}")
    bg = _background(rgb, 8)
    return _lines(rgb, int(bg[0]), int(bg[1]), int(bg[2]), stride, row_stride, ink)


def signature(rgb: npt.NDArray[np.uint8]) -> Signature:
    """The frame's line colours as int8 unit vectors (lines, 3), or an empty array when the
    layout says nothing (fewer than MIN_LINES lines or MIN_CHANGES colour changes)."""
    _, _, colour = lines(rgb)
    if len(colour) < MIN_LINES:
        return np.zeros((0, 3), np.int8)
    turns = (colour[1:] * colour[:-1]).sum(axis=1) < np.cos(np.radians(MATCH_DEGREES))
    if int(turns.sum()) < MIN_CHANGES:
        return np.zeros((0, 3), np.int8)
    return np.round(colour * SCALE).astype(np.int8)


def to_bytes(sig: Signature) -> bytes:
    return np.ascontiguousarray(sig, dtype=np.int8).tobytes()


def from_bytes(blob: bytes) -> Signature:
    raw = np.frombuffer(blob, dtype=np.int8)
    if len(raw) % 3:
        raise ValueError(f"a text-line signature of {len(raw)} bytes is not a multiple of 3")
    return raw.reshape(-1, 3)


@njit(cache=True)
def _edit(a, b, cos):  # pragma: no cover - numba
    n, m = a.shape[0], b.shape[0]
    prev = np.arange(m + 1).astype(np.float64)
    cur = np.zeros(m + 1)
    for i in range(1, n + 1):
        cur[0] = i
        for j in range(1, m + 1):
            same = a[i - 1, 0] * b[j - 1, 0] + a[i - 1, 1] * b[j - 1, 1] + a[i - 1, 2] * b[j - 1, 2]
            cost = 0.0 if same > cos else 1.0
            cur[j] = min(prev[j - 1] + cost, prev[j] + 1.0, cur[j - 1] + 1.0)
        prev, cur = cur, prev
    return prev[m] / max(n, m)


def _unit(sig: Signature) -> npt.NDArray[np.float64]:
    v = np.asarray(sig, dtype=np.float64)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)


def distance(a: Signature, b: Signature) -> float:
    """The line edit distance of two signatures (0..1); 1.0 when either is empty."""
    if not len(a) or not len(b):
        return 1.0
    return float(_edit(_unit(a), _unit(b), np.cos(np.radians(MATCH_DEGREES))))


def within(
    a: list[Signature], b: list[Signature], cap: float, upper_only: bool = False
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Every pair (i, j) of non-empty signatures with :func:`distance` at most `cap`, sorted
    by (i, j), and its distance. With `upper_only`, `a` and `b` are the same frames and
    only i < j counts. Only frames with a signature are compared, so the cost is that of the
    text panels, whatever the rest of the collection."""
    ia = [i for i, s in enumerate(a) if len(s)]
    ib = [j for j, s in enumerate(b) if len(s)]
    ua = {i: _unit(a[i]) for i in ia}
    ub = {j: _unit(b[j]) for j in ib}
    cos = np.cos(np.radians(MATCH_DEGREES))
    found_i, found_j, found_d = [], [], []
    for i in ia:
        for j in ib:
            if upper_only and j <= i:
                continue
            n, m = len(ua[i]), len(ub[j])
            if abs(n - m) > cap * max(n, m):  # the distance is at least |n - m| / max(n, m)
                continue
            d = _edit(ua[i], ub[j], cos)
            if d <= cap:
                found_i.append(i)
                found_j.append(j)
                found_d.append(d)
    return (
        np.asarray(found_i, dtype=np.int64),
        np.asarray(found_j, dtype=np.int64),
        np.asarray(found_d, dtype=np.float32),
    )


def distances(
    a: list[Signature], b: list[Signature], i: npt.ArrayLike, j: npt.ArrayLike
) -> npt.NDArray[np.float32]:
    """:func:`distance` of each listed pair (a[i[k]], b[j[k]]): 1.0 unless both frames have a
    signature, so the cost is that of the pairs of text panels."""
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    out = np.ones(len(i), dtype=np.float32)
    with_a = np.array([len(s) > 0 for s in a], dtype=bool)
    with_b = np.array([len(s) > 0 for s in b], dtype=bool)
    if len(i):
        for k in np.nonzero(with_a[i] & with_b[j])[0].tolist():
            out[k] = distance(a[i[k]], b[j[k]])
    return out
