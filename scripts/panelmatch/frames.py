"""Decode the frames of an image file into RGB arrays (and the alpha of transparent ones).

Palette, grey, 16-bit, CMYK and RGBA images all become ``uint8`` arrays of shape
``(height, width, 3)``. Transparent pixels are composited onto a fixed background colour so
that a sprite on a transparent background looks the same wherever it is reused, whatever
colour its transparent pixels store; the alpha channel itself is kept beside the RGB array
(:class:`Frame`), for the silhouette metric.

Which frames of an animation are kept is the frame mode (:data:`MODES`): the first frame;
every frame; or `count` frames spread evenly. A frame that differs from the last kept frame
by at most `same` (the mean absolute difference of its RGB values, 0-255) is a repeat of it
and is not kept, so an animation that holds still costs one frame.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

import cv2
import numpy as np
import numpy.typing as npt
import pandas as pd
from PIL import Image, ImageOps

from panelmatch.settings import FrameSelection

RGB = npt.NDArray[np.uint8]


class FrameError(ValueError):
    """The file is not an image this stage can use; the message says why."""


class Frame(NamedTuple):
    """One kept frame: its index in the file, its RGB array (h, w, 3) with transparency
    composited, and its alpha (h, w) as uint8, or None when the frame is opaque."""

    index: int
    rgb: RGB
    alpha: npt.NDArray[np.uint8] | None


class Decoded(NamedTuple):
    """The kept frames of a file, and the frames that could not be decoded: (index, why).

    A frame of an animation that cannot be decoded ends the animation there (a GIF's
    frames build on each other): the frames before it are kept, and it is listed.
    """

    kept: list[Frame]
    broken: list[tuple[int, str]]


@contextlib.contextmanager
def _pixel_limit():
    """Pillow's own pixel limit, restored on leaving: :func:`select` lifts it to open a
    file (the first frame's declared size is checked with a message naming
    ``frames.max_pixels``), then sets it from ``max_pixels`` for the later frames."""
    saved = Image.MAX_IMAGE_PIXELS
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def _too_large(width: int, height: int, max_pixels: int, what: str = "image") -> str:
    return (
        f"{what} too large: {width}x{height} = {width * height} pixels exceeds "
        f"frames.max_pixels ({max_pixels})"
    )


def parse_colour(value: Sequence[int] | str) -> tuple[int, int, int]:
    """An RGB triple from ``[r, g, b]`` or ``"#rrggbb"``; raises ValueError otherwise."""
    if isinstance(value, str):
        text = value.lstrip("#")
        if len(text) != 6:
            raise ValueError(f"colour {value!r} is not #rrggbb")
        try:
            return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))
        except ValueError as exc:
            raise ValueError(f"colour {value!r} is not #rrggbb") from exc
    triple = tuple(int(v) for v in value)
    if len(triple) != 3 or not all(0 <= v <= 255 for v in triple):
        raise ValueError(f"colour {value!r} is not three integers in 0..255")
    return triple  # type: ignore[return-value]


#: Frame modes: which frames of an animated image are kept.
MODES = ("first", "all", "sample")


def first_frame(data: bytes, background: tuple[int, int, int], max_pixels: int) -> RGB:
    """The first frame of the image in `data` as RGB, alpha composited onto `background`.

    Raises FrameError when the data is not a decodable image, or when its declared size
    exceeds `max_pixels` (checked before decoding, so a decompression bomb costs nothing).
    """
    return select(data, background, max_pixels, "first", 1, 0.0, 1).kept[0].rgb


def sample_indices(n_frames: int, count: int) -> list[int]:
    """`count` frame indices spread evenly over `n_frames` (first and last included)."""
    if n_frames < 1 or count < 1:
        raise ValueError(f"need n_frames >= 1 and count >= 1, got {n_frames}, {count}")
    if count == 1:
        return [0]
    return sorted({round(k * (n_frames - 1) / (count - 1)) for k in range(count)})


def repeats(a: RGB, b: RGB, same: float) -> bool:
    """Whether frame `b` repeats frame `a`: same shape and a mean absolute difference of
    the RGB values of at most `same`."""
    if a.shape != b.shape:
        return False
    return float(cv2.norm(a, b, cv2.NORM_L1)) <= same * a.size


def select(
    data: bytes,
    background: tuple[int, int, int],
    max_pixels: int,
    mode: str,
    count: int,
    same: float,
    min_side: int,
    only: Sequence[int] | None = None,
) -> Decoded:
    """The kept frames of the image in `data` (in file order), and its broken frames.

    `mode` is one of :data:`MODES`; `count` is the number of frames of ``sample``; `same`
    the repeat tolerance (see the module docstring). With `only`, exactly the frames of
    these indices are decoded (as a later stage re-reads the frames an earlier one kept),
    and any of them that cannot be decoded raises FrameError. Raises FrameError when the
    data is not a decodable image, when its first wanted frame cannot be decoded, when
    its declared size exceeds `max_pixels` (checked before decoding: a decompression bomb
    costs nothing), or when a side is shorter than `min_side` (too small to compare: a 1x1
    pixel or a 2-pixel strip would match any other such image).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if not data:
        raise FrameError("empty file")
    with warnings.catch_warnings(), _pixel_limit():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        Image.MAX_IMAGE_PIXELS = None  # the first frame's size is checked below
        try:
            img = Image.open(io.BytesIO(data))
        except Image.UnidentifiedImageError as exc:
            raise FrameError("not a recognised image format") from exc
        except (OSError, ValueError, SyntaxError) as exc:
            raise FrameError(f"unreadable image header ({exc})") from exc
        width, height = img.size
        if width < 1 or height < 1:
            raise FrameError(f"image has no pixels ({width}x{height})")
        if width * height > max_pixels:
            raise FrameError(_too_large(width, height, max_pixels))
        if min(width, height) < min_side:
            raise FrameError(
                f"too small to compare: {width}x{height} pixels, a side under "
                f"frames.min_side ({min_side})"
            )
        broken: list[tuple[int, str]] = []
        if only is not None:
            wanted = sorted(set(only))
        elif mode == "first":
            wanted = [0]
        else:
            n, why = _frame_count(img)
            if not why and img.format == "GIF" and not data.rstrip(b"\0").endswith(b";"):
                why = "truncated: the file ends before its trailer"
            if why:
                broken.append((n, why))
            wanted = list(range(n)) if mode == "all" else sample_indices(max(n, 1), count)
        # every later frame's declared size is checked before it is decoded: seeking reads
        # its header, and Pillow refuses a GIF canvas enlarged past twice its limit
        Image.MAX_IMAGE_PIXELS = max_pixels / 2
        kept: list[Frame] = []
        for index in wanted:
            try:
                img.seek(index)
                if img.size[0] * img.size[1] > max_pixels:
                    raise Image.DecompressionBombError(_too_large(*img.size, max_pixels))
                img.load()
                rgb, alpha = to_rgb_alpha(img, background)
            except Image.DecompressionBombError as exc:
                why = str(exc)
                if "frames.max_pixels" not in why:
                    why = f"image too large: {why} (frames.max_pixels is {max_pixels})"
                if only is not None or not kept:
                    raise FrameError(f"frame {index}: {why}" if index else why) from exc
                return Decoded(kept, [(index, why)])
            except (OSError, ValueError, SyntaxError, EOFError, IndexError) as exc:
                if only is not None or not kept:
                    what = f"frame {index}: " if index else ""
                    raise FrameError(f"corrupt image data ({what}{exc})") from exc
                return Decoded(kept, [(index, f"corrupt image data ({exc})")])
            if only is None and kept and repeats(kept[-1].rgb, rgb, same):
                continue
            kept.append(Frame(index, rgb, alpha))
        return Decoded(kept, broken)


