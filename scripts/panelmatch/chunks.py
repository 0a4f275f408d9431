"""How inputs are split into chunks: the unit of work of every per-image stage.

A chunk is a range of story pages (site input) or a run of files in sorted order (folder
input). Chunks are numbered from 0 and named with four digits (``0007``) in file names.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

#: File name endings (lower case) taken as images in folder mode unless configured otherwise.
IMAGE_EXTENSIONS = (".gif", ".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


def chunk_name(k: int) -> str:
    return f"{k:04d}"


def page_chunks(first_page: int, last_page: int, pages_per_chunk: int) -> list[range]:
    """Consecutive page ranges covering first_page..last_page (inclusive)."""
    if first_page < 1 or last_page < first_page:
        raise ValueError(f"need 1 <= first_page <= last_page, got {first_page}..{last_page}")
    if pages_per_chunk < 1:
        raise ValueError(f"pages_per_chunk must be >= 1, got {pages_per_chunk}")
    return [
        range(start, min(start + pages_per_chunk, last_page + 1))
        for start in range(first_page, last_page + 1, pages_per_chunk)
    ]


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
    extensions: Iterable[str] = IMAGE_EXTENSIONS,
    hidden: bool = False,
    follow_symlinks: bool = True,
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


def split(items: Sequence[str], per_chunk: int) -> list[list[str]]:
    """Consecutive runs of at most `per_chunk` items (at least one chunk, maybe empty)."""
    if per_chunk < 1:
        raise ValueError(f"images_per_chunk must be >= 1, got {per_chunk}")
    runs = [list(items[i : i + per_chunk]) for i in range(0, len(items), per_chunk)]
    return runs or [[]]


def grow(
    items: Sequence[str], per_chunk: int, previous: Sequence[Sequence[str]]
) -> list[list[str]]:
    """Chunks of `items` that keep a previous run's chunks, so that a grown input reuses
    every chunk whose files did not change.

    Files still present stay in their previous chunk; removed files leave it (that chunk
    changes). New files, in sorted order, first fill the last previous chunk up to
    `per_chunk`, then make new chunks. When every new file sorts after every previous
    one, the result equals ``split(items, per_chunk)``: a grown run and a clean run have
    the same chunks. Without a usable previous plan (none; one made with another chunk
    size, that is a chunk over `per_chunk`, or several chunks none of which is full; or
    one sharing no file with `items`), this is :func:`split`.
    """
    previous = [list(chunk) for chunk in previous if chunk]
    present = set(items)
    if (
        not previous
        or any(len(chunk) > per_chunk for chunk in previous)
        or (len(previous) > 1 and all(len(chunk) < per_chunk for chunk in previous))
        or not present & {f for chunk in previous for f in chunk}
    ):
        return split(items, per_chunk)
    kept = [[f for f in chunk if f in present] for chunk in previous]
    planned = {f for chunk in kept for f in chunk}
    new = [f for f in sorted(items) if f not in planned]
    room = per_chunk - len(kept[-1])
    kept[-1] += new[:room]
    rest = new[room:]
    return kept + [rest[i : i + per_chunk] for i in range(0, len(rest), per_chunk)]


def sides(n_chunks: int, chunks_per_shard: int) -> list[range]:
    """Consecutive groups of chunks; one side of a distance shard is one group."""
    if chunks_per_shard < 1:
        raise ValueError(f"chunks_per_shard must be >= 1, got {chunks_per_shard}")
    return [
        range(g, min(g + chunks_per_shard, n_chunks)) for g in range(0, n_chunks, chunks_per_shard)
    ]


def shards(n_groups: int) -> list[tuple[int, int]]:
    """Every pair of groups (a, b) with a <= b: the distance stage's unit of work.

    n groups give n (n + 1) / 2 shards; together they cover every pair of images once.
    """
    return [(a, b) for a in range(n_groups) for b in range(a, n_groups)]
