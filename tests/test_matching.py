"""The matching targets on the demo comic, and every method of the toolbox, in real runs."""

import json

import pandas as pd
import pytest
from conftest import REPO, snakemake, write_config
from panelmatch.relation import RELATIONS

pytestmark = pytest.mark.workflow

#: Relations a reader must find, and the recall each needs under the default rule: every
#: relation the first frame shows.
REQUIRED = {
    relation: 0.8
    for relation in (
        "exact",
        "recolour",
        "reletter",
        "shift",
        "redraw",
        "mirror",
        "heavy_lettering",
    )
}
#: Distractors: panels that must join no group.
ALONE = ("blank", "busy", "animated", "single", "chat", "caption")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The full default demo (every relation at least 8 times), then the methods config."""
    workdir = tmp_path_factory.mktemp("matching")
    snakemake(workdir)
    default = json.loads((workdir / "results/evaluation.json").read_text())
    groups = pd.read_parquet(workdir / "results/groups.parquet")
    snakemake(workdir, configfile=REPO / "benchmarks/methods.yaml")
    methods = json.loads((workdir / "results/evaluation.json").read_text())
    return workdir, default, groups, methods


def test_default_rule_meets_the_targets_on_the_demo(demo_run):
    _, default, _, _ = demo_run
    scores = default["results"]["configured"]
    assert scores["f1"] >= 0.97, scores
    for relation, floor in REQUIRED.items():
        by = scores["by_relation"][relation]
        assert by["true_pairs"] >= 8 and by["recall"] >= floor, (relation, by)
    # the distractors join nothing: blank and busy panels, unrelated scenes, animations,
    # unrelated chat logs and caption panels (which look alike to a hash)
    for relation in ALONE:
        assert scores["by_relation"][relation]["predicted_pairs"] == 0, relation
    assert default["covered"] == default["run_images"] and default["dont_care"] is None


def test_relations_of_the_linked_pairs_are_scored_against_the_demo(demo_run):
    workdir, default, _, _ = demo_run
    relations = default["relations"]
    # every (original, reuse) pair of the demo's families is labelled; the linked ones
    # are scored, and what is unambiguous is right: identical copies, recolours
    assert relations["labelled"] >= 60 and relations["scored"] >= 0.9 * relations["labelled"]
    confusion = relations["confusion"]
    assert sum(sum(row.values()) for row in confusion.values()) == relations["scored"]
    assert confusion["identical"] == {"identical": confusion["identical"]["identical"]}
    assert confusion["mirrored"]["mirrored"] >= 0.8 * sum(confusion["mirrored"].values())
    assert confusion["recolour"]["recolour"] >= 0.8 * sum(confusion["recolour"].values())
    assert relations["accuracy"] >= 0.7
    pairs = pd.read_parquet(workdir / "results/pairs.parquet")
    assert set(pairs["relation"]) <= set(RELATIONS)


def test_summary_shows_the_scores_and_the_comparison(demo_run):
    workdir, default, _, _ = demo_run
    text = (workdir / "results/summary.txt").read_text()
    for name in default["results"]:
        assert f"\n  {name} " in text, name
    assert "relation        precision recall    F1 true pred" in text
    assert "the truth covers 142 of the run's 142 images" in text
    assert "folder entries skipped" not in text  # a site run skips no folder entry
    assert "relations of the pairs:     accuracy" in text
    # the gallery's summary page shows the same sections as tables
    page = (workdir / "results/gallery/overview.html").read_text(encoding="utf-8")
    assert "<caption>matching rules compared" in page and '<th scope="col">precision</th>' in page
    assert '<a href="plots/distances.png"' in page


def test_every_method_of_the_toolbox_runs_and_is_scored(demo_run):
    workdir, default, groups, methods = demo_run
    results = methods["results"]
    assert set(default["results"]) < set(results)  # the defaults' entries plus the methods'
    # the configured rule only reads its own metrics: more metrics change nothing
    assert results["configured"] == default["results"]["configured"]
    pd.testing.assert_frame_equal(pd.read_parquet(workdir / "results/groups.parquet"), groups)
    pairs = pd.read_parquet(workdir / "results/pairs.parquet")
    for column in ["edges_tolerant", "bw", "bw_inverse", "colorhash", "edges_phash"]:
        assert column in pairs.columns
    # baselines the study measured behave as it found: black-and-white pixels over-match,
    # the plain study rule misses more than the default
    assert results["bw_global"]["precision"] < results["configured"]["precision"]
    assert results["study"]["recall"] < results["configured"]["recall"]
    # heavy lettering is found by same_art and the text lines, not by the edges
    heavy = {n: results[n]["by_relation"]["heavy_lettering"]["recall"] for n in results}
    assert heavy["edges_mirror_only"] < 0.5 and heavy["configured"] >= 0.8
    assert heavy["same_art_only"] > heavy["edges_mirror_only"]
    assert heavy["lines_only"] > heavy["edges_mirror_only"]
    for name, scores in results.items():
        assert 0 <= scores["f1"] <= 1 and scores["largest_group"] >= 1, name


def test_every_frame_finds_the_reuse_hidden_in_a_later_frame(demo_run, tmp_path):
    workdir, default, _, _ = demo_run
    # the first frame alone (the default, as in the study) misses it
    assert default["results"]["configured"]["by_relation"]["later_frame"]["recall"] == 0
    cfg = write_config(tmp_path / "all.yaml", {"frames": {"mode": "all"}})
    snakemake(workdir, "results/evaluation.json", configfile=cfg)
    scores = json.loads((workdir / "results/evaluation.json").read_text())["results"]["configured"]
    later = scores["by_relation"]["later_frame"]
    assert later["true_pairs"] == 4 and later["recall"] == 1.0, later
    assert scores["f1"] >= 0.95, scores
    for relation in REQUIRED:
        assert scores["by_relation"][relation]["recall"] >= REQUIRED[relation], relation
