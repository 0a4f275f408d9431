import cv2
import numpy as np
import pytest
from panelmatch import bits, colour, edges, relation


def drawing(colours, text="HELLO"):
    """Flat coloured shapes with black outlines on white, and black lettering."""
    img = np.full((300, 400, 3), 255, np.uint8)
    for k, c in enumerate(colours):
        cv2.rectangle(img, (20 + 90 * k, 60), (90 + 90 * k, 250), c, -1)
        cv2.rectangle(img, (20 + 90 * k, 60), (90 + 90 * k, 250), (0, 0, 0), 2)
    cv2.putText(img, text, (30, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2)
    return img


def test_histogram_shares_of_the_hued_pixels():
    red = np.zeros((50, 80, 3), np.uint8)
    red[..., 0] = 200
    hist = colour.histogram(red)
    assert hist.shape == (colour.BINS,) and hist.dtype == np.float32
    assert hist[0] == pytest.approx(1.0) and hist.sum() == pytest.approx(1.0)
    grey = np.full((50, 80, 3), 128, np.uint8)
    assert not colour.histogram(grey).any()  # no hue: greys, black and white
    # transparent pixels are left out: the blue half is not seen
    half = red.copy()
    half[:, 40:] = (0, 0, 200)
    opaque = np.ones((50, 80), bool)
    opaque[:, 40:] = False
    assert colour.histogram(half)[0] == pytest.approx(0.5, abs=0.02)
    assert colour.histogram(half, opaque)[0] == pytest.approx(1.0)
    # a few tinted pixels of line art are no hue
    specks = grey.copy()
    specks[0, :2] = (255, 0, 0)
    assert not colour.histogram(specks).any()
    with pytest.raises(ValueError, match="expected an"):
        colour.histogram(grey[..., 0])
    with pytest.raises(ValueError, match="does not fit"):
        colour.histogram(grey, opaque[:10])


def test_distances_tell_a_recolouring_from_new_lettering():
    base = drawing([(220, 60, 60), (60, 160, 60), (240, 200, 40), (90, 90, 220)])
    recoloured = drawing([(60, 60, 220), (200, 60, 200), (40, 200, 240), (220, 120, 40)])
    relettered = drawing([(220, 60, 60), (60, 160, 60), (240, 200, 40), (90, 90, 220)], "BYE!")
    grey = cv2.cvtColor(cv2.cvtColor(base, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    frames = [edges.resize(x, (100, 100), "box") for x in (base, recoloured, relettered, grey)]
    hists = np.stack([colour.histogram(x) for x in [*frames, frames[-1]]])
    d = colour.distances(hists, hists, [0, 0, 0, 0, 3], [0, 1, 2, 3, 4])
    assert d.dtype == np.float32
    assert d[0] == 0 and d[4] == 0  # the same colours; two frames without hue
    assert d[1] >= relation.RECOLOUR_HUE > d[2]
    assert d[3] == 1.0  # a colour and a grey version of one drawing
    stored = np.frombuffer(colour.to_bytes(hists[1]), "<f4")
    assert np.array_equal(stored, hists[1])
    with pytest.raises(ValueError, match="bins"):
        colour.to_bytes(np.zeros(3))


def grey_of(rgb):
    small = edges.resize(rgb, (100, 100), "box")
    return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).reshape(1, -1)


def test_tone_tells_a_skin_tone_from_new_lettering():
    """A light and a dark skin tone: the tone distance sees it; new lettering moves it
    less than relation.RECOLOUR_TONE."""
    light = drawing([(247, 222, 206), (247, 222, 206), (60, 60, 60)])
    dark = drawing([(124, 83, 62), (124, 83, 62), (60, 60, 60)])
    relettered = drawing([(247, 222, 206), (247, 222, 206), (60, 60, 60)], "BYE NOW!")
    grey = np.vstack([grey_of(x) for x in (light, dark, relettered)])
    opaque = bits.pack(np.ones(grey.shape, bool))
    tones = colour.tone_histograms(grey, opaque)
    assert tones.shape == (3, colour.TONE_BINS) and tones.dtype == np.float32
    assert np.allclose(tones.sum(axis=1), 1)
    d = colour.distances(tones, tones, [0, 0, 0], [0, 1, 2])
    assert d[0] == 0 and d[1] >= relation.RECOLOUR_TONE > d[2]


def test_tone_histograms_count_opaque_pixels_only():
    grey = np.array([[0, 0, 255, 255], [10, 20, 30, 40]], np.uint8)
    opaque = bits.pack(np.array([[True, True, True, False], [False] * 4]))
    tones = colour.tone_histograms(grey, opaque)
    assert tones[0, 0] == pytest.approx(2 / 3) and tones[0, -1] == pytest.approx(1 / 3)
    assert not tones[1].any()  # a frame with no opaque pixel
    with pytest.raises(ValueError, match="expected grey"):
        colour.tone_histograms(grey.astype(np.int16), opaque)
    with pytest.raises(ValueError, match="do not fit"):
        colour.tone_histograms(grey, opaque[:1])


def test_grey_blocks_and_their_largest_change():
    grey = np.zeros((3, 20 * 30), dtype=np.uint8)
    grey[1] = 2  # the same picture, every level up by 2 (like compression noise)
    grey[2].reshape(20, 30)[:10, :10] = 200  # one block of new lettering
    blocks = colour.grey_blocks(grey, 30, 20)
    assert blocks.shape == (3, 6) and blocks.dtype == np.float32
    change = colour.block_change(blocks, blocks, [0, 0, 1], [1, 2, 2])
    assert change.tolist() == [2.0, 200.0, 198.0]
    tiny = colour.grey_blocks(np.full((1, 5 * 4), 7, np.uint8), 5, 4)
    assert tiny.tolist() == [[7.0]]  # smaller than a block: its whole
    assert colour.block_change(blocks, blocks, [], []).shape == (0,)
    none = colour.grey_blocks(np.zeros((0, 20 * 30), np.uint8), 30, 20)  # a side with no frame
    assert none.shape == (0, 6)
