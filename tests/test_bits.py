import numpy as np
import pytest
from panelmatch import bits


def reference(a_bool, b_bool):
    return (a_bool[:, None, :] != b_bool[None, :, :]).sum(axis=2)


@pytest.mark.parametrize("nbits", [1, 7, 63, 64, 65, 130, 10_000])
def test_pack_roundtrip_and_padding(nbits):
    rng = np.random.default_rng(nbits)
    x = rng.random((5, nbits)) < 0.3
    codes = bits.pack(x)
    assert codes.dtype == np.uint64 and codes.shape == (5, bits.words_for(nbits))
    assert np.array_equal(bits.unpack(codes, nbits), x)
    assert np.array_equal(bits.popcount(codes), x.sum(axis=1))
    assert np.array_equal(bits.from_bytes(bits.to_bytes(codes), nbits), codes)


def test_pack_flattens_images_row_major():
    img = np.zeros((2, 3, 4), dtype=bool)
    img[0, 0, 1] = True  # bit 1
    img[1, 2, 3] = True  # bit 11
    codes = bits.pack(img)
    assert codes[0, 0] == 1 << 1 and codes[1, 0] == 1 << 11


@pytest.mark.parametrize(
    "na,nb,nbits", [(1, 1, 3), (17, 5, 64), (33, 40, 200), (0, 4, 10), (3, 0, 10)]
)
def test_hamming_matches_reference(na, nb, nbits):
    rng = np.random.default_rng(na * 100 + nb)
    a, b = rng.random((na, nbits)) < 0.5, rng.random((nb, nbits)) < 0.5
    got = bits.hamming(bits.pack(a), bits.pack(b))
    assert got.shape == (na, nb)
    assert np.array_equal(got, reference(a, b))


def test_hamming_rejects_mismatched_widths():
    with pytest.raises(ValueError, match="do not match"):
        bits.hamming(np.zeros((2, 2), np.uint64), np.zeros((2, 3), np.uint64))


def _brute(a, b, caps, upper):
    d = {m: reference(a[m], b[m]) for m in a}
    out = []
    for i in range(len(a["x"])):
        for j in range(len(b["x"])):
            if upper and j <= i:
                continue
            if any(d[m][i, j] <= c for m, c in caps.items()):
                out.append((i, j, d["x"][i, j], d["y"][i, j]))
    return out


@pytest.mark.parametrize("upper", [False, True])
def test_pairs_within_equals_brute_force(upper):
    rng = np.random.default_rng(7)
    n = 23
    a = {"x": rng.random((n, 77)) < 0.2, "y": rng.random((n, 64)) < 0.5}
    b = a if upper else {"x": rng.random((19, 77)) < 0.2, "y": rng.random((19, 64)) < 0.5}
    caps = {"x": 24, "y": 26}
    i, j, dist = bits.pairs_within(
        {m: bits.pack(v) for m, v in a.items()},
        {m: bits.pack(v) for m, v in b.items()},
        caps,
        upper,
    )
    got = list(zip(i.tolist(), j.tolist(), dist["x"].tolist(), dist["y"].tolist(), strict=True))
    assert got == _brute(a, b, caps, upper)
    assert len(got) > 0


def test_cap_is_inclusive_at_the_boundary():
    a = np.zeros((1, 10), dtype=bool)
    b = np.zeros((3, 10), dtype=bool)
    b[0, :3] = True  # distance 3
    b[1, :4] = True  # distance 4
    b[2, :5] = True  # distance 5
    i, j, dist = bits.pairs_within({"x": bits.pack(a)}, {"x": bits.pack(b)}, {"x": 4})
    assert j.tolist() == [0, 1] and dist["x"].tolist() == [3, 4]


def test_uncapped_metric_is_reported_but_does_not_keep_pairs():
    a = np.zeros((1, 8), dtype=bool)
    b = np.ones((1, 8), dtype=bool)
    codes_a = {"x": bits.pack(a), "y": bits.pack(a)}
    codes_b = {"x": bits.pack(b), "y": bits.pack(a)}
    i, _, _ = bits.pairs_within(codes_a, codes_b, {"x": 2})
    assert len(i) == 0
    i, _, dist = bits.pairs_within(codes_a, codes_b, {"y": 0})
    assert len(i) == 1 and dist["x"].tolist() == [8]


def test_pairs_within_empty_and_errors():
    empty = {"x": np.zeros((0, 1), np.uint64)}
    i, j, dist = bits.pairs_within(empty, empty, {"x": 3}, upper_only=True)
    assert len(i) == len(j) == len(dist["x"]) == 0
    with pytest.raises(ValueError, match="unknown metrics"):
        bits.pairs_within(empty, empty, {"z": 1})
    with pytest.raises(ValueError, match="at least one metric"):
        bits.pairs_within(empty, empty, {})


