import numpy as np
import pytest
from panelmatch import resampling
from PIL import Image


def pillow(img, size, name):
    mode = "L" if img.ndim == 2 else "RGB"
    return np.asarray(Image.fromarray(img, mode).resize(size, resampling.PILLOW[name]))


@pytest.mark.parametrize("name", sorted(resampling.FILTERS))
def test_resize_is_pillows_bit_for_bit_and_compiled(name):
    # grey and RGB, shrinking and enlarging, either side first: after the run-time check
    # of a shape, the compiled passes reproduce Pillow themselves (not the fallback)
    resampling.cache_clear()
    rng = np.random.default_rng(len(name))
    decided = 0
    for _ in range(40):
        height, width = (int(v) for v in rng.integers(2, 160, 2))
        size = tuple(int(v) for v in rng.integers(1, 120, 2))
        shape = (height, width, 3) if rng.integers(2) else (height, width)
        images = rng.integers(0, 256, size=(4, *shape), dtype=np.uint8)
        images[:, : height // 2] //= 3  # some structure, not only noise
        for img in images:  # first image: Pillow; second: the check; then the copy alone
            assert np.array_equal(resampling.resize(img, size, name), pillow(img, size, name))
        state = resampling._known.get((shape, size, name))
        assert state != resampling.PILLOW_ONLY, (shape, size)
        decided += state in (True, False)  # else both orders agree on these images
    assert decided >= 30


def test_a_shape_the_copy_gets_wrong_stays_with_pillow(monkeypatch):
    resampling.cache_clear()
    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, size=(3, 50, 70, 3), dtype=np.uint8)
    broken = lambda img, size, name, order: resampling._pillow(img, size, name) ^ 1  # noqa: E731
    monkeypatch.setattr(resampling, "_passes", broken)
    for img in images:
        assert np.array_equal(resampling.resize(img, (10, 10), "box"), pillow(img, (10, 10), "box"))
    assert resampling._known[((50, 70, 3), (10, 10), "box")] == resampling.PILLOW_ONLY


def test_resize_of_a_panel_to_the_comparison_and_hash_sizes():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, size=(450, 650, 3), dtype=np.uint8)
    grey = resampling.grey(rgb)
    for img, size, name in [
        (rgb, (100, 100), "box"),
        (grey, (32, 32), "lanczos"),
        (grey, (9, 8), "lanczos"),
    ]:
        assert np.array_equal(resampling.resize(img, size, name), pillow(img, size, name))
    same = resampling.resize(rgb, (650, 450), "box")
    assert np.array_equal(same, rgb) and same is not rgb


def test_grey_is_pillows_convert_l():
    resampling.cache_clear()
    rng = np.random.default_rng(2)
    for shape in [(1, 1, 3), (7, 3, 3), (450, 650, 3)]:
        rgb = rng.integers(0, 256, size=shape, dtype=np.uint8)
        want = np.asarray(Image.fromarray(rgb, "RGB").convert("L"))
        assert np.array_equal(resampling.grey(rgb), want)
    assert resampling.grey(np.full((2, 2, 3), 255, np.uint8)).tolist() == [[255, 255], [255, 255]]
    assert resampling._grey_checked and resampling._grey_trusted


def test_coefficients_sum_to_one_in_fixed_point():
    starts, counts, k = resampling.coefficients(650, 100, "box")
    assert starts[0] == 0 and starts[-1] + counts[-1] == 650
    sums = k.sum(axis=1)
    assert (abs(sums - (1 << resampling.PRECISION)) <= counts).all()
    # a box average of 6.5 samples: 6 or 7 equal weights
    assert set(counts.tolist()) == {6, 7}


def test_invalid_arguments_are_refused():
    img = np.zeros((4, 4), np.uint8)
    with pytest.raises(ValueError, match="filter"):
        resampling.resize(img, (2, 2), "nearest")
    with pytest.raises(ValueError, match="positive"):
        resampling.resize(img, (0, 2), "box")
    with pytest.raises(ValueError, match="uint8"):
        resampling.resize(img.astype(np.float32), (2, 2), "box")
    with pytest.raises(ValueError, match="uint8"):
        resampling.grey(img)
    with pytest.raises(ValueError, match="sizes"):
        resampling.coefficients(0, 3, "box")


@pytest.mark.parametrize("name", ["box", "bilinear", "hamming"])
def test_inexact_resize_is_within_one_level_of_pillow(name):
    rng = np.random.default_rng(3)
    for shape, size in [((450, 650, 3), (100, 100)), ((90, 30, 3), (20, 50)), ((40, 40), (10, 7))]:
        img = rng.integers(0, 256, shape, dtype=np.uint8)
        got = resampling.resize(img, size, name, exact=False)
        want = pillow(img, size, name)
        assert got.shape == want.shape
        assert np.abs(got.astype(int) - want).max() <= 1
    # where only the width changes, the passes are Pillow's own: the same image exactly
    img = rng.integers(0, 256, (40, 90, 3), dtype=np.uint8)
    assert np.array_equal(
        resampling.resize(img, (30, 40), name, exact=False), pillow(img, (30, 40), name)
    )


def test_inexact_resize_keeps_pillows_order_where_it_may_not_reorder():
    rng = np.random.default_rng(4)
    img = rng.integers(0, 256, (120, 90, 3), dtype=np.uint8)
    # negative lobes (lanczos, bicubic) and a growing height: Pillow's result exactly
    for name, size in [("lanczos", (30, 40)), ("bicubic", (30, 40)), ("box", (30, 200))]:
        assert np.array_equal(
            resampling.resize(img, size, name, exact=False), pillow(img, size, name)
        )


def test_inexact_resize_checks_itself_against_pillow(monkeypatch):
    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, (120, 90, 3), dtype=np.uint8)
    passes = resampling._passes

    calls = []

    def off_by_two(*args, **kwargs):  # a copy that has drifted from Pillow
        calls.append(kwargs.get("across_first", True))
        return np.clip(passes(*args, **kwargs).astype(int) + 2, 0, 255).astype(np.uint8)

    resampling.cache_clear()
    monkeypatch.setattr(resampling, "_passes", off_by_two)
    try:
        for _ in range(3):  # the first call finds the drift; later calls do not use the copy
            got = resampling.resize(img, (30, 40), "box", exact=False)
            assert np.array_equal(got, pillow(img, (30, 40), "box"))
        assert resampling._inexact_trusted[("box", 3)] is False
        assert calls.count(False) == 1  # the reordered passes ran once, for the check
    finally:
        monkeypatch.undo()
        resampling.cache_clear()
    assert (
        np.abs(
            resampling.resize(img, (30, 40), "box", exact=False).astype(int)
            - pillow(img, (30, 40), "box")
        ).max()
        <= 1
    )
    assert resampling._inexact_trusted[("box", 3)] is True
