"""Bit-packed binary codes and their Hamming distances (the pairwise kernel).

A *code* is a row of bits (an edge map flattened row-major, or a perceptual hash). A set of
``n`` codes of ``b`` bits is stored as a C-contiguous ``uint64`` matrix of shape
``(n, ceil(b / 64))``: bit ``k`` of a code is bit ``k % 64`` (least significant first) of
word ``k // 64``; the padding bits of the last word are zero, so they never add distance.

The kernels are compiled with numba (XOR + hardware popcount, four rows of one side against
each row of the other so that every loaded word is used four times, rows spread over the
threads with ``prange``). Compiled code is cached beside this file, so only the first job
on a machine pays for compilation. Set the number of threads with :func:`set_threads`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numba
import numpy as np
import numpy.typing as npt
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic

WORD_BITS = 64
Codes = npt.NDArray[np.uint64]


def unique(values: npt.ArrayLike) -> npt.NDArray:
    """The sorted distinct values of a flat array, as ``np.unique(values)`` gives them, by
    a sort: NumPy 2.4's np.unique hashes instead, which took 1.6 s where this takes 0.02 s
    on the 1.85 million pair keys of a 9,442-frame shard (a concatenation of sorted runs,
    which the stable sort merges)."""
    out = np.sort(np.ravel(values), kind="stable")
    if len(out) < 2:
        return out
    keep = np.empty(len(out), dtype=bool)
    keep[0] = True
    np.not_equal(out[1:], out[:-1], out=keep[1:])
    return out[keep]


def pair_key(a: npt.ArrayLike, b: npt.ArrayLike, width: int | None = None) -> npt.NDArray:
    """One int64 key per unordered pair (a[k], b[k]) of non-negative indices:
    ``min * width + max``, the same for (a, b) and (b, a). `width` is more than every index
    (by default the largest index plus one); ``key // width`` and ``key % width`` give the
    pair back, the smaller index first."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    if width is None:
        width = int(max(a.max(initial=0), b.max(initial=0))) + 1
    return np.minimum(a, b) * np.int64(width) + np.maximum(a, b)


def words_for(bits: int) -> int:
    """Number of 64-bit words that hold `bits` bits."""
    if bits < 0:
        raise ValueError(f"bits must be >= 0, got {bits}")
    return -(-bits // WORD_BITS)


def pack(bits: npt.ArrayLike) -> Codes:
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


def unpack(codes: Codes, bits: int) -> npt.NDArray[np.bool_]:
    """Inverse of :func:`pack`: boolean array of shape (n, bits)."""
    codes = np.ascontiguousarray(codes, dtype=np.uint64)
    if codes.ndim != 2 or codes.shape[1] != words_for(bits):
        raise ValueError(f"codes of shape {codes.shape} cannot hold {bits} bits per row")
    raw = codes.astype("<u8", copy=False).view(np.uint8)
    return np.unpackbits(raw, axis=1, count=bits, bitorder="little").astype(bool)


def to_bytes(codes: Codes) -> list[bytes]:
    """One little-endian bytes object per code, for storage in a binary column."""
    raw = np.ascontiguousarray(codes, dtype="<u8")
    return [row.tobytes() for row in raw]


def from_bytes(blobs, bits: int | None = None) -> Codes:
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


def popcount(codes: Codes) -> npt.NDArray[np.int64]:
    """Number of set bits of each code."""
    return np.bitwise_count(np.asarray(codes, dtype=np.uint64)).sum(axis=1, dtype=np.int64)


@njit(parallel=True, cache=True, nogil=True)
def _reverse_rows(codes, width, height, out):  # pragma: no cover - numba
    for n in prange(codes.shape[0]):
        for y in range(height):
            row = y * width
            for x in range(width):
                k = row + x
                if (codes[n, k >> 6] >> np.uint64(k & 63)) & np.uint64(1):
                    m = row + width - 1 - x
                    out[n, m >> 6] |= np.uint64(1) << np.uint64(m & 63)


def reverse_rows(codes: Codes, width: int, height: int) -> Codes:
    """Each code read as `height` rows of `width` bits (row-major), every row reversed:
    a bitmap flipped left to right, without unpacking it."""
    codes = np.ascontiguousarray(codes, dtype=np.uint64)
    if codes.ndim != 2 or codes.shape[1] != words_for(width * height):
        raise ValueError(f"codes of shape {codes.shape} cannot hold {width}x{height} bitmaps")
    out = np.zeros_like(codes)
    if len(codes):
        _reverse_rows(codes, width, height, out)
    return out


def set_threads(threads: int) -> None:
    """Threads used by the kernels (at most the machine's cores)."""
    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))


