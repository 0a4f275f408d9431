"""The matching rule: thresholds, link kinds, guards and strong links."""

import numpy as np
import pytest
from panelmatch import matching
from panelmatch.settings import Matching


def test_edge_thresholds_scale_and_cap():
    t = matching.edge_thresholds([0, 100, 2000], 0.95, 1100)
    assert t.tolist() == [0.0, 95.0, 1100.0]
    with pytest.raises(ValueError):
        matching.edge_thresholds([1], -1, 10)


def test_linked_needs_both_thresholds_and_is_strict():
    d = np.array([10, 10, 94, 95])
    ta = np.array([20, 20, 95, 95])
    tb = np.array([20, 5, 1000, 1000])
    assert matching.linked(d, ta, tb).tolist() == [True, False, True, False]


def test_nearly_blank_panel_cannot_match_a_busy_one():
    # a busy panel (1000 edge pixels) against a blank one (10): distance is at least 990
    t = matching.edge_thresholds([1000, 10], 0.95, 1100)
    assert not matching.linked([990], [t[0]], [t[1]])[0]


#: A matching rule for these tests (every key of the section; see panelmatch.settings).
RULE_KEYS = {
    "edge_metrics": ["edges", "edges_mirror"],
    "threshold": "scaled",
    "edge_scale": 0.95,
    "edge_cap": 1100,
    "hash_max": {},
    "mixed": {},
    "min_edge_pixels": 150,
    "hash_corroboration": None,
    "silhouette_scale": None,
    "same_art": None,
    "lines_max": None,
    "strong_links": ["edge"],
    "method": "connected_components",
    "max_group_size": 12,
    "strong": 0.5,
    "cosine_max": None,
    "template_frames": None,
    "local": None,
}
RULE = Matching.of(RULE_KEYS)
HASH_BITS = {"phash": 64, "dhash": 64}


def link(distances, pa, pb, sa=None, sb=None, da=None, db=None, **changes):
    """matching.link with edge pixels pa, pb (and silhouette pixels, detailed blocks)."""
    side_a = {
        "edge_pixels": np.asarray(pa),
        "silhouette_pixels": np.asarray(sa or [10000] * len(pa)),
    }
    side_b = {
        "edge_pixels": np.asarray(pb),
        "silhouette_pixels": np.asarray(sb or [10000] * len(pb)),
    }
    side_a["detail_blocks"] = np.asarray(da or [100] * len(pa))
    side_b["detail_blocks"] = np.asarray(db or [100] * len(pb))
    return matching.link(distances, side_a, side_b, HASH_BITS, RULE.but(**changes))


def test_edge_rule_takes_the_smallest_edge_metric_and_the_threshold_of_both():
    d = {"edges": np.array([1000, 300, 300]), "edges_mirror": np.array([200, 900, 900])}
    d |= {"phash": np.array([30, 30, 30]), "dhash": np.array([30, 30, 30])}
    got = link(d, [1000, 1000, 1000], [1000, 1000, 300])
    # thresholds 950, 950 and min(950, 285): the third pair's 300 is too far for image b
    assert got.keep.tolist() == [True, True, False]
    assert got.edge.tolist() == [200, 300, 300]
    assert got.limit.tolist() == [950, 950, 285]
    assert got.ratio[:2] == pytest.approx([200 / 950, 300 / 950]) and got.ratio[2] == np.inf
    only_plain = link(d, [1000] * 3, [1000, 1000, 300], edge_metrics=["edges"])
    assert only_plain.keep.tolist() == [False, True, False]
    flat = link(d, [1000] * 3, [1000, 1000, 300], threshold="global", edge_cap=250)
    assert flat.keep.tolist() == [True, False, False] and flat.limit.tolist() == [250] * 3
    with pytest.raises(ValueError, match="not computed"):
        link(d, [1] * 3, [1] * 3, edge_metrics=["edges_tolerant"])


def test_hash_rule_only_between_images_with_content():
    d = {"edges": np.array([900, 900, 900]), "edges_mirror": np.array([900, 900, 900])}
    d |= {"phash": np.array([4, 4, 30]), "dhash": np.array([40, 40, 40])}
    got = link(d, [500, 100, 500], [500, 500, 500], hash_max={"phash": 10, "dhash": None})
    assert got.keep.tolist() == [True, False, False]
    assert got.ratio[0] == pytest.approx(4 / 11)
    with pytest.raises(ValueError, match="not a computed hash"):
        link(d, [500] * 3, [500] * 3, hash_max={"whash": 10})


