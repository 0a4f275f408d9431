"""Regression checks on the real collections: Homestuck panels and sprite recolours
(each skipped when its folder under ../shared/data is absent)."""

import json

import pandas as pd
import pytest
from conftest import REAL_PANELS, SHARED, snakemake, write_config
from test_gallery import (
    broken_images,
    links_resolve,
    load,
    needs_browser,
    problems,
)

SPRITES = SHARED / "data" / "sprites"
pytestmark = pytest.mark.workflow
panels = pytest.mark.skipif(
    not REAL_PANELS.is_dir(), reason=f"real panels not found at {REAL_PANELS}"
)
sprites = pytest.mark.skipif(
    not (SPRITES / "groups.csv").is_file(), reason=f"sprites not found at {SPRITES}"
)


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("real")
    cfg = {"source": {"folder": str(REAL_PANELS), "images_per_chunk": 50}}
    snakemake(run, configfile=write_config(run / "real.yaml", cfg))
    groups = pd.read_parquet(run / "results/groups.parquet").set_index("image")
    groups.attrs["run"] = run
    return groups


@pytest.fixture(scope="module")
def sprite_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("sprites")
    cfg = {
        "source": {"folder": str(SPRITES)},
        "evaluation": {"truth": str(SPRITES / "groups.csv"), "dont_care": "species"},
    }
    snakemake(run, configfile=write_config(run / "sprites.yaml", cfg))
    return run


@panels
def test_recoloured_hands_share_a_cluster(real_run):
    assert real_run.loc["2079_2.gif", "group"] == real_run.loc["2338_1.gif", "group"]


@panels
@pytest.mark.parametrize("control", ["1870_1.gif", "1828_2.gif"])
def test_controls_join_no_group(real_run, control):
    assert real_run.loc[control, "group_size"] == 1


@panels
@pytest.mark.parametrize("blank", ["94_1.gif", "96_1.gif"])
def test_nearly_blank_panels_join_no_group(real_run, blank):
    assert real_run.loc[blank, "group_size"] == 1


def known_pairs():
    labels = REAL_PANELS.parent / "groups.csv"
    if not labels.is_file():
        return []
    truth = pd.read_csv(labels, dtype=str, keep_default_na=False)
    known = truth[truth["relation"].isin(["identical", "reuse"])]
    return [tuple(g["image"]) for _, g in known.groupby("group")]


@panels
@pytest.mark.parametrize("members", known_pairs())
def test_known_identical_and_reused_panels_of_pages_1_to_100_group(real_run, members):
    assert len({real_run.loc[m, "group"] for m in members}) == 1, members


@panels
def test_every_panel_is_processed(real_run):
    assert len(real_run) == len(list(REAL_PANELS.glob("*.gif")))


@sprites
def test_sprites_recolours_are_found_and_no_group_mixes_species(sprite_run):
    evaluation = json.loads((sprite_run / "results/evaluation.json").read_text())
    scores = evaluation["results"]["configured"]
    assert evaluation["covered"] == evaluation["run_images"] == 772
    assert evaluation["dont_care"] == "species"
    assert scores["f1"] >= 0.95, scores
    # the rule before the real collections were measured put unrelated sprites together
    assert evaluation["results"]["old_default"]["precision"] < 0.5
    truth = pd.read_csv(SPRITES / "groups.csv", dtype=str, keep_default_na=False)
    species = dict(zip(truth["image"], truth["species"], strict=True))
    groups = pd.read_parquet(sprite_run / "results/groups.parquet")
    mixed = groups.groupby("group")["image"].agg(lambda m: len({species[i] for i in m}))
    assert (mixed == 1).all(), mixed[mixed > 1]
    summary = (sprite_run / "results/summary.txt").read_text()
    assert "the truth covers 772 of the run's 772 images" in summary
    assert '"don\'t care" (same species, other group)' in summary


@panels
@needs_browser
def test_the_gallery_of_the_real_panels(real_run, browser):
    site = real_run.attrs["run"] / "results/gallery"
    for name in ["index.html", "images-1.html", "unmatched.html", "failures.html", "find.html"]:
        load(browser, site / name)
        assert problems(browser) == [] and broken_images(browser) == [], name
        assert links_resolve(browser) == [], name
    load(browser, site / "index.html")
    cards = browser.find_elements("css selector", "section.card")
    assert len(cards) == real_run.loc[real_run["group_size"] > 1, "group"].nunique()
    browser.get(browser.find_element("css selector", "a.compare").get_attribute("href"))
    load_images = "return ['ia', 'ib'].map(i => document.getElementById(i).naturalWidth);"
    assert all(w > 0 for w in browser.execute_script(load_images))
    browser.get((site / "find.html").as_uri() + "?q=2338_1")
    assert browser.find_element("css selector", ":target h2").text == "2338_1.gif"