@pytest.mark.parametrize("na,nb", [(1, 1), (3, 7), (4, 4), (5, 9), (13, 2), (0, 5), (6, 0)])
@pytest.mark.parametrize("nbits", [64, 100, 10_000])
def test_within_awkward_sizes(na, nb, nbits):
    """Row counts that are not multiples of the kernel's 4-row blocks, one-word and wide codes."""
    rng = np.random.default_rng(na * 1000 + nb + nbits)
    a = rng.random((na, nbits)) < 0.5
    b = rng.random((nb, nbits)) < 0.5
    b[: min(na, nb)] = a[: min(na, nb)]  # some exact duplicates
    ref = reference(a, b)
    cap = int(np.median(ref)) if ref.size else 0
    i, j = bits.within(bits.pack(a), bits.pack(b), cap)
    expect = np.argwhere(ref <= cap)
    assert np.array_equal(np.stack([i, j], axis=1).reshape(-1, 2), expect.reshape(-1, 2))
    if na == nb:
        i, j = bits.within(bits.pack(a), bits.pack(a), cap, upper_only=True)
        ref = reference(a, a)
        expect = [(x, y) for x, y in np.argwhere(ref <= cap).tolist() if x < y]
        assert list(zip(i.tolist(), j.tolist(), strict=True)) == expect


def test_distances_of_listed_pairs():
    rng = np.random.default_rng(3)
    a, b = rng.random((9, 300)) < 0.5, rng.random((5, 300)) < 0.5
    i, j = np.array([0, 8, 3]), np.array([4, 0, 2])
    got = bits.distances(bits.pack(a), bits.pack(b), i, j)
    assert got.tolist() == reference(a, b)[i, j].tolist()
    with pytest.raises(IndexError):
        bits.distances(bits.pack(a), bits.pack(b), [9], [0])


def test_set_threads_gives_the_same_answer():
    rng = np.random.default_rng(5)
    a = bits.pack(rng.random((50, 640)) < 0.5)
    bits.set_threads(1)
    one = bits.within(a, a, 310, upper_only=True)
    bits.set_threads(2)
    two = bits.within(a, a, 310, upper_only=True)
    assert all(np.array_equal(x, y) for x, y in zip(one, two, strict=True)) and len(one[0]) > 0


@pytest.mark.parametrize("nbits", [64, 190])
def test_within_across_tiles_and_tasks(nbits):
    """More rows than one parallel task and one tile of the kernel, with and without upper."""
    rng = np.random.default_rng(nbits)
    n = bits._TILE * 2 + 37
    a = rng.random((n, nbits)) < 0.5
    a[100] = a[5]  # duplicates far apart in both directions
    a[n - 1] = a[3]
    codes = bits.pack(a)
    cap = nbits // 2 - 12
    ref = reference(a[:41], a)  # rows of the first tasks against all of b
    i, j = bits.within(codes[:41], codes, cap)
    assert np.array_equal(np.stack([i, j], axis=1), np.argwhere(ref <= cap))
    i, j = bits.within(codes, codes, cap, upper_only=True)
    full = reference(a, a)
    expect = np.argwhere(np.triu(full <= cap, k=1))
    assert np.array_equal(np.stack([i, j], axis=1), expect) and len(expect) > 10


def test_candidate_mode_examines_only_candidates():
    rng = np.random.default_rng(11)
    n = 60
    wide = rng.random((n, 300)) < 0.3
    short = rng.random((n, 64)) < 0.5
    for k in range(0, 20, 2):  # near-duplicates on both metrics
        wide[k + 1], short[k + 1] = wide[k], short[k]
    wide[41] = wide[40]  # a duplicate only the wide codes see (hashes far apart)
    short[41] = ~short[40]
    codes = {"wide": bits.pack(wide), "short": bits.pack(short)}
    caps = {"wide": 40}
    full = bits.pairs_within(codes, codes, caps, upper_only=True)
    cand = bits.pairs_within(codes, codes, caps, upper_only=True, candidates={"short": 10})
    d_short = reference(short, short)
    got = set(zip(cand[0].tolist(), cand[1].tolist(), strict=True))
    exhaustive = set(zip(full[0].tolist(), full[1].tolist(), strict=True))
    assert got == {(i, j) for i, j in exhaustive if d_short[i, j] <= 10}
    assert (40, 41) in exhaustive and (40, 41) not in got and len(got) >= 10
    assert np.array_equal(cand[2]["wide"], reference(wide, wide)[cand[0], cand[1]])


