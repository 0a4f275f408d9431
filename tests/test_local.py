"""Local features: the transform fit recovers known shifts, scales and mirror flips,
unrelated busy images do not verify, and the candidate pairs find a reuse."""

import random

import cv2
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import yaml
from conftest import REPO, doodle
from democomic.drawing import new_scene, render
from panelmatch import local, relation

DEFAULTS = yaml.safe_load((REPO / "config.yaml").read_text())
SIZE, FEATURES = DEFAULTS["local"]["size"], DEFAULTS["local"]["features"]
RATIO, MIN_MATCHES = DEFAULTS["local"]["ratio"], DEFAULTS["local"]["min_matches"]
#: the configured rule (matching.local), as local.reuses takes it
RULE = tuple(
    DEFAULTS["matching"]["local"][k]
    for k in ("min_inliers", "cover", "region_cover", "region_area")
)


def scene(seed: int, busy: bool = False) -> np.ndarray:
    return np.asarray(render(new_scene(random.Random(seed), busy=busy)))


def tolerance(rgb: np.ndarray) -> float:
    """RANSAC's threshold: 4 pixels at the detection size, in the frame's pixels."""
    return 4 * max(rgb.shape[:2]) / SIZE


def fit(a: np.ndarray, b: np.ndarray, mirror: bool = True) -> local.Match:
    features_b = local.detect(b, SIZE, FEATURES)
    if not mirror:  # no keypoints of b's mirror image
        features_b = features_b._replace(
            mirror=features_b.plain._replace(xy=NONE, descriptors=NO_BITS)
        )
    return local.verify(
        local.detect(a, SIZE, FEATURES), features_b, RATIO, tolerance(b), MIN_MATCHES
    )


NONE, NO_BITS = np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)


@pytest.fixture(scope="module")
def base():
    return scene(7, busy=True)


def test_detect_keeps_positions_in_the_frames_pixels(base):
    found = local.detect(base, SIZE, FEATURES)
    h, w = base.shape[:2]
    for k in (found.plain, found.mirror):
        assert 100 <= len(k.xy) <= FEATURES and k.descriptors.shape == (len(k.xy), 32)
        assert k.xy.dtype == np.float32 and k.descriptors.dtype == np.uint8
        assert k.xy[:, 0].max() < w and k.xy[:, 1].max() < h and k.xy.min() >= 0
        assert k.xy[:, 0].max() > 0.8 * w and k.xy[:, 0].min() < 0.2 * w
    # the dense copy: DENSE_SIZE on the longest side, drawn pixels near its edges only
    assert found.colour.shape == (89, 128, 3) and found.drawn.shape == (89, 128)
    assert found.dense_scale == pytest.approx(128 / 650)
    assert 0.05 < found.drawn.mean() < 0.9


def test_a_copy_reproduces_all_of_both(base):
    m = fit(base, base.copy())
    assert m.scale == pytest.approx(1, abs=0.01) and abs(m.shift_x) < 1 and abs(m.shift_y) < 1
    assert m.cover_a > 0.95 and m.cover_b > 0.95 and local.reuses(m, *RULE)


def test_a_shift_is_recovered(base):
    moved = cv2.warpAffine(
        base,
        np.float32([[1, 0, 37], [0, 1, -21]]),
        base.shape[1::-1],
        borderMode=cv2.BORDER_REPLICATE,
    )
    m = fit(base, moved)
    assert m.inliers >= 50 and not m.mirror
    assert m.scale == pytest.approx(1, abs=0.02) and m.rotation == pytest.approx(0, abs=1)
    assert (m.shift_x, m.shift_y) == (pytest.approx(37, abs=2), pytest.approx(-21, abs=2))
    # how far it moved, as a share of the frame's longer side (650 pixels)
    assert m.moved == pytest.approx(np.hypot(37, -21) / 650, abs=0.004)
    assert fit(base, base.copy()).moved < 0.002


def test_a_close_up_is_recovered_with_its_scale_and_place(base):
    # a quarter of the panel enlarged twice: the close-up maps into the panel at 0.5
    close_up = cv2.resize(base[100:325, 150:475], (650, 450), interpolation=cv2.INTER_CUBIC)
    m = fit(close_up, base)
    assert m.inliers >= 30 and not m.mirror
    assert m.scale == pytest.approx(0.5, abs=0.03)
    assert (m.shift_x, m.shift_y) == (pytest.approx(150, abs=4), pytest.approx(100, abs=4))
    # the close-up is reproduced in the panel, a quarter of the panel in the close-up
    assert m.cover_a > 0.6 and 0.1 < m.cover_b < 0.45 and local.reuses(m, *RULE)
    # and the other way round: the panel maps into the close-up at 2
    back = fit(base, close_up)
    assert back.scale == pytest.approx(2, abs=0.1) and back.cover_b > back.cover_a


