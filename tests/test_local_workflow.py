"""Local features in a real workflow run: close-ups, crops and pastes are found with
local.enabled, and not without; unrelated drawings stay alone; a change of the
verification reruns only what depends on it."""

import csv
import json

import cv2
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, doodle, snakemake, write_config
from democomic.drawing import to_gif
from democomic.families import REUSE
from panelmatch import gallery, local, tables
from PIL import Image

pytestmark = pytest.mark.workflow
DEFAULTS = yaml.safe_load((REPO / "config.yaml").read_text())


def derivative(kind: str, source: np.ndarray, host: np.ndarray) -> np.ndarray:
    """A close-up of half of each side of `source` enlarged back (``zoomed``), 60% of its
    width (``cropped``), or a region of 40% of each side of it in `host` elsewhere
    (``pasted``)."""
    if kind == "zoomed":
        return cv2.resize(source[100:325, 260:585], (650, 450), interpolation=cv2.INTER_CUBIC)
    if kind == "cropped":
        return np.ascontiguousarray(source[:, 200:590])
    pasted = host.copy()
    pasted[250:430, 350:610] = source[20:200, 30:290]
    return pasted


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """A folder of drawings that share nothing (random shapes, each its own): for each kind
    of partial reuse two families of a drawing and its derivative, and 4 unrelated
    drawings; with its truth."""
    root = tmp_path_factory.mktemp("local")
    folder = root / "images"
    folder.mkdir()
    rows = []

    def add(name, rgb, group, relation, reuse):
        (folder / name).write_bytes(to_gif([Image.fromarray(rgb)]))
        rows.append([name, group, relation, reuse])

    seed = 100
    for kind in ("zoomed", "cropped", "pasted"):
        for k in range(2):
            group = f"{kind}_{k}"
            source, host = doodle(seed), doodle(seed + 1)
            seed += 2
            add(f"{group}_a.gif", source, group, kind, "original")
            # a paste's host is a new scene: not in the collection
            add(f"{group}_b.gif", derivative(kind, source, host), group, kind, REUSE[kind])
    for k in range(4):
        add(f"single_{k}.gif", doodle(300 + k), "", "single", "")
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
    # every close-up and crop, one paste of two (the other's region gives 6 inliers, under
    # min_inliers), and nothing else
    assert by["cropped"]["recall"] == 1.0 > before["cropped"]["recall"]
    assert by["zoomed"]["recall"] == 1.0 > before["zoomed"]["recall"]
    assert by["pasted"]["recall"] == 0.5 > before["pasted"]["recall"] == 0
    assert found["precision"] == 1.0 and by["single"]["predicted_pairs"] == 0
    # each linked (original, reuse) pair says how: a close-up, a crop, part of a scene
    confusion = document["relations"]["confusion"]
    assert confusion["zoomed"] == {"zoomed": 2} and confusion["cropped"] == {"cropped": 2}
    assert confusion["partial"] == {"partial": 1}

    pairs = pd.read_parquet(on / "results/pairs.parquet")
    linked = pairs[pairs["link"] == "local"]
    assert len(linked) == 5 and set(linked["relation"]) == {"zoomed", "cropped", "partial"}
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
