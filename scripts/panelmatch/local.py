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
- :func:`words`, :func:`word_matrices`, :func:`candidates`: which pairs to verify. Each
  descriptor's *visual words* are groups of its bits at fixed positions (a locality-
  sensitive hash: descriptors a few bits apart share some), and each frame's candidates
  are the ``k`` frames sharing most words (tf-idf cosine), so the cost grows with the
  frames times ``k``, not with the pairs.

ORB is OpenCV's (a dependency already); SIFT costs 7 times more per panel and AKAZE is not in
OpenCV 5's main modules. benchmarks/local_features.py measures what this finds on the demo
and the real panels (docs/methods.md has the figures); the workflow does not call it yet.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import cv2
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

#: Bytes of an ORB descriptor (256 bits).
DESCRIPTOR_BYTES = 32
#: Bits of a descriptor that make one visual word (:func:`words`).
WORD_BITS = 16
#: Longest side of the colour copy the dense check compares, in pixels.
DENSE_SIZE = 128
#: Largest difference of an RGB channel (0-255, after a 3x3 blur) that is the same colour.
COLOUR_TOLERANCE = 40
#: A transform that scales by more than this (or less than its inverse) is not a reuse.
MAX_SCALE = 4.0
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


class Match(NamedTuple):
    """The verified transform from frame a to frame b: ``b ~ scale * R(rotation) * a +
    shift`` in the frames' pixels, with b's pixels counted from its right border when
    ``mirror``; the ``inliers`` that agree on it; and the share of each frame's drawn
    pixels the other reproduces in the same colour under it (``cover_a``, ``cover_b``)."""

    inliers: int
    scale: float
    rotation: float  # degrees, -180..180
    mirror: bool
    shift_x: float  # pixels of frame b
    shift_y: float
    cover_a: float
    cover_b: float


#: No match: too few matches for a transform, or no plausible transform.
NO_MATCH = Match(0, math.nan, math.nan, False, math.nan, math.nan, 0.0, 0.0)


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
    return Local(
        _orb(orb, grey, factor),
        _orb(orb, np.ascontiguousarray(grey[:, ::-1]), factor),
        cv2.blur(colour, (3, 3)),
        cv2.dilate(edges, _RING) > 0,
        dense_scale,
    )


def _orb(orb, grey: npt.NDArray[np.uint8], factor: float) -> Keypoints:
    points, descriptors = orb.detectAndCompute(grey, None)
    if descriptors is None or not len(points):
        return Keypoints(np.zeros((0, 2), np.float32), np.zeros((0, DESCRIPTOR_BYTES), np.uint8))
    xy = np.array([p.pt for p in points], dtype=np.float32) / np.float32(factor)
    return Keypoints(xy, descriptors.astype(np.uint8, copy=False))


def _fit(
    a: Keypoints, b: Keypoints, ratio: float, tolerance: float, min_matches: int
) -> tuple[int, npt.NDArray[np.float64] | None]:
    """Ratio-test matches of a's descriptors in b's, then RANSAC's similarity transform:
    (inliers, 2x3 matrix from a's pixels to b's), (0, None) when there is none."""
    if len(a.descriptors) < 2 or len(b.descriptors) < 2:
        return 0, None
    knn = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(a.descriptors, b.descriptors, k=2)
    pairs = np.array(
        [
            (m[0].queryIdx, m[0].trainIdx)
            for m in knn
            if len(m) == 2 and m[0].distance < ratio * m[1].distance
        ],
        dtype=np.int64,
    ).reshape(-1, 2)
    if len(pairs) < max(min_matches, 3):
        return 0, None
    matrix, mask = cv2.estimateAffinePartial2D(
        a.xy[pairs[:, 0]],
        b.xy[pairs[:, 1]],
        method=cv2.RANSAC,
        ransacReprojThreshold=tolerance,
        maxIters=2000,
        confidence=0.995,
        refineIters=10,
    )
    if matrix is None:
        return 0, None
    return int(mask.sum()), matrix


def _covers(a: Local, b: Local, matrix: npt.NDArray[np.float64], mirror: bool) -> tuple:
    """(cover_a, cover_b) of the transform `matrix` (a's pixels to b's, or to b's mirror
    image's): a's dense copy warped onto b's, the drawn pixels of both that agree in
    colour, over the drawn pixels of each (in its own pixels)."""
    colour_b = np.ascontiguousarray(b.colour[:, ::-1]) if mirror else b.colour
    drawn_b = b.drawn[:, ::-1] if mirror else b.drawn
    dense = matrix.copy()
    dense[:, :2] *= b.dense_scale / a.dense_scale
    dense[:, 2] *= b.dense_scale
    h, w = drawn_b.shape
    colour = cv2.warpAffine(a.colour, dense, (w, h), flags=cv2.INTER_LINEAR)
    near = cv2.INTER_NEAREST
    drawn = cv2.warpAffine(a.drawn.view(np.uint8), dense, (w, h), flags=near) > 0
    inside = cv2.warpAffine(np.ones(a.drawn.shape, np.uint8), dense, (w, h), flags=near) > 0
    diff = np.abs(colour.astype(np.int16) - colour_b.astype(np.int16)).max(axis=2)
    agree = int((drawn & drawn_b & inside & (diff <= COLOUR_TOLERANCE)).sum())
    scale = math.hypot(dense[0, 0], dense[1, 0])  # a dense pixel covers scale**2 of b's
    cover_b = agree / max(int(drawn_b.sum()), 1)
    cover_a = agree / (scale * scale) / max(int(a.drawn.sum()), 1)
    return min(1.0, cover_a), min(1.0, cover_b)


