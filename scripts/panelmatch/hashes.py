"""Perceptual hashes (imagehash) of a frame, as bit rows ready for :func:`bits.pack`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import imagehash
import numpy as np
import numpy.typing as npt
import scipy.fftpack
from PIL import Image

from panelmatch import resampling

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
#: Prefix of the names of the hashes of the edge maps (edges_phash, ...).
EDGE_HASH = "edges_"


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
    for method in methods:
        check(method, hash_size)
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    # imagehash converts to grey ("L") first except for the colour hash: convert once and
    # share it (converting an "L" image again is an identical copy, so the bits are the
    # same), then resizes with Lanczos; both steps are Pillow's, bit for bit (resampling)
    grey = resampling.grey(rgb)
    out = {}
    for method in methods:
        if method in _DIRECT:
            thumb_size, bits = _DIRECT[method]
            thumb = resampling.resize(grey, thumb_size(hash_size), "lanczos")
            out[method] = bits(thumb, hash_size).ravel()
        elif method == "colorhash":
            found = _HASHERS[method](Image.fromarray(rgb, "RGB"), hash_size)
            out[method] = np.asarray(found.hash, dtype=bool).ravel()
        else:
            found = _HASHERS[method](Image.fromarray(grey, "L"), hash_size)
            out[method] = np.asarray(found.hash, dtype=bool).ravel()
    return out


def edge_map_hashes(
    edge_map: npt.NDArray[np.bool_], methods: Sequence[str], hash_size: int
) -> dict[str, npt.NDArray[np.bool_]]:
    """Each method's hash of an edge map (height, width) drawn as an image (edges white on
    black), keyed by its metric name ``edges_<method>``."""
    drawn = np.repeat(np.asarray(edge_map, dtype=np.uint8)[:, :, None] * 255, 3, axis=2)
    found = perceptual_hashes(drawn, methods, hash_size)
    return {EDGE_HASH + m: value for m, value in found.items()}