def test_a_crop_keeps_scale_1(base):
    crop = np.ascontiguousarray(base[:, 200:560])
    m = fit(crop, base)
    assert m.inliers >= 50 and m.scale == pytest.approx(1, abs=0.02)
    assert (m.shift_x, m.shift_y) == (pytest.approx(200, abs=2), pytest.approx(0, abs=2))
    assert m.cover_a > 0.9 and 0.35 < m.cover_b < 0.75


def test_a_mirror_image_is_found_through_the_flipped_descriptors(base):
    flipped = np.ascontiguousarray(base[:, ::-1])
    m = fit(base, flipped)
    assert m.mirror and m.inliers >= 50
    assert m.scale == pytest.approx(1, abs=0.02) and m.rotation == pytest.approx(0, abs=1)
    assert m.cover_a > 0.9 and m.cover_b > 0.9
    # without the mirror image's descriptors, far fewer matches agree on any transform
    assert fit(base, flipped, mirror=False).inliers < m.inliers / 3


def test_unrelated_busy_scenes_share_no_whole_drawing():
    # the demo draws its figures from a few templates, so two of its scenes may share a
    # figure's part (its legs, in the same colours): never the half of either frame
    images = [scene(seed, busy=True) for seed in (11, 12, 13, 14)]
    for i in range(len(images)):
        for j in range(i + 1, len(images)):
            m = fit(images[i], images[j])
            assert m.inliers < 20 and max(m.cover_a, m.cover_b) < RULE[1], (i, j, m)


def test_a_shared_layout_with_other_drawings_does_not_verify():
    pages = [doodle(seed) for seed in (1, 2, 3)]
    for i in range(len(pages)):
        for j in range(len(pages)):
            if i != j:
                assert not local.reuses(fit(pages[i], pages[j]), *RULE), (i, j)


LETTERING = [
    "JOHN: hey, did you get the package yet?",
    "ROSE: It arrived this morning. Unopened.",
    "JOHN: open it! it is the game, i think.",
    "ROSE: Then open yours, and we will see.",
    "JOHN: ok! installing it now, wait...",
]


def test_lettering_is_found_and_the_art_around_it_is_not():
    grey = cv2.cvtColor(doodle(4, LETTERING), cv2.COLOR_RGB2GRAY)
    factor = SIZE / 650
    small = cv2.resize(grey, (SIZE, round(450 * factor)), interpolation=cv2.INTER_AREA)
    mask = local.lettering(small)
    rows = slice(round(270 * factor), round(420 * factor))
    ink = small[rows] < 128
    assert mask[rows][ink].mean() > 0.8  # the lettered lines
    assert mask[: round(255 * factor)].mean() < 0.02  # the boxes of drawings above
    with pytest.raises(ValueError, match="uint8"):
        local.lettering(small.astype(np.float32))


def test_the_same_lettering_over_other_drawings_does_not_verify(monkeypatch):
    a, b = doodle(5, LETTERING), doodle(6, LETTERING)
    assert not local.reuses(fit(a, b), *RULE)
    # without the lettering found, its keypoints alone would verify the pair
    monkeypatch.setattr(local, "lettering", lambda grey: np.zeros(grey.shape, bool))
    assert local.reuses(fit(a, b), *RULE)


def test_a_drawing_pasted_into_another_scene_is_verified_by_its_region(base):
    host = scene(21, busy=True)
    pasted = host.copy()
    pasted[230:430, 360:620] = base[60:260, 40:300]
    m = fit(base, pasted)
    # neither frame is half reproduced: the inliers' region is
    assert max(m.cover_a, m.cover_b) < RULE[1]
    assert m.region_cover >= 0.9 and m.region_area >= RULE[3] and local.reuses(m, *RULE)
    assert m.scale == pytest.approx(1, abs=0.02) and not m.mirror
    assert (m.shift_x, m.shift_y) == (pytest.approx(320, abs=3), pytest.approx(170, abs=3))
    row = {"link": "local", "edges": 1e9, "edge_threshold": 1.0, **m._asdict()}
    assert relation.of_row(row) == "partial"
    # the host alone and the drawing's source share nothing
    assert not local.reuses(fit(base, host), *RULE)