def verify(a: Local, b: Local, ratio: float, tolerance: float, min_matches: int) -> Match:
    """The similarity transform from frame a to frame b, or to b's mirror image, whichever
    more RANSAC inliers agree on, with its dense covers (:class:`Match`).

    `ratio` is the ratio test's (Lowe's: a match must be nearer than `ratio` times the
    second nearest), `tolerance` RANSAC's reprojection threshold in pixels of frame b, and
    `min_matches` the matches a fit needs. :data:`NO_MATCH` when neither orientation has
    a transform scaling by at most MAX_SCALE."""
    if not 0 < ratio <= 1 or tolerance <= 0:
        raise ValueError(f"ratio must be in (0, 1] and tolerance > 0, got {ratio}, {tolerance}")
    best, best_matrix = NO_MATCH, None
    for mirror, target in ((False, b.plain), (True, b.mirror)):
        inliers, matrix = _fit(a.plain, target, ratio, tolerance, min_matches)
        if matrix is None or inliers <= best.inliers:
            continue
        scale = math.hypot(matrix[0, 0], matrix[1, 0])
        if not 1 / MAX_SCALE <= scale <= MAX_SCALE:
            continue
        rotation = math.degrees(math.atan2(matrix[1, 0], matrix[0, 0]))
        shift = (float(matrix[0, 2]), float(matrix[1, 2]))
        best = Match(inliers, scale, rotation, mirror, *shift, 0.0, 0.0)
        best_matrix = matrix
    if best_matrix is None:
        return NO_MATCH
    return best._replace(
        **dict(zip(("cover_a", "cover_b"), _covers(a, b, best_matrix, best.mirror), strict=True))
    )


def reuses(match: Match, min_inliers: int, cover: float) -> bool:
    """Whether a verified `match` shows reuse: at least `min_inliers` inliers, and at least
    `cover` of one frame's drawn pixels reproduced by the other (the close-up of a zoom,
    the crop of a crop, either of a copy)."""
    return match.inliers >= min_inliers and max(match.cover_a, match.cover_b) >= cover


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


def word_matrices(
    plain: Sequence[npt.NDArray[np.int64]],
    mirror: Sequence[npt.NDArray[np.int64]],
    max_share: float,
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Frames x words tf-idf matrices of each frame's words (`plain`, any shape per frame)
    and of its mirror image's words (`mirror`), over one vocabulary, with the document
    frequencies of `plain`; rows L2-normalised. A word in more than `max_share` of the
    frames tells nothing and is dropped."""
    n = len(plain)
    if len(mirror) != n:
        raise ValueError("plain and mirror must hold the words of the same frames")
    if not 0 < max_share <= 1:
        raise ValueError(f"max_share must be in (0, 1], got {max_share}")
    sides = [plain, mirror]
    rows = [np.repeat(np.arange(n), [w.size for w in side]) for side in sides]
    cols = [np.concatenate([w.ravel() for w in side] or [np.zeros(0, np.int64)]) for side in sides]
    vocabulary, inverse = np.unique(np.concatenate(cols), return_inverse=True)
    cols = [inverse[: len(cols[0])], inverse[len(cols[0]) :]]
    counts = [
        sp.csr_matrix((np.ones(len(c), np.float32), (r, c)), shape=(n, len(vocabulary)))
        for r, c in zip(rows, cols, strict=True)
    ]
    for m in counts:
        m.sum_duplicates()
    frequency = np.bincount(counts[0].indices, minlength=len(vocabulary))
    idf = np.log(max(n, 1) / np.maximum(frequency, 1)).astype(np.float32)
    idf[frequency > max(1.0, max_share * n)] = 0
    out = []
    for m in counts:
        weighted = m.multiply(idf[None, :]).tocsr()
        weighted.data = np.sqrt(weighted.data)  # damp words repeated within one frame
        weighted.eliminate_zeros()
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        out.append(sp.diags(1 / np.maximum(norms, 1e-12)).dot(weighted).tocsr())
    return out[0], out[1]


def candidates(
    plain: sp.csr_matrix,
    mirror: sp.csr_matrix,
    group: npt.ArrayLike,
    k: int,
    block: int = 512,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Pairs (i, j), i < j, of frames to verify: each frame's `k` most similar frames by the
    cosine of their word rows (`plain`, :func:`word_matrices`), the mirror image's words
    (`mirror`) counting as well, never two frames of one `group` (one image) and never a
    similarity of 0. Sorted, without repeats; `block` frames are scored at a time."""
    n = plain.shape[0]
    group = np.asarray(group)
    if mirror.shape != plain.shape or len(group) != n:
        raise ValueError("plain, mirror and group must describe the same frames")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    take = min(k, n - 1)
    found_i, found_j = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    plain_t, mirror_t = plain.T.tocsc(), mirror.T.tocsc()
    for start in range(0, n if take > 0 else 0, block):
        rows = plain[start : start + block]
        score = np.maximum((rows @ plain_t).toarray(), (rows @ mirror_t).toarray())
        own = np.arange(start, start + rows.shape[0])
        score[group[own][:, None] == group[None, :]] = 0
        best = np.argpartition(-score, take - 1, axis=1)[:, :take]
        keep = (np.take_along_axis(score, best, axis=1) > 0).ravel()
        found_i.append(np.repeat(own, take)[keep])
        found_j.append(best.ravel()[keep])
    i, j = np.concatenate(found_i), np.concatenate(found_j)
    key = np.unique(np.minimum(i, j) * n + np.maximum(i, j))
    return key // n, key % n
