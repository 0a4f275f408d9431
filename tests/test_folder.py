"""Folder inputs a new user or an adversary hands over: symlinks dangling, looping and
pointing outside, hidden names, unreadable and empty folders. Every entry is processed,
refused with its reason, or listed as skipped; nothing stops the run."""

import os
import shutil

import pandas as pd
import pytest
import yaml
from conftest import REPO, snakemake, write_config
from panelmatch import folder as input_folder
from panelmatch import summary

pytestmark = pytest.mark.workflow

#: source.extensions as the schema gives it.
EXTENSIONS = yaml.safe_load((REPO / "config.yaml").read_text())["source"]["extensions"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory, small_demo_run):
    root = tmp_path_factory.mktemp("adversary")
    pics, outside = root / "pics", root / "outside"
    (pics / "sub").mkdir(parents=True)
    outside.mkdir()
    images = sorted((small_demo_run / "results/images").glob("*.gif"))
    shutil.copy(images[0], pics / "a.gif")
    shutil.copy(images[1], pics / "sub" / "b.gif")
    shutil.copy(images[2], outside / "far.gif")
    shutil.copy(images[3], pics / "..%2f..%2fevil.png")  # a hidden name
    (pics / ".hidden").mkdir()
    shutil.copy(images[4], pics / ".hidden" / "c.gif")
    (pics / "notes.txt").write_text("not an image")
    os.symlink("/nowhere/gone.png", pics / "gone.png")  # dangling
    os.symlink("loop.gif", pics / "loop.gif")  # a loop onto itself
    os.symlink(outside / "far.gif", pics / "far.gif")  # a file outside the folder
    os.symlink(outside, pics / "elsewhere")  # a folder outside
    return pics


def run(tmp_path, folder, **source):
    cfg = {"source": {"folder": str(folder), **source}}
    snakemake(tmp_path, configfile=write_config(tmp_path / "c.yaml", cfg))
    res = tmp_path / "results"
    groups = pd.read_csv(res / "groups.csv", keep_default_na=False)
    failures = pd.read_csv(res / "failures.csv", keep_default_na=False)
    skipped = pd.read_csv(res / "skipped.csv", keep_default_na=False)
    return groups, failures, skipped, (res / "summary.txt").read_text()


def test_broken_symlinks_are_failures_and_the_run_goes_on(tmp_path, folder):
    before = os.umask(0o022)
    try:
        groups, failures, skipped, summary = run(tmp_path, folder)
    finally:
        os.umask(before)
    # every output gets the permissions the umask allows, as a plain open() would give
    for path in (tmp_path / "results").rglob("*"):
        mode = path.lstat().st_mode & 0o777
        want = 0o755 if path.is_dir() and not path.is_symlink() else 0o644
        assert path.is_symlink() or mode == want, (path, oct(mode))
    # symlinks to files are followed, wherever they point, and so are symlinked folders
    assert sorted(groups["image"]) == ["a.gif", "elsewhere/far.gif", "far.gif", "sub/b.gif"]
    reasons = dict(zip(failures["image"], failures["reason"], strict=True))
    assert reasons["gone.png"] == "dangling_symlink: to /nowhere/gone.png"
    assert reasons["loop.gif"] == "symlink_loop: loop.gif"
    assert set(failures["stage"]) == {"ingest"}
    # hidden names and files without an image extension are listed, not silently dropped
    assert sorted(zip(skipped["path"], skipped["reason"], strict=True)) == [
        ("..%2f..%2fevil.png", "hidden"),
        (".hidden", "hidden"),
        ("notes.txt", "not_an_image"),
    ]
    assert "inputs (images found):      6" in summary
    assert "processed + failed:         6" in summary
    assert "folder entries skipped:     hidden: 2, not_an_image: 1" in summary
    assert "dangling_symlink: 1" in summary and "symlink_loop: 1" in summary


def test_symlinks_can_be_refused_and_hidden_names_taken(tmp_path, folder):
    groups, failures, skipped, summary = run(tmp_path, folder, follow_symlinks=False, hidden=True)
    assert sorted(groups["image"]) == [
        "..%2f..%2fevil.png",
        ".hidden/c.gif",
        "a.gif",
        "sub/b.gif",
    ]
    refused = failures[failures["reason"].str.startswith("symlink_not_followed")]
    assert sorted(refused["image"]) == ["far.gif", "gone.png", "loop.gif"]
    assert "(source.follow_symlinks is false)" in refused["reason"].iloc[0]
    assert sorted(zip(skipped["path"], skipped["reason"], strict=True)) == [
        ("elsewhere", "symlinked_folder"),
        ("notes.txt", "not_an_image"),
    ]


def test_an_empty_folder_says_so(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.md").write_text("nothing here")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    cfg = write_config(tmp_path / "c.yaml", {"source": {"folder": str(empty)}})
    proc = snakemake(run_dir, configfile=cfg)
    assert f"source.folder {str(empty)!r} holds no image files" in proc.stdout
    # and again at the end, where a user looks
    end = proc.stdout.rsplit("steps (100%) done", 1)[1]
    assert f"source.folder {str(empty)!r} holds no image files" in end
    summary = (run_dir / "results/summary.txt").read_text()
    assert "inputs (images found):      0" in summary
    assert "the folder holds no image files" in summary


def test_an_unreadable_subfolder_is_listed(tmp_path, monkeypatch):
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "x.gif").write_bytes(b"GIF89a")
    (tmp_path / "locked").mkdir()
    real = os.scandir

    def scandir(path):
        if os.path.basename(path) == "locked":  # what a non-root user meets at chmod 000
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(input_folder.os, "scandir", scandir)
    listing = input_folder.list_images(tmp_path, EXTENSIONS, False, True)
    assert listing.files == ["ok/x.gif"]
    assert listing.skipped == [
        input_folder.Skipped("locked", "unreadable_folder", "Permission denied")
    ]
    skipped = pd.DataFrame([list(s) for s in listing.skipped], columns=["path", "reason", "detail"])
    manifest = pd.DataFrame(columns=["page", "index", "image", "url", "path", "status"])
    stage = pd.DataFrame(columns=["image", "path", "stage", "reason"])
    failed = summary.failures(manifest, stage, skipped, str(tmp_path))
    assert failed.to_dict("records") == [
        {
            "input": str(tmp_path / "locked"),
            "image": "",
            "stage": "folder",
            "reason": "unreadable folder: Permission denied",
        }
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a folder whatever its mode")
def test_an_unreadable_subfolder_in_a_real_run(tmp_path, folder):
    locked = tmp_path / "pics"
    shutil.copytree(folder, locked, symlinks=True)
    (locked / "sub").chmod(0)
    (tmp_path / "run").mkdir()
    try:
        _, failures, _, _ = run(tmp_path / "run", locked)
    finally:
        (locked / "sub").chmod(0o755)
    assert "unreadable folder" in " ".join(failures["reason"])
