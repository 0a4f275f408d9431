import pandas as pd
import pytest
from panelmatch import tables


def edges_table(names, frames=None):
    return pd.DataFrame(
        {
            "image": names,
            "frame": frames or [0] * len(names),
            "edge_pixels": range(len(names)),
            "edges": [b"\0" * 8] * len(names),
            "bw": [b"\0" * 8] * len(names),
            "silhouette_pixels": [64] * len(names),
            "silhouette": [b"\xff" * 8] * len(names),
            "detail_blocks": [0] * len(names),
            "detail": [b"\0" * 8] * len(names),
            "grey": [b"\0" * 64] * len(names),
            "lines": [b""] * len(names),
            "hue": [b"\0" * 64] * len(names),
        }
    )


def test_images_in_chunk_order_and_pair_numbers(tmp_path):
    paths = []
    for k, names in enumerate([["a", "b"], [], ["c", "d", "e"]]):
        paths.append(tmp_path / f"{k}.parquet")
        tables.write(edges_table(names), paths[-1], tables.FRAME_FEATURES)
    images, offsets = tables.read_images(paths)
    assert images["image"].tolist() == ["a", "b", "c", "d", "e"]
    assert offsets.tolist() == [0, 2, 2, 5]
    shards = pd.DataFrame(
        {"chunk_a": [0, 0, 2], "row_a": [1, 0, 0], "chunk_b": [2, 0, 2], "row_b": [2, 1, 1]}
    )
    a, b = tables.pair_numbers(shards, offsets)
    assert a.tolist() == [1, 0, 2] and b.tolist() == [4, 1, 3]


def test_image_numbers_of_frame_rows():
    frames = pd.Series(["a", "b", "b", "b", "c", "d", "d"])
    names, image_of = tables.image_numbers(frames)
    assert names.tolist() == ["a", "b", "c", "d"]
    assert image_of.tolist() == [0, 1, 1, 1, 2, 3, 3]
    with pytest.raises(ValueError, match="not consecutive"):
        tables.image_numbers(pd.Series(["a", "b", "a"]))


def test_write_is_atomic_and_names_the_file_on_schema_errors(tmp_path):
    target = tmp_path / "x.parquet"
    with pytest.raises(ValueError, match="x.parquet.*missing columns"):
        tables.write(pd.DataFrame({"image": ["a"]}), target, tables.FRAME_FEATURES)
    assert not target.exists() and list(tmp_path.iterdir()) == []
    tables.write(edges_table(["a"]), target, tables.FRAME_FEATURES)
    assert tables.read(target)["image"].tolist() == ["a"]
    assert [p.name for p in tmp_path.iterdir()] == ["x.parquet"]


def test_distance_types_are_the_smallest_that_fit():
    assert str(tables.distance_type(64)) == "uint8"
    assert str(tables.distance_type(255)) == "uint8"
    assert str(tables.distance_type(256)) == "uint16"
    assert str(tables.distance_type(10_000)) == "uint16"
    assert str(tables.distance_type(70_000)) == "uint32"


def test_truth_errors_name_the_file(tmp_path):
    bad = tmp_path / "truth.csv"
    bad.write_text("picture,family\nx,y\n")
    with pytest.raises(ValueError, match="truth.csv.*image"):
        tables.read_truth(bad)


def test_grown_chunks_keep_previous_chunks():
    from panelmatch import chunks

    files = [f"{k:03d}.gif" for k in range(25)]
    previous = chunks.split(files[:17], 5)  # 5, 5, 5, 2
    # appended files: the same chunks as a clean split, the old full chunks untouched
    assert chunks.grow(files, 5, previous) == chunks.split(files, 5)
    assert chunks.grow(files, 5, previous)[:3] == previous[:3]
    # a file inserted in the middle joins the last chunk; a removed one leaves its chunk
    grown = chunks.grow(["000.5.gif"] + files[:17], 5, previous)
    assert grown[:3] == previous[:3] and grown[3] == previous[3] + ["000.5.gif"]
    shrunk = chunks.grow(files[1:17], 5, previous)
    assert shrunk[0] == files[1:5] and shrunk[1:] == previous[1:]
    assert chunks.grow(files[1:19], 5, shrunk) == shrunk[:3] + [previous[3] + files[17:19]]
    # no usable plan: another chunk size, or nothing in common
    assert chunks.grow(files, 4, previous) == chunks.split(files, 4)
    assert chunks.grow(files, 7, previous) == chunks.split(files, 7)
    assert chunks.grow(["x.gif"], 5, previous) == [["x.gif"]]
    assert chunks.grow(files, 5, []) == chunks.split(files, 5)