def test_mixed_metric_averages_the_normalised_distances():
    # edge 600 of 500 + 500 edge pixels -> 0.6; phash 8 of 64 bits (32 typical) -> 0.25
    d = {"edges": np.array([600]), "edges_mirror": np.array([990]), "phash": np.array([8])}
    d["dhash"] = np.array([40])
    assert link(d, [500], [500], edge_scale=0.5).keep.tolist() == [False]
    got = link(d, [500], [500], edge_scale=0.5, mixed={"phash": 0.425})
    assert got.keep.tolist() == [True] and got.ratio[0] == pytest.approx(1.0)
    assert not link(d, [500], [500], edge_scale=0.5, mixed={"phash": 0.42}).keep[0]


def test_low_content_guard_links_blank_panels_only_when_identical():
    d = {
        "edges": np.array([0, 2, 0, 1980]),
        "edges_mirror": np.array([0, 2, 0, 1990]),
        "phash": np.array([0, 0, 2, 0]),
        "dhash": np.array([0, 0, 0, 0]),
    }
    got = link(d, [20, 20, 20, 20], [20, 20, 20, 2000], hash_max={"dhash": 8})
    # identical; edges differ; a hash differs; a blank and a busy panel
    assert got.keep.tolist() == [True, False, False, False]
    assert got.ratio[0] == 0
    loose = link(d, [20] * 4, [20, 20, 20, 2000], hash_max={"dhash": 8}, min_edge_pixels=0)
    assert loose.keep.tolist() == [True, True, True, True]


def reference(d, side_a, side_b, r, k):
    """The rule for pair k, written out plainly: (linked, kind, ratio)."""
    pa, pb = side_a["edge_pixels"][k], side_b["edge_pixels"][k]
    edge = min(d[m][k] for m in r["edge_metrics"])
    limit = min(min(r["edge_scale"] * pa, r["edge_cap"]), min(r["edge_scale"] * pb, r["edge_cap"]))
    found = []  # (ratio, kind order, kind)
    if edge < limit:
        found.append((edge / limit, 0, "edge"))
    sil = d["silhouette"][k] <= r["silhouette_scale"] * min(
        side_a["silhouette_pixels"][k], side_b["silhouette_pixels"][k]
    )
    corroborated = edge < r["hash_corroboration"] * r["edge_scale"] * min(pa, pb)
    for name, value in r["hash_max"].items():
        if d[name][k] <= value and corroborated and sil:
            found.append((d[name][k] / (value + 1), 1, "hash"))
    same = d["same_art"][k]
    share = same / max(min(side_a["detail_blocks"][k], side_b["detail_blocks"][k]), 1)
    if same >= r["same_art"]["blocks"] and share >= r["same_art"]["fraction"] and sil:
        found.append((min(max((1 - share) / (1 - r["same_art"]["fraction"]), 0), 1), 4, "same_art"))
    if d["lines"][k] <= r["lines_max"] and sil:
        found.append((d["lines"][k] / r["lines_max"], 5, "lines"))
    content = min(pa, pb) >= r["min_edge_pixels"]
    if not content:
        identical = edge == 0 and all(d[h][k] == 0 for h in HASH_BITS)
        return identical, "edge" if identical else "", 0.0 if identical else np.inf
    if not found:
        return False, "", np.inf
    ratio, _, kind = min(found)
    return True, kind, min(ratio, 1.0)


