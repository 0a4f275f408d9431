"""Local features in a real workflow run: close-ups and crops are found with local.enabled,
and not without; unrelated scenes stay alone; a change of the verification reruns only
what depends on it."""

import csv
import json
import random

import pandas as pd
import pytest
import yaml
from conftest import REPO, snakemake, write_config
from democomic import families
from democomic.drawing import new_scene, render, to_gif
from panelmatch import gallery, local, tables

pytestmark = pytest.mark.workflow
DEFAULTS = yaml.safe_load((REPO / "config.yaml").read_text())


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """A folder of 2 families each of close-ups, crops and pasted characters, and 6
    unrelated scenes (half of them busy), with its truth."""
    root = tmp_path_factory.mktemp("local")
    folder = root / "images"
    folder.mkdir()
    rows = []
    for k, panel in enumerate(families.partial_reuse(random.Random("413:partial"), 2)):
        (folder / f"{k:03d}.gif").write_bytes(panel.gif)
        rows.append([f"{k:03d}.gif", panel.group, panel.relation, panel.reuse])
    rng = random.Random("unrelated")
    for k in range(6):
        (folder / f"single_{k}.gif").write_bytes(to_gif([render(new_scene(rng, busy=k % 2 == 0))]))
        rows.append([f"single_{k}.gif", "", "single", ""])
    with open(root / "truth.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([["image", "group", "relation", "reuse"], *rows])
    base = {"source": {"folder": str(folder)}, "evaluation": {"truth": str(root / "truth.csv")}}
    return root, base


def scores(workdir):
    return json.loads((workdir / "results/evaluation.json").read_text())


def test_close_ups_and_crops_are_found_with_local_features_only(collection, tmp_path):
    root, base = collection
    off = tmp_path / "off"
    off.mkdir()
    snakemake(
        off,
        "results/evaluation.json",
        "results/pairs.parquet",
        configfile=write_config(tmp_path / "off.yaml", base),
    )
    assert not (off / "results/verified.parquet").exists()
    assert not (off / "results/keypoints").exists()
    before = scores(off)["results"]["configured"]["by_relation"]
    pairs_off = pd.read_parquet(off / "results/pairs.parquet")
    assert "inliers" not in pairs_off.columns

    on = tmp_path / "on"
    on.mkdir()
    cfg = write_config(tmp_path / "on.yaml", {**base, "local": {"enabled": True}})
    snakemake(on, configfile=cfg)
    document = scores(on)
    found = document["results"]["configured"]
    by = found["by_relation"]
    # every crop pair, and some close-ups (two close-ups of one panel may show other
    # parts of it, and a close-up of a flat part does not verify: docs/methods.md)
    assert by["cropped"]["recall"] == 1.0 > before["cropped"]["recall"]
    assert by["zoomed"]["recall"] >= 0.3 > before["zoomed"]["recall"] == 0
    assert found["precision"] == 1.0 and by["single"]["predicted_pairs"] == 0
    # each linked (original, reuse) pair says how: a close-up or a crop
    confusion = document["relations"]["confusion"]
    assert confusion["zoomed"] == {"zoomed": confusion["zoomed"]["zoomed"]}
    assert confusion["cropped"] == {"cropped": confusion["cropped"]["cropped"]}
    assert confusion["zoomed"]["zoomed"] >= 1 and confusion["cropped"]["cropped"] >= 4

    pairs = pd.read_parquet(on / "results/pairs.parquet")
    linked = pairs[pairs["link"] == "local"]
    assert len(linked) >= 6 and set(linked["relation"]) <= {"zoomed", "cropped", "partial"}
    rule = DEFAULTS["matching"]["local"]
    assert (linked["inliers"] >= rule["min_inliers"]).all()
    whole = linked[["cover_a", "cover_b"]].max(axis=1) >= rule["cover"]
    placed = (linked["region_cover"] >= rule["region_cover"]) & (
        linked["region_area"] >= rule["region_area"]
    )
    assert (whole | placed).all()
    zoomed = linked[linked["relation"] == "zoomed"]
    assert ((zoomed["scale"] >= 1.25) | (zoomed["scale"] <= 0.8)).all()
    # the whole-panel links keep their own kind and relation
    assert set(pairs_off["link"]) <= set(pairs["link"])

    verified = tables.read(on / "results/verified.parquet")
    assert (
        list(verified.columns)
        == tables.verified_schema(
            {m: 1 for m in verified.columns[4 : -len(tables.LOCAL_COLUMNS)]}
        ).names
    )
    keypoints = tables.read(on / "results/keypoints/0000.parquet")
    frame = local.from_row(keypoints.iloc[0])
    assert len(frame.plain.xy) > 50 and frame.drawn.shape == frame.colour.shape[:2]
    # the gallery tells each link in plain words
    page = (on / "results/gallery/index.html").read_text()
    assert gallery.REASONS[10] in page and gallery.REASONS[11] in page

    # a stricter rule reruns the groups, not the verification
    stricter = {
        **base,
        "local": {"enabled": True},
        "matching": {
            "local": {"min_inliers": 20, "cover": 0.99, "region_cover": 0.99, "region_area": 0.5}
        },
    }
    dry = snakemake(on, "-n", configfile=write_config(tmp_path / "strict.yaml", stricter))
    assert "groups" in dry.stdout and "rule verify" not in dry.stdout
    assert "rule keypoints" not in dry.stdout
    # more candidates reruns the verification, not the keypoints
    more = {**base, "local": {"enabled": True, "candidates": 20}}
    dry = snakemake(on, "-n", configfile=write_config(tmp_path / "more.yaml", more))
    assert "verify" in dry.stdout and "rule keypoints" not in dry.stdout