def test_a_sprite_pasted_into_a_scene_is_verified(base):
    # a 300 x 260 drawing, placed at its size (a sprite under about half the keypoints'
    # size is beyond ORB's pyramid, 3.6 times, from its place in a panel: see docs)
    sprite = np.ascontiguousarray(base[60:320, 40:340])
    host = scene(22, busy=True).copy()
    host[140:400, 250:550] = sprite
    m = fit(sprite, host)
    # the sprite is reproduced in the scene, at its size: a part of the scene
    assert m.cover_a > 0.5 and local.reuses(m, *RULE)
    assert m.scale == pytest.approx(1, abs=0.02)
    assert (m.shift_x, m.shift_y) == (pytest.approx(250, abs=3), pytest.approx(140, abs=3))
    row = {"link": "local", "edges": 1e9, "edge_threshold": 1.0, **m._asdict()}
    assert relation.of_row(row) == "partial"


def test_one_template_in_other_colours_shares_corners_not_colours(base):
    # the same drawing with every colour changed: corners agree, colours do not
    recoloured = np.ascontiguousarray(255 - base)
    m = fit(base, recoloured)
    assert max(m.cover_a, m.cover_b) < 0.2 and not local.reuses(m, *RULE), m


def test_a_frame_without_corners_matches_nothing(base):
    blank = local.detect(np.full((300, 300, 3), 200, np.uint8), SIZE, FEATURES)
    assert len(blank.plain.xy) == len(blank.mirror.xy) == 0
    assert blank.plain.descriptors.shape == (0, 32) and not blank.drawn.any()
    found = local.detect(base, SIZE, FEATURES)
    assert local.verify(blank, found, RATIO, 4, MIN_MATCHES) == local.NO_MATCH
    assert local.verify(found, blank, RATIO, 4, MIN_MATCHES) == local.NO_MATCH


def test_arguments_are_checked(base):
    with pytest.raises(ValueError, match="uint8"):
        local.detect(base.astype(np.float32), SIZE, FEATURES)
    with pytest.raises(ValueError, match="size"):
        local.detect(base, 40, FEATURES)
    k = local.detect(base, SIZE, FEATURES)
    with pytest.raises(ValueError, match="ratio"):
        local.verify(k, k, 1.5, 4, MIN_MATCHES)
    with pytest.raises(ValueError, match="descriptors"):
        local.words(np.zeros((3, 16), np.uint8), 4)


def test_words_are_fixed_bit_groups_and_near_descriptors_share_them():
    rng = np.random.default_rng(0)
    d = rng.integers(0, 256, (200, 32), dtype=np.uint8)
    w = local.words(d, 8)
    assert w.shape == (200, 8) and np.array_equal(w, local.words(d, 8))
    for t in range(8):  # each table has words of its own
        assert (w[:, t] >> local.WORD_BITS == t).all()
    # flipping 8 of 256 bits keeps a word with probability (1 - 8/256)**20 ~ 0.53
    near = d.copy()
    bits = np.unpackbits(near, axis=1)
    for row in bits:
        row[rng.choice(256, 8, replace=False)] ^= 1
    shared = (local.words(np.packbits(bits, axis=1), 8) == w).mean()
    assert 0.4 < shared < 0.7
    far = rng.integers(0, 256, (200, 32), dtype=np.uint8)
    assert (local.words(far, 8) == w).mean() < 0.01


def test_candidates_pair_a_reuse_and_never_two_frames_of_one_image(base):
    close_up = cv2.resize(base[100:325, 150:475], (650, 450), interpolation=cv2.INTER_CUBIC)
    frames = [base, close_up] + [scene(seed) for seed in range(20, 30)]
    found = [local.detect(f, SIZE, FEATURES) for f in frames]
    plain, mirror = local.word_matrices(
        local.word_counts([local.words(f.plain.descriptors, 8) for f in found]),
        local.word_counts([local.words(f.mirror.descriptors, 8) for f in found]),
        0.5,
    )
    group = np.arange(len(frames))
    group[3] = group[2]  # two frames of one image
    i, j = local.candidates(plain, mirror, group, 3, threads=1)
    pairs = list(zip(i.tolist(), j.tolist(), strict=True))
    assert (0, 1) in pairs and (2, 3) not in pairs
    assert all(a < b for a, b in pairs) and pairs == sorted(set(pairs))
    assert len(pairs) <= 3 * len(frames)
    # blocks scored by threads give the same pairs as one block at a time
    for block, threads in ((2, 3), (5, 2)):
        ti, tj = local.candidates(plain, mirror, group, 3, block=block, threads=threads)
        assert ti.tolist() == i.tolist() and tj.tolist() == j.tolist()
    # one column per word kept: every column is held by a frame and at most half of them
    held = np.bincount(plain.indices, minlength=plain.shape[1])
    assert held.min() >= 1 and held.max() <= 0.5 * len(frames)
    with pytest.raises(ValueError, match="k must"):
        local.candidates(plain, mirror, group, 0, threads=1)
    with pytest.raises(ValueError, match="threads must"):
        local.candidates(plain, mirror, group, 3, threads=0)


