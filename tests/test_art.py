"""same_art: detailed blocks, identical blocks of pairs, and the block keys that propose them,
each against a plain reference."""

import numpy as np
import pytest
from panelmatch import art, bits


def detailed_reference(edge_map):
    h, w = edge_map.shape
    out = []
    for by in range(h // art.BLOCK):
        for bx in range(w // art.BLOCK):
            cell = edge_map[by * 10 : by * 10 + 10, bx * 10 : bx * 10 + 10].copy()
            full_rows = [y for y in range(10) if cell[y].all()]
            full_cols = [x for x in range(10) if cell[:, x].all()]
            cell[full_rows, :] = False
            cell[:, full_cols] = False
            rows = sum(cell[y].any() for y in range(10))
            cols = sum(cell[:, x].any() for x in range(10))
            out.append(rows >= art.DETAIL and cols >= art.DETAIL)
    return out


def test_detailed_blocks_match_the_reference_and_ignore_lines_and_corners():
    rng = np.random.default_rng(0)
    maps = rng.random((6, 40, 30)) < rng.choice([0.01, 0.05, 0.2], (6, 1, 1))
    maps[0, :, 3] = True  # a border line and a corner
    maps[0, 5, :] = True
    maps[1, 12:18, 12:18] = np.eye(6, dtype=bool)  # a diagonal stroke: detail
    got = art.detailed(maps)
    assert got.shape == (6, 12)
    for k in range(6):
        assert got[k].tolist() == detailed_reference(maps[k]), k
    lines = np.zeros((1, 20, 20), bool)
    lines[0, :, 3] = lines[0, 5, :] = True
    assert not art.detailed(lines).any()
    assert art.blocks(105, 47) == 40


def same_reference(ga, gb, da, db, width, tol):
    count = 0
    blocks_x = width // 10
    for t in range(len(da)):
        if not (da[t] and db[t]):
            continue
        y0, x0 = (t // blocks_x) * 10, (t % blocks_x) * 10
        a = ga.reshape(-1, width)[y0 : y0 + 10, x0 : x0 + 10].astype(int)
        b = gb.reshape(-1, width)[y0 : y0 + 10, x0 : x0 + 10].astype(int)
        count += int(np.abs(a - b).max() <= tol)
    return count


def test_same_art_counts_identical_detailed_blocks_like_the_reference():
    rng = np.random.default_rng(1)
    n, width, height = 8, 40, 30
    grey = rng.integers(0, 256, (n, height * width), dtype=np.uint8)
    grey[1] = grey[0]  # a copy
    grey[2] = grey[0].copy()
    grey[2][:300] = 255 - grey[2][:300]  # lettered over its top rows
    grey[3] = np.clip(grey[0].astype(int) + rng.integers(-5, 6, grey[0].shape), 0, 255)
    detail = rng.random((n, art.blocks(width, height))) < 0.8
    i, j = np.triu_indices(n, 1)
    for tol in (0, 6, 16):
        got = art.same_art(grey, grey, detail, detail, i, j, width, tol)
        want = [
            same_reference(grey[p], grey[q], detail[p], detail[q], width, tol)
            for p, q in zip(i, j, strict=True)
        ]
        assert got.tolist() == want, tol
    both = (detail[0] & detail[1]).sum()
    assert art.same_art(grey, grey, detail, detail, [0], [1], width, 0)[0] == both
    assert 0 < art.same_art(grey, grey, detail, detail, [0], [2], width, 0)[0] < both
    # re-encoded: every grey level within 5
    assert (
        art.same_art(grey, grey, detail, detail, [0], [3], width, 5)[0]
        == (detail[0] & detail[3]).sum()
    )
    with pytest.raises(IndexError):
        art.same_art(grey, grey, detail, detail, [0], [n], width, 0)


def test_block_keys_propose_pairs_that_share_art():
    rng = np.random.default_rng(2)
    maps = rng.random((6, 30, 30)) < 0.15
    maps[1] = maps[0]  # a copy
    maps[2, :10] = maps[0, :10]  # shares the top row of blocks with 0
    maps[3] = maps[0][:, ::-1]  # the same art, mirrored: no block in place
    detail = art.detailed(maps)
    keys = art.block_keys(bits.pack(maps), detail, 30)
    assert len(keys.key) == detail.sum()
    shared = {}
    for f, k in zip(keys.frame, keys.key, strict=True):
        shared.setdefault(int(f), set()).add(int(k))
    want = {
        (i, j)
        for i in range(6)
        for j in range(i + 1, 6)
        if len(shared.get(i, set()) & shared.get(j, set())) >= 2
    }
    i, j = art.shared_blocks(keys, keys, 2, upper_only=True)
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == want
    assert (0, 1) in want and (0, 2) in want and (0, 3) not in want
    # a key every frame holds (a watermark) is a common motif: dropped, it proposes nothing
    maps[:, 20:30, 20:30] = maps[5, 20:30, 20:30]
    detail = art.detailed(maps)
    keys = art.block_keys(bits.pack(maps), detail, 30)
    common = art.common(keys, keys, 4)
    assert len(common) >= 1
    i, j = art.shared_blocks(keys, keys, 1, upper_only=True, drop=common)
    assert (4, 5) not in set(zip(i.tolist(), j.tolist(), strict=True))
    narrowed = art.without(detail, keys, common)
    assert not narrowed[:, 8].any() and (narrowed <= detail).all()
