"""Pillow's resize and grey conversion, bit for bit, without its per-call overhead.

``Image.resize`` with a convolution filter resamples separably: a horizontal pass, then a
vertical one, each rounding to 8 bits, with fixed-point coefficients (22 fractional bits)
computed from the filter (Pillow's ``Resample.c``: ``precompute_coeffs``,
``normalize_coeffs_8bpc`` and the 8-bit passes). This module computes the same
coefficients, step for step in the same double arithmetic, and runs the passes compiled on
``uint8`` arrays, grey ``(height, width)`` or colour ``(height, width, channels)``, with no
conversion to and from Pillow images.

Pillow runs the two passes in an order it chooses from the shapes (horizontal first for
most, vertical first for many tall images), and the order changes the rounding. So the
copy is trusted only for a (shape, size, filter) it has seen agree with Pillow, at run
time, on a real image: the first image of a shape is resized by Pillow itself; the second
by Pillow and by both orders of the copy, to find the order that gives Pillow's result;
from then on the copy runs alone (when both orders agree with Pillow on three images in a
row, the copy takes Pillow's usual order, horizontal first). A shape whose check finds no
agreeing order (another Pillow build) stays with Pillow. A folder of images that all
differ in shape therefore costs what Pillow costs; a comic, whose panels share a few
shapes, a third of it (docs/performance.md). :func:`grey` is ``Image.convert("L")`` of an
RGB image (ITU-R 601-2 luma in Pillow's 16-bit fixed point), checked against Pillow on the
first image a process converts. ``resize(..., exact=False)``, which the edge maps use, may
run the passes in the cheaper order instead, within one level of Pillow's result and
checked against Pillow once per process (see :func:`resize`).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import numpy.typing as npt
from numba import njit
from PIL import Image

#: Fixed-point precision of Pillow's 8-bit resampling (32 - 8 - 2 bits).
PRECISION = 22


def _box(x: float) -> float:
    return 1.0 if -0.5 < x <= 0.5 else 0.0


def _bilinear(x: float) -> float:
    x = abs(x)
    return 1.0 - x if x < 1.0 else 0.0


_F54, _F46 = float(np.float32(0.54)), float(np.float32(0.46))  # C float literals 0.54f, 0.46f


def _hamming(x: float) -> float:
    x = abs(x)
    if x == 0.0:
        return 1.0
    if x >= 1.0:
        return 0.0
    x *= math.pi
    return math.sin(x) / x * (_F54 + _F46 * math.cos(x))


def _bicubic(x: float) -> float:
    a = -0.5
    x = abs(x)
    if x < 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1
    if x < 2.0:
        return (((x - 5) * x + 8) * x - 4) * a
    return 0.0


def _sinc(x: float) -> float:
    if x == 0.0:
        return 1.0
    x *= math.pi
    return math.sin(x) / x


def _lanczos(x: float) -> float:
    return _sinc(x) * _sinc(x / 3) if -3.0 <= x < 3.0 else 0.0


#: Convolution filters (Pillow's names, lower case): (function, support).
FILTERS = {
    "box": (_box, 0.5),
    "bilinear": (_bilinear, 1.0),
    "hamming": (_hamming, 1.0),
    "bicubic": (_bicubic, 2.0),
    "lanczos": (_lanczos, 3.0),
}

#: Pillow's constant for each of those filters: the reference, and the fallback.
PILLOW = {
    "box": Image.Resampling.BOX,
    "bilinear": Image.Resampling.BILINEAR,
    "hamming": Image.Resampling.HAMMING,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}


@functools.lru_cache(maxsize=4096)
def coefficients(
    in_size: int, out_size: int, name: str
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int32]]:
    """Pillow's fixed-point coefficients for resampling `in_size` samples to `out_size`
    with filter `name`: (first input sample, number of samples, coefficients) per output
    sample; coefficients has shape (out_size, most samples), zero-padded."""
    if name not in FILTERS:
        raise ValueError(f"filter must be one of {sorted(FILTERS)}, got {name!r}")
    if in_size < 1 or out_size < 1:
        raise ValueError(f"sizes must be positive, got {in_size}, {out_size}")
    kernel, support = FILTERS[name]
    scale = float(in_size) / out_size
    filterscale = max(scale, 1.0)
    support *= filterscale
    ss = 1.0 / filterscale
    starts, counts, rows = [], [], []
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)
        n = min(int(center + support + 0.5), in_size) - xmin
        k = [kernel((x + xmin - center + 0.5) * ss) for x in range(n)]
        total = 0.0
        for w in k:
            total += w
        if total != 0.0:
            k = [w / total for w in k]
        starts.append(xmin)
        counts.append(n)
        rows.append([int(w * (1 << PRECISION) + (-0.5 if w < 0 else 0.5)) for w in k])
    table = np.zeros((out_size, max(counts)), dtype=np.int32)
    for xx, row in enumerate(rows):
        table[xx, : len(row)] = row
    return np.array(starts, np.int64), np.array(counts, np.int64), table


@njit(cache=True, inline="always")
def _clip8(acc):  # pragma: no cover - numba
    v = acc >> PRECISION
    return 0 if v < 0 else (255 if v > 255 else v)


@njit(cache=True)
def _across(img, starts, counts, k):  # pragma: no cover - numba
    # the horizontal pass on an RGB image (height, width, 3), in Pillow's int32 sums
    height = img.shape[0]
    out = np.empty((height, len(starts), 3), np.uint8)
    half = np.int32(1 << (PRECISION - 1))
    for yy in range(height):
        row = img[yy]
        for xx in range(len(starts)):
            s, n = starts[xx], counts[xx]
            kk = k[xx]
            a0 = a1 = a2 = half
            for x in range(n):
                w = kk[x]
                a0 += np.int32(row[s + x, 0]) * w
                a1 += np.int32(row[s + x, 1]) * w
                a2 += np.int32(row[s + x, 2]) * w
            out[yy, xx, 0] = _clip8(a0)
            out[yy, xx, 1] = _clip8(a1)
            out[yy, xx, 2] = _clip8(a2)
    return out


@njit(cache=True)
def _down(img, starts, counts, k):  # pragma: no cover - numba
    # the vertical pass on rows flattened to (height, width * channels)
    _, size = img.shape
    out = np.empty((len(starts), size), np.uint8)
    acc = np.empty(size, np.int32)
    for yy in range(len(starts)):
        s, n = starts[yy], counts[yy]
        acc[:] = 1 << (PRECISION - 1)
        for y in range(n):
            w = k[yy, y]
            row = img[s + y]
            for x in range(size):
                acc[x] += np.int32(row[x]) * w
        for x in range(size):
            out[yy, x] = _clip8(acc[x])
    return out


def _pass(t: npt.NDArray[np.uint8], size: tuple[int, int], name: str, across: bool):
    """One pass on (height, width, 1 or 3) unless that side already has its size. A grey
    image's horizontal pass runs as a vertical pass on its transpose, so that both passes
    are vectorised along rows."""
    height, width, channels = t.shape
    if across and width != size[0]:
        if channels == 1:
            turned = np.ascontiguousarray(t[:, :, 0].T)
            return _down(turned, *coefficients(width, size[0], name)).T[:, :, None]
        return _across(np.ascontiguousarray(t), *coefficients(width, size[0], name))
    if not across and height != size[1]:
        flat = np.ascontiguousarray(t).reshape(height, width * channels)
        out = _down(flat, *coefficients(height, size[1], name))
        return out.reshape(size[1], width, channels)
    return t


def _passes(img: npt.NDArray[np.uint8], size: tuple[int, int], name: str, across_first=True):
    t = img if img.ndim == 3 else img[:, :, None]
    t = _pass(_pass(t, size, name, across_first), size, name, not across_first)
    return t if img.ndim == 3 else t[:, :, 0]


def _pillow(img: npt.NDArray[np.uint8], size: tuple[int, int], name: str):
    mode = "L" if img.ndim == 2 else "RGB"
    return np.asarray(Image.fromarray(img, mode).resize(size, PILLOW[name]))


#: (shape, size, filter) -> what is known of it: SEEN (resized once, by Pillow), True or
#: False (the copy's pass order that agrees with Pillow: horizontal first or not), or
#: PILLOW (no order agrees). Bounded: a folder of ever new shapes does not grow it forever.
_known: dict[tuple, object] = {}
_KNOWN_MAX = 20_000
SEEN, PILLOW_ONLY = "seen", "pillow"
#: Images in a row on which both orders give Pillow's result before one is taken.
AMBIGUOUS = 3


def _order(img: npt.NDArray[np.uint8], shape: tuple, size: tuple[int, int], name: str):
    """The pass order to use for this resize (True, False), or None for Pillow itself."""
    key = (shape, size, name)
    state = _known.get(key)
    if state is True or state is False:
        return state
    if state == PILLOW_ONLY:
        return None
    if state is None:
        if len(_known) >= _KNOWN_MAX:
            _known.clear()
        _known[key] = SEEN
        return None
    if state == SEEN or isinstance(state, int):  # check the copy against Pillow
        want = _pillow(np.ascontiguousarray(img), size, name)
        agree = [o for o in (True, False) if np.array_equal(_passes(img, size, name, o), want)]
        if len(agree) == 1:
            _known[key] = agree[0]
        elif not agree:
            _known[key] = PILLOW_ONLY
        else:  # this image cannot tell the orders apart: check the next ones
            tries = 1 if state == SEEN else state + 1
            # after AMBIGUOUS images in a row, take Pillow's usual order (horizontal first)
            _known[key] = True if tries >= AMBIGUOUS else tries
        return None
    return None


#: Filters whose weights are never negative: the passes in either order stay within one
#: level of each other (no intermediate overshoot is clipped), so ``exact=False`` may
#: reorder them. The others always take Pillow's order.
REORDERABLE = frozenset({"box", "bilinear", "hamming"})
#: (filter, grey or RGB) -> whether the reordered passes agreed with Pillow within one
#: level on this process's first image of that kind (the run-time check of the copy).
_inexact_trusted: dict[tuple[str, int], bool] = {}


def _inexact(img: npt.NDArray[np.uint8], size: tuple[int, int], name: str):
    """The reordered resize, or None where it is not to be used (see `resize`)."""
    if name not in REORDERABLE or size[1] >= img.shape[0]:
        return None  # only a shrinking height makes the vertical pass first cheaper
    key = (name, img.ndim)
    if _inexact_trusted.get(key) is False:
        return None  # found off once: do not compute what will not be used
    out = _passes(img, size, name, across_first=False)
    if key not in _inexact_trusted:
        want = _pillow(np.ascontiguousarray(img), size, name)
        _inexact_trusted[key] = bool(np.abs(out.astype(np.int16) - want).max() <= 1)
    return out if _inexact_trusted[key] else None


def resize(
    img: npt.NDArray[np.uint8], size: tuple[int, int], name: str, exact: bool = True
) -> npt.NDArray[np.uint8]:
    """A grey (height, width) or RGB (height, width, 3) ``uint8`` array resized to `size` =
    (width, height) with filter `name`: exactly ``Image.resize(size, filter)``.

    With `exact` False and a filter of `REORDERABLE`, the passes run vertical first when
    the height shrinks (the horizontal pass of an RGB image is the slow one: it cannot run
    vectorised along rows, and it then reads fewer rows): 0.22 instead of 0.63 ms for a
    650x450 panel to 100x100. The intermediate image is rounded after the other pass, so a
    pixel can differ from Pillow's by one level. The first such resize of a process (per
    filter, grey or RGB) is compared with Pillow; if any pixel is further than one level
    off, the exact path is used from then on. Other filters and sizes take the exact
    path."""
    if name not in FILTERS:
        raise ValueError(f"filter must be one of {sorted(FILTERS)}, got {name!r}")
    width, height = size = (int(size[0]), int(size[1]))
    if width < 1 or height < 1:
        raise ValueError(f"size must be positive, got {size}")
    img = np.asarray(img)
    if img.dtype != np.uint8 or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 3):
        raise ValueError(f"need a uint8 array (h, w) or (h, w, 3), got {img.dtype} {img.shape}")
    shape = tuple(int(v) for v in img.shape)
    if shape[:2] == (height, width):
        return img.copy()
    if not exact:
        out = _inexact(img, size, name)
        if out is not None:
            return out
    order = _order(img, shape, size, name)
    if order is None:
        return _pillow(np.ascontiguousarray(img), size, name)
    return _passes(img, size, name, order)


def cache_clear() -> None:
    """Forget every checked shape (and the coefficients and the grey check): as in a new
    process."""
    global _grey_checked
    _known.clear()
    _inexact_trusted.clear()
    coefficients.cache_clear()
    _grey_checked = False


@njit(cache=True)
def _grey(flat):  # pragma: no cover - numba
    # on the flat RGB bytes, in unsigned 32-bit arithmetic, so that the loop vectorises
    out = np.empty(flat.size // 3, np.uint8)
    for i in range(out.size):
        r, g, b = np.uint32(flat[3 * i]), np.uint32(flat[3 * i + 1]), np.uint32(flat[3 * i + 2])
        out[i] = (
            r * np.uint32(19595) + g * np.uint32(38470) + b * np.uint32(7471) + np.uint32(0x8000)
        ) >> np.uint32(16)
    return out


_grey_checked = False
_grey_trusted = True


def grey(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Grey levels (height, width) of an RGB ``uint8`` array (height, width, 3), exactly
    as Pillow's ``convert("L")``: (19595 R + 38470 G + 7471 B + 2**15) >> 16. The first
    call of a process compares the copy with Pillow on its image (and on every colour
    value); if they differ, Pillow converts from then on."""
    global _grey_checked, _grey_trusted
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"need a uint8 array (h, w, 3), got {rgb.dtype} {rgb.shape}")
    rgb = np.ascontiguousarray(rgb)
    if not _grey_checked:
        levels = np.arange(256, dtype=np.uint8)
        probe = np.stack(np.meshgrid(levels, levels, levels[::51], indexing="ij"), -1).reshape(
            -1, 1, 3
        )
        _grey_trusted = all(
            np.array_equal(
                _grey(x.reshape(-1)).reshape(x.shape[:2]),
                np.asarray(Image.fromarray(x, "RGB").convert("L")),
            )
            for x in (rgb, np.ascontiguousarray(probe))
        )
        _grey_checked = True
    if not _grey_trusted:
        return np.asarray(Image.fromarray(rgb, "RGB").convert("L"))
    return _grey(rgb.reshape(-1)).reshape(rgb.shape[:2])