@pytest.mark.parametrize("seed", range(5))
def test_every_link_kind_and_guard_against_a_plain_reference(seed):
    rng = np.random.default_rng(seed)
    n = 400
    d = {
        "edges": rng.integers(0, 2500, n),
        "edges_mirror": rng.integers(0, 2500, n),
        "phash": rng.integers(0, 20, n),
        "dhash": rng.integers(0, 20, n),
        "silhouette": rng.choice([0, 0, 10, 300, 3000], n),
        "same_art": rng.choice([0, 0, 2, 4, 9, 40], n),
        "lines": rng.choice([1.0, 1.0, 0.1, 0.19, 0.25], n).astype(np.float32),
    }
    side_a = {
        "edge_pixels": rng.integers(0, 2000, n),
        "silhouette_pixels": rng.choice([10000, 2000, 500], n),
        "detail_blocks": rng.integers(0, 100, n),
    }
    side_b = {k: rng.permutation(v) for k, v in side_a.items()}
    r = {
        **RULE_KEYS,
        "hash_max": {"dhash": 8},
        "hash_corroboration": 1.3,
        "silhouette_scale": 0.05,
        "same_art": {"blocks": 4, "fraction": 0.05},
        "lines_max": 0.2,
        "min_edge_pixels": 50,
    }
    got = matching.link(d, side_a, side_b, HASH_BITS, Matching.of(r))
    names = matching.kind_names(got.kind)
    for k in range(n):
        keep, kind, ratio = reference(d, side_a, side_b, r, k)
        assert got.keep[k] == keep, k
        assert names[k] == kind, k
        assert got.ratio[k] == pytest.approx(ratio), k
    assert got.keep.any() and set(names) >= {"edge", "hash", "same_art", "lines"}
    # only edge links may be strong by default; with hash in strong_links, hash links too
    assert set(names[got.strong]) <= {"edge"}
    loose = matching.link(
        d, side_a, side_b, HASH_BITS, Matching.of({**r, "strong_links": ["edge", "hash"]})
    )
    assert "hash" in set(matching.kind_names(loose.kind)[loose.strong])


def test_a_hash_link_needs_the_edge_maps_to_corroborate_it():
    # two small drawings on a flat background: dhash close, edge maps far apart (pair 0);
    # the same drawing recoloured: dhash close, edge maps near (pair 1)
    d = {"edges": np.array([900, 400]), "edges_mirror": np.array([900, 900])}
    d |= {"phash": np.array([30, 30]), "dhash": np.array([3, 3])}
    plain = link(d, [500, 500], [500, 500], hash_max={"dhash": 8})
    assert plain.keep.tolist() == [True, True]
    strict = link(d, [500, 500], [500, 500], hash_max={"dhash": 8}, hash_corroboration=1.3)
    # 400 < 1.3 x 0.95 x 500 = 617.5 < 900
    assert strict.keep.tolist() == [False, True]
    assert matching.kind_names(strict.kind).tolist() == ["", "hash"]


def test_the_silhouette_guard_parts_sprites_of_other_shapes():
    # two transparent sprites, hashes close: the same shape (silhouettes 10 pixels apart
    # of 800) links, another shape (300 apart) does not; opaque frames always pass
    d = {"edges": np.array([700, 700, 700]), "edges_mirror": np.array([900, 900, 900])}
    d |= {"phash": np.array([30] * 3), "dhash": np.array([2, 2, 2])}
    d["silhouette"] = np.array([10, 300, 0])
    sil = [800, 800, 10000]
    got = link(d, [600] * 3, [600] * 3, sil, sil, hash_max={"dhash": 8}, silhouette_scale=0.05)
    assert got.keep.tolist() == [True, False, True]
    # the edge rule is not guarded: a near-identical edge map is a match whatever the alpha
    d["edges"] = np.array([100, 100, 100])
    got = link(d, [600] * 3, [600] * 3, sil, sil, silhouette_scale=0.05)
    assert got.keep.tolist() == [True, True, True]


def test_same_art_and_lines_link_heavy_lettering():
    d = {"edges": np.array([2500, 2500, 2500, 2500]), "edges_mirror": np.array([2600] * 4)}
    d |= {"phash": np.array([20] * 4), "dhash": np.array([20] * 4)}
    d["same_art"] = np.array([30, 3, 30, 0])
    d["lines"] = np.array([1.0, 1.0, 1.0, 0.1], dtype=np.float32)
    got = link(
        d,
        [2000] * 4,
        [2000] * 4,
        da=[90, 90, 900, 0],
        db=[95, 95, 900, 0],
        same_art={"blocks": 4, "fraction": 0.05},
        lines_max=0.2,
    )
    # 30 of 90 blocks; 3 blocks (too few); 30 of 900 (too small a share); the chat log
    assert got.keep.tolist() == [True, False, False, True]
    assert matching.kind_names(got.kind).tolist() == ["same_art", "", "", "lines"]
    assert got.ratio[0] == pytest.approx((1 - 30 / 90) / 0.95)
    assert got.ratio[3] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="same_art"):
        link(
            {k: v for k, v in d.items() if k != "same_art"},
            [1] * 4,
            [1] * 4,
            same_art={"blocks": 4, "fraction": 0.05},
        )


