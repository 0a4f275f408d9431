"""The relation of linked pairs, on hand-made distances of each kind."""

import numpy as np
import pytest
from panelmatch import relation, tables


def one(link="edge", threshold=1000.0, **distances):
    distances = {"edges": 400, "edges_mirror": 1900, "phash": 4, "dhash": 4, **distances}
    return relation.label({k: [v] for k, v in distances.items()}, [link], [threshold])[0]


def test_each_relation_on_a_hand_made_pair():
    assert one(edges=0, phash=0, dhash=0) == "identical"
    assert one(edges=0, phash=2) != "identical"  # the picture changed: not a copy
    assert one(edges=700, edges_mirror=200) == "mirrored"
    assert one(edges=1800, edges_mirror=1500) != "mirrored"  # nearer, but not a match
    assert one(edges=150, phash=20) == "recolour"  # line art kept, grey levels moved
    assert one(edges=150, phash=4) == "reletter"  # the drawing kept, small changes
    # hues changed at the same grey levels (a shiny sprite): only the hue distance sees it
    assert one(edges=150, phash=2, hue=0.6) == "recolour"
    assert one(edges=150, phash=2, hue=0.1) == "reletter"
    assert one(edges=0, phash=0, dhash=0, hue=0.5) == "recolour"
    assert one(edges=1200, phash=2, hue=0.6) == "similar"  # the line art changed too
    # a skin tone: the same hue and line art, a region's grey levels moved
    assert one(edges=150, phash=4, hue=0.02, tone=0.2) == "recolour"
    assert one(edges=150, phash=4, tone=0.01) == "reletter"  # lettering moves few pixels
    assert one(link="same_art", edges=1500, phash=8, tone=0.2) == "recolour"
    assert one(link="lines", edges=2000, phash=20, tone=0.2) == "reletter"
    assert one(edges=600, phash=4, tone=0.2) == "similar"  # not close: a redraw
    assert one(edges=0, phash=0, dhash=0, tone=0.1) == "recolour"
    assert one(link="same_art", edges=1500, phash=8) == "reletter"
    assert one(link="lines", edges=2000, phash=20) == "reletter"  # a chat log translated
    assert one(link="hash", edges=1200, phash=4) == "shifted"
    assert one(edges=600, phash=4) == "similar"  # a redraw
    assert one(link="cosine", edges=1400, phash=14, threshold=1000) == "similar"


def test_label_is_vectorised_and_reads_only_the_metrics_it_has():
    found = relation.label(
        {"edges": np.array([0, 150, 600])}, np.array(["edge"] * 3), np.array([900.0] * 3)
    )
    assert found.tolist() == ["identical", "reletter", "similar"]
    assert set(found) <= set(relation.RELATIONS)
    with pytest.raises(ValueError, match="one value per pair"):
        relation.label({"edges": [1, 2]}, ["edge"], [1.0])


def test_of_row_reads_a_table_row_and_tolerates_an_unknown_threshold():
    row = {"edges": 0, "phash": 0, "dhash": 0, "link": "edge", "edge_threshold": 850.0}
    assert relation.of_row(row) == "identical"
    assert relation.of_row({"edges": 500, "link": "hash", "edge_threshold": float("nan")}) == (
        "shifted"
    )


def test_of_rows_is_of_row_of_each_row_in_one_call():
    rows = [
        {"edges": 0, "phash": 0, "dhash": 0, "link": "edge", "edge_threshold": 850.0},
        {"edges": 700, "edges_mirror": 200, "link": "edge", "edge_threshold": 1000.0},
        {"edges": 150, "phash": 20, "link": "edge", "edge_threshold": 1000.0},
        {"edges": 500, "link": "hash", "edge_threshold": float("nan")},
        {"edges": 500, "edges_mirror": None, "link": "", "edge_threshold": None},  # unknowns
        {"edges": 0, "link": "lines", "edge_threshold": 900.0},  # no hash: counts as 0
        {"phash": 3, "link": "edge", "edge_threshold": 900.0},  # no edges: counts as 0
    ]
    expected = ["identical", "mirrored", "recolour", "shifted", "similar", "identical"]
    assert [relation.of_row(r) for r in rows[:6]] == expected
    # the last row: edges 0 is within CLOSE of the threshold, phash 3 keeps it from identical
    assert relation.of_rows(rows) == [*expected, "reletter"]
    assert relation.of_rows(rows) == [relation.of_row(r) for r in rows]
    assert relation.of_rows([]) == []


