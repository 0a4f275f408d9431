"""How inputs are split into chunks: the unit of work of every per-image stage.

A chunk is a range of story pages (site input) or a run of files in sorted order (folder
input). Chunks are numbered from 0 and named with four digits (``0007``) in file names.
"""

from __future__ import annotations

from collections.abc import Sequence


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
