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

from panelmatch import tables


class Shard(NamedTuple):
    """One shard's pairs: global frame numbers (a[k], b[k]) and the distances of each."""

    a: npt.NDArray[np.int64]
    b: npt.NDArray[np.int64]
    distances: dict[str, npt.NDArray]

    def take(self, keep: npt.ArrayLike) -> Shard:
        return Shard(self.a[keep], self.b[keep], {m: d[keep] for m, d in self.distances.items()})


def stream(
    paths: Iterable[str | os.PathLike], offsets: npt.ArrayLike, metrics: Sequence[str]
) -> Iterator[Shard]:
    """Each shard's pairs with the distances of `metrics`, one shard at a time, in order."""
    for path in paths:
        table = tables.read(path, [*tables.SHARD_KEYS, *metrics])
        a, b = tables.pair_numbers(table, offsets)
        yield Shard(a, b, {m: table[m].to_numpy() for m in metrics})
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


def count(paths: Iterable[str | os.PathLike]) -> int:
    """Number of stored pairs, from the shards' metadata (nothing is read)."""
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(path).metadata.num_rows for path in paths)
