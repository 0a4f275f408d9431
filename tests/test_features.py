"""Frames, edge maps and hashes on small images with known answers."""

import io

import numpy as np
import pytest
from conftest import REAL_PANELS
from panelmatch import edges, frames, hashes
from PIL import Image

WHITE = (255, 255, 255)


def select(data, background, max_pixels, mode="first", count=1, same=0.0, only=None, min_side=1):
    """frames.select with the test's choices of the frame selection."""
    return frames.select(data, background, max_pixels, mode, count, same, min_side, only)


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def square(size=100, box=(30, 30, 70, 70), fg=(0, 0, 0), bg=WHITE) -> np.ndarray:
    arr = np.full((size, size, 3), bg, dtype=np.uint8)
    x0, y0, x1, y1 = box
    arr[y0:y1, x0:x1] = fg
    return arr


def test_first_frame_of_palette_gif_is_rgb():
    rgb = square()
    data = encode(Image.fromarray(rgb).quantize(4), "GIF")
    out = frames.first_frame(data, WHITE, 10**6)
    assert out.dtype == np.uint8 and out.shape == (100, 100, 3)
    assert np.array_equal(out, rgb)


def test_first_frame_of_animation_is_the_first():
    a, b = Image.fromarray(square()), Image.fromarray(square(box=(0, 0, 10, 10)))
    data = encode(a, "GIF", save_all=True, append_images=[b], duration=100)
    assert np.array_equal(frames.first_frame(data, WHITE, 10**6), square())


def test_alpha_is_composited_onto_background():
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[:2, :, :] = (255, 0, 0, 255)  # opaque red top half, transparent bottom half
    data = encode(Image.fromarray(rgba, "RGBA"), "PNG")
    out = frames.first_frame(data, (0, 0, 255), 10**6)
    assert (out[:2] == (255, 0, 0)).all() and (out[2:] == (0, 0, 255)).all()


def test_gif_transparency_is_composited():
    img = Image.fromarray(square()).quantize(4)
    index_of_white = img.getpixel((0, 0))
    data = encode(img, "GIF", transparency=index_of_white)
    out = frames.first_frame(data, (10, 200, 10), 10**6)
    assert tuple(out[0, 0]) == (10, 200, 10) and tuple(out[50, 50]) == (0, 0, 0)


@pytest.mark.parametrize("mode", ["L", "CMYK", "I;16", "1"])
def test_other_modes_become_rgb(mode):
    img = Image.fromarray(square()).convert("L")
    if mode == "I;16":
        img = Image.fromarray(np.asarray(img).astype(np.uint16) * 257)
        data = encode(img, "PNG")
    else:
        img = img.convert(mode)
        data = encode(img, "TIFF" if mode == "CMYK" else "PNG")
    out = frames.first_frame(data, WHITE, 10**6)
    assert out.shape == (100, 100, 3) and out[50, 50].max() < 30 and out[0, 0].min() > 225


@pytest.mark.parametrize(
    "data,reason",
    [
        (b"", "empty file"),
        (b"this is text, not a GIF\n", "not a recognised image"),
        (b"GIF89a" + b"\x00" * 7, "image"),
    ],
)
def test_bad_data_raises_frame_error(data, reason):
    with pytest.raises(frames.FrameError, match=reason):
        frames.first_frame(data, WHITE, 10**6)


