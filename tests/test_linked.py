"""From stored pairs to linked pairs, groups, pairs and neighbours tables (panelmatch.linked),
on a run of frames built here."""

import numpy as np
import pandas as pd
import pytest
from panelmatch import bits, linked, pairs, tables
from test_link import HASH_BITS, RULE

METRIC_MAX = {"edges": 10000, "edges_mirror": 10000}


def small_run(names=("a.png", "b.png", "c.png", "d.png")):
    """Four one-frame images, each with an edge map of 1000 pixels (none shared by
    more than one frame beyond the first row)."""
    n = len(names)
    maps = np.zeros((n, 100 * 100), bool)
    maps[:, :1000] = True
    codes = bits.pack(maps)
    return linked.Run(
        names=np.array(names, dtype=object),
        image_of=np.arange(n),
        offsets=np.array([0]),
        frame=np.zeros(n, np.int64),
        counts={
            "edge_pixels": bits.popcount(codes).astype(np.int64),
            "silhouette_pixels": np.zeros(n, np.int64),
            "detail_blocks": np.zeros(n, np.int64),
        },
        codes=codes,
        width=100,
        height=100,
    )


def shard(a, b, edges):
    distances = {"edges": np.array(edges), "edges_mirror": np.full(len(a), 5000)}
    return pairs.Shard(np.array(a), np.array(b), distances)


def test_linked_pairs_keeps_each_rules_links_shard_by_shard():
    """The pairs each rule links, from shards read one at a time, with a verified copy of a
    pair (streamed last) kept once."""
    shards = [shard([0, 0], [1, 2], [100, 900]), shard([1, 0], [3, 1], [2000, 50])]
    loose = RULE.but(edge_cap=1100, template_frames=None)
    strict = loose.but(edge_cap=500)
    found = linked.linked_pairs(
        small_run(),
        shards,
        HASH_BITS,
        {"loose": loose, "strict": strict},
        1,
        ["edges", "edges_mirror"],
        local=True,
    )
    assert list(zip(found["loose"].a, found["loose"].b, strict=True)) == [(0, 2), (0, 1)]
    assert found["loose"].distances["edges"].tolist() == [900, 50]  # the last copy of (0, 1)
    assert list(zip(found["strict"].a, found["strict"].b, strict=True)) == [(0, 1)]


def write_shard(path, a, b, edges):
    """A distance shard of one chunk (chunk 0 with itself) at `path`."""
    table = pd.DataFrame(
        {
            "chunk_a": np.zeros(len(a), np.int32),
            "row_a": np.array(a, np.int32),
            "chunk_b": np.zeros(len(a), np.int32),
            "row_b": np.array(b, np.int32),
            "edges": np.array(edges, np.uint16),
            "edges_mirror": np.full(len(a), 5000, np.uint16),
        }
    )
    tables.write(table, path, tables.shard_schema(METRIC_MAX))
    return str(path)


def test_groups_and_pairs_tables(tmp_path):
    path = write_shard(
        tmp_path / "0000_0000.parquet", [0, 0, 1, 2], [1, 2, 2, 3], [50, 2000, 80, 3000]
    )
    manifest = pd.DataFrame(
        {"image": ["a.png", "b.png", "c.png", "d.png"], "path": list("ABCD"), "page": [None] * 4}
    )
    found = linked.groups_and_pairs(
        small_run(), [path], manifest, RULE.but(template_frames=None), HASH_BITS, METRIC_MAX, 1
    )
    groups = found.groups.set_index("image")
    assert (
        groups.loc["a.png", "group"] == groups.loc["b.png", "group"] == groups.loc["c.png", "group"]
    )
    assert groups.loc["d.png", "group_size"] == 1
    assert groups.loc["a.png", "path"] == "A"
    assert found.groups_of_two_or_more == 1 and found.grouped_images == 3
    # the linked pairs only, in image-pair order, each with its relation
    assert list(zip(found.pairs["image_a"], found.pairs["image_b"], strict=False)) == [
        ("a.png", "b.png"),
        ("b.png", "c.png"),
    ]
    assert found.pairs["link"].tolist() == ["edge", "edge"]
    assert set(found.pairs["relation"]) <= {
        "identical",
        "recolour",
        "reletter",
        "shifted",
        "similar",
    }
    tables.write(found.groups, tmp_path / "groups.parquet", tables.GROUPS)  # the schema holds


def test_neighbours_ranks_by_edge_distance_and_says_which_are_linked(tmp_path):
    path = write_shard(tmp_path / "0000_0000.parquet", [0, 0, 0], [1, 2, 3], [900, 50, 3000])
    out = linked.neighbours(
        small_run(), [path], RULE.but(template_frames=None), HASH_BITS, METRIC_MAX, 1, k=2
    )
    a = out[out["image"] == "a.png"]
    assert a["neighbour"].tolist() == ["c.png", "b.png"]  # the 2 nearest, nearest first
    assert a["rank"].tolist() == [1, 2]
    assert a["linked"].tolist() == [True, True]
    d = out[out["image"] == "d.png"]
    assert d["neighbour"].tolist() == ["a.png"] and not d["linked"].any()


def test_a_run_computes_its_templates_once_per_bound():
    run = small_run()
    assert run.templates(64) is run.templates(64)
    assert run.templates(None) is not run.templates(64)
    assert run.counts_without_templates(64) is run.counts_without_templates(64)
    with pytest.raises(KeyError):
        run.counts_without_templates(None)["no such count"]
