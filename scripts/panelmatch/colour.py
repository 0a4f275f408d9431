"""Hue and tone: what a recolouring changes and new lettering does not (the ``hue`` and
``tone`` metrics).

The grey-level metrics (edges, the hashes) see a recolouring only when it moves grey
levels: a shiny sprite whose green became blue at the same brightness keeps its pHash. The
*hue histogram* of a frame is the share of its hued pixels (saturated and bright enough to
have a hue) in each of :data:`BINS` hue bins, on the frame as the edges stage resized it
(edges.width x edges.height, 100 x 100 by default), its transparent pixels left out. The
``hue`` distance of two frames is the total variation distance of their histograms: 0 for
the same colours, 1 for colours that share no bin. Lettering is black on white or grey,
so it barely moves it.

A recolouring may also keep hues and move grey levels: the skin tones of one emoji are one
hue, light to dark. The *tone histogram* of a frame is the share of its opaque pixels in
each of :data:`TONE_BINS` grey-level bins, on the same resized frame; the ``tone``
distance is again the total variation distance. New lettering changes the grey level of
the few pixels it covers; a recolouring moves a whole region's.

The ``grey`` metric is the largest change of a block's mean grey level between two frames
(blocks of art.BLOCK x art.BLOCK pixels of the resized frames, 0..255): a lossy re-encoding
(JPEG, WebP) moves every block by a level or two, new lettering moves the blocks it
covers by tens.

Their only use is the relation (panelmatch.relation); they link nothing.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
from numba import njit

from panelmatch import art, bits

#: Hue bins of a histogram (OpenCV's hue, 0-179, in equal parts).
BINS = 16
#: A pixel has a hue when both its saturation and its value (OpenCV's HSV, 0-255) are at
#: least this: greys, black and white have none.
MIN_SATURATION = 40
MIN_VALUE = 40
#: A frame with hued pixels on less than this share of its opaque pixels has no hue (an
#: empty histogram): a few tinted pixels of line art say nothing about its colours.
MIN_HUED = 0.005


def histogram(
    rgb: npt.NDArray[np.uint8], opaque: npt.NDArray[np.bool_] | None = None
) -> npt.NDArray[np.float32]:
    """The hue histogram (BINS,) float32 of an RGB frame (h, w, 3) uint8 (a small one: the
    frame resized for its edge map), with its `opaque` pixels (h, w) bool when it has
    transparency (edges.silhouette): each bin's share of the hued opaque pixels, summing
    to 1, or all zero when the frame has no hue."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 frame, got {rgb.shape} {rgb.dtype}")
    if opaque is not None and opaque.shape != rgb.shape[:2]:
        raise ValueError(f"opaque {opaque.shape} does not fit the frame {rgb.shape[:2]}")
    hsv = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2HSV).reshape(-1, 3)
    opaque = np.ones(len(hsv), dtype=bool) if opaque is None else opaque.ravel()
    hued = opaque & (hsv[:, 1] >= MIN_SATURATION) & (hsv[:, 2] >= MIN_VALUE)
    out = np.zeros(BINS, dtype=np.float32)
    if hued.sum() < max(1.0, MIN_HUED * opaque.sum()):
        return out
    counts = np.bincount(hsv[hued, 0].astype(np.int64) * BINS // 180, minlength=BINS)
    return (counts / counts.sum()).astype(np.float32)


#: Grey-level bins of a tone histogram (0-255 in equal parts).
TONE_BINS = 16


def tone_histograms(grey: npt.NDArray[np.uint8], silhouette: bits.Codes) -> npt.NDArray[np.float32]:
    """The tone histograms (frames, TONE_BINS) float32 of frames given as grey levels
    (frames, pixels) uint8 (the edges table's ``grey``) and their silhouettes, bit-packed
    (frames, words) as the edges table stores them: each bin's share of the frame's opaque
    pixels, summing to 1, or all zero for a frame with no opaque pixel."""
    grey = np.ascontiguousarray(grey)
    silhouette = np.ascontiguousarray(silhouette, dtype=np.uint64)
    if grey.dtype != np.uint8 or grey.ndim != 2:
        raise ValueError(f"expected grey (frames, pixels) uint8, got {grey.shape} {grey.dtype}")
    if silhouette.shape != (len(grey), bits.words_for(grey.shape[1])):
        raise ValueError(
            f"silhouettes {silhouette.shape} do not fit {grey.shape[0]} frames of"
            f" {grey.shape[1]} pixels"
        )
    counts = np.zeros((len(grey), TONE_BINS), np.int64)
    _tone_counts(grey, silhouette, TONE_BINS, counts)
    total = counts.sum(axis=1, keepdims=True)
    out = np.zeros(counts.shape, np.float64)
    np.divide(counts, total, out=out, where=total > 0)
    return out.astype(np.float32)


@njit(cache=True, nogil=True)
def _tone_counts(grey, silhouette, bins, out):  # pragma: no cover - numba
    for f in range(grey.shape[0]):
        for p in range(grey.shape[1]):
            if (silhouette[f, p >> 6] >> np.uint64(p & 63)) & np.uint64(1):
                out[f, (np.int64(grey[f, p]) * bins) >> 8] += 1


def to_bytes(hist: npt.NDArray[np.float32]) -> bytes:
    """A histogram as stored in the edges table's ``hue`` column (BINS little-endian
    float32)."""
    hist = np.asarray(hist, dtype="<f4")
    if hist.shape != (BINS,):
        raise ValueError(f"a hue histogram has {BINS} bins, got shape {hist.shape}")
    return hist.tobytes()


def distances(
    a: npt.NDArray[np.float32],
    b: npt.NDArray[np.float32],
    i: npt.ArrayLike,
    j: npt.ArrayLike,
) -> npt.NDArray[np.float32]:
    """The hue distance of each pair (a[i[k]], b[j[k]]) of histograms (frames, BINS): half
    the sum of the bins' absolute differences (0..1); 0 when neither frame has a hue, 1
    when one has and the other has none (a colour and a grey version of one drawing)."""
    i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
    ha, hb = a[i], b[j]
    d = 0.5 * np.abs(ha - hb).sum(axis=1)
    none_a, none_b = ha.sum(axis=1) == 0, hb.sum(axis=1) == 0
    d[none_a != none_b] = 1.0
    return np.clip(d, 0, 1).astype(np.float32)


def grey_blocks(grey: npt.ArrayLike, width: int, height: int) -> npt.NDArray[np.float32]:
    """The mean grey level of each whole block (art.BLOCK x art.BLOCK pixels) of each frame
    of `grey` (frames, height * width): (frames, art.blocks(width, height)) float32; a
    frame smaller than one block is one block, its whole. A compiled loop over the bytes:
    no float copy of every frame is made (a side holds thousands)."""
    grey = np.ascontiguousarray(grey, dtype=np.uint8).reshape(-1, height, width)
    across, down = width // art.BLOCK, height // art.BLOCK
    if not across or not down:
        return grey.reshape(len(grey), width * height).mean(axis=1, dtype=np.float32)[:, None]
    out = np.zeros((len(grey), down * across), dtype=np.float32)
    _block_means(grey, art.BLOCK, down, across, out)
    return out


@njit(cache=True, nogil=True)
def _block_means(grey, block, down, across, out):  # pragma: no cover - numba
    area = np.float32(block * block)
    for f in range(grey.shape[0]):
        for by in range(down):
            for bx in range(across):
                total = 0
                for y in range(by * block, (by + 1) * block):
                    for x in range(bx * block, (bx + 1) * block):
                        total += grey[f, y, x]
                out[f, by * across + bx] = np.float32(total) / area


def block_change(
    a: npt.NDArray[np.float32],
    b: npt.NDArray[np.float32],
    i: npt.ArrayLike,
    j: npt.ArrayLike,
) -> npt.NDArray[np.float32]:
    """The grey metric of each pair (a[i[k]], b[j[k]]) of block means (:func:`grey_blocks`):
    the largest absolute change of a block's mean grey level. A compiled loop: no
    pairs x blocks array is made (the distances job scores millions of pairs)."""
    i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
    out = np.zeros(len(i), dtype=np.float32)
    if len(i):
        _block_change(
            np.ascontiguousarray(a, np.float32), np.ascontiguousarray(b, np.float32), i, j, out
        )
    return out


@njit(cache=True, nogil=True)
def _block_change(a, b, i, j, out):  # pragma: no cover - numba
    for k in range(len(i)):
        row_a, row_b, largest = a[i[k]], b[j[k]], np.float32(0.0)
        for block in range(row_a.shape[0]):
            change = abs(row_a[block] - row_b[block])
            if change > largest:
                largest = change
        out[k] = largest