@intrinsic
def _popcnt(typingctx, x):
    """Hardware population count of a uint64 (LLVM ctpop)."""
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        fn = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
        return builder.call(fn, args)

    return sig, codegen


_ROWS = 4  # rows of `a` handled together against each row of `b` (register blocking)
_SUPER = 16  # rows of `a` per parallel task: they share each tile of `b`
_TILE = 512  # rows of `b` per tile: a tile of 10,000-bit codes (640 KB) stays in L2


#: _scan modes: count each row's pairs; also write them into each task's own slots of a
#: buffer; or write them at exact offsets (rows whose pairs overflowed their slots)
_COUNT, _BUFFER, _FILL = 0, 1, 2
_ROOM = _SUPER * 128  # buffer slots per task: 128 pairs per row on average
_ROUND = 1024  # tasks per buffer (a buffer of 1024 x _ROOM pairs: 32 MiB)


@njit(parallel=True, cache=True, nogil=True)
def _scan(
    a, b, oa, ob, la, lb, cap, upper, mode, starts, offsets, base, out_i, out_j
):  # pragma: no cover
    """Find the pairs with oa[i] + d + ob[j] <= cap that are also within both rows' own
    limits la[i] and lb[j], for the tasks of `_SUPER` rows of `a` starting at `starts`.

    With `upper`, a and b are the same images and only j > i counts. Every mode adds row
    i's count into offsets[i + 1], except _FILL, which writes row i's k-th pair at
    out_*[offsets[i] - base + k]. _BUFFER also writes task r's first `_ROOM` pairs at
    out_*[r * _ROOM ...] (grouped by tile, in j order within each row).
    `oa` and `ob` are per-row offsets (int64, zero for a plain Hamming distance).
    """
    na, nb, w = a.shape[0], b.shape[0], a.shape[1]
    for r in prange(starts.shape[0]):
        s0 = starts[r]
        s1 = min(na, s0 + _SUPER)
        cnt = np.zeros(_SUPER, np.int64)
        found = 0
        for t0 in range(0, nb, _TILE):
            t1 = min(nb, t0 + _TILE)
            g = s0
            while g < s1:
                if g + _ROWS <= s1:
                    for j in range(max(t0, g + 1) if upper else t0, t1):
                        u0 = u1 = u2 = u3 = np.uint64(0)
                        for k in range(w):
                            bk = b[j, k]
                            u0 += _popcnt(a[g, k] ^ bk)
                            u1 += _popcnt(a[g + 1, k] ^ bk)
                            u2 += _popcnt(a[g + 2, k] ^ bk)
                            u3 += _popcnt(a[g + 3, k] ^ bk)
                        obj = ob[j]
                        cj = min(cap, lb[j])
                        d0 = np.int64(u0) + oa[g] + obj
                        d1 = np.int64(u1) + oa[g + 1] + obj
                        d2 = np.int64(u2) + oa[g + 2] + obj
                        d3 = np.int64(u3) + oa[g + 3] + obj
                        if d0 <= cj or d1 <= cj or d2 <= cj or d3 <= cj:
                            for q, d in ((0, d0), (1, d1), (2, d2), (3, d3)):
                                if d <= cj and d <= la[g + q] and (not upper or j > g + q):
                                    if mode == _FILL:
                                        at = offsets[g + q] - base + cnt[g + q - s0]
                                        out_i[at] = g + q
                                        out_j[at] = j
                                    elif mode == _BUFFER and found < _ROOM:
                                        out_i[r * _ROOM + found] = g + q
                                        out_j[r * _ROOM + found] = j
                                    found += 1
                                    cnt[g + q - s0] += 1
                    g += _ROWS
                else:
                    for i in range(g, s1):
                        for j in range(max(t0, i + 1) if upper else t0, t1):
                            u = np.uint64(0)
                            for k in range(w):
                                u += _popcnt(a[i, k] ^ b[j, k])
                            d = np.int64(u) + oa[i] + ob[j]
                            if d <= cap and d <= la[i] and d <= lb[j]:
                                if mode == _FILL:
                                    at = offsets[i] - base + cnt[i - s0]
                                    out_i[at] = i
                                    out_j[at] = j
                                elif mode == _BUFFER and found < _ROOM:
                                    out_i[r * _ROOM + found] = i
                                    out_j[r * _ROOM + found] = j
                                found += 1
                                cnt[i - s0] += 1
                    g = s1
        if mode != _FILL:
            for q in range(s1 - s0):
                offsets[s0 + q + 1] += cnt[q]