def test_truncated_image_is_an_error():
    data = encode(Image.fromarray(square(size=200)), "PNG")
    with pytest.raises(frames.FrameError, match="corrupt|unreadable"):
        frames.first_frame(data[: len(data) // 2], WHITE, 10**6)


def test_pixel_limit_is_checked_before_decoding():
    data = encode(Image.new("L", (300, 300)), "PNG")
    with pytest.raises(frames.FrameError, match=r"90000 pixels exceeds frames.max_pixels \(1000\)"):
        frames.first_frame(data, WHITE, 1000)


def test_max_pixels_is_the_only_limit():
    # 90 megapixels: over Pillow's own limit (89.5 MP), under frames.max_pixels
    big = Image.new("L", (9000, 10000), 255)
    assert 9000 * 10000 > Image.MAX_IMAGE_PIXELS
    data = encode(big, "PNG")
    frame = select(data, WHITE, 100_000_000).kept[0]
    assert frame.rgb.shape == (10000, 9000, 3)
    assert Image.MAX_IMAGE_PIXELS == 89478485  # Pillow's limit is left as it was
    with pytest.raises(frames.FrameError, match=r"frames.max_pixels \(50000000\)"):
        select(data, WHITE, 50_000_000)


def test_alpha_is_kept_beside_the_composited_frame():
    sprite = Image.new("RGBA", (20, 10), (0, 0, 0, 0))  # transparent black
    sprite.paste((200, 30, 30, 255), (5, 2, 15, 8))
    other = Image.new("RGBA", (20, 10), (255, 255, 255, 0))  # transparent white
    other.paste((200, 30, 30, 255), (5, 2, 15, 8))
    a = select(encode(sprite, "PNG"), WHITE, 10**6).kept[0]
    b = select(encode(other, "PNG"), WHITE, 10**6).kept[0]
    # whatever colour the transparent pixels store, they composite to the background
    assert (a.rgb == b.rgb).all() and (a.rgb[0, 0] == WHITE).all()
    assert (a.alpha == b.alpha).all() and a.alpha[0, 0] == 0 and a.alpha[5, 10] == 255
    opaque = select(encode(Image.new("RGB", (20, 10)), "PNG"), WHITE, 10**6).kept[0]
    assert opaque.alpha is None
    sil = edges.silhouette(a.alpha, (10, 10))
    assert sil.shape == (10, 10) and sil[5, 5] and not sil[0, 0]
    assert edges.silhouette(None, (4, 3)).all()


def test_parse_colour():
    assert frames.parse_colour("#ff8000") == (255, 128, 0)
    assert frames.parse_colour([1, 2, 3]) == (1, 2, 3)
    with pytest.raises(ValueError):
        frames.parse_colour("#ff80")


def test_edge_map_outlines_a_square():
    e = edges.edge_map(square(size=200, box=(60, 60, 140, 140)), (100, 100), "box", 100, 200, "rgb")
    assert e.shape == (100, 100) and e.dtype == bool
    ys, xs = np.nonzero(e)
    # edges lie on the square's outline (30..70 at this size), nowhere else
    assert 28 <= xs.min() <= 31 and 68 <= xs.max() <= 71 and 28 <= ys.min() <= 31
    assert not e[40:60, 40:60].any()  # nothing inside
    assert 100 < e.sum() < 320


def test_edge_map_size_is_width_by_height():
    assert edges.edge_map(square(), (40, 20), "bilinear", 50, 100, "rgb").shape == (20, 40)


def test_resize_before_canny_keeps_thin_lines():
    """The study's lesson: Canny at full size then resizing loses thin lines."""
    big = np.full((800, 800, 3), 255, dtype=np.uint8)
    for x in range(101, 800, 97):
        big[:, x : x + 3] = 0  # a grid of 3-pixel ink lines
    for y in range(53, 800, 89):
        big[y : y + 3, :] = 0
    resized_first = edges.edge_map(big, (100, 100), "box", 100, 200, "rgb")
    full = edges.canny(big, 100, 200, "rgb")
    canny_first = np.asarray(
        Image.fromarray(full).resize((100, 100), Image.Resampling.NEAREST), dtype=bool
    )
    assert resized_first.sum() > 3 * canny_first.sum()


def test_recolour_keeps_edges_rgb_channels():
    a = square(fg=(200, 30, 30), bg=(240, 240, 200))
    b = square(fg=(30, 30, 200), bg=(200, 240, 240))
    ea = edges.edge_map(a, (100, 100), "box", 100, 200, "rgb")
    eb = edges.edge_map(b, (100, 100), "box", 100, 200, "rgb")
    assert ea.sum() > 0 and (ea != eb).sum() < 0.1 * ea.sum()


def test_edge_arguments_are_validated():
    with pytest.raises(ValueError, match="resample"):
        edges.resize(square(), (10, 10), "fancy")
    with pytest.raises(ValueError, match="low <= high"):
        edges.canny(square(), 200, 100, "rgb")
    with pytest.raises(ValueError, match="channels"):
        edges.canny(square(), 1, 2, "hsv")


def test_ahash_of_half_dark_image():
    arr = np.full((64, 64, 3), 255, dtype=np.uint8)
    arr[:, :32] = 0
    h = hashes.perceptual_hashes(arr, ["ahash"], 8)["ahash"].reshape(8, 8)
    assert (~h[:, :4]).all() and h[:, 4:].all()


def test_hashes_identical_images_agree_and_sizes():
    rgb = square(size=120)
    out = hashes.perceptual_hashes(rgb, list(hashes.METHODS), 8)
    again = hashes.perceptual_hashes(rgb.copy(), list(hashes.METHODS), 8)
    for m in hashes.METHODS:
        assert out[m].dtype == bool and out[m].size == hashes.hash_bits(m, 8)
        assert np.array_equal(out[m], again[m])
    assert hashes.hash_bits("phash", 16) == 256 and hashes.hash_bits("colorhash", 8) == 42


def test_hash_arguments_are_validated():
    with pytest.raises(ValueError, match="power of two"):
        hashes.check("whash", 12)
    with pytest.raises(ValueError, match="one of"):
        hashes.check("md5", 8)


def imagehash_bits(rgb, size):
    import imagehash

    img = Image.fromarray(rgb, "RGB")
    want = {
        "ahash": imagehash.average_hash(img, size),
        "phash": imagehash.phash(img, size),
        "dhash": imagehash.dhash(img, size),
        "whash": imagehash.whash(img, size),
        "colorhash": imagehash.colorhash(img, binbits=hashes.COLOR_BINBITS),
    }
    return {m: np.asarray(v.hash, dtype=bool).ravel() for m, v in want.items()}


def test_hashes_equal_imagehash_on_the_rgb_image():
    """One grey conversion shared across methods, and the matrix-product Lanczos resize,
    change no bit (shrinking, enlarging, odd sizes, two hash sizes)."""
    rng = np.random.default_rng(4)
    for shape in [(450, 650, 3), (97, 131, 3), (650, 450, 3), (7, 5, 3)]:
        rgb = rng.integers(0, 256, size=shape, dtype=np.uint8)
        rgb[: shape[0] // 2] //= 3  # some structure, not only noise
        for size in (8, 16):
            got = hashes.perceptual_hashes(rgb, list(hashes.METHODS), size)
            for method, value in imagehash_bits(rgb, size).items():
                assert (got[method] == value).all(), (shape, size, method)


@pytest.mark.skipif(not REAL_PANELS.is_dir(), reason="shared real panels not present")
def test_hashes_equal_imagehash_on_the_real_panels():
    for path in sorted(REAL_PANELS.glob("*.gif")):
        rgb = frames.first_frame(path.read_bytes(), WHITE, 10**8)
        got = hashes.perceptual_hashes(rgb, ["phash", "dhash", "ahash"], 8)
        want = imagehash_bits(rgb, 8)
        for method in got:
            assert (got[method] == want[method]).all(), (path.name, method)
