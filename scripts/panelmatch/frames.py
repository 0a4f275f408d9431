"""Decode the frames of an image file into RGB arrays.

Palette, grey, 16-bit, CMYK and RGBA images all become ``uint8`` arrays of shape
``(height, width, 3)``. Transparent pixels are composited onto a fixed background colour so
that a sprite on a transparent background looks the same wherever it is reused.

Which frames of an animation are kept is the frame mode (:data:`MODES`): the first frame;
every frame; or `count` frames spread evenly. A frame that differs from the last kept frame
by at most `same` (the mean absolute difference of its RGB values, 0-255) is a repeat of it
and is not kept, so an animation that holds still costs one frame.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence

import cv2
import numpy as np
import numpy.typing as npt
import pandas as pd
from PIL import Image, ImageOps

RGB = npt.NDArray[np.uint8]


class FrameError(ValueError):
    """The file is not an image this stage can use; the message says why."""


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
    return select(data, background, max_pixels)[0][1]


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
    mode: str = "first",
    count: int = 1,
    same: float = 0.0,
    only: Sequence[int] | None = None,
) -> list[tuple[int, RGB]]:
    """The kept frames of the image in `data`: (index in the file, RGB array) in order.

    `mode` is one of :data:`MODES`; `count` is the number of frames of ``sample``; `same`
    the repeat tolerance (see the module docstring). With `only`, exactly the frames of
    these indices are decoded (as a later stage re-reads the frames an earlier one kept).
    Raises FrameError as :func:`first_frame` does.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if not data:
        raise FrameError("empty file")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise FrameError(f"image too large: refused before decoding ({exc})") from exc
        except Image.UnidentifiedImageError as exc:
            raise FrameError("not a recognised image format") from exc
        except (OSError, ValueError, SyntaxError) as exc:
            raise FrameError(f"unreadable image header ({exc})") from exc
        width, height = img.size
        if width < 1 or height < 1:
            raise FrameError(f"image has no pixels ({width}x{height})")
        if width * height > max_pixels:
            raise FrameError(
                f"image too large: {width}x{height} pixels exceeds the limit of {max_pixels}"
            )
        try:
            if only is not None:
                wanted = sorted(set(only))
            elif mode == "first":
                wanted = [0]
            else:
                n = getattr(img, "n_frames", 1)
                wanted = list(range(n)) if mode == "all" else sample_indices(n, count)
            kept: list[tuple[int, RGB]] = []
            for index in wanted:
                img.seek(index)
                img.load()
                rgb = to_rgb(img, background)
                if only is None and kept and repeats(kept[-1][1], rgb, same):
                    continue
                kept.append((index, rgb))
            return kept
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise FrameError(f"corrupt image data ({exc})") from exc


def to_rgb(img: Image.Image, background: tuple[int, int, int]) -> RGB:
    """Convert any PIL image mode to an RGB array, compositing transparency onto `background`.

    EXIF orientation (photos) is applied first.
    """
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
    if has_alpha:
        rgba = img.convert("RGBA")
        base = Image.new("RGBA", rgba.size, (*background, 255))
        img = Image.alpha_composite(base, rgba)
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


def thumbnail(rgb: RGB, max_side: int, quality: int = 70) -> tuple[bytes, int, int]:
    """A small WebP of an RGB array (h, w, 3): (bytes, width, height), at most `max_side`."""
    if max_side < 1:
        raise ValueError(f"max_side must be >= 1, got {max_side}")
    img = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="WEBP", quality=quality, method=4)
    return buf.getvalue(), img.width, img.height


def read_file(
    path: str | os.PathLike, settings: Mapping, only: Sequence[int] | None = None
) -> list[tuple[int, RGB]]:
    """:func:`select` on the image file at `path` with the ``frames`` configuration section
    `settings` (background, max_pixels, mode, count, same). Raises OSError or FrameError."""
    with open(path, "rb") as fh:
        data = fh.read()
    return select(
        data,
        parse_colour(settings["background"]),
        settings["max_pixels"],
        settings.get("mode", "first"),
        settings.get("count", 1),
        settings.get("same", 0.0),
        only,
    )


def stored_frames(
    table: pd.DataFrame, paths: Mapping[str, str], settings: Mapping
) -> Iterator[tuple[str, int, RGB]]:
    """Decode again the frames a features table kept (its `image` and `frame` columns, the
    frames of an image consecutive): yields (image, frame, RGB) in the table's order.

    `paths` maps each image to its file; `settings` is the ``frames`` configuration section.
    Raises FrameError naming the file when a frame cannot be decoded any more (the file
    changed since the features were computed).
    """
    for image, rows in table.groupby("image", sort=False):
        wanted = [int(f) for f in rows["frame"]]
        path = paths[image]
        try:
            decoded = dict(read_file(path, settings, wanted))
        except (OSError, FrameError) as exc:
            raise FrameError(f"{path}: {exc}") from exc
        for index in wanted:
            yield image, index, decoded[index]
