"""Local features with geometric verification: reuse of part of a panel.

Whole-panel metrics compare two frames scaled to one small size, so they miss a close-up of
part of a panel, a crop, or a drawing pasted into another scene. This module looks for them:

- :func:`detect`: a frame's :class:`Local` features: ORB keypoints and 256-bit binary
  descriptors on its grey image resized to a longest side of ``size`` pixels, the same of
  its mirror image (for mirrored reuse), and a small colour copy with its *drawn* pixels
  (those near a Canny edge) for the dense check. Keypoint positions are in the frame's own
  pixels, so a crop kept at its size has scale 1;
- :func:`verify`: ratio-test matches, then a similarity transform (scale, rotation, shift)
  fitted with RANSAC, of the frame and of its mirror image, the one more inliers agree on
  (:class:`Match`). Then the dense check: frame a warped onto frame b by that transform,
  the share of each frame's drawn pixels that the other reproduces in the same colour
  (``cover_a``, ``cover_b``). Two drawings of one template in other colours share corners,
  not colours; a close-up reproduces most of itself and a small part of its original;
- :func:`words`, :func:`word_counts`, :func:`word_matrices`, :func:`candidates`: which
  pairs to verify. Each descriptor's *visual words* are groups of its bits at fixed
  positions (a locality-sensitive hash: descriptors a few bits apart share some), and each
  frame's candidates are the ``k`` frames sharing most words (tf-idf cosine), so the cost
  grows with the frames times ``k``, not with the pairs.

ORB is OpenCV's (a dependency already); SIFT costs 7 times more per panel and AKAZE is not in
OpenCV 5's main modules. The ratio test's two nearest descriptors come from a compiled copy
of OpenCV's brute-force Hamming matcher (0.37 ms instead of 2.3 ms for 500 x 480
descriptors, which made matching 85% of a verification), checked against
``cv2.BFMatcher`` on the first pair a process matches; if they differ, OpenCV matches from
then on. benchmarks/local_features.py measures what this finds on the demo
and the real panels (docs/methods.md has the figures); the opt-in rules keypoints and
verify (local.enabled) run it.
"""

from __future__ import annotations

import math
import os
import pickle
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import cv2
import numpy as np
import numpy.typing as npt
import pyarrow.parquet as pq
import scipy.sparse as sp
from numba import njit

from panelmatch import bits

#: Bytes of an ORB descriptor (256 bits).
DESCRIPTOR_BYTES = 32
#: Bits of a descriptor that make one visual word (:func:`words`), and words per descriptor.
WORD_BITS = 20
WORD_TABLES = 8
#: A word in more than this share of the frames, or in more than COMMON_FRAMES frames, is
#: too common to propose a pair. The count bounds the candidates' sparse products, which
#: grow with the square of the frames a word's share allows.
COMMON_WORDS = 0.05
COMMON_FRAMES = 500
#: Longest side of the colour copy the dense check compares, in pixels.
DENSE_SIZE = 128
#: Largest difference of an RGB channel (0-255, after a 3x3 blur) that is the same colour.
COLOUR_TOLERANCE = 40
#: Candidate pairs verified at a time: the frames of one such block are read and decoded
#: from their stored rows (about 75 KB each), then dropped (StoredKeypoints).
VERIFY_BLOCK = 1024
#: Scores of candidates computed at a time (a block of frames against every frame, dense):
#: each score costs about 17 bytes while its block is ranked.
SCORED_BLOCK = 1 << 24
#: A transform that scales by more than this (or less than its inverse) is not a reuse.
MAX_SCALE = 4.0
#: A region reproduced in place, by a transform that moves it by less than IN_PLACE_MOVED of
#: the frame's longer side and scales it by less than IN_PLACE_SCALE either way, belongs to
#: the layout (a template, a background under other scenes), not to a pasted drawing
#: (:func:`elsewhere`).
IN_PLACE_MOVED = 0.02
IN_PLACE_SCALE = 1.05
#: A line of lettering at the keypoints' size (:func:`lettering`): the gap between glyphs a
#: closing bridges, the line's height (pixels, lowest and highest), its least width in
#: heights and the least share of its box its joined edges fill.
LETTERING_GAP = 7
LETTERING_HEIGHT = (4, 16)
LETTERING_WIDTH = 3
LETTERING_FILL = 0.4
#: ORB's border and patch size at the detection size: no keypoint lies nearer the border.
_PATCH = 31
_RING = np.ones((3, 3), np.uint8)


class Keypoints(NamedTuple):
    """Keypoints of one image: ``xy`` (n, 2) float32 positions in its own pixels,
    ``descriptors`` (n, 32) uint8; both empty (n = 0) for an image without corners."""

    xy: npt.NDArray[np.float32]
    descriptors: npt.NDArray[np.uint8]


class Local(NamedTuple):
    """What :func:`verify` needs of one frame: its keypoints, those of its mirror image
    (positions in the mirror image's pixels), and the dense copy: ``colour`` (h, w, 3)
    uint8 at :data:`DENSE_SIZE`, ``drawn`` (h, w) bool, and ``dense_scale`` (its pixels per
    pixel of the frame)."""

    plain: Keypoints
    mirror: Keypoints
    colour: npt.NDArray[np.uint8]
    drawn: npt.NDArray[np.bool_]
    dense_scale: float

    @property
    def longest(self) -> float:
        """The frame's longer side, in its own pixels (from the dense copy's)."""
        return max(self.drawn.shape) / self.dense_scale


