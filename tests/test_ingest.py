"""What ingest reads of a folder: regular files only, and none larger than source.max_bytes,
judged before the file is opened (panelmatch.folder.file_row)."""

import os
import threading

import pandas as pd
import pytest
import yaml
from conftest import REPO
from panelmatch import folder as input_folder
from panelmatch import summary, tables

#: source.extensions as the schema gives it.
EXTENSIONS = yaml.safe_load((REPO / "config.yaml").read_text())["source"]["extensions"]


def status(tmp_path, name, max_bytes=1000, follow=True):
    return input_folder.file_row(tmp_path, name, follow, max_bytes)["status"]


def test_a_regular_file_is_read(tmp_path):
    (tmp_path / "a.gif").write_bytes(b"GIF89a" + b"\0" * 10)
    row = input_folder.file_row(tmp_path, "a.gif", True, 1000)
    assert row["status"] == tables.OK and row["bytes"] == 16


def test_a_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "fifo.png")
    done = []
    worker = threading.Thread(target=lambda: done.append(status(tmp_path, "fifo.png")))
    worker.start()
    worker.join(10)
    if worker.is_alive():  # unblock the reader before failing
        with open(tmp_path / "fifo.png", "wb"):
            pass
        pytest.fail("reading a FIFO blocked")
    assert done == ["not_a_regular_file: a FIFO"]


def test_a_link_to_a_device_is_refused(tmp_path):
    (tmp_path / "zero.gif").symlink_to("/dev/zero")
    assert status(tmp_path, "zero.gif") == "not_a_regular_file: a character device"
    # not followed: refused as a symlink first
    assert status(tmp_path, "zero.gif", follow=False).startswith("symlink_not_followed")


def test_a_file_larger_than_max_bytes_is_refused_from_its_size(tmp_path):
    with open(tmp_path / "huge.gif", "wb") as fh:  # a sparse file: 20 GB, no disk used
        fh.truncate(20 * 1024**3)
    assert status(tmp_path, "huge.gif", max_bytes=1000) == (
        "too_large: 21474836480 bytes exceeds source.max_bytes (1000)"
    )
    (tmp_path / "small.gif").write_bytes(b"x" * 1000)
    assert status(tmp_path, "small.gif", max_bytes=1000) == tables.OK
    assert status(tmp_path, "small.gif", max_bytes=999).startswith("too_large: 1000 bytes")


def test_links_that_go_nowhere_keep_their_reasons(tmp_path):
    (tmp_path / "dangling.gif").symlink_to(tmp_path / "missing.gif")
    assert status(tmp_path, "dangling.gif").startswith("dangling_symlink: to ")
    (tmp_path / "loop.gif").symlink_to(tmp_path / "loop.gif")
    assert status(tmp_path, "loop.gif").startswith("symlink_loop")


def test_a_name_that_is_not_utf8_is_a_failed_input_with_a_printable_name(tmp_path):
    os.mkdir(os.fsencode(tmp_path / "sub"))
    with open(os.fsencode(tmp_path) + b"/caf\xe9.gif", "wb") as fh:  # Latin-1, not UTF-8
        fh.write(b"GIF89a")
    with open(os.fsencode(tmp_path) + b"/sub/caf\xe9.txt", "wb") as fh:
        fh.write(b"text")
    (tmp_path / "ok.gif").write_bytes(b"GIF89a")
    listing = input_folder.list_images(tmp_path, EXTENSIONS, False, True)
    assert listing.files == ["ok.gif"]
    assert listing.undecodable == ["caf\\xe9.gif"]
    assert listing.skipped == [input_folder.Skipped("sub/caf\\xe9.txt", "not_an_image")]
    # every name a table receives is valid UTF-8
    for name in [*listing.files, *listing.undecodable, *(s.path for s in listing.skipped)]:
        name.encode("utf-8")
    empty = pd.DataFrame(columns=["page", "index", "image", "url", "path", "status"])
    stage = pd.DataFrame(columns=["image", "path", "stage", "reason"])
    failed = summary.failures(empty, stage, None, str(tmp_path), listing.undecodable)
    assert failed[["image", "stage"]].to_dict("records") == [
        {"image": "caf\\xe9.gif", "stage": "listing"}
    ]
    assert failed["reason"].iloc[0].startswith("undecodable_name")


def test_the_runs_own_folders_are_never_inputs(tmp_path):
    (tmp_path / "a.gif").write_bytes(b"GIF89a")
    for name in ("results", "logs", "elsewhere"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "thumb.png").write_bytes(b"x")
    listing = input_folder.list_images(
        tmp_path, EXTENSIONS, False, True, exclude=[tmp_path / "results", str(tmp_path / "logs")]
    )
    assert listing.files == ["a.gif", "elsewhere/thumb.png"]
    assert listing.excluded == ["logs", "results"]
    assert listing.skipped == []  # not listed: a rerun lists the folder as the first run did