def test_last_copies_keeps_the_verified_copy_of_a_stored_pair():
    import numpy as np
    from panelmatch import pairs

    shard = pairs.Shard(
        np.array([0, 1, 2, 3, 1]),
        np.array([5, 4, 6, 7, 4]),
        {"edges": np.array([10, 20, 30, 40, 20]), "inliers": np.array([0, 0, 0, 0, 90])},
    )
    once = pairs.last_copies(shard)
    assert once.a.tolist() == [0, 2, 3, 1] and once.b.tolist() == [5, 6, 7, 4]
    assert once.distances["inliers"].tolist() == [0, 0, 0, 90]


def test_kept_frames_pairs_each_kept_frame_with_its_file(tmp_path):
    tables.write(
        edges_table(["b.gif", "a.gif", "a.gif"], [0, 0, 2]), tmp_path / "e", tables.FRAME_FEATURES
    )
    manifest = pd.DataFrame(
        {
            "page": [None, None],
            "index": [0, 0],
            "image": ["a.gif", "b.gif"],
            "url": ["", ""],
            "path": ["/x/a.gif", "/x/b.gif"],
            "bytes": [1, 2],
            "sha256": ["", ""],
            "status": ["ok", "ok"],
        }
    )
    tables.write(manifest, tmp_path / "m", tables.MANIFEST)
    kept, paths = tables.kept_frames(tmp_path / "e", tmp_path / "m")
    assert list(kept.columns) == ["image", "frame"]
    assert kept.values.tolist() == [["b.gif", 0], ["a.gif", 0], ["a.gif", 2]]
    assert paths == {"a.gif": "/x/a.gif", "b.gif": "/x/b.gif"}


def test_fixed_binary_reads_each_chunk_of_a_column():
    import numpy as np
    import pyarrow as pa

    one = pa.table({"c": [b"ab", b"cd"]})
    two = pa.concat_tables([one, pa.table({"c": [b"ef"]})])
    assert two.column("c").num_chunks == 2
    assert tables.fixed_binary(two, "c", 2).tobytes() == b"abcdef"
    assert tables.fixed_binary(one, "c", 2).shape == (2, 2)
    assert tables.fixed_binary(one.slice(0, 0), "c", 2).shape == (0, 2)
    assert np.array_equal(tables.fixed_binary(two.slice(1), "c", 2), [[99, 100], [101, 102]])
    with pytest.raises(ValueError, match="not 3 bytes long"):
        tables.fixed_binary(two, "c", 3)
    with pytest.raises(ValueError, match="missing values"):
        tables.fixed_binary(pa.table({"c": [b"ab", None]}), "c", 2)


def test_read_csv_gives_strings_and_the_named_columns(tmp_path):
    import pandas as pd

    path = tmp_path / "skipped.csv"
    tables.write_csv(
        pd.DataFrame({"path": ["a", "007"], "reason": ["x", ""], "detail": ["", "1"]}), path
    )
    found = tables.read_csv(path, tables.SKIPPED_COLUMNS)
    assert found.to_dict("list") == {"path": ["a", "007"], "reason": ["x", ""], "detail": ["", "1"]}
    assert list(tables.read_csv(None, tables.SKIPPED_COLUMNS).columns) == tables.SKIPPED_COLUMNS
    with pytest.raises(ValueError, match="skipped.csv: lacks the columns"):
        tables.read_csv(path, ["path", "status"])
