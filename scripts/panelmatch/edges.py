"""Edge maps: resize first, then Canny (the order matters; see the README).

Canny on the full-size panel followed by a resize loses most thin lines; resizing first keeps
the drawing's outlines at the comparison resolution.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from panelmatch import resampling

#: Resampling filters accepted by `resample` (Pillow's names, lower case): nearest, and
#: the convolution filters that run compiled (resampling.PILLOW).
RESAMPLE = {"nearest": Image.Resampling.NEAREST, **resampling.PILLOW}

#: How colour reaches Canny: per channel (the gradient is the largest of R, G and B, as the
#: study did by running Canny on the 3-channel image) or on a grey conversion.
CHANNELS = ("rgb", "gray")


def resize(
    rgb: npt.NDArray[np.uint8], size: tuple[int, int], resample: str
) -> npt.NDArray[np.uint8]:
    """Resize an RGB array (h, w, 3) to `size` = (width, height) with a named filter:
    Pillow's ``Image.resize`` arithmetic, compiled, its two passes in the cheaper order
    (``resampling.resize`` with ``exact=False``: within one level of Pillow's result with
    the box filter, in a third of the time); ``nearest`` is Pillow's own."""
    if resample not in RESAMPLE:
        raise ValueError(f"resample must be one of {sorted(RESAMPLE)}, got {resample!r}")
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    if resample in resampling.PILLOW:
        return resampling.resize(rgb, size, resample, exact=False)
    width, height = size
    if width < 1 or height < 1:
        raise ValueError(f"size must be positive, got {size}")
    img = Image.fromarray(rgb, "RGB")
    return np.asarray(img.resize((width, height), RESAMPLE[resample]), dtype=np.uint8)


def canny(
    rgb: npt.NDArray[np.uint8], low: float, high: float, channels: str
) -> npt.NDArray[np.bool_]:
    """Canny edges of an RGB array (h, w, 3) as a boolean array (h, w).

    `low` and `high` are the hysteresis thresholds on the gradient magnitude (OpenCV's L1
    norm, Sobel aperture 3).
    """
    if channels not in CHANNELS:
        raise ValueError(f"channels must be one of {CHANNELS}, got {channels!r}")
    if not 0 <= low <= high:
        raise ValueError(f"need 0 <= low <= high, got low={low}, high={high}")
    src = np.ascontiguousarray(rgb, dtype=np.uint8)
    if channels == "gray":
        src = cv2.cvtColor(src, cv2.COLOR_RGB2GRAY)
    else:
        src = cv2.cvtColor(src, cv2.COLOR_RGB2BGR)
    return cv2.Canny(src, float(low), float(high)) > 0


def edge_map(
    rgb: npt.NDArray[np.uint8],
    size: tuple[int, int],
    resample: str,
    low: float,
    high: float,
    channels: str,
) -> npt.NDArray[np.bool_]:
    """Resize to `size` = (width, height), then Canny: boolean array of shape (height, width)."""
    return canny(resize(rgb, size, resample), low, high, channels)


def silhouette(alpha: npt.NDArray[np.uint8] | None, size: tuple[int, int]) -> npt.NDArray[np.bool_]:
    """The silhouette of a frame at `size` = (width, height): the pixels whose alpha (h, w),
    box-resized, is at least half opaque. An opaque frame (`alpha` None) is all silhouette.
    """
    width, height = size
    if width < 1 or height < 1:
        raise ValueError(f"size must be positive, got {size}")
    if alpha is None:
        return np.ones((height, width), dtype=bool)
    img = Image.fromarray(np.ascontiguousarray(alpha, dtype=np.uint8), "L")
    return np.asarray(img.resize((width, height), Image.Resampling.BOX)) >= 128


def black_and_white(rgb: npt.NDArray[np.uint8], threshold: int) -> npt.NDArray[np.bool_]:
    """Black pixels of an RGB array (h, w, 3): grey level (ITU-R 601) below `threshold`.

    The original study's first baseline compared these pixel by pixel.
    """
    if not 0 <= threshold <= 256:
        raise ValueError(f"threshold must be in 0..256, got {threshold}")
    grey = cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.uint8), cv2.COLOR_RGB2GRAY)
    return grey < threshold
