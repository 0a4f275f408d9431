"""Each image's nearest images, and each group's medoid, from the stored pairs."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from panelmatch import bits, grouping


def neighbours(
    n: int, a: npt.ArrayLike, b: npt.ArrayLike, distance: npt.ArrayLike, k: int
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]
]:
    """Each image's k nearest images among the stored pairs, by `distance` (ties: lower index).

    Returns (image, rank, neighbour, pair) sorted by image then rank; rank starts at 1 and
    `pair` is the index of the pair (into a, b) that links them.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    d = np.asarray(distance, dtype=np.int64)
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    pair = np.concatenate([np.arange(len(a)), np.arange(len(a))])
    dd = np.concatenate([d, d])
    order = np.lexsort((dst, dd, src))
    src, dst, pair = src[order], dst[order], pair[order]
    start = np.searchsorted(src, np.arange(n))
    rank = np.arange(len(src)) - start[src] + 1
    keep = rank <= k
    return src[keep], rank[keep], dst[keep], pair[keep]


def medoids(
    labels: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    distance: npt.ArrayLike,
    missing: float,
) -> npt.NDArray[np.bool_]:
    """Mark each group's medoid: the member with the smallest total distance to the others.

    Distances come from the stored pairs; a pair of members that was not stored counts as
    `missing`. Ties go to the lower index; a singleton is its own medoid.
    """
    labels = np.asarray(labels)
    n = len(labels)
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    d = np.asarray(distance, dtype=np.float64)
    same = labels[a] == labels[b]
    total = np.zeros(n)
    known = np.zeros(n)
    np.add.at(total, a[same], d[same])
    np.add.at(total, b[same], d[same])
    np.add.at(known, a[same], 1)
    np.add.at(known, b[same], 1)
    size = grouping.sizes(labels)
    total += (size - 1 - known) * missing
    is_medoid = np.zeros(n, dtype=bool)
    order = np.lexsort((np.arange(n), total, labels))
    first = np.ones(n, dtype=bool)
    first[1:] = labels[order][1:] != labels[order][:-1]
    is_medoid[order[first]] = True
    return is_medoid


class Nearest:
    """Each image's k nearest images over pairs added a batch at a time (one shard each),
    holding only the pairs that are among the k nearest of either of their images so far.

    The result equals :func:`neighbours` on every pair added at once (same order, same
    ties): a pair outside an image's k nearest at some point can never enter them later.
    """

    def __init__(self, n: int, k: int):
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.n, self.k = n, k
        self.a = np.zeros(0, np.int64)
        self.b = np.zeros(0, np.int64)
        self.d = np.zeros(0, np.int64)
        self.columns: dict[str, np.ndarray] | None = None

    def add(
        self,
        a: npt.ArrayLike,
        b: npt.ArrayLike,
        distance: npt.ArrayLike,
        columns: dict[str, npt.ArrayLike],
    ) -> None:
        """Pairs of images (a[k], b[k]) at `distance`, each with its values of `columns`
        (the same names at every call)."""
        cols = {name: np.asarray(v) for name, v in columns.items()}
        self.a = np.concatenate([self.a, np.asarray(a, dtype=np.int64)])
        self.b = np.concatenate([self.b, np.asarray(b, dtype=np.int64)])
        self.d = np.concatenate([self.d, np.asarray(distance, dtype=np.int64)])
        if self.columns is None:
            self.columns = cols
        else:
            self.columns = {n: np.concatenate([self.columns[n], cols[n]]) for n in cols}
        _, _, _, pair = neighbours(self.n, self.a, self.b, self.d, self.k)
        keep = bits.unique(pair)
        self.a, self.b, self.d = self.a[keep], self.b[keep], self.d[keep]
        self.columns = {n: v[keep] for n, v in self.columns.items()}

    def result(self):
        """(image, rank, neighbour, first, columns): as :func:`neighbours`, with `first`
        telling whether the image was the pair's first image (a), and each row's values of
        the columns."""
        img, rank, nb, pair = neighbours(self.n, self.a, self.b, self.d, self.k)
        columns = {n: v[pair] for n, v in (self.columns or {}).items()}
        return img, rank, nb, self.a[pair] == img, columns
