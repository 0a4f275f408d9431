"""Regression checks on real Homestuck panels (skipped when ../shared/data is absent)."""

import pandas as pd
import pytest
from conftest import REAL_PANELS, snakemake, write_config

pytestmark = [
    pytest.mark.workflow,
    pytest.mark.skipif(not REAL_PANELS.is_dir(), reason=f"real panels not found at {REAL_PANELS}"),
]


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("real")
    cfg = {
        "source": {"folder": str(REAL_PANELS), "images_per_chunk": 50},
        "evaluation": {"truth": None},
    }
    snakemake(run, configfile=write_config(run / "real.yaml", cfg))
    return pd.read_parquet(run / "results/clusters.parquet").set_index("image")


def test_recoloured_hands_share_a_cluster(real_run):
    assert real_run.loc["2079_2.gif", "cluster"] == real_run.loc["2338_1.gif", "cluster"]


@pytest.mark.parametrize("control", ["1870_1.gif", "1828_2.gif"])
def test_controls_join_no_group(real_run, control):
    assert real_run.loc[control, "cluster_size"] == 1


@pytest.mark.parametrize("blank", ["94_1.gif", "96_1.gif"])
def test_nearly_blank_panels_join_no_group(real_run, blank):
    assert real_run.loc[blank, "cluster_size"] == 1


def known_pairs():
    labels = REAL_PANELS.parent / "groups.csv"
    if not labels.is_file():
        return []
    truth = pd.read_csv(labels, dtype=str, keep_default_na=False)
    known = truth[truth["relation"].isin(["identical", "reuse"])]
    return [tuple(g["image"]) for _, g in known.groupby("group")]


@pytest.mark.parametrize("members", known_pairs())
def test_known_identical_and_reused_panels_of_pages_1_to_100_group(real_run, members):
    assert len({real_run.loc[m, "cluster"] for m in members}) == 1, members


def test_every_panel_is_processed(real_run):
    assert len(real_run) == len(list(REAL_PANELS.glob("*.gif")))
