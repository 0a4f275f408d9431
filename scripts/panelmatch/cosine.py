"""Cosine distances of L2-normalised vectors (panelmatch.embeddings): the pairs within a
cap, by blocked matrix products, and the distance of listed pairs.

The cosine distance of two unit vectors is ``1 - dot`` (0 for the same direction, at
most 2).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


def cosine_within(
    a: Vectors, b: Vectors, cap: float, upper_only: bool = False, block: int = 1024
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """All pairs (i, j) with cosine distance ``1 - a[i] . b[j] <= cap``, sorted by (i, j).

    Blocked matrix products: memory is ``block x len(b)`` floats. With `upper_only`, `a` and
    `b` are the same images and only i < j counts.
    """
    a = np.ascontiguousarray(a, dtype=np.float32)
    b = np.ascontiguousarray(b, dtype=np.float32)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"vector matrices do not match: {a.shape} and {b.shape}")
    if upper_only and len(a) != len(b):
        raise ValueError("upper_only needs the same images on both sides")
    found_i, found_j = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for start in range(0, len(a), block):
        sim = a[start : start + block] @ b.T
        hit = (1.0 - sim) <= cap
        if upper_only:
            rows = np.arange(start, start + len(sim))[:, None]
            hit &= np.arange(len(b))[None, :] > rows
        i, j = np.nonzero(hit)
        found_i.append(i + start)
        found_j.append(j)
    return np.concatenate(found_i), np.concatenate(found_j)


def cosine_distances(
    a: Vectors, b: Vectors, i: npt.ArrayLike, j: npt.ArrayLike
) -> npt.NDArray[np.float32]:
    """Cosine distance of each listed pair (a[i[k]], b[j[k]])."""
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    return (1.0 - np.einsum("kd,kd->k", a[i], b[j])).astype(np.float32)