@njit(parallel=True, cache=True, nogil=True)
def _place(starts, slots, offsets, base, buf_i, buf_j, out_i, out_j):  # pragma: no cover
    """Move each task's buffered pairs (task r's at buf_*[slots[r] * _ROOM ...]) to their
    rows' places: row i's pairs, in j order, at out_*[offsets[i] - base ...]."""
    for t in prange(starts.shape[0]):
        s0, r = starts[t], slots[t]
        cnt = np.zeros(_SUPER, np.int64)
        total = offsets[min(s0 + _SUPER, offsets.shape[0] - 1)] - offsets[s0]
        # pairs come tile by tile; within a row, j increases from tile to tile
        for k in range(total):
            i = buf_i[r * _ROOM + k]
            at = offsets[i] - base + cnt[i - s0]
            out_i[at] = i
            out_j[at] = buf_j[r * _ROOM + k]
            cnt[i - s0] += 1


@njit(parallel=True, cache=True, nogil=True)
def _count_words(a, b, cap, upper, starts, offsets):  # pragma: no cover - numba
    """Counting pass for one-word codes without offsets (64-bit hashes), vectorised across
    rows of `b`; `cap` is a uint64 here."""
    na, nb = a.shape[0], b.shape[0]
    col = b[:, 0]
    for r in prange(starts.shape[0]):
        for i in range(starts[r], min(na, starts[r] + _SUPER)):
            ai = a[i, 0]
            c = 0
            for j in range(i + 1 if upper else 0, nb):
                c += _popcnt(ai ^ col[j]) <= cap
            offsets[i + 1] += c


@njit(parallel=True, cache=True, nogil=True)
def _gather(a, b, i, j, out):  # pragma: no cover - numba
    """out[k] = Hamming distance between a[i[k]] and b[j[k]]."""
    w = a.shape[1]
    for k in prange(i.shape[0]):
        s = np.uint64(0)
        for t in range(w):
            s += _popcnt(a[i[k], t] ^ b[j[k], t])
        out[k] = s


@njit(parallel=True, cache=True, nogil=True)
def _dense(a, b, out):  # pragma: no cover - numba
    w = a.shape[1]
    for i in prange(a.shape[0]):
        for j in range(b.shape[0]):
            s = np.uint64(0)
            for t in range(w):
                s += _popcnt(a[i, t] ^ b[j, t])
            out[i, j] = s


def _check(a: Codes, b: Codes) -> tuple[Codes, Codes]:
    a = np.ascontiguousarray(a, dtype=np.uint64)
    b = np.ascontiguousarray(b, dtype=np.uint64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"code matrices do not match: {a.shape} and {b.shape}")
    return a, b


def _offsets(offset: npt.ArrayLike | None, n: int, side: str) -> npt.NDArray[np.int64]:
    if offset is None:
        return np.zeros(n, dtype=np.int64)
    out = np.ascontiguousarray(offset, dtype=np.int64)
    if out.shape != (n,):
        raise ValueError(f"offset_{side} has shape {out.shape}, expected ({n},)")
    return out


def hamming(a: Codes, b: Codes) -> npt.NDArray[np.uint32]:
    """Dense Hamming distance matrix of shape (len(a), len(b)), for small inputs."""
    a, b = _check(a, b)
    out = np.empty((a.shape[0], b.shape[0]), dtype=np.uint32)
    if out.size:
        _dense(a, b, out)
    return out


