"""Reverse lookup: `python -m panelmatch query` against a finished run."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from panelmatch import query, tables

pytestmark = pytest.mark.workflow


def stored_pairs(run):
    """Every stored pair of the run with its distances, keyed by image names."""
    res = run / "results"
    images, offsets = tables.read_images(sorted((res / "frame_features").glob("*.parquet")))
    shards = tables.read_many(sorted((res / "distances").glob("*.parquet")))
    a, b = tables.pair_numbers(shards, offsets)
    names = images["image"].to_numpy()
    shards["image_a"], shards["image_b"] = names[a], names[b]
    return shards


def test_query_distances_equal_the_pipelines_own(small_demo_run):
    res = small_demo_run / "results"
    index = query.load(res)
    groups = pd.read_parquet(res / "groups.parquet").set_index("image")
    shards = stored_pairs(small_demo_run)
    metrics = index.settings.metrics
    for image in ["3_1", "10_1", "17_1"]:
        path = small_demo_run / groups.loc[image, "path"]
        result = query.nearest(index, query.read_frames(path, index.settings), len(index.images))
        assert len(result) == len(index.images) and result["rank"].tolist()[0] == 1
        first = result.iloc[0]
        assert first["image"] == image and all(first[m] == 0 for m in ["edges", "phash"])
        by_image = result.set_index("image")
        mine = shards[(shards["image_a"] == image) | (shards["image_b"] == image)]
        assert len(mine) > 0
        for row in mine.itertuples(index=False):
            other = row.image_b if row.image_a == image else row.image_a
            for m in metrics:
                assert by_image.loc[other, m] == getattr(row, m), (image, other, m)
        # linked exactly when the run grouped them through a direct link
        pairs = pd.read_parquet(res / "pairs.parquet")
        linked = set(pairs.loc[pairs["image_a"] == image, "image_b"]) | set(
            pairs.loc[pairs["image_b"] == image, "image_a"]
        )
        assert set(by_image.index[by_image["linked"]]) - {image} == linked
        assert (by_image["group"] == groups["group"].reindex(by_image.index)).all()
        # linked images first, then the others, each part ranked by the rule's edge distance
        assert not result["linked"].iloc[result["linked"].sum() :].any()
        edge = result[["edges", "edges_mirror"]].min(axis=1)
        for part in (result["linked"], ~result["linked"]):
            assert (np.diff(edge[part].to_numpy()) >= 0).all()
        # with k = 1 every linked image still comes, then one more
        few = query.nearest(index, query.read_frames(path, index.settings), 1)
        assert set(few["image"][few["linked"]]) == set(by_image.index[by_image["linked"]])
        assert len(few) == by_image["linked"].sum() + 1 and not few["linked"].iloc[-1]


def run_cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "panelmatch", "query", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PYTHONPATH": str(REPO / "scripts"), "PATH": "/usr/bin:/bin"},
    )


def test_cli_tables_several_images_and_names_bad_input(small_demo_run, tmp_path):
    groups = pd.read_parquet(small_demo_run / "results/groups.parquet").set_index("image")
    paths = [str(small_demo_run / groups.loc[i, "path"]) for i in ["3_1", "10_1"]]
    out = tmp_path / "found.csv"
    proc = run_cli(*paths, "-k", "3", "--csv", str(out), cwd=small_demo_run)
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(out)
    assert table["query"].unique().tolist() == paths
    for path, image in zip(paths, ["3_1", "10_1"], strict=True):
        rows = table[table["query"] == path]
        assert len(rows) == rows["linked"].sum() + 3  # the linked images, then 3 others
        assert rows["rank"].tolist() == list(range(1, len(rows) + 1))
        assert rows["image"].iloc[0] == image
    printed = run_cli(paths[0], "-k", "2", cwd=small_demo_run)
    assert printed.returncode == 0 and "edge_threshold" in printed.stdout
    assert "stored images loaded" in printed.stderr

    broken = tmp_path / "broken.gif"
    broken.write_bytes(b"GIF89a not really")
    bad = run_cli(str(broken), paths[0], "-k", "1", cwd=small_demo_run)
    assert bad.returncode == 1 and "broken.gif" in bad.stderr and "3_1" in bad.stdout
    missing = run_cli(paths[0], "--results", str(tmp_path / "nowhere"), cwd=small_demo_run)
    assert missing.returncode == 2 and "nowhere" in missing.stderr