def _frame_count(img: Image.Image) -> tuple[int, str]:
    """The number of frames of an open image, and why counting stopped short ('' when it
    did not): a frame whose header cannot be read ends the count there. (A GIF cut short
    looks to Pillow like one that ended; the caller checks for its trailer.)"""
    try:
        return getattr(img, "n_frames", 1), ""
    except (OSError, ValueError, SyntaxError, EOFError, IndexError):
        pass  # Pillow reads every frame's header to count them; one is broken
    n = 0
    while True:
        try:
            img.seek(n)
        except EOFError:
            return n, ""
        except (OSError, ValueError, SyntaxError, IndexError) as exc:
            return n, f"corrupt image data ({type(exc).__name__}: {exc})"
        n += 1


def to_rgb(img: Image.Image, background: tuple[int, int, int]) -> RGB:
    """Convert any PIL image mode to an RGB array, compositing transparency onto `background`.

    EXIF orientation (photos) is applied first.
    """
    return to_rgb_alpha(img, background)[0]


def to_rgb_alpha(
    img: Image.Image, background: tuple[int, int, int]
) -> tuple[RGB, npt.NDArray[np.uint8] | None]:
    """:func:`to_rgb`, and the image's alpha (h, w) as uint8, or None when it has none (no
    alpha channel or transparency, or every pixel opaque)."""
    img = ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = arr.max() if arr.size else 0.0
        scale = 255.0 / top if top > 255 else 1.0
        img = Image.fromarray(np.clip(arr * scale, 0, 255).astype(np.uint8), "L")
    if img.mode == "CMYK":
        img = img.convert("RGB")
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (
        img.mode in ("P", "L", "RGB") and "transparency" in img.info
    )
    alpha = None
    if has_alpha:
        rgba = img.convert("RGBA")
        channel = np.asarray(rgba.getchannel("A"), dtype=np.uint8)
        if channel.min() < 255:
            alpha = channel.copy()
        base = Image.new("RGBA", rgba.size, (*background, 255))
        img = Image.alpha_composite(base, rgba)
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy(), alpha