def opencv_two(a: np.ndarray, b: np.ndarray):
    knn = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(a, b, k=2)
    return (
        np.array([m[0].trainIdx for m in knn]),
        np.array([m[0].distance for m in knn]),
        np.array([m[1].distance for m in knn]),
    )


def test_nearest_two_is_opencvs_brute_force_matcher(base):
    """The compiled matcher gives OpenCV's distances and nearest descriptors: on ORB
    descriptors of a close-up, on random ones with repeats (ties), on an unaligned buffer."""
    close_up = cv2.resize(base[100:325, 150:475], (650, 450), interpolation=cv2.INTER_CUBIC)
    a = local.detect(base, SIZE, FEATURES).plain.descriptors
    b = local.detect(close_up, SIZE, FEATURES).plain.descriptors
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, (300, 32), dtype=np.uint8)
    repeated = np.concatenate([noise[:50], noise[:50], noise[50:]])  # exact ties
    unaligned = np.frombuffer(b"x" + b.tobytes(), np.uint8, offset=1).reshape(b.shape)
    for x, y in ((a, b), (b, a), (noise, repeated), (a, unaligned), (a[:1], b[:2])):
        best, first, second = local.nearest_two(x, y)
        best_cv, first_cv, second_cv = opencv_two(x, y)
        assert first.tolist() == first_cv.tolist() and second.tolist() == second_cv.tolist()
        unique = first_cv < second_cv
        assert best[unique].tolist() == best_cv[unique].tolist()
        assert (first[~unique] == second[~unique]).all()
    _, first_cv, second_cv = opencv_two(noise, repeated)
    assert (first_cv == second_cv).sum() >= 50  # the ties were there
    with pytest.raises(ValueError, match="2 descriptors or more"):
        local.nearest_two(a, b[:1])
    with pytest.raises(ValueError, match="descriptors"):
        local.nearest_two(a[:, :16], b)


def test_nearest_two_falls_back_to_opencv_when_the_copy_differs(base, monkeypatch):
    a = local.detect(base, SIZE, FEATURES).plain.descriptors
    monkeypatch.setattr(local, "_copy_checked", False)
    monkeypatch.setattr(local, "_copy_trusted", True)

    def off_by_one(x, y):
        return tuple(v + 1 for v in local._scan_two(x.view(np.uint64), y.view(np.uint64)))

    monkeypatch.setattr(local, "_nearest_two_copy", off_by_one)
    best, first, second = local.nearest_two(a, a[::-1].copy())
    assert not local._copy_trusted
    assert first.tolist() == opencv_two(a, a[::-1].copy())[1].tolist()


def test_word_matrices_drop_words_only_a_mirror_image_holds():
    plain = [np.array([1, 2, 3]), np.array([2, 3, 9]), np.array([7])]
    mirror = [np.array([9, 40]), np.array([50]), np.array([1, 1, 60])]
    p, m = local.word_matrices(local.word_counts(plain, 61), local.word_counts(mirror, 61), 1.0)
    # one chunk's counts at a time give the same matrices
    chunked = [
        sp.vstack([local.word_counts(side[:1], 61), local.word_counts(side[1:], 61)])
        for side in (plain, mirror)
    ]
    for got, want in zip(local.word_matrices(*chunked, 1.0), (p, m), strict=True):
        assert (got != want).nnz == 0
    # a word in more than max_frames frames is dropped like one in more than max_share
    capped = local.word_matrices(
        local.word_counts(plain, 61), local.word_counts(mirror, 61), 1.0, 1
    )
    assert capped[0].shape == (3, 3)  # 2 and 3 are in two frames: dropped
    with pytest.raises(ValueError, match="max_frames"):
        local.word_matrices(*chunked, 1.0, 0)
    with pytest.raises(ValueError, match="words must be in"):
        local.word_counts(plain, 9)
    # kept: the words some frame holds and not every frame (1, 2, 3, 7, 9), in id order
    assert p.shape == m.shape == (3, 5)
    assert m[0].indices.tolist() == [4] and m[1].nnz == 0 and m[2].indices.tolist() == [0]
    assert np.allclose(np.asarray(p.multiply(p).sum(axis=1)).ravel(), 1)
    # the dropped words still count in a row's norm: frame 0's mirror holds 9 and 40
    assert 0 < m[0].data[0] < 1


