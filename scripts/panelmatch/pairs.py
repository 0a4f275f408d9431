"""The one reader of stored pairs: distance shards streamed one at a time.

A distance shard (``results/distances/AAAA_BBBB.parquet``) names its frames by chunk and
row; :func:`stream` turns them into global frame numbers (positions in the frame table of
``tables.read_images``) and yields one shard at a time, so that no stage holds every stored
pair at once: each consumer keeps only what it needs (the linked pairs, each image's
nearest neighbours, histogram counts).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from panelmatch import bits, tables


class Shard(NamedTuple):
    """One shard's pairs: global frame numbers (a[k], b[k]) and the distances of each."""

    a: npt.NDArray[np.int64]
    b: npt.NDArray[np.int64]
    distances: dict[str, npt.NDArray]

    def take(self, keep: npt.ArrayLike) -> Shard:
        return Shard(self.a[keep], self.b[keep], {m: d[keep] for m, d in self.distances.items()})


def stream(
    paths: Iterable[str | os.PathLike],
    offsets: npt.ArrayLike,
    metrics: Sequence[str],
    local: bool = False,
) -> Iterator[Shard]:
    """Each shard's pairs with the distances of `metrics`, one shard at a time, in order.

    With `local`, the distances also hold what local verification measured
    (tables.LOCAL_COLUMNS): read from a table that has them (results/verified.parquet),
    tables.NOT_VERIFIED for a distance shard."""
    import pyarrow.parquet as pq

    for path in paths:
        extra = []
        if local and set(tables.LOCAL_COLUMNS) <= set(pq.read_schema(path).names):
            extra = tables.LOCAL_COLUMNS
        table = tables.read(path, [*tables.SHARD_KEYS, *metrics, *extra])
        a, b = tables.pair_numbers(table, offsets)
        distances = {m: table[m].to_numpy() for m in [*metrics, *extra]}
        if local and not extra:
            for m, value in tables.NOT_VERIFIED.items():
                distances[m] = np.full(len(a), value)
        yield Shard(a, b, distances)
        del table


def concat(parts: Sequence[Shard], metrics: Sequence[str]) -> Shard:
    """Shards (or parts of them) joined into one."""
    if not parts:
        empty = np.zeros(0, np.int64)
        return Shard(empty, empty.copy(), {m: np.zeros(0) for m in metrics})
    return Shard(
        np.concatenate([p.a for p in parts]),
        np.concatenate([p.b for p in parts]),
        {m: np.concatenate([p.distances[m] for p in parts]) for m in metrics},
    )


def last_copies(shard: Shard) -> Shard:
    """`shard` with each frame pair once, its last copy kept (a verified pair, streamed after
    the distance shards, over the same pair in a shard), in the order of those copies."""
    key = bits.pair_key(shard.a, shard.b)
    _, first_of_reversed = np.unique(key[::-1], return_index=True)
    return shard.take(np.sort(len(key) - 1 - first_of_reversed))


def count(paths: Iterable[str | os.PathLike]) -> int:
    """Number of stored pairs, from the shards' metadata (nothing is read)."""
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(path).metadata.num_rows for path in paths)