def thumbnail(rgb: RGB, max_side: int, quality: int = 85) -> tuple[bytes, int, int]:
    """A small JPEG of an RGB array (h, w, 3): (bytes, width, height), its longest side
    `max_side` (never enlarged). Halved while both sides stay at least twice the size
    (OpenCV's bilinear resize at exactly half the size averages each 2x2 block), then
    bilinear to the exact size, then encoded by OpenCV: 0.31 instead of 0.59 ms per
    650x450 panel with Pillow's reduce, resize and JPEG encoder (docs/performance.md);
    at 160 px the difference does not show."""
    if max_side < 1:
        raise ValueError(f"max_side must be >= 1, got {max_side}")
    small = np.ascontiguousarray(rgb, dtype=np.uint8)
    if small.ndim != 3 or small.shape[2] != 3:
        raise ValueError(f"need an RGB array (h, w, 3), got shape {small.shape}")
    height, width = small.shape[:2]
    scale = min(1.0, max_side / max(width, height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    while width >= 2 * size[0] and height >= 2 * size[1]:
        width, height = width // 2, height // 2
        small = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    if (width, height) != size:
        small = cv2.resize(small, size, interpolation=cv2.INTER_LINEAR)
    bgr = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
    ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 BGR image
        raise ValueError(f"OpenCV could not encode a {size[0]}x{size[1]} thumbnail")
    return jpeg.tobytes(), size[0], size[1]


def read_file(
    path: str | os.PathLike, settings: FrameSelection, only: Sequence[int] | None = None
) -> Decoded:
    """:func:`select` on the image file at `path` with the frame selection `settings` (the
    ``frames`` section's background, max_pixels, mode, count, same, min_side). Raises
    OSError or FrameError."""
    with open(path, "rb") as fh:
        data = fh.read()
    return select(
        data,
        parse_colour(settings.background),
        settings.max_pixels,
        settings.mode,
        settings.count,
        settings.same,
        settings.min_side,
        only,
    )


def stored_frames(
    table: pd.DataFrame, paths: Mapping[str, str], settings: FrameSelection
) -> Iterator[tuple[str, int, RGB]]:
    """Decode again the frames a features table kept (its `image` and `frame` columns, the
    frames of an image consecutive): yields (image, frame, RGB) in the table's order.

    `paths` maps each image to its file; `settings` is the run's frame selection.
    Raises FrameError naming the file when a frame cannot be decoded any more (the file
    changed since the features were computed).
    """
    for image, rows in table.groupby("image", sort=False):
        wanted = [int(f) for f in rows["frame"]]
        path = paths[image]
        try:
            decoded = {f.index: f.rgb for f in read_file(path, settings, wanted).kept}
        except (OSError, FrameError) as exc:
            raise FrameError(f"{path}: {exc}") from exc
        for index in wanted:
            yield image, index, decoded[index]