def within(
    a: Codes,
    b: Codes,
    cap: int,
    upper_only: bool = False,
    offset_a: npt.ArrayLike | None = None,
    offset_b: npt.ArrayLike | None = None,
    limit_a: npt.ArrayLike | None = None,
    limit_b: npt.ArrayLike | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """All pairs (i, j) with ``offset_a[i] + hamming(a[i], b[j]) + offset_b[j] <= cap``,
    sorted by (i, j). The offsets (int, one per row, default 0) let derived distances such
    as :class:`Coded`'s be searched exactly. With per-row limits (int, one per row), the
    distance must also be at most ``limit_a[i]`` and ``limit_b[j]``.

    With `upper_only`, `a` and `b` describe the same images and only pairs with i < j count.
    One pass over rounds of `_ROUND` tasks, each task writing its pairs into `_ROOM` slots
    of a buffer (32 MiB); a task with more pairs than slots is computed again to write
    them in place. Memory is the output plus the buffer.
    """
    a, b = _check(a, b)
    if upper_only and a.shape[0] != b.shape[0]:
        raise ValueError("upper_only needs the same images on both sides")
    na = a.shape[0]
    oa = _offsets(offset_a, na, "a")
    ob = _offsets(offset_b, b.shape[0], "b")
    plain = offset_a is None and offset_b is None and limit_a is None and limit_b is None
    big = np.iinfo(np.int64).max
    la = _offsets(limit_a, na, "a") if limit_a is not None else np.full(na, big, np.int64)
    lb = (
        _offsets(limit_b, b.shape[0], "b")
        if limit_b is not None
        else np.full(b.shape[0], big, np.int64)
    )
    offsets = np.zeros(na + 1, dtype=np.int64)
    empty = np.zeros(0, dtype=np.int64)
    if na == 0 or b.shape[0] == 0 or (cap < 0 and plain):
        return empty, empty.copy()
    starts = np.arange(0, na, _SUPER, dtype=np.int64)
    cap = np.int64(cap)
    if a.shape[1] == 1 and plain:
        # one-word hashes: a count vectorised across b, then only tasks with pairs are redone
        _count_words(a, b, np.uint64(cap), upper_only, starts, offsets)
        per_row = offsets[1:].copy()
        np.cumsum(offsets, out=offsets)
        out_i = np.empty(int(offsets[-1]), dtype=np.int64)
        out_j = np.empty(len(out_i), dtype=np.int64)
        busy = unique(np.nonzero(per_row)[0] // _SUPER * _SUPER).astype(np.int64)
        _scan(a, b, oa, ob, la, lb, cap, upper_only, _FILL, busy, offsets, 0, out_i, out_j)
        return out_i, out_j
    # wide codes: one pass, each task writing into its own slots of a buffer; only a task
    # whose pairs overflow its slots is computed again to write them in place
    parts_i, parts_j = [], []
    for first in range(0, len(starts), _ROUND):
        tasks = starts[first : first + _ROUND]
        buf_i = np.empty(len(tasks) * _ROOM, dtype=np.int64)
        buf_j = np.empty(len(tasks) * _ROOM, dtype=np.int64)
        _scan(a, b, oa, ob, la, lb, cap, upper_only, _BUFFER, tasks, offsets, 0, buf_i, buf_j)
        r0, r1 = int(tasks[0]), min(na, int(tasks[-1]) + _SUPER)
        base = int(offsets[r0])
        np.cumsum(offsets[r0 : r1 + 1], out=offsets[r0 : r1 + 1])
        out_i = np.empty(int(offsets[r1]) - base, dtype=np.int64)
        out_j = np.empty(len(out_i), dtype=np.int64)
        fits = offsets[np.minimum(tasks + _SUPER, na)] - offsets[tasks] <= _ROOM
        slots = np.arange(len(tasks), dtype=np.int64)
        _place(tasks[fits], slots[fits], offsets, base, buf_i, buf_j, out_i, out_j)
        if not fits.all():
            over = tasks[~fits]
            _scan(a, b, oa, ob, la, lb, cap, upper_only, _FILL, over, offsets, base, out_i, out_j)
        parts_i.append(out_i)
        parts_j.append(out_j)
    return np.concatenate(parts_i), np.concatenate(parts_j)


def distances(
    a: Codes,
    b: Codes,
    i: npt.ArrayLike,
    j: npt.ArrayLike,
    offset_a: npt.ArrayLike | None = None,
    offset_b: npt.ArrayLike | None = None,
) -> npt.NDArray[np.int64]:
    """``offset_a[i[k]] + hamming(a[i[k]], b[j[k]]) + offset_b[j[k]]`` for each listed pair."""
    a, b = _check(a, b)
    i = np.ascontiguousarray(i, dtype=np.int64)
    j = np.ascontiguousarray(j, dtype=np.int64)
    out = np.empty(len(i), dtype=np.uint32)
    if len(i):
        if min(i.min(), j.min()) < 0 or i.max() >= len(a) or j.max() >= len(b):
            raise IndexError("pair index out of range")
        _gather(a, b, i, j, out)
    result = out.astype(np.int64)
    if offset_a is not None:
        result += _offsets(offset_a, len(a), "a")[i]
    if offset_b is not None:
        result += _offsets(offset_b, len(b), "b")[j]
    return result


class Coded(NamedTuple):
    """One metric's codes for the images of one side of a comparison.

    The distance between image i of side `a` and image j of side `b` is
    ``(a.offset[i] + hamming(a.probe[i], b.target[j]) + b.offset[j]) // divisor``.
    A plain Hamming distance has probe = target and zero offsets (see :func:`plain`);
    derived distances (a mirrored or misalignment-tolerant edge map, an inverted bitmap;
    see :mod:`panelmatch.metrics`) use other targets and offsets. Every such distance must
    be symmetric, so that comparing only i < j within one chunk loses nothing.
    """

    probe: Codes
    target: Codes
    offset: npt.NDArray[np.int64] | None = None
    divisor: int = 1


def plain(codes: Codes) -> Coded:
    """The Coded form of a plain Hamming distance on `codes`."""
    return Coded(codes, codes)


def _coded(value: Codes | Coded) -> Coded:
    return value if isinstance(value, Coded) else plain(value)


def pairs_within(
    a: Mapping[str, Codes | Coded],
    b: Mapping[str, Codes | Coded],
    caps: Mapping[str, int],
    upper_only: bool = False,
    candidates: Mapping[str, int] | None = None,
    extra: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    limits: Mapping[str, tuple[npt.ArrayLike, npt.ArrayLike]] | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], dict[str, npt.NDArray[np.int64]]]:
    """All pairs (i, j) whose distance under at least one capped metric is <= its cap
    (and, for a metric of `limits` = {metric: (limit_a, limit_b)}, <= both rows' limits).

    `a` and `b` map each metric name to a codes matrix (a plain Hamming distance) or a
    :class:`Coded` (rows are images; every metric has the same rows). Metrics not named in
    `caps` are computed and returned for the kept pairs but do not decide which pairs are
    kept. With `upper_only`, `a` and `b` are the same images and only pairs with i < j are
    considered. Returns (i, j, distances) sorted by (i, j); distances maps every metric of
    `a` to its values for the kept pairs.

    With `candidates` (metric -> limit), the search is not exhaustive: only pairs within the
    limit of at least one candidate metric (cheap 64-bit hashes, say) are examined, and of
    those the ones under a cap are kept. That cuts the work on wide codes to the candidates;
    pairs under a cap but outside every candidate limit are missed (measure the recall).

    `extra` = (i, j) lists pairs kept whatever their distances (those found under another
    kind of metric, such as the embeddings' cosine distance).
    """
    metrics = list(a)
    if set(b) != set(metrics):
        raise ValueError(f"metrics differ: {sorted(a)} and {sorted(b)}")
    unknown = (set(caps) | set(candidates or {})) - set(metrics)
    if unknown:
        raise ValueError(f"caps or candidates name unknown metrics {sorted(unknown)}")
    if not caps:
        raise ValueError("at least one metric needs a cap")
    ca = {m: _coded(v) for m, v in a.items()}
    cb = {m: _coded(v) for m, v in b.items()}
    rows_b = {len(c.target) for c in cb.values()}
    if len({len(c.probe) for c in ca.values()}) != 1 or len(rows_b) != 1:
        raise ValueError("every metric must have the same rows")
    for m in metrics:
        if ca[m].divisor != cb[m].divisor or ca[m].divisor < 1:
            raise ValueError(f"metric {m!r}: both sides need the same divisor >= 1")
    nb = max(rows_b.pop(), 1)
    search = dict(candidates) if candidates else dict(caps)
    keys = [np.zeros(0, np.int64)]
    extra_keys = np.zeros(0, np.int64)
    if extra is not None:
        ei, ej = (np.asarray(x, dtype=np.int64) for x in extra)
        extra_keys = unique(ei * nb + ej)
        keys.append(extra_keys)
    for m, limit in search.items():
        # (x // div <= limit) is (x <= limit * div + div - 1) for x >= 0
        div = ca[m].divisor
        row_limits = (None, None)
        if limits and m in limits and not candidates:
            row_limits = tuple(np.asarray(x, np.int64) * div + div - 1 for x in limits[m])
        i, j = within(
            ca[m].probe,
            cb[m].target,
            limit * div + div - 1,
            upper_only,
            ca[m].offset,
            cb[m].offset,
            *row_limits,
        )
        keys.append(i * nb + j)
    key = unique(np.concatenate(keys))
    i, j = key // nb, key % nb
    dist = {
        m: distances(ca[m].probe, cb[m].target, i, j, ca[m].offset, cb[m].offset) // ca[m].divisor
        for m in metrics
    }
    if candidates:
        keep = np.isin(key, extra_keys)
        for m, cap in caps.items():
            under = dist[m] <= cap
            if limits and m in limits:
                la, lb = (np.asarray(x, np.int64) for x in limits[m])
                under &= (dist[m] <= la[i]) & (dist[m] <= lb[j])
            keep |= under
        i, j = i[keep], j[keep]
        dist = {m: d[keep] for m, d in dist.items()}
    return i, j, dist