def test_row_limits_keep_only_pairs_within_both_rows_limits():
    rng = np.random.default_rng(3)
    codes = bits.pack(rng.random((40, 300)) < 0.2)
    limit = rng.integers(20, 120, 40)
    d = bits.hamming(codes, codes)
    want = [
        (i, j)
        for i in range(40)
        for j in range(i + 1, 40)
        if d[i, j] <= 100 and d[i, j] <= limit[i] and d[i, j] <= limit[j]
    ]
    i, j = bits.within(codes, codes, 100, True, limit_a=limit, limit_b=limit)
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == want
    side = {"edges": codes}
    i, j, dist = bits.pairs_within(
        side, side, {"edges": 100}, True, limits={"edges": (limit, limit)}
    )
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == want
    # the same filter when the search goes through candidates
    side = {"edges": codes, "h": codes[:, :1]}
    i, j, _ = bits.pairs_within(
        side, side, {"edges": 100}, True, {"h": 64}, limits={"edges": (limit, limit)}
    )
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == want


@pytest.mark.parametrize("upper", [False, True])
def test_within_across_rounds_and_overflowing_tasks(upper):
    """More tasks than one buffer round, and tasks with more pairs than their buffer slots
    (written again in place) beside tasks within them: the pairs of a dense check."""
    rng = np.random.default_rng(29)
    n = bits._ROUND * bits._SUPER + 45
    codes = rng.random((n, 128)) < 0.5
    faint = rng.random((n, 128)) < 0.02  # near-blank rows: all within the cap of each other
    rows_per_task = bits._ROOM // bits._SUPER
    dense = np.zeros(n, dtype=bool)
    dense[: bits._SUPER] = True  # the first task overflows
    dense[5 * bits._SUPER + 3 : 5 * bits._SUPER + 6] = True  # a task that fits
    dense[-200:] = True  # the last tasks of round one and the partial task of round two
    codes[dense] = faint[dense]
    a = bits.pack(codes)
    b = a if upper else bits.pack(np.vstack([faint[: 3 * rows_per_task], codes[-300:]]))
    cap = 12
    i, j = bits.within(a, b, cap, upper_only=upper)
    hit = bits.hamming(a, b) <= cap
    if upper:
        hit = np.triu(hit, k=1)
    assert np.array_equal(np.stack([i, j], axis=1), np.argwhere(hit))
    per_task = np.bincount(i // bits._SUPER, minlength=len(a) // bits._SUPER + 1)
    assert per_task[0] > bits._ROOM and 0 < per_task[5] <= bits._ROOM
    assert upper or per_task[-1] > bits._ROOM  # round two overflows too


@pytest.mark.parametrize("width,height", [(100, 100), (7, 3), (64, 2), (65, 5), (1, 9)])
def test_reverse_rows_flips_bitmaps_left_to_right(width, height):
    maps = np.random.default_rng(width * height).random((20, height, width)) < 0.3
    got = bits.reverse_rows(bits.pack(maps), width, height)
    assert np.array_equal(got, bits.pack(maps[:, :, ::-1]))
    with pytest.raises(ValueError, match="cannot hold"):
        bits.reverse_rows(bits.pack(maps), width + 64, height)


def test_pair_key_is_one_key_per_unordered_pair():
    a, b = np.array([3, 0, 7, 2]), np.array([1, 5, 7, 9])
    key = bits.pair_key(a, b)
    assert key.tolist() == bits.pair_key(b, a).tolist()
    width = 10  # the largest index plus one
    assert (key // width).tolist() == [1, 0, 7, 2] and (key % width).tolist() == [3, 5, 7, 9]
    assert bits.pair_key(a, b, 100).tolist() == [103, 5, 707, 209]
    assert len(set(bits.pair_key(*np.triu_indices(50, 1)).tolist())) == 50 * 49 // 2


def test_unique_is_numpys_unique():
    rng = np.random.default_rng(7)
    runs = [np.sort(rng.integers(0, 500, n)) for n in (0, 1, 40, 300)]
    cases = [
        np.concatenate(runs),  # sorted runs, as pairs_within joins them
        rng.integers(0, 2**62, 1000).astype(np.uint64),
        np.zeros(0, np.int64),
        np.array([5]),
        np.array([3, 3, 3]),
    ]
    for values in cases:
        got, want = bits.unique(values), np.unique(values)
        assert got.dtype == want.dtype and np.array_equal(got, want)