class Match(NamedTuple):
    """The verified transform from frame a to frame b: ``b ~ scale * R(rotation) * a +
    shift`` in the frames' pixels, with b's pixels counted from its right border when
    ``mirror``; the ``inliers`` that agree on it; the share of each frame's drawn pixels
    the other reproduces in the same colour under it (``cover_a``, ``cover_b``); and how
    far it moves the drawing, ``moved``: the length of its shift over frame b's longer
    side."""

    inliers: int
    scale: float
    rotation: float  # degrees, -180..180
    mirror: bool
    shift_x: float  # pixels of frame b
    shift_y: float
    cover_a: float
    cover_b: float
    moved: float
    region_cover: float
    region_area: float


#: No match: too few matches for a transform, or no plausible transform.
NO_MATCH = Match(0, math.nan, math.nan, False, math.nan, math.nan, 0.0, 0.0, math.nan, 0.0, 0.0)


def _resized(rgb: npt.NDArray[np.uint8], side: int) -> tuple[npt.NDArray[np.uint8], float]:
    h, w = rgb.shape[:2]
    factor = side / max(h, w)
    shape = (max(1, round(w * factor)), max(1, round(h * factor)))
    method = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    return cv2.resize(rgb, shape, interpolation=method), factor


def detect(rgb: npt.NDArray[np.uint8], size: int, features: int) -> Local:
    """The :class:`Local` features of an RGB frame (H, W, 3) uint8.

    The grey image is resized so that its longest side is `size` pixels (up for small
    sprites, down for large panels) and at most `features` keypoints are kept, of the frame
    and of its mirror image.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 frame, got {rgb.shape} {rgb.dtype}")
    if size < 2 * _PATCH + 2 or features < 1:
        raise ValueError(
            f"size must be >= {2 * _PATCH + 2} and features >= 1, got {size}, {features}"
        )
    grey, factor = _resized(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), size)
    orb = cv2.ORB_create(nfeatures=features, edgeThreshold=_PATCH, patchSize=_PATCH)
    colour, dense_scale = _resized(rgb, DENSE_SIZE)
    edges = cv2.Canny(cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY), 50, 150)
    art = np.where(cv2.dilate(lettering(grey).view(np.uint8), _RING), 0, 255).astype(np.uint8)
    return Local(
        _orb(orb, grey, factor, art),
        _orb(orb, np.ascontiguousarray(grey[:, ::-1]), factor, np.ascontiguousarray(art[:, ::-1])),
        cv2.blur(colour, (3, 3)),
        cv2.dilate(edges, _RING) > 0,
        dense_scale,
    )


def lettering(grey: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """Where a grey image (H, W) uint8, at the keypoints' size, holds lines of lettering:
    (H, W) bool, True inside each line's box. A line is a run of glyph edges that a
    closing of :data:`LETTERING_GAP` pixels joins into one component :data:`LETTERING_HEIGHT`
    pixels tall, at least :data:`LETTERING_WIDTH` times as wide, and dense (at least
    :data:`LETTERING_FILL` of its box). Lettering is not art: the same words over two
    drawings say nothing about the drawings, so :func:`detect` finds no keypoint there."""
    if grey.ndim != 2 or grey.dtype != np.uint8:
        raise ValueError(f"expected an (H, W) uint8 image, got {grey.shape} {grey.dtype}")
    edges = cv2.Canny(grey, 50, 150)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (LETTERING_GAP, 1))
    joined = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, kernel)
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    x, y, w, h, area = stats[1:].T
    low, high = LETTERING_HEIGHT
    line = (h >= low) & (h <= high) & (w >= LETTERING_WIDTH * h) & (area >= LETTERING_FILL * w * h)
    mask = np.zeros(grey.shape, bool)
    for k in np.flatnonzero(line):
        mask[y[k] : y[k] + h[k], x[k] : x[k] + w[k]] = True
    return mask


def _orb(orb, grey: npt.NDArray[np.uint8], factor: float, mask: npt.NDArray[np.uint8]) -> Keypoints:
    points, descriptors = orb.detectAndCompute(grey, mask)
    if descriptors is None or not len(points):
        return Keypoints(np.zeros((0, 2), np.float32), np.zeros((0, DESCRIPTOR_BYTES), np.uint8))
    xy = np.array([p.pt for p in points], dtype=np.float32) / np.float32(factor)
    return Keypoints(xy, descriptors.astype(np.uint8, copy=False))


class _Fit(NamedTuple):
    """RANSAC's similarity transform from a's pixels to b's (2x3), its inliers' count and
    their positions in each frame (k, 2)."""

    inliers: int
    matrix: npt.NDArray[np.float64]
    at_a: npt.NDArray[np.float32]
    at_b: npt.NDArray[np.float32]


def _fit(
    a: Keypoints, b: Keypoints, ratio: float, tolerance: float, min_matches: int
) -> _Fit | None:
    """Ratio-test matches of a's descriptors in b's, then RANSAC's similarity transform
    (:class:`_Fit`), None when there is none."""
    if len(a.descriptors) < 2 or len(b.descriptors) < 2:
        return None
    best, first, second = nearest_two(a.descriptors, b.descriptors)
    query = np.flatnonzero(first < ratio * second)
    if len(query) < max(min_matches, 3):
        return None
    at_a, at_b = a.xy[query], b.xy[best[query]]
    matrix, mask = cv2.estimateAffinePartial2D(
        at_a,
        at_b,
        method=cv2.RANSAC,
        ransacReprojThreshold=tolerance,
        maxIters=2000,
        confidence=0.995,
        refineIters=10,
    )
    if matrix is None:
        return None
    inlier = mask.ravel().astype(bool)
    return _Fit(int(inlier.sum()), matrix, at_a[inlier], at_b[inlier])


def nearest_two(
    a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """For each descriptor of `a` (n, 32) uint8, its nearest descriptor in `b` (m >= 2, 32)
    by Hamming distance, that distance and the second nearest's: (best, first, second),
    each (n,) int64. The same as ``cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(a, b, k=2)``
    (the first of equally near ones); compiled, and checked against it on the first call
    of a process (OpenCV answers when they differ)."""
    global _copy_checked, _copy_trusted
    if a.ndim != 2 or b.ndim != 2 or a.shape[1:] != (DESCRIPTOR_BYTES,) or b.shape[1] != a.shape[1]:
        raise ValueError(f"need (n, {DESCRIPTOR_BYTES}) descriptors, got {a.shape} and {b.shape}")
    if len(b) < 2:
        raise ValueError(f"need 2 descriptors or more to match against, got {len(b)}")
    if not _copy_checked:
        with _check_lock:
            if not _copy_checked:
                _copy_trusted = _agree(_nearest_two_copy(a, b), _nearest_two_opencv(a, b))
                _copy_checked = True
    return _nearest_two_copy(a, b) if _copy_trusted else _nearest_two_opencv(a, b)


_copy_checked = False
_copy_trusted = True
_check_lock = threading.Lock()


def _agree(copy: tuple, opencv: tuple) -> bool:
    """Both distances equal, and the nearest where it is nearer than the second (a tie
    never passes a ratio test, so which of equally near ones is first does not matter)."""
    (best, first, second), (best_cv, first_cv, second_cv) = copy, opencv
    unique = first_cv < second_cv
    return (
        np.array_equal(first, first_cv)
        and np.array_equal(second, second_cv)
        and np.array_equal(best[unique], best_cv[unique])
    )


def _nearest_two_opencv(a, b):
    knn = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(a, b, k=2)
    best = np.array([m[0].trainIdx for m in knn], np.int64)
    first = np.array([m[0].distance for m in knn], np.int64)
    second = np.array([m[1].distance for m in knn], np.int64)
    return best, first, second


def _nearest_two_copy(a, b):
    # 4 aligned 64-bit words per descriptor (a buffer read from Parquet may be unaligned)
    words = [
        np.ascontiguousarray(x).view(np.uint64)
        if x.ctypes.data % 8 == 0
        else x.copy().view(np.uint64)
        for x in (a, b)
    ]
    return _scan_two(*words)


@njit(inline="always")
def _popcount(x):  # pragma: no cover - numba
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@njit(cache=True, nogil=True, boundscheck=False)
def _scan_two(a, b):  # pragma: no cover - numba
    n, m = a.shape[0], b.shape[0]
    best = np.empty(n, np.int64)
    first_of = np.empty(n, np.int64)
    second_of = np.empty(n, np.int64)
    for i in range(n):
        first, second, which = 1 << 30, 1 << 30, -1
        a0, a1, a2, a3 = a[i, 0], a[i, 1], a[i, 2], a[i, 3]
        for j in range(m):
            d = (
                _popcount(a0 ^ b[j, 0])
                + _popcount(a1 ^ b[j, 1])
                + _popcount(a2 ^ b[j, 2])
                + _popcount(a3 ^ b[j, 3])
            )
            if d < first:
                second, first, which = first, d, j
            elif d < second:
                second = d
        best[i], first_of[i], second_of[i] = which, first, second
    return best, first_of, second_of


def _agreement(a: Local, b: Local, fit: _Fit, mirror: bool) -> tuple[float, float, float, float]:
    """(cover_a, cover_b, region_cover, region_area) of the transform of `fit` (a's pixels
    to b's, or to b's mirror image's): one dense copy warped onto the other's grid (the
    coarser one, so that a close-up is compared at its original's detail), then the drawn
    pixels of both that agree in colour, over the drawn pixels of each frame (the covers),
    and over those inside the convex hull of the inliers (``region_cover``, the smaller of
    the two frames' shares); ``region_area`` is the smaller share of a frame that hull
    spans."""
    colour_b = np.ascontiguousarray(b.colour[:, ::-1]) if mirror else b.colour
    drawn_b = b.drawn[:, ::-1] if mirror else b.drawn
    dense = fit.matrix.copy()
    dense[:, :2] *= b.dense_scale / a.dense_scale
    dense[:, 2] *= b.dense_scale
    sides = [
        (a.colour, a.drawn, fit.at_a * np.float32(a.dense_scale)),
        (colour_b, drawn_b, fit.at_b * np.float32(b.dense_scale)),
    ]
    swapped = math.hypot(dense[0, 0], dense[1, 0]) > 1
    if swapped:  # b's grid is the finer: compare on a's
        sides.reverse()
        dense = cv2.invertAffineTransform(dense)
    (colour_s, drawn_s, _), (colour_d, drawn_d, at_d) = sides
    h, w = drawn_d.shape
    colour = cv2.warpAffine(colour_s, dense, (w, h), flags=cv2.INTER_LINEAR)
    nearest = cv2.INTER_NEAREST
    drawn = cv2.warpAffine(drawn_s.view(np.uint8), dense, (w, h), flags=nearest) > 0
    inside = cv2.warpAffine(np.ones(drawn_s.shape, np.uint8), dense, (w, h), flags=nearest) > 0
    diff = np.abs(colour.astype(np.int16) - colour_d.astype(np.int16)).max(axis=2)
    agree = drawn & drawn_d & inside & (diff <= COLOUR_TOLERANCE)
    near = _near_agreement(colour, drawn & inside, colour_d, drawn_d)
    hull = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(at_d).astype(np.int32)), 1)
    hull = hull > 0
    in_hull = int((near & hull).sum())
    # and every pixel of the hull, drawn or not: a template's outline over other fills,
    # or before another wall, is not the same picture
    filled = int(_near_agreement(colour, inside, colour_d, hull & inside).sum())
    region_cover = min(
        in_hull / max(int((drawn_d & hull).sum()), 1),
        in_hull / max(int((drawn & hull).sum()), 1),
        filled / max(int((hull & inside).sum()), 1),
    )
    scale = math.hypot(dense[0, 0], dense[1, 0])  # a pixel of the source covers scale**2
    agreed = int(agree.sum())
    cover_d = agreed / max(int(drawn_d.sum()), 1)
    cover_s = agreed / (scale * scale) / max(int(drawn_s.sum()), 1)
    share = int(hull.sum())
    region_area = min(share / (h * w), share / (scale * scale) / drawn_s.size)
    cover_s, cover_d = min(1.0, cover_s), min(1.0, cover_d)
    covers = (cover_d, cover_s) if swapped else (cover_s, cover_d)
    return (*covers, region_cover, min(1.0, region_area))


def _near_agreement(
    colour: npt.NDArray[np.uint8],
    drawn: npt.NDArray[np.bool_],
    target: npt.NDArray[np.uint8],
    target_drawn: npt.NDArray[np.bool_],
) -> npt.NDArray[np.bool_]:
    """Which drawn pixels of `target` (h, w, 3; drawn where `target_drawn`, (h, w)) have a
    pixel of `colour` (h, w, 3) that is `drawn` (h, w) within one pixel, in the same colour
    (each channel within COLOUR_TOLERANCE): a warped drawing may be off by a pixel of the
    dense copy."""
    return _near(colour, drawn, target, target_drawn, COLOUR_TOLERANCE)


@njit(cache=True, nogil=True, boundscheck=False)
def _near(colour, drawn, target, target_drawn, tolerance):  # pragma: no cover - numba
    h, w = drawn.shape
    out = np.zeros((h, w), np.bool_)
    for y in range(h):
        for x in range(w):
            if not target_drawn[y, x]:
                continue
            found = False
            for yy in range(max(y - 1, 0), min(y + 2, h)):
                for xx in range(max(x - 1, 0), min(x + 2, w)):
                    if found or not drawn[yy, xx]:
                        continue
                    worst = 0
                    for c in range(3):
                        d = abs(np.int32(colour[yy, xx, c]) - np.int32(target[y, x, c]))
                        worst = max(worst, d)
                    found = worst <= tolerance
            out[y, x] = found
    return out


def verify(a: Local, b: Local, ratio: float, tolerance: float, min_matches: int) -> Match:
    """The similarity transform from frame a to frame b, or to b's mirror image, whichever
    more RANSAC inliers agree on, with its dense covers (:class:`Match`).

    `ratio` is the ratio test's (Lowe's: a match must be nearer than `ratio` times the
    second nearest), `tolerance` RANSAC's reprojection threshold in pixels of frame b, and
    `min_matches` the matches a fit needs, and the inliers it needs for its covers to be
    measured (else they are 0). :data:`NO_MATCH` when neither orientation has a transform
    scaling by at most MAX_SCALE."""
    if not 0 < ratio <= 1 or tolerance <= 0:
        raise ValueError(f"ratio must be in (0, 1] and tolerance > 0, got {ratio}, {tolerance}")
    best, best_fit = NO_MATCH, None
    for mirror, target in ((False, b.plain), (True, b.mirror)):
        fit = _fit(a.plain, target, ratio, tolerance, min_matches)
        if fit is None or fit.inliers <= best.inliers:
            continue
        matrix = fit.matrix
        scale = math.hypot(matrix[0, 0], matrix[1, 0])
        if not 1 / MAX_SCALE <= scale <= MAX_SCALE:
            continue
        rotation = math.degrees(math.atan2(matrix[1, 0], matrix[0, 0]))
        shift = (float(matrix[0, 2]), float(matrix[1, 2]))
        moved = math.hypot(*shift) / b.longest
        best = Match(fit.inliers, scale, rotation, mirror, *shift, 0.0, 0.0, moved, 0.0, 0.0)
        best_fit = fit
    if best_fit is None:
        return NO_MATCH
    if best.inliers < min_matches:  # too few to show anything: the covers are not measured
        return best
    cover_a, cover_b, region_cover, region_area = _agreement(a, b, best_fit, best.mirror)
    return best._replace(
        cover_a=cover_a, cover_b=cover_b, region_cover=region_cover, region_area=region_area
    )


def reuses(
    match: Match, min_inliers: int, cover: float, region_cover: float, region_area: float
) -> bool:
    """Whether a verified `match` shows reuse (the rule's ``local`` link,
    matching.link): at least `min_inliers` inliers, and either at least `cover` of one
    frame's drawn pixels reproduced by the other (the close-up of a zoom, the crop of a
    crop, either of a copy), or at least `region_cover` of the pixels inside the inliers'
    hull, spanning at least `region_area` of each frame, and put :func:`elsewhere` (a
    drawing pasted into another scene)."""
    whole = max(match.cover_a, match.cover_b) >= cover
    placed = match.region_cover >= region_cover and match.region_area >= region_area
    placed = placed and bool(elsewhere(match.moved, match.scale))
    return match.inliers >= min_inliers and (whole or placed)


def elsewhere(moved: npt.ArrayLike, scale: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Whether verified transforms (their ``moved`` and ``scale``, :class:`Match`) put
    the drawing elsewhere: moved by at least IN_PLACE_MOVED, or scaled by at least
    IN_PLACE_SCALE either way (NaN, not verified: False)."""
    moved, scale = np.asarray(moved, dtype=np.float64), np.asarray(scale, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return (moved >= IN_PLACE_MOVED) | (scale >= IN_PLACE_SCALE) | (scale <= 1 / IN_PLACE_SCALE)


def words(descriptors: npt.NDArray[np.uint8], tables: int, seed: int = 0) -> npt.NDArray[np.int64]:
    """The visual words of each descriptor (n, 32) uint8: (n, `tables`) int64, word t of a
    descriptor being its ``WORD_BITS`` bits at the positions of table t (drawn once from
    `seed`), offset by ``t * 2**WORD_BITS`` so that no two tables share a word."""
    if descriptors.ndim != 2 or descriptors.shape[1] != DESCRIPTOR_BYTES:
        raise ValueError(f"expected (n, {DESCRIPTOR_BYTES}) descriptors, got {descriptors.shape}")
    if tables < 1:
        raise ValueError(f"tables must be >= 1, got {tables}")
    positions = np.random.default_rng(seed).permuted(
        np.tile(np.arange(8 * DESCRIPTOR_BYTES), (tables, 1)), axis=1
    )[:, :WORD_BITS]
    bits = np.unpackbits(descriptors, axis=1)  # (n, 256)
    weights = np.int64(1) << np.arange(WORD_BITS, dtype=np.int64)
    out = np.empty((len(descriptors), tables), dtype=np.int64)
    for t in range(tables):
        out[:, t] = bits[:, positions[t]].astype(np.int64) @ weights + (t << WORD_BITS)
    return out


def word_counts(
    words_of: Sequence[npt.NDArray[np.int64]], n_words: int = WORD_TABLES << WORD_BITS
) -> sp.csr_matrix:
    """Frames x words counts (float32) of each frame's words (any shape per frame,
    :func:`words`), every word below `n_words`: one chunk's rows at a time, which
    ``scipy.sparse.vstack`` joins (no frame's words need stay in memory)."""
    indptr, indices, data = [0], [], []
    for w in words_of:
        found, count = np.unique(w.ravel(), return_counts=True)
        if found.size and not 0 <= found[0] <= found[-1] < n_words:
            raise ValueError(f"words must be in [0, {n_words}), got {found[0]}..{found[-1]}")
        indices.append(found.astype(np.int32))
        data.append(count.astype(np.float32))
        indptr.append(indptr[-1] + len(found))
    return sp.csr_matrix(
        (
            np.concatenate(data or [np.zeros(0, np.float32)]),
            np.concatenate(indices or [np.zeros(0, np.int32)]),
            np.asarray(indptr, dtype=np.int64),
        ),
        shape=(len(words_of), n_words),
    )


def word_matrices(
    plain: sp.csr_matrix,
    mirror: sp.csr_matrix,
    max_share: float,
    max_frames: int | None = None,
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Frames x words tf-idf matrices of each frame's word counts (`plain`,
    :func:`word_counts`) and of its mirror image's (`mirror`), with the document
    frequencies of `plain`; rows L2-normalised, one column per word kept, in the order of
    the word ids. A word in more than `max_share` of the frames (or more than `max_frames`
    frames) tells nothing and is dropped, and so is a word no frame's `plain` words
    hold (:func:`word_weights`, :func:`weighted`)."""
    if mirror.shape != plain.shape:
        raise ValueError(
            f"plain {plain.shape} and mirror {mirror.shape} must be of the same frames"
        )
    frequency = np.bincount(plain.indices, minlength=plain.shape[1])
    weights = word_weights(frequency, plain.shape[0], max_share, max_frames)
    return weighted(plain, *weights), weighted(mirror, *weights)


def word_weights(
    frequency: npt.NDArray[np.int64], n: int, max_share: float, max_frames: int | None = None
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int32]]:
    """The weight of each word, given in how many of `n` frames each word is
    (`frequency`): its idf, 0 for a word in more than `max_share` of the frames or more
    than `max_frames` frames; and its column among the words kept (-1 for a word dropped:
    too common, or in no frame)."""
    if not 0 < max_share <= 1:
        raise ValueError(f"max_share must be in (0, 1], got {max_share}")
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"max_frames must be >= 1, got {max_frames}")
    idf = np.log(max(n, 1) / np.maximum(frequency, 1)).astype(np.float32)
    most = max(1.0, max_share * n)
    idf[frequency > (most if max_frames is None else min(most, max_frames))] = 0
    kept = (frequency > 0) & (idf > 0)
    column = np.where(kept, np.cumsum(kept) - 1, -1).astype(np.int32)
    return idf, column


def weighted(
    counts: sp.csr_matrix, idf: npt.NDArray[np.float32], column: npt.NDArray[np.int32]
) -> sp.csr_matrix:
    """The tf-idf rows of the frames x words `counts` (:func:`word_weights` gives `idf`
    and `column`): each count damped (its square root) and weighed by its word's idf, each
    row L2-normalised over all its words, then only the kept words' columns. Made from the
    arrays of `counts` with no copy of the matrix (the peak of the verify rule)."""
    n = counts.shape[0]
    row = np.repeat(np.arange(n, dtype=np.int32), np.diff(counts.indptr))
    keep, data = _entry_weights(row, counts.indices, counts.data, n, idf, column)
    ends = np.concatenate([[0], np.cumsum(np.bincount(row[keep], minlength=n))])
    kept_columns = int(column.max()) + 1 if column.size else 0
    return sp.csr_matrix(
        (data, column[counts.indices[keep]], ends.astype(np.int64)),
        shape=(n, max(kept_columns, 0)),
    )


def _entry_weights(row, word, count, rows: int, idf, column):
    """The tf-idf weight of each entry (its `row` among `rows`, its `word`, its `count`):
    the count damped (its square root) and weighed by its word's idf, over its row's L2
    norm taken over every word the row holds (a mirror image's word that no frame holds
    matches nothing, but it still counts). Returns which entries are kept (a kept word, a
    weight above 0) and their weights (float32)."""
    weights = np.sqrt(count, dtype=np.float32) * idf[word]
    squares = np.bincount(row, np.square(weights, dtype=np.float64), rows)
    norms = np.maximum(np.sqrt(squares), 1e-12).astype(np.float32)
    keep = (column[word] >= 0) & (weights > 0)
    return keep, weights[keep] / norms[row[keep]]


def candidates(
    plain: sp.csr_matrix,
    mirror: sp.csr_matrix,
    group: npt.ArrayLike,
    k: int,
    threads: int,
    block: int | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Pairs (i, j), i < j, of frames to verify: each frame's `k` most similar frames by the
    cosine of their word rows (`plain`, :func:`word_matrices`), its mirror image's words
    (`mirror`) against theirs counting as well, never two frames of one `group` (one
    image) and never a similarity of 0. Sorted, without repeats (:func:`ranked`, on rows
    held in memory)."""
    if mirror.shape != plain.shape:
        raise ValueError("plain, mirror and group must describe the same frames")
    return ranked(
        lambda start, stop: (plain[start:stop], mirror[start:stop]),
        plain.T.tocsr(),
        group,
        k,
        threads,
        block,
    )


def ranked(
    rows_of: Callable[[int, int], tuple[sp.csr_matrix, sp.csr_matrix]],
    inverted: sp.csr_matrix,
    group: npt.ArrayLike,
    k: int,
    threads: int,
    block: int | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """:func:`candidates` from the words x frames tf-idf matrix `inverted` (CSR: a word's
    frames) and `rows_of(start, stop)`, the tf-idf rows of frames start..stop-1 and of their
    mirror images (one column per row of `inverted`). A frame's mirror image against the
    others' words is the frame against their mirror images', so `inverted` serves both.
    `block` frames are scored at a time (by default as many as make SCORED_BLOCK scores,
    at most 512), by `threads` threads (SciPy's sparse products release the GIL)."""
    n = inverted.shape[1]
    group = np.asarray(group)
    if len(group) != n:
        raise ValueError("plain, mirror and group must describe the same frames")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    take = min(k, n - 1)
    block = block or max(16, min(512, SCORED_BLOCK // max(n, 1)))

    def best_of(start: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        rows, flipped = rows_of(start, min(start + block, n))
        score = np.maximum((rows @ inverted).toarray(), (flipped @ inverted).toarray())
        own = np.arange(start, start + rows.shape[0])
        score[group[own][:, None] == group[None, :]] = 0
        best = np.argpartition(-score, take - 1, axis=1)[:, :take]
        keep = (np.take_along_axis(score, best, axis=1) > 0).ravel()
        return np.repeat(own, take)[keep], best.ravel()[keep]

    starts = range(0, n if take > 0 else 0, block)
    with ThreadPoolExecutor(threads) as pool:
        found = list(pool.map(best_of, starts))
    i = np.concatenate([np.zeros(0, np.int64)] + [f[0] for f in found])
    j = np.concatenate([np.zeros(0, np.int64)] + [f[1] for f in found])
    key = bits.unique(bits.pair_key(i, j, n))
    return key // n, key % n


def inverted_words(
    words_of: Callable[[], Iterable[npt.NDArray[np.integer]]],
    n: int,
    idf: npt.NDArray[np.float32],
    column: npt.NDArray[np.int32],
    batch: int = 256,
) -> sp.csr_matrix:
    """The kept words x frames tf-idf matrix (CSR) of `n` frames whose words (any shape per
    frame, :func:`words`) `words_of()` yields in order, each time it is called: the
    transpose of :func:`weighted`'s rows, built in two passes over the words (the first
    sizes each word's row, the second fills it), `batch` frames at a time, so that memory
    holds the result only."""
    kept = int(column.max()) + 1 if column.size else 0
    sizes = np.zeros(kept, np.int64)
    frames = 0
    for first, (_, columns, _) in _kept_weights(words_of(), idf, column, batch):
        sizes += np.bincount(columns, minlength=kept)
        frames = first
    if frames != n:
        raise ValueError(f"words_of gave {frames} frames, not {n}")
    indptr = np.concatenate([[0], np.cumsum(sizes)])
    indices = np.empty(int(indptr[-1]), np.int32)
    data = np.empty(int(indptr[-1]), np.float32)
    place = indptr[:-1].copy()
    for _, (owner, columns, weights) in _kept_weights(words_of(), idf, column, batch):
        _fill(columns, weights, owner, place, indices, data)
    return sp.csr_matrix((data, indices, indptr), shape=(kept, n))


def _kept_weights(frames: Iterable, idf, column, batch: int):
    """For each `batch` frames: the frames read so far, then each kept word's frame, column
    and tf-idf weight (as :func:`weighted` makes their rows), by frame, then word."""
    done = 0
    for group in _batched(frames, batch):
        sizes = [np.asarray(found).size for found in group]
        owner = np.repeat(np.arange(done, done + len(group), dtype=np.int64), sizes)
        flat = np.concatenate([np.asarray(f, np.int64).ravel() for f in group] or [owner])
        key, count = np.unique((owner << 32) | flat, return_counts=True)
        owner, word = key >> 32, key & 0xFFFFFFFF
        keep, weights = _entry_weights(owner - done, word, count, len(group), idf, column)
        done += len(group)
        yield done, (owner[keep], column[word[keep]], weights)


def _batched(items: Iterable, size: int) -> Iterator[list]:
    group: list = []
    for item in items:
        group.append(item)
        if len(group) == size:
            yield group
            group = []
    if group:
        yield group


@njit(cache=True, nogil=True, boundscheck=False)
def _fill(columns, weights, owner, place, indices, data):  # pragma: no cover - numba
    for e in range(columns.shape[0]):
        c = columns[e]
        p = place[c]
        indices[p] = owner[e]
        data[p] = weights[e]
        place[c] = p + 1


def to_row(found: Local) -> dict:
    """`found` as a row of tables.KEYPOINTS (without its image and frame)."""
    h, w = found.drawn.shape
    return {
        "xy": found.plain.xy.astype("<f4").tobytes(),
        "descriptors": found.plain.descriptors.tobytes(),
        "mirror_xy": found.mirror.xy.astype("<f4").tobytes(),
        "mirror_descriptors": found.mirror.descriptors.tobytes(),
        "dense_height": h,
        "dense_width": w,
        "dense_scale": float(found.dense_scale),
        "colour": np.ascontiguousarray(found.colour).tobytes(),
        "drawn": np.packbits(found.drawn, axis=None).tobytes(),
    }


def descriptors_of(blob: bytes) -> npt.NDArray[np.uint8]:
    """The descriptors (n, 32) uint8 stored in a `descriptors` or `mirror_descriptors` value
    of tables.KEYPOINTS (a read-only view of `blob`)."""
    if len(blob) % DESCRIPTOR_BYTES:
        raise ValueError(f"{len(blob)} bytes are not a whole number of descriptors")
    return np.frombuffer(blob, np.uint8).reshape(-1, DESCRIPTOR_BYTES)


def from_row(row) -> Local:
    """The :class:`Local` features of a row of tables.KEYPOINTS (a mapping)."""

    def keypoints(xy: bytes, descriptors: bytes) -> Keypoints:
        points = np.frombuffer(xy, "<f4").reshape(-1, 2).astype(np.float32)
        bits = descriptors_of(descriptors)
        if len(points) != len(bits):
            raise ValueError(f"{len(points)} keypoints with {len(bits)} descriptors")
        return Keypoints(points, bits)

    h, w = int(row["dense_height"]), int(row["dense_width"])
    drawn = np.unpackbits(np.frombuffer(row["drawn"], np.uint8), count=h * w).astype(bool)
    return Local(
        keypoints(row["xy"], row["descriptors"]),
        keypoints(row["mirror_xy"], row["mirror_descriptors"]),
        np.frombuffer(row["colour"], np.uint8).reshape(h, w, 3),
        drawn.reshape(h, w),
        float(row["dense_scale"]),
    )


class StoredKeypoints:
    """The keypoint tables of a run (tables.KEYPOINTS, one Parquet file per chunk, in
    order of `paths`), read once, a batch of rows at a time: each frame's row is copied
    into a temporary file (in the job's temporary folder) and read back by its position
    (:meth:`row`), and in how many frames each visual word is, counted on the way
    (:attr:`frequency`, of the frames' own words). So verification holds the rows of the
    frames it compares, never every frame's (about 75 KB each), and the candidates the
    inverted word index only (:func:`stored_candidates`).

    ``images`` and ``frames`` name each row; use it as a context manager, or
    :meth:`close` it (the temporary file goes)."""

    def __init__(self, paths: Sequence[str], batch: int = 256) -> None:
        # the rows, and each frame's words and its mirror image's (uint32) one after the
        # other in a second file
        self._file, self._words_file = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        offsets, word_offsets, images, frames = [0], [0], [], []
        self.frequency = np.zeros(WORD_TABLES << WORD_BITS, np.int64)
        for path in paths:
            for part in pq.ParquetFile(path).iter_batches(batch_size=batch):
                rows = part.to_pylist()
                for row in rows:
                    blob = pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL)
                    self._file.write(blob)
                    offsets.append(offsets[-1] + len(blob))
                    for name in ("descriptors", "mirror_descriptors"):
                        found = words(descriptors_of(row[name]), WORD_TABLES).astype(np.uint32)
                        self._words_file.write(found.tobytes())
                        word_offsets.append(word_offsets[-1] + found.nbytes)
                        if name == "descriptors":
                            self.frequency[np.unique(found)] += 1
                images += [row["image"] for row in rows]
                frames += [row["frame"] for row in rows]
        self._file.flush()
        self._words_file.flush()
        self._offsets = np.asarray(offsets, dtype=np.int64)
        self._word_offsets = np.asarray(word_offsets, dtype=np.int64)
        self.images: list[str] = images
        self.frames: list[int] = frames

    def __len__(self) -> int:
        return len(self.images)

    def row(self, k: int) -> dict:
        """Row `k` (a dict of tables.KEYPOINTS' columns)."""
        start, end = int(self._offsets[k]), int(self._offsets[k + 1])
        return pickle.loads(os.pread(self._file.fileno(), end - start, start))

    def words(self, column: str, start: int = 0, stop: int | None = None) -> Iterator:
        """The visual words (:func:`words`, flat, uint32) of frames start..stop-1 (all by
        default), in order, of their `column` (``descriptors`` or
        ``mirror_descriptors``)."""
        side = {"descriptors": 0, "mirror_descriptors": 1}[column]
        for k in range(start, len(self) if stop is None else stop):
            at = 2 * k + side
            begin, end = int(self._word_offsets[at]), int(self._word_offsets[at + 1])
            blob = os.pread(self._words_file.fileno(), end - begin, begin)
            yield np.frombuffer(blob, np.uint32)

    def rows(
        self, start: int, stop: int, idf: npt.NDArray[np.float32], column: npt.NDArray[np.int32]
    ) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """The tf-idf rows (:func:`weighted`) of frames start..stop-1 and of their mirror
        images."""
        return tuple(
            weighted(word_counts(list(self.words(name, start, stop))), idf, column)
            for name in ("descriptors", "mirror_descriptors")
        )

    def close(self) -> None:
        self._file.close()
        self._words_file.close()

    def __enter__(self) -> StoredKeypoints:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def stored_candidates(
    stored: StoredKeypoints, image_of: npt.ArrayLike, k: int, threads: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each frame's `k` candidate pairs (:func:`candidates`) among the `stored` frames,
    with `image_of` giving each frame's image: the inverted word index is built from the
    stored words (:func:`inverted_words`), and each block's rows are made from them when
    it is scored (:func:`ranked`), so memory holds the index and a block."""
    n = len(stored)
    idf, column = word_weights(stored.frequency, n, COMMON_WORDS, COMMON_FRAMES)
    inverted = inverted_words(lambda: stored.words("descriptors"), n, idf, column)
    return ranked(
        lambda start, stop: stored.rows(start, stop, idf, column),
        inverted,
        np.asarray(image_of),
        k,
        threads,
    )


def verify_stored(
    stored: StoredKeypoints,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    ratio: float,
    tolerance: float,
    size: int,
    min_matches: int,
    threads: int,
    step: Callable[[], None] | None = None,
) -> list[Match]:
    """:func:`verify` on each candidate pair of frames (a[k], b[k]) of the `stored`
    keypoints, a block of VERIFY_BLOCK pairs at a time (only the block's frames are read
    and decoded) on `threads` threads. `tolerance` is RANSAC's, in pixels at the
    keypoints' `size`; `step` is called after each pair (progress)."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    out: list[Match] = []
    with ThreadPoolExecutor(threads) as pool:
        for start in range(0, len(a), VERIFY_BLOCK):
            block_a, block_b = a[start : start + VERIFY_BLOCK], b[start : start + VERIFY_BLOCK]
            frames = bits.unique(np.concatenate([block_a, block_b])).tolist()
            rows = pool.map(lambda k: from_row(stored.row(k)), frames)
            decoded = dict(zip(frames, rows, strict=True))

            def one(pair: tuple[int, int], decoded: dict = decoded) -> Match:
                first, second = decoded[pair[0]], decoded[pair[1]]
                # RANSAC's tolerance is in pixels at the keypoints' size: in the second
                # frame's pixels here
                match = verify(first, second, ratio, tolerance * second.longest / size, min_matches)
                if step is not None:
                    step()
                return match

            out += pool.map(one, zip(block_a.tolist(), block_b.tolist(), strict=True))
    return out