def test_a_truth_naming_an_unknown_relation_is_refused(tmp_path):
    path = tmp_path / "truth.csv"
    path.write_text("image,group,reuse\na,f,original\nb,f,zoomed\nc,f,teleported\n")
    from panelmatch import evaluate

    with pytest.raises(ValueError, match="truth.csv: column 'reuse' holds 'teleported'"):
        evaluate.check_truth(tables.read_truth(path), path)
    path.write_text("image,group,reuse\na,f,original\nb,f,zoomed\n")
    truth = evaluate.check_truth(tables.read_truth(path), path)
    assert truth["reuse"].tolist() == ["original", "zoomed"]


def test_local_links_say_close_up_crop_or_part():
    def local(scale, cover_a, cover_b):
        return one(link="local", edges=3000, scale=scale, cover_a=cover_a, cover_b=cover_b)

    assert local(2.1, 0.3, 0.9) == "zoomed"  # a 2.1x close-up, either way
    assert local(0.45, 0.9, 0.2) == "zoomed"
    assert local(1.0, 0.95, 0.5) == "cropped"  # one kept whole, the other in part
    assert local(1.1, 0.96, 0.9) == "shifted"  # both whole: moved too far for the edges
    assert local(1.0, 0.6, 0.5) == "partial"  # neither whole
    # a pair the whole-panel metrics linked keeps their relation, verified or not
    assert one(edges=0, phash=0, dhash=0, scale=2.0, cover_a=0.9, cover_b=0.2) == "identical"
    assert (
        relation.of_row({"edges": 3000, "link": "local", "scale": 1.0, "cover_a": 1.0}) == "cropped"
    )


def test_a_trusted_transform_tells_how_a_whole_panel_link_moved():
    def verified(link="hash", edges=1200, inliers=200, cover=0.8, moved=0.0, **more):
        measured = {"scale": 1.0, "cover_a": cover, "cover_b": cover, "mirror": False}
        return one(link=link, edges=edges, inliers=inliers, moved=moved, **(measured | more))

    # a hash link whose drawing stayed in place is a redraw; one that moved, a shift
    assert one(link="hash", edges=1200) == "shifted"
    assert verified(moved=0.002) == "similar"
    assert verified(moved=0.03) == "shifted"
    # a drawing kept close by its edges but moved by 8 pixels of 650
    assert one(edges=150) == "reletter" and verified(link="edge", edges=150, moved=0.012) == (
        "shifted"
    )
    assert verified(link="edge", edges=150, moved=0.001) == "reletter"
    # a nearly symmetric drawing whose mirror image the transform found
    assert one(edges=300, edges_mirror=350, phash=30) == "recolour"
    assert verified(link="edge", edges=300, edges_mirror=350, phash=30, mirror=True) == ("mirrored")
    # untrusted: too few inliers, too little reproduced, another scale
    assert verified(inliers=5, moved=0.002) == "shifted"
    assert verified(cover=0.3, moved=0.002) == "shifted"
    assert verified(scale=1.2, moved=0.002) == "shifted"
    # identical copies and translated chat logs keep theirs
    assert verified(link="edge", edges=0, phash=0, dhash=0, mirror=True) == "identical"
    assert verified(link="lines", edges=2000, mirror=True) == "reletter"
    row = {"edges": 1200, "link": "hash", "edge_threshold": 1000.0, "inliers": 200}
    assert relation.of_row(row | {"cover_a": 0.8, "cover_b": 0.8, "scale": 1.0}) == "similar"
    assert relation.of_row(row) == "shifted"  # no covers: not trusted


def test_a_lossy_re_encoding_is_identical_and_new_lettering_is_not():
    """The grey metric: every block within REENCODED_GREY levels is the same picture saved
    again; a block of new lettering moves by tens."""
    rows = [
        # a JPEG of the panel: a few edge pixels moved by compression, hashes kept
        {"edges": 60, "phash": 0, "dhash": 0, "hue": 0.01, "tone": 0.005, "grey": 1.6},
        # new lettering: the same edge distance, one block changed
        {"edges": 60, "phash": 0, "dhash": 0, "hue": 0.01, "tone": 0.005, "grey": 31.0},
        # a recolouring is never a re-encoding
        {"edges": 60, "phash": 0, "dhash": 0, "hue": 0.6, "tone": 0.2, "grey": 3.0},
        # without the grey metric (an older run), nothing changes
        {"edges": 60, "phash": 0, "dhash": 0, "hue": 0.01, "tone": 0.005},
    ]
    for row in rows:
        row["edge_threshold"] = 900.0
    assert relation.of_rows(rows) == ["identical", "reletter", "recolour", "reletter"]
    assert relation.REENCODED_GREY == 4.0
