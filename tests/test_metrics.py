"""Bitmap metrics: mirrored, misalignment-tolerant and inverted distances, searched exactly."""

import numpy as np
import pytest
from panelmatch import bits, metrics

W, H = 24, 16


def random_maps(n, density, seed=0):
    return np.random.default_rng(seed).random((n, H, W)) < density


def dilate_reference(maps, r):
    out = np.zeros_like(maps)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            shifted = np.zeros_like(maps)
            ys = slice(max(dy, 0), H + min(dy, 0))
            yd = slice(max(-dy, 0), H + min(-dy, 0))
            xs = slice(max(dx, 0), W + min(dx, 0))
            xd = slice(max(-dx, 0), W + min(-dx, 0))
            shifted[:, yd, xd] = maps[:, ys, xs]
            out |= shifted
    return out


def tolerant_reference(maps, r):
    grown = dilate_reference(maps, r)
    n = len(maps)
    d = np.zeros((n, n), dtype=np.int64)
    for i in range(n):
        for j in range(n):
            d[i, j] = (maps[i] & ~grown[j]).sum() + (maps[j] & ~grown[i]).sum()
    return d


def test_flip_dilate_invert_match_numpy():
    maps = random_maps(5, 0.2)
    codes = bits.pack(maps)
    assert (bits.unpack(metrics.flip(codes, W, H), W * H) == maps[:, :, ::-1].reshape(5, -1)).all()
    for r in (0, 1, 2):
        got = bits.unpack(metrics.dilate(codes, W, H, r), W * H)
        assert (got == dilate_reference(maps, r).reshape(5, -1)).all()
    inverted = metrics.invert(codes, W * H)
    assert (bits.unpack(inverted, W * H) == ~maps.reshape(5, -1)).all()
    # padding bits stay zero, so they never add distance
    assert bits.popcount(inverted).tolist() == (W * H - maps.reshape(5, -1).sum(1)).tolist()


@pytest.mark.parametrize("radius", [1, 2])
def test_tolerant_distance_is_searched_exactly(radius):
    maps = random_maps(40, 0.08, seed=radius)
    maps[1] = np.roll(maps[0], 1, axis=1)  # a one-pixel shift of image 0
    codes = bits.pack(maps)
    reference = tolerant_reference(maps, radius)
    side = {"t": metrics.coded("edges_tolerant", codes, codes, W, H, radius)}
    for cap in (0, 10, 25, 60):
        i, j, dist = bits.pairs_within(side, side, {"t": cap}, upper_only=True)
        want = [(x, y) for x in range(40) for y in range(x + 1, 40) if reference[x, y] <= cap]
        assert list(zip(i.tolist(), j.tolist(), strict=True)) == want
        assert dist["t"].tolist() == [reference[x, y] for x, y in want]
    # across two different sides too (a shard of two chunks)
    a = {"t": metrics.coded("edges_tolerant", codes[:15], codes[:15], W, H, radius)}
    b = {"t": metrics.coded("edges_tolerant", codes[15:], codes[15:], W, H, radius)}
    i, j, dist = bits.pairs_within(a, b, {"t": 30})
    want = [(x, y) for x in range(15) for y in range(25) if reference[x, 15 + y] <= 30]
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == want


def test_a_shifted_line_costs_nothing_when_tolerant_and_twice_its_length_when_not():
    maps = np.zeros((2, H, W), dtype=bool)
    maps[0, 3:13, 10] = True
    maps[1, 3:13, 11] = True
    codes = bits.pack(maps)
    side = {
        "edges": codes,
        "edges_tolerant": metrics.coded("edges_tolerant", codes, codes, W, H, 1),
    }
    _, _, dist = bits.pairs_within(side, side, {"edges": 100}, upper_only=True)
    assert dist["edges"].tolist() == [20] and dist["edges_tolerant"].tolist() == [0]


def test_mirror_and_inverse_distances():
    maps = random_maps(12, 0.3, seed=5)
    maps[3] = maps[0][:, ::-1]  # a mirrored copy
    maps[7] = ~maps[2]  # a negative
    codes = bits.pack(maps)
    side = {
        "edges": codes,
        "edges_mirror": metrics.coded("edges_mirror", codes, codes, W, H, 1),
        "bw_inverse": metrics.coded("bw_inverse", codes, codes, W, H, 1),
    }
    i, j, dist = bits.pairs_within(side, side, {"edges": W * H}, upper_only=True)
    flat = maps.reshape(12, -1)
    mirrored = maps[:, :, ::-1].reshape(12, -1)
    for x, y, m, inv in zip(i, j, dist["edges_mirror"], dist["bw_inverse"], strict=True):
        assert m == (flat[x] != mirrored[y]).sum() == (mirrored[x] != flat[y]).sum()
        assert inv == W * H - (flat[x] != flat[y]).sum()
    at = {(x, y): k for k, (x, y) in enumerate(zip(i.tolist(), j.tolist(), strict=True))}
    assert dist["edges_mirror"][at[(0, 3)]] == 0 and dist["edges"][at[(0, 3)]] > 0
    assert dist["bw_inverse"][at[(2, 7)]] == 0


def test_names_and_errors():
    assert metrics.names(["edges_mirror", "edges"], ["phash"], ["dhash"]) == [
        "edges",
        "edges_mirror",
        "phash",
        "edges_dhash",
        "silhouette",
        "same_art",
        "lines",
        "hue",
        "tone",
        "grey",
    ]
    with pytest.raises(ValueError, match="must include edges"):
        metrics.names(["bw"], [], [])
    with pytest.raises(ValueError, match="unknown bitmap"):
        metrics.names(["edges", "sobel"], [], [])
    with pytest.raises(ValueError, match="not a bitmap metric"):
        metrics.coded("phash", np.zeros((1, 1), np.uint64), None, 8, 8, 1)
    assert metrics.max_distance("edges_tolerant", 100, 100, 0) == 20000
    assert metrics.max_distance("phash", 100, 100, 64) == 64
    assert metrics.max_distance("hue", 100, 100, 0) == 1.0
    assert metrics.max_distance("tone", 100, 100, 0) == 1.0