def test_verify_stored_and_candidates_on_keypoint_tables(tmp_path):
    """The verify rule's core: candidates from the words of stored keypoint rows, then
    verification a block at a time, on a drawing and its shifted copy beside an unrelated
    drawing."""
    from panelmatch import local, tables

    rng = np.random.default_rng(3)
    drawing = (rng.random((240, 320, 3)) * 255).astype(np.uint8)
    drawing = cv2.GaussianBlur(drawing, (5, 5), 0)
    shifted = np.roll(drawing, (12, 20), axis=(0, 1))
    other = cv2.GaussianBlur((rng.random((240, 320, 3)) * 255).astype(np.uint8), (5, 5), 0)
    rows = [
        {"image": name, "frame": 0, **local.to_row(local.detect(rgb, 320, 500))}
        for name, rgb in (("a", drawing), ("b", shifted), ("c", other))
    ]
    # two chunks' tables, as the keypoints rule writes them
    for k, part in enumerate((rows[:2], rows[2:])):
        tables.write(pd.DataFrame(part), tmp_path / f"{k}.parquet", tables.KEYPOINTS)
    stored = local.StoredKeypoints([tmp_path / "0.parquet", tmp_path / "1.parquet"], batch=1)
    assert stored.images == ["a", "b", "c"] and stored.frames == [0, 0, 0] and len(stored) == 3
    assert stored.row(2)["colour"] == rows[2]["colour"] and stored.row(0)["image"] == "a"
    i, j = local.stored_candidates(stored, np.arange(3), 2, threads=1)
    assert (0, 1) in set(zip(i.tolist(), j.tolist(), strict=True))
    # the same as from the word matrices held in memory
    counts = [
        local.word_counts(
            [local.words(local.descriptors_of(r[c]), local.WORD_TABLES) for r in rows]
        )
        for c in ("descriptors", "mirror_descriptors")
    ]
    matrices = local.word_matrices(*counts, local.COMMON_WORDS, local.COMMON_FRAMES)
    want = local.candidates(*matrices, np.arange(3), 2, threads=1)
    assert i.tolist() == want[0].tolist() and j.tolist() == want[1].tolist()
    plain, mirror = stored.rows(0, 3, *local.word_weights(stored.frequency, 3, 0.05, 500))
    assert np.allclose(plain.toarray(), matrices[0].toarray())
    assert np.allclose(mirror.toarray(), matrices[1].toarray())
    steps = []
    found = local.verify_stored(
        stored,
        [0, 0],
        [1, 2],
        ratio=0.8,
        tolerance=4,
        size=320,
        min_matches=8,
        threads=1,
        step=lambda: steps.append(1),
    )
    assert found[0].inliers >= 8 and found[1].inliers < 8 and len(steps) == 2
    stored.close()


def test_inverted_words_is_the_transpose_of_the_weighted_rows():
    rng = np.random.default_rng(5)
    frames = [rng.integers(0, 40, size=(rng.integers(0, 30), 2)) for _ in range(12)]
    counts = local.word_counts(frames, 40)
    idf, column = local.word_weights(np.bincount(counts.indices, minlength=40), 12, 0.5)
    inverted = local.inverted_words(lambda: iter(frames), 12, idf, column)
    want = local.weighted(counts, idf, column).T.tocsr()
    assert inverted.shape == want.shape and np.allclose(inverted.toarray(), want.toarray())
    # each word's frames in order, as a CSR matrix of them has them
    assert all((np.diff(inverted[w].indices) > 0).all() for w in range(inverted.shape[0]))
    with pytest.raises(ValueError, match="gave 12 frames, not 13"):
        local.inverted_words(lambda: iter(frames), 13, idf, column)
