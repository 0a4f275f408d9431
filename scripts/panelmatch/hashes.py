"""Perceptual hashes (imagehash) of a frame, as bit rows ready for :func:`bits.pack`."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import imagehash
import numpy as np
import numpy.typing as npt
import scipy.fftpack
from PIL import Image

from panelmatch import metrics

#: Bins per colour channel of imagehash's colour hash (14 channels x 3 bits = 42 bits).
COLOR_BINBITS = 3

_HASHERS: dict[str, Callable[[Image.Image, int], imagehash.ImageHash]] = {
    "ahash": lambda img, n: imagehash.average_hash(img, hash_size=n),
    "phash": lambda img, n: imagehash.phash(img, hash_size=n),
    "dhash": lambda img, n: imagehash.dhash(img, hash_size=n),
    "whash": lambda img, n: imagehash.whash(img, hash_size=n),
    "colorhash": lambda img, n: imagehash.colorhash(img, binbits=COLOR_BINBITS),
}

#: Hash methods accepted in configuration.
METHODS = tuple(_HASHERS)


def hash_bits(method: str, hash_size: int) -> int:
    """Number of bits of one hash of `method` at `hash_size`."""
    check(method, hash_size)
    if method == "colorhash":
        return 14 * COLOR_BINBITS
    return hash_size * hash_size


def check(method: str, hash_size: int) -> None:
    """Raise ValueError when `method` is unknown or `hash_size` does not suit it."""
    if method not in _HASHERS:
        raise ValueError(f"hash method must be one of {list(METHODS)}, got {method!r}")
    if hash_size < 2:
        raise ValueError(f"hash_size must be >= 2, got {hash_size}")
    if method == "whash" and hash_size & (hash_size - 1):
        raise ValueError(f"whash needs a power of two hash_size, got {hash_size}")


#: Fixed-point precision of Pillow's 8-bit resampling (Resample.c: 32 - 8 - 2).
_PRECISION = 22


def _lanczos_kernel(x: float) -> float:
    def sinc(v: float) -> float:
        if v == 0.0:
            return 1.0
        v *= math.pi
        return math.sin(v) / v

    return sinc(x) * sinc(x / 3) if -3.0 <= x < 3.0 else 0.0


@functools.lru_cache(maxsize=256)
def lanczos_weights(in_size: int, out_size: int) -> npt.NDArray[np.float64]:
    """Pillow's fixed-point Lanczos weights from `in_size` to `out_size` samples, as an
    integer-valued matrix (in_size, out_size): Resample.c's precompute_coeffs and
    normalize_coeffs_8bpc, step for step (same double arithmetic, same rounding)."""
    if in_size < 1 or out_size < 1:
        raise ValueError(f"sizes must be positive, got {in_size}, {out_size}")
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 3.0 * filterscale
    weights = np.zeros((in_size, out_size))
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size) - xmin
        k = [_lanczos_kernel((x + xmin - center + 0.5) / filterscale) for x in range(xmax)]
        total = 0.0
        for w in k:
            total += w
        for x, w in enumerate(k):
            v = w / total if total != 0.0 else w
            weights[xmin + x, xx] = int(v * (1 << _PRECISION) + (-0.5 if v < 0 else 0.5))
    return weights


def _fixed_point(t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    # the sums are exact integers (|sum| < 2**53): round, shift and clip as Pillow does
    return np.clip(np.floor((t + (1 << (_PRECISION - 1))) / (1 << _PRECISION)), 0, 255)


def _passes(grey, size, horizontal_first, wide=None):
    """Separable Lanczos passes with 8-bit rounding between them, on a grey image (float64
    or uint8); `wide`: the horizontal pass, when already computed."""
    height, width = grey.shape
    w, h = size
    t = grey if grey.dtype == np.float64 else grey.astype(np.float64)

    def across(t):
        return t if w == width else _fixed_point(t @ lanczos_weights(width, w))

    def down(t):
        return t if h == height else _fixed_point(lanczos_weights(height, h).T @ t)

    if horizontal_first:
        t = down(wide if wide is not None else across(t))
    else:
        t = across(down(t))
    return t.astype(np.uint8)


@functools.lru_cache(maxsize=256)
def _pillow_order(shape: tuple[int, int], size: tuple[int, int]) -> bool | None:
    """Which pass Pillow runs first for this resize (True: horizontal), found once per
    shape on random probes: the order whose result equals Pillow's. None when no probe
    tells the orders apart or neither matches (then Pillow itself is used)."""
    rng = np.random.default_rng(shape[0] * 7919 + shape[1] * 31 + size[0] * 17 + size[1])
    for _ in range(4):
        probe = rng.integers(0, 256, size=shape, dtype=np.uint8)
        want = np.asarray(Image.fromarray(probe, "L").resize(size, Image.Resampling.LANCZOS))
        across = np.array_equal(_passes(probe, size, True), want)
        down = np.array_equal(_passes(probe, size, False), want)
        if across != down:
            return across
        if not across:
            return None
    return None


def lanczos_resize(
    grey: npt.NDArray[np.uint8], sizes: Sequence[tuple[int, int]]
) -> list[npt.NDArray[np.uint8]]:
    """A grey image (height, width) resized to each (width, height) of `sizes`, bit for bit
    as Pillow's ``resize(size, Image.LANCZOS)``, which imagehash uses.

    The passes run as matrix products of exact integer sums, and one product serves the
    horizontal pass of every size (about 2.5x faster than Pillow for a 650x450 panel). The
    order of the passes is Pillow's own, checked once per shape (see _pillow_order).
    """
    shape = (int(grey.shape[0]), int(grey.shape[1]))
    order = {size: _pillow_order(shape, size) for size in sizes}
    first = list(dict.fromkeys(w for (w, h), o in order.items() if o and w != shape[1]))
    wide = {}
    g = grey.astype(np.float64)
    if first:
        product = _fixed_point(g @ np.hstack([lanczos_weights(shape[1], w) for w in first]))
        wide = dict(zip(first, np.split(product, np.cumsum(first)[:-1], axis=1), strict=True))
    out = []
    for size in sizes:
        if order[size] is None:
            resized = Image.fromarray(grey, "L").resize(size, Image.Resampling.LANCZOS)
            out.append(np.asarray(resized))
        else:
            out.append(_passes(g, size, order[size], wide.get(size[0])))
    return out


def _phash(pixels: npt.NDArray[np.uint8], n: int) -> npt.NDArray[np.bool_]:
    # imagehash.phash, step for step (highfreq_factor 4), without its per-call overhead
    dct = scipy.fftpack.dct(scipy.fftpack.dct(pixels, axis=0), axis=1)[:n, :n]
    return dct > np.median(dct)


def _dhash(pixels: npt.NDArray[np.uint8], n: int) -> npt.NDArray[np.bool_]:
    return pixels[:, 1:] > pixels[:, :-1]


def _ahash(pixels: npt.NDArray[np.uint8], n: int) -> npt.NDArray[np.bool_]:
    return pixels > pixels.mean()


#: The same bits as imagehash's functions of these names (tests compare them), computed on
#: the shared grey image: (size of its grey thumbnail, the hash of that thumbnail).
_DIRECT = {
    "phash": (lambda n: (4 * n, 4 * n), _phash),
    "dhash": (lambda n: (n + 1, n), _dhash),
    "ahash": (lambda n: (n, n), _ahash),
}


def perceptual_hashes(
    rgb: npt.NDArray[np.uint8], methods: Sequence[str], hash_size: int
) -> dict[str, npt.NDArray[np.bool_]]:
    """Each method's hash of an RGB array (h, w, 3) as a flat boolean row."""
    img = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    # imagehash converts to grey ("L") first except for the colour hash: convert once and
    # share it (converting an "L" image again is an identical copy, so the bits are the same)
    grey = img.convert("L")
    for method in methods:
        check(method, hash_size)
    direct = [m for m in methods if m in _DIRECT]
    sizes = [_DIRECT[m][0](hash_size) for m in direct]
    thumbs = lanczos_resize(np.asarray(grey), sizes) if direct else []
    out = {m: _DIRECT[m][1](t, hash_size).ravel() for m, t in zip(direct, thumbs, strict=True)}
    for method in methods:
        if method in _DIRECT:
            continue
        source = img if method == "colorhash" else grey
        out[method] = np.asarray(_HASHERS[method](source, hash_size).hash, dtype=bool).ravel()
    return {m: out[m] for m in methods}


def edge_map_hashes(
    edge_map: npt.NDArray[np.bool_], methods: Sequence[str], hash_size: int
) -> dict[str, npt.NDArray[np.bool_]]:
    """Each method's hash of an edge map (height, width) drawn as an image (edges white on
    black), keyed by its metric name ``edges_<method>``."""
    drawn = np.repeat(np.asarray(edge_map, dtype=np.uint8)[:, :, None] * 255, 3, axis=2)
    found = perceptual_hashes(drawn, methods, hash_size)
    return {metrics.EDGE_HASH + m: value for m, value in found.items()}