def test_a_local_link_joins_only_what_nothing_else_links():
    local = {"min_inliers": 8, "cover": 0.5, "region_cover": 0.8, "region_area": 0.01}
    d = {
        "edges": np.array([3000, 3000, 3000, 3000, 100, 3000, 3000, 3000, 3000]),
        "edges_mirror": np.array([3000] * 9),
        "inliers": np.array([40, 5, 40, 40, 40, 40, 5, 40, 40]),
        "cover_a": np.array([0.9, 0.9, 0.3, 0.2, 1.0, 0.3, 0.3, 0.3, 0.3]),
        "cover_b": np.array([0.4, 0.9, 0.4, 0.75, 1.0, 0.2, 0.2, 0.2, 0.2]),
        "region_cover": np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.9, 0.9, 0.7, 0.9, 0.9, 0.9]),
        "region_area": np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.05, 0.05, 0.05, 0.005, 0.05, 0.05]),
        "moved": np.array([0.1] * 9 + [0.001, 0.001]),
        "scale": np.array([1.0] * 9 + [1.0, 0.8]),
    }
    for name in ("edges", "edges_mirror", "inliers", "cover_a", "cover_b"):
        d[name] = np.concatenate([d[name], d[name][[5, 5]]])  # as the first paste
    px = [2000] * 11
    links = link(d, px, px, local=local)
    # enough inliers and half of one image reproduced; too few inliers; too little of
    # either; a quarter of one, three quarters of the other; an edge link stays one;
    # then a pasted region: reproduced; too few inliers; too little of it; too small; in
    # place (a template: not a paste); in place but scaled (a close-up)
    assert links.keep.tolist() == [True, False, False, True, True, True] + [False] * 4 + [True]
    assert matching.kind_names(links.kind).tolist() == [
        *("local", "", "", "local", "edge", "local", "", "", "", "", "local")
    ]
    assert links.ratio[0] == pytest.approx((1 - 0.9) / 0.5) and links.ratio[3] == pytest.approx(0.5)
    assert links.ratio[5] == pytest.approx((1 - 0.9) / 0.2)
    assert not links.strong[0]  # local is not among strong_links
    # no local settings, or no verification: no local link
    assert not link(d, px, px, local=None).keep[:4].any()
    plain = {k: v for k, v in d.items() if k in ("edges", "edges_mirror")}
    assert not link(plain, px, px, local=local).keep[:4].any()


def test_template_guard_keeps_frames_that_are_mostly_template_to_the_edge_rule():
    """A hash of a frame that is mostly template measures the template: with the counts of
    panelmatch.templates (template_pixels), a hash link needs both frames to have at most
    TEMPLATE_SHARE of their edge pixels in templates; the edge rule is not guarded."""
    d = {"edges": np.array([600, 600, 100]), "dhash": np.array([2, 2, 2])}
    d["edges_mirror"] = np.full(3, 5000)
    changes = {"hash_max": {"dhash": 8}}
    plain = link(d, [600, 600, 600], [600, 600, 600], **changes)
    assert plain.keep.tolist() == [True, True, True]
    assert matching.kind_names(plain.kind).tolist() == ["hash", "hash", "edge"]
    side = {
        "edge_pixels": np.array([600, 600, 600]),
        "silhouette_pixels": np.full(3, 10000),
        "detail_blocks": np.full(3, 100),
    }
    held_a = dict(side, template_pixels=np.array([100, 700, 700]))  # 14%, 54%, 54%
    held_b = dict(side, template_pixels=np.array([100, 100, 100]))
    got = matching.link(d, held_a, held_b, HASH_BITS, RULE.but(**changes))
    assert got.keep.tolist() == [True, False, True]
    assert matching.kind_names(got.kind).tolist() == ["hash", "", "edge"]
    assert matching.TEMPLATE_SHARE == 0.5
