"""Templates: blocks of edges that many frames share are taken out before the edge rule."""

import numpy as np
import pytest
from panelmatch import bits, matching, metrics, templates
from test_link import HASH_BITS, RULE

W = H = 100


def framed(n: int, seed: int = 0) -> np.ndarray:
    """`n` edge maps (n, H, W): one ornate frame that all of them share, and inside it a
    drawing of its own; the last map's drawing is the first one's."""
    rng = np.random.default_rng(seed)
    maps = np.zeros((n, H, W), bool)
    maps[:, 2, 2:98] = maps[:, 97, 2:98] = maps[:, 2:98, 2] = maps[:, 2:98, 97] = True
    maps[:, 6, 6:94] = maps[:, 93, 6:94] = maps[:, 6:94, 6] = maps[:, 6:94, 93] = True
    ornament = rng.random((H, W)) < 0.25
    ring = np.zeros((H, W), bool)
    ring[:20], ring[-20:], ring[:, :20], ring[:, -20:] = True, True, True, True
    maps[:, ring & ornament] = True
    for k in range(n):
        drawing = rng.random((60, 60)) < 0.12
        maps[k, 20:80, 20:80] = drawing
    maps[-1, 20:80, 20:80] = maps[0, 20:80, 20:80]
    return maps


def linked_pairs(maps: np.ndarray, crowded: int | None) -> set[tuple[int, int]]:
    """The pairs the edge rule links among all pairs of `maps`, with templates of more than
    `crowded` frames taken out."""
    n = len(maps)
    codes = bits.pack(maps.reshape(n, -1))
    a, b = np.triu_indices(n, 1)
    mirrored = metrics.flip(codes, W, H)
    distances = {
        "edges": bits.distances(codes, codes, a, b).astype(np.int64),
        "edges_mirror": bits.distances(codes, mirrored, a, b).astype(np.int64),
    }
    found = templates.of(codes, W, H, crowded)
    distances = found.rescore(a, b, distances, tolerance=1)
    counts = found.counts({"edge_pixels": bits.popcount(codes)})
    links = matching.link(distances, *matching.pair_counts(counts, a, b), HASH_BITS, RULE)
    return set(zip(a[links.keep].tolist(), b[links.keep].tolist(), strict=True))


def test_a_frame_many_images_share_links_nothing_but_the_shared_drawing():
    maps = framed(80)
    assert len(linked_pairs(maps, None)) > 1000  # the frame alone links almost every pair
    assert linked_pairs(maps, 64) == {(0, 79)}


def test_fewer_frames_than_the_bound_are_no_template():
    maps = framed(40)
    assert linked_pairs(maps, 64) == linked_pairs(maps, None)


def test_templates_clear_whole_blocks_and_count_what_is_left():
    maps = framed(80)
    codes = bits.pack(maps.reshape(80, -1))
    found = templates.of(codes, W, H, 64)
    assert found.touched.all()
    left = bits.unpack(found.codes, W * H).reshape(80, H, W)
    assert not left[:, :20, :].any() and not left[:, :, :20].any()  # the frame's blocks
    assert (left[:, 20:80, 20:80] == maps[:, 20:80, 20:80]).all()  # each drawing kept
    assert found.edge_pixels.tolist() == bits.popcount(found.codes).tolist()
    assert (found.edge_pixels < bits.popcount(codes)).all()
    # a pair of frames without templates keeps its stored distances
    plain = templates.of(codes[:3], W, H, 64)
    assert not plain.touched.any()
    kept = plain.rescore([0], [1], {"edges": np.array([7]), "phash": np.array([3])}, 1)
    assert kept["edges"].tolist() == [7] and kept["phash"].tolist() == [3]


def test_rescore_matches_the_kernel_on_the_cleared_maps():
    maps = framed(70)
    codes = bits.pack(maps.reshape(70, -1))
    found = templates.of(codes, W, H, 50)
    a, b = np.array([0, 3, 5]), np.array([69, 4, 60])
    stored = {m: np.zeros(3, np.uint16) for m in ("edges", "edges_mirror", "edges_tolerant")}
    out = found.rescore(a, b, stored, tolerance=1)
    for m in stored:
        coded = metrics.coded(m, found.codes, None, W, H, 1)
        want = bits.distances(coded.probe, coded.target, a, b, coded.offset, coded.offset)
        assert out[m].tolist() == (want // coded.divisor).tolist()
        assert out[m].dtype == np.uint16


def test_no_templates_and_bad_bounds():
    codes = bits.pack(framed(5).reshape(5, -1))
    off = templates.of(codes, W, H, None)
    assert not off.touched.any() and (off.codes == codes).all()
    with pytest.raises(ValueError, match="template_frames"):
        templates.of(codes, W, H, 0)
    keys = templates.block_keys(codes[:0], W, H)
    assert len(keys.key) == 0
