"""Folder input: which entries of the folder are input images (and why the others are
not), the manifest row of each file, each chunk's stamp, and the previous run's chunks.

Every listing decision is here: the workflow lists the folder once (:func:`list_images`)
when it plans the run, the ingest rule reads each file (:func:`file_row`), a chunk reruns
when :func:`stamp` of its files changes, and a grown folder keeps its chunks
(:func:`previous_plan`, then chunks.grow).
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from panelmatch import tables
from panelmatch.chunks import chunk_name


class Skipped(NamedTuple):
    """An entry of an input folder that is not an input image, and why."""

    path: str  # relative to the folder, '/'-separated
    reason: str  # one of SKIP_REASONS
    detail: str = ""


#: Why a folder entry is not taken as an input image: a name starting with '.'
#: (source.hidden), a file without an image extension (source.extensions), a folder that
#: cannot be read, and a symlinked folder not followed (source.follow_symlinks, or a cycle).
SKIP_REASONS = ("hidden", "not_an_image", "unreadable_folder", "symlinked_folder")


class Listing(NamedTuple):
    """An input folder's image files (relative paths, sorted), what was skipped, the image
    files whose path is not valid UTF-8 (`undecodable`: printable paths, sorted: no table
    can name them, so they are inputs that failed), and the run's own output folders met
    inside it (`excluded`: never entered, and not listed as skipped, so that a rerun sees
    the same listing)."""

    files: list[str]
    skipped: list[Skipped]
    undecodable: list[str] = []
    excluded: list[str] = []


def printable(path: str) -> str:
    """A path as text that any table can hold: bytes of a name that are not valid UTF-8
    (kept by the operating system's surrogate escapes) written as ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def decodable(path: str) -> bool:
    """Whether a path (as os.scandir gives it) is valid UTF-8."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def list_images(
    folder: str | os.PathLike,
    extensions: Iterable[str],
    hidden: bool,
    follow_symlinks: bool,
    exclude: Iterable[str | os.PathLike] = (),
) -> Listing:
    """The image files under `folder` (recursively) and every entry skipped, with why.

    A file is an input image when its name ends with one of `extensions` (any case), and
    its name and folders do not start with '.' unless `hidden`. Symlinks to files are
    inputs like files: with `follow_symlinks` they are read wherever they point (a
    dangling link or a loop then fails with its reason), without they are refused by the
    ingest stage. Symlinked folders are entered only with `follow_symlinks`, once each
    (never twice the same folder: no cycles). A folder that cannot be listed is skipped
    with its reason. The folders of `exclude` (the run's own outputs) are never entered
    (`excluded`). An image file whose path is not valid UTF-8 is listed in `undecodable`
    by its printable path; a skipped entry is named by its printable path. Raises
    FileNotFoundError naming the folder when it is missing or not a folder.
    """
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"source.folder {str(folder)!r} is not an existing folder")
    wanted = tuple(e.lower() for e in extensions)
    files: list[str] = []
    skipped: list[Skipped] = []
    undecodable: list[str] = []
    excluded: list[str] = []
    outputs = {os.path.realpath(p) for p in exclude}
    output_names = {os.path.basename(p) for p in outputs}  # a cheap test before realpath
    seen = {os.path.realpath(root)}
    todo = [root]
    while todo:
        here = todo.pop()
        rel_here = here.relative_to(root).as_posix()
        try:
            entries = sorted(os.scandir(here), key=lambda e: e.name)
        except OSError as exc:
            why = exc.strerror or str(exc)
            skipped.append(Skipped(printable(rel_here), "unreadable_folder", why))
            continue
        for entry in entries:
            rel = Path(here, entry.name).relative_to(root).as_posix()
            if entry.name in output_names and os.path.realpath(entry.path) in outputs:
                excluded.append(printable(rel))
                continue
            if entry.name.startswith(".") and not hidden:
                skipped.append(Skipped(printable(rel), "hidden"))
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError:  # a symlink loop, say: not a folder to enter
                is_dir = False
            if is_dir:
                if entry.is_symlink():
                    real = os.path.realpath(entry.path)
                    if not follow_symlinks or real in seen:
                        why = "not followed" if not follow_symlinks else f"{real} seen already"
                        why = printable(why)
                        skipped.append(Skipped(printable(rel), "symlinked_folder", why))
                        continue
                    seen.add(real)
                todo.append(Path(entry.path))
            elif entry.name.lower().endswith(wanted):
                (files if decodable(rel) else undecodable).append(rel)
            else:
                skipped.append(Skipped(printable(rel), "not_an_image"))
    undecodable = sorted(printable(r) for r in undecodable)
    return Listing(sorted(files), sorted(skipped), undecodable, sorted(excluded))


def file_row(folder: Path, relpath: str, follow_symlinks: bool, max_bytes: int | None) -> dict:
    """Manifest row of one file of a folder input (status ok, or why it cannot be read: a
    symlink not followed, a dangling symlink, a symlink loop, not a regular file (a FIFO
    or a device named like an image: reading it could block or never end), larger than
    `max_bytes` (judged from its size, before it is opened), or why it is unreadable)."""
    path = folder / relpath

    def failed(status: str) -> dict:
        return tables.manifest_row(None, 0, relpath, None, str(path), None, status)

    target = None
    if path.is_symlink():
        target = os.readlink(path)
        if not follow_symlinks:
            return failed(f"symlink_not_followed: to {target} (source.follow_symlinks is false)")
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return failed(f"symlink_loop: {target}")
        if exc.errno == errno.ENOENT and target is not None:
            return failed(f"dangling_symlink: to {target}")
        return failed(f"unreadable: {exc.strerror or exc}")
    if not stat.S_ISREG(st.st_mode):
        return failed(f"not_a_regular_file: {_file_kind(st.st_mode)}")
    if max_bytes is not None and st.st_size > max_bytes:
        return failed(f"too_large: {st.st_size} bytes exceeds source.max_bytes ({max_bytes})")
    try:
        # O_NONBLOCK: should the file be swapped for a FIFO after the check, opening it
        # does not wait for a writer
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(max_bytes + 1 if max_bytes is not None else -1)
    except OSError as exc:
        return failed(f"unreadable: {exc.strerror or exc}")
    if max_bytes is not None and len(data) > max_bytes:
        return failed(f"too_large: more than source.max_bytes ({max_bytes}) bytes")
    return tables.manifest_row(None, 0, relpath, None, str(path), data, tables.OK)


def _file_kind(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    for test, kind in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def stamp(folder: str | os.PathLike, files: Iterable[str]) -> str:
    """The sizes and modification times of a chunk's `files` (relative to `folder`), as
    one digest: a change reruns the chunk. A file that cannot be stat'ed (a dangling
    symlink, a loop) is stamped by its error."""
    digest = hashlib.sha256()
    for rel in files:
        try:
            st = os.stat(os.path.join(folder, rel))
            found = f"{st.st_size}\0{st.st_mtime_ns}"
        except OSError as exc:
            found = f"error {exc.errno}"
        digest.update(f"{rel}\0{found}\n".encode())
    return digest.hexdigest()


def previous_plan(results: str | os.PathLike = "results") -> list[list[str]]:
    """The files of each chunk of the previous run whose results are in `results` (its
    manifests), so that a grown folder keeps its chunks and only new chunks are computed;
    [] when there is none, or a manifest cannot be read (plan afresh)."""
    plan: list[list[str]] = []
    while os.path.isfile(
        path := os.path.join(results, "manifest", f"{chunk_name(len(plan))}.parquet")
    ):
        try:
            plan.append(tables.read(path, ["image"])["image"].tolist())
        except Exception:  # noqa: BLE001 - any unreadable manifest: plan afresh
            return []
    return plan
