"""Bit-packed binary codes and their Hamming distances.

A *code* is a row of bits (an edge map flattened row-major, or a perceptual hash). A set of
``n`` codes of ``b`` bits is stored as a C-contiguous ``uint64`` matrix of shape
``(n, ceil(b / 64))``: bit ``k`` of a code is bit ``k % 64`` (least significant first) of
word ``k // 64``; the padding bits of the last word are zero, so they never add distance.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import numpy.typing as npt

WORD_BITS = 64

#: Upper bound on the temporary XOR block (bytes) in :func:`hamming`; bounds its memory.
BLOCK_BYTES = 16 * 1024 * 1024


def words_for(bits: int) -> int:
    """Number of 64-bit words that hold `bits` bits."""
    if bits < 0:
        raise ValueError(f"bits must be >= 0, got {bits}")
    return -(-bits // WORD_BITS)


def pack(bits: npt.ArrayLike) -> npt.NDArray[np.uint64]:
    """Pack a boolean array of shape (n, ...) into codes of shape (n, words).

    Every axis after the first is flattened row-major into one code per row.
    """
    arr = np.asarray(bits)
    if arr.ndim < 1:
        raise ValueError("pack needs an array with at least one axis (one row per code)")
    flat = arr.reshape(arr.shape[0], int(np.prod(arr.shape[1:]))).astype(bool, copy=False)
    n, b = flat.shape
    nbytes = words_for(b) * 8
    packed = np.zeros((n, nbytes), dtype=np.uint8)
    packed[:, : -(-b // 8)] = np.packbits(flat, axis=1, bitorder="little")
    return packed.view("<u8").astype(np.uint64, copy=False).reshape(n, nbytes // 8)


def unpack(codes: npt.NDArray[np.uint64], bits: int) -> npt.NDArray[np.bool_]:
    """Inverse of :func:`pack`: boolean array of shape (n, bits)."""
    codes = np.ascontiguousarray(codes, dtype=np.uint64)
    if codes.ndim != 2 or codes.shape[1] != words_for(bits):
        raise ValueError(f"codes of shape {codes.shape} cannot hold {bits} bits per row")
    raw = codes.astype("<u8", copy=False).view(np.uint8)
    return np.unpackbits(raw, axis=1, count=bits, bitorder="little").astype(bool)


def to_bytes(codes: npt.NDArray[np.uint64]) -> list[bytes]:
    """One little-endian bytes object per code, for storage in a binary column."""
    raw = np.ascontiguousarray(codes, dtype="<u8")
    return [row.tobytes() for row in raw]


def from_bytes(blobs: list[bytes] | np.ndarray, bits: int | None = None) -> npt.NDArray[np.uint64]:
    """Codes matrix from the binary column written by :func:`to_bytes`.

    All blobs must have the same length; `bits`, when given, is checked against it.
    """
    blobs = list(blobs)
    if not blobs:
        width = words_for(bits) if bits is not None else 0
        return np.zeros((0, width), dtype=np.uint64)
    sizes = {len(b) for b in blobs}
    if len(sizes) != 1 or next(iter(sizes)) % 8:
        raise ValueError(f"codes have inconsistent byte lengths {sorted(sizes)}")
    width = next(iter(sizes)) // 8
    if bits is not None and width != words_for(bits):
        raise ValueError(f"codes of {width} words cannot hold {bits} bits")
    flat = np.frombuffer(b"".join(blobs), dtype="<u8")
    return flat.astype(np.uint64, copy=False).reshape(len(blobs), width)


def popcount(codes: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    """Number of set bits of each code."""
    return np.bitwise_count(np.asarray(codes, dtype=np.uint64)).sum(axis=1, dtype=np.int64)


def _row_blocks(rows: int, cols: int, words: int) -> Iterator[slice]:
    per_row = max(1, cols * max(1, words) * 8)
    step = max(1, BLOCK_BYTES // per_row)
    for start in range(0, rows, step):
        yield slice(start, min(rows, start + step))


def hamming(a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint32]:
    """Dense Hamming distance matrix of shape (len(a), len(b)).

    Memory beyond the result is bounded by BLOCK_BYTES.
    """
    a = np.ascontiguousarray(a, dtype=np.uint64)
    b = np.ascontiguousarray(b, dtype=np.uint64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"code matrices do not match: {a.shape} and {b.shape}")
    out = np.empty((a.shape[0], b.shape[0]), dtype=np.uint32)
    for rows in _row_blocks(a.shape[0], b.shape[0], a.shape[1]):
        out[rows] = np.bitwise_count(a[rows, None, :] ^ b[None, :, :]).sum(axis=2, dtype=np.uint32)
    return out


def pairs_within(
    a: Mapping[str, npt.NDArray[np.uint64]],
    b: Mapping[str, npt.NDArray[np.uint64]],
    caps: Mapping[str, int],
    upper_only: bool = False,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], dict[str, npt.NDArray[np.uint32]]]:
    """All pairs (i, j) whose distance under at least one capped metric is <= its cap.

    `a` and `b` map each metric name to a codes matrix (rows are images; every metric has the
    same rows). Metrics not named in `caps` are computed and returned for the kept pairs but
    do not decide which pairs are kept. With `upper_only`, `a` and `b` are the same images
    and only pairs with i < j are considered. Returns (i, j, distances) sorted by (i, j);
    distances maps every metric of `a` to its values for the kept pairs.

    Peak memory beyond the inputs is bounded by a block of rows of `a` against all of `b`.
    """
    metrics = list(a)
    if set(b) != set(metrics):
        raise ValueError(f"metrics differ: {sorted(a)} and {sorted(b)}")
    unknown = set(caps) - set(metrics)
    if unknown:
        raise ValueError(f"caps name unknown metrics {sorted(unknown)}")
    if not caps:
        raise ValueError("at least one metric needs a cap")
    na = len(next(iter(a.values()))) if metrics else 0
    nb = len(next(iter(b.values()))) if metrics else 0
    if upper_only and na != nb:
        raise ValueError("upper_only needs the same images on both sides")
    widest = max((a[m].shape[1] for m in metrics), default=1)
    keep_i, keep_j = [], []
    kept: dict[str, list[np.ndarray]] = {m: [] for m in metrics}
    for rows in _row_blocks(na, nb, widest):
        dist = {m: hamming(a[m][rows], b[m]) for m in metrics}
        mask = np.zeros((rows.stop - rows.start, nb), dtype=bool)
        for m, cap in caps.items():
            mask |= dist[m] <= cap
        if upper_only:
            ii = np.arange(rows.start, rows.stop)[:, None]
            mask &= ii < np.arange(nb)[None, :]
        bi, bj = np.nonzero(mask)
        keep_i.append(bi + rows.start)
        keep_j.append(bj)
        for m in metrics:
            kept[m].append(dist[m][bi, bj])
    if not keep_i:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), {m: np.zeros(0, dtype=np.uint32) for m in metrics}
    return (
        np.concatenate(keep_i).astype(np.int64),
        np.concatenate(keep_j).astype(np.int64),
        {m: np.concatenate(v) for m, v in kept.items()},
    )