def test_the_summary_counts_agree_with_failures_csv():
    manifest = pd.DataFrame(
        {
            "page": [None] * 3,
            "index": [0] * 3,
            "image": ["a.gif", "b.gif", "c.gif"],
            "url": [None] * 3,
            "path": ["/f/a.gif", "/f/b.gif", "/f/c.gif"],
            "status": [tables.OK, "not_a_regular_file: a FIFO", tables.OK],
        }
    )
    stage = pd.DataFrame(
        {
            "image": ["c.gif"],
            "path": ["/f/c.gif"],
            "stage": ["frame"],
            "reason": ["corrupt image data (frame 1)"],
        }
    )
    skipped = pd.DataFrame(
        [["locked", "unreadable_folder", "Permission denied"]], columns=tables.SKIPPED_COLUMNS
    )
    failed = summary.failures(manifest, stage, skipped, "/f", ["caf\\xe9.gif"])
    assert len(failed) == 4
    groups = pd.DataFrame({"image": ["a.gif", "c.gif"], "group": [1, 2], "group_size": [1, 1]})
    text = summary.text(manifest, failed, groups, 0, 0, skipped=skipped, undecodable=1)
    assert "inputs (images found):      4" in text
    assert "images processed:           2" in text
    assert (
        "images failed:              2  (4 rows in results/failures.csv: also 1 unreadable"
        " folder, 1 dropped frame)"
    ) in text
    assert "MISMATCH" not in text


def test_a_relation_with_nothing_to_score_says_so():
    """A relation type with no true and no predicted pair has no precision or recall: the
    summary prints a dash, not 1.000."""
    row = {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    evaluation = {
        "truth": "t.csv",
        "covered": 4,
        "run_images": 4,
        "not_in_run": 0,
        "results": {
            "configured": {
                **row,
                "true_pairs": 1,
                "predicted_pairs": 1,
                "tp": 1,
                "fp": 0,
                "fn": 0,
                "by_relation": {
                    "recolour": {**row, "true_pairs": 1, "predicted_pairs": 1},
                    "mirror": {**row, "true_pairs": 0, "predicted_pairs": 0},
                },
            }
        },
    }
    lines = summary.as_text([summary.evaluation_section(evaluation)]).splitlines()
    recolour = next(line for line in lines if line.strip().startswith("recolour"))
    mirror = next(line for line in lines if line.strip().startswith("mirror"))
    assert "1.000" in recolour
    assert mirror.split() == ["mirror", "—", "—", "—", "0", "0"]


def test_a_score_without_pairs_to_measure_it_is_a_dash():
    """Precision is undefined without predicted pairs, recall without true pairs."""
    row = {"precision": 1.0, "recall": 0.0, "f1": 0.0}
    evaluation = {
        "truth": "t.csv",
        "covered": 4,
        "run_images": 4,
        "not_in_run": 0,
        "results": {
            "configured": {
                "precision": 1.0,
                "recall": 0.5,
                "f1": 0.667,
                "true_pairs": 2,
                "predicted_pairs": 1,
                "tp": 1,
                "fp": 0,
                "fn": 1,
                "by_relation": {"later_frame": {**row, "true_pairs": 4, "predicted_pairs": 0}},
            }
        },
    }
    table = summary.evaluation_section(evaluation).tables[0]
    assert table.header == ["relation", "precision", "recall", "F1", "true", "pred"]
    assert table.rows == [["later_frame", "—", "0.000", "—", "4", "0"]]


def test_groups_by_size_count_groups_and_the_images_in_none():
    groups = pd.DataFrame(
        {
            "image": list("abcdefgh"),
            "group": [1, 1, 1, 2, 2, 2, 3, 4],
            "group_size": [3] * 6 + [1, 1],
        }
    )
    manifest = pd.DataFrame({"page": [None] * 8, "index": [0] * 8, "image": list("abcdefgh")})
    manifest["url"], manifest["path"], manifest["status"] = None, list("abcdefgh"), "ok"
    found = summary.sections(
        manifest,
        summary.failures(manifest, pd.DataFrame(columns=["image", "path", "stage", "reason"])),
        groups,
        9,
        6,
    )
    rows = dict(found[1].rows)
    assert rows["groups by size"] == "2 groups of 3" and rows["images in no group"] == "2"
    assert rows["groups of 2 or more"] == "2 holding 6 images"
    assert summary.as_json(found)[1]["rows"][3] == ["groups by size", "2 groups of 3"]
