"""Stored features, loaded for comparison, and the distances of listed pairs of frames.

A *side* is the frames of some feature chunks (one side of a distance shard, or a finished
run's every frame for a query) with everything a comparison needs: the codes of every
Hamming metric, the grey images and detailed blocks (same_art), the text-line signatures
(lines), the hue and tone histograms (hue, tone), the blocks' grey levels (grey), the
embeddings, and the per-frame counts the matching rule reads. The distance stage and the
query both load sides here and compute pair distances with :func:`pair_distances`, so the
two can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from panelmatch import art, bits, colour, cosine, metrics, tables, textlines


@dataclass
class Side:
    """The frames of one side of a comparison, in order (see the module docstring)."""

    images: npt.NDArray[np.object_]  # each frame's image
    frames: npt.NDArray[np.int64]  # each frame's index in its file
    image_of: npt.NDArray[np.int64]  # each frame's image number (0.. within the side)
    chunk_of: npt.NDArray[np.int64]  # each frame's chunk, and its row in that chunk's tables
    row_of: npt.NDArray[np.int64]
    counts: dict[str, npt.NDArray[np.int64]]  # tables.FRAME_COUNTS
    codes: dict[str, bits.Coded]  # every Hamming metric
    grey: npt.NDArray[np.uint8]  # (frames, height * width)
    detail: npt.NDArray[np.bool_]  # (frames, blocks)
    lines: list[textlines.Signature]
    hue: npt.NDArray[np.float32]  # (frames, colour.BINS)
    tone: npt.NDArray[np.float32]  # (frames, colour.TONE_BINS)
    blocks: npt.NDArray[np.float32]  # (frames, blocks): mean grey levels (colour.grey_blocks)
    keys: art.Keys  # the keys of the detailed blocks
    vectors: npt.NDArray[np.float32] | None = None
    common: npt.NDArray[np.uint64] = field(default_factory=lambda: np.zeros(0, np.uint64))

    def __len__(self) -> int:
        return len(self.frames)


def side(
    edge_tables: Sequence[pa.Table | pd.DataFrame],
    hash_tables: Sequence[pa.Table | pd.DataFrame],
    chunks: Sequence[int],
    metric_names: Sequence[str],
    hash_bits: Mapping[str, int],
    width: int,
    height: int,
    tolerance: int,
) -> Side:
    """A side from the edges and hashes tables of its chunks (numbered `chunks`; Arrow
    tables, as tables.read_arrow gives them, or DataFrames), with the codes of every
    Hamming metric of `metric_names` (bitmaps at width x height)."""
    nbits = width * height
    blocks = art.blocks(width, height)
    edges = pa.concat_tables(
        [tables.arrow(t, tables.FRAME_FEATURES) for t in edge_tables]
        or [tables.FRAME_FEATURES.empty_table()]
    )
    schema = tables.hashes_schema(list(hash_bits))
    hashes = pa.concat_tables(
        [tables.arrow(t, schema) for t in hash_tables] or [schema.empty_table()]
    )
    if not (
        edges.column("image").equals(hashes.column("image"))
        and edges.column("frame").equals(hashes.column("frame"))
    ):
        raise ValueError(f"chunks {list(chunks)}: the edges and hashes tables list other frames")

    def codes_of(table: pa.Table, column: str, size: int) -> bits.Codes:
        raw = tables.fixed_binary(table, column, bits.words_for(size) * 8)
        return raw.view("<u8").astype(np.uint64, copy=False)

    edge_codes = codes_of(edges, "edges", nbits)
    silhouettes = codes_of(edges, "silhouette", nbits)
    codes = metrics.codes(
        list(metric_names),
        edge_codes,
        codes_of(edges, "bw", nbits),
        {m: codes_of(hashes, m, size) for m, size in hash_bits.items()},
        width,
        height,
        tolerance,
        silhouettes,
    )
    detail = bits.unpack(codes_of(edges, "detail", blocks), blocks)
    grey = tables.fixed_binary(edges, "grey", nbits)
    images = edges.column("image").to_numpy(zero_copy_only=False)
    _, image_of = tables.image_numbers(pd.Series(images))
    sizes = [t.num_rows if isinstance(t, pa.Table) else len(t) for t in edge_tables]
    return Side(
        images=images,
        frames=edges.column("frame").to_numpy().astype(np.int64),
        image_of=image_of,
        chunk_of=np.repeat(np.asarray(chunks, dtype=np.int64), sizes),
        row_of=np.concatenate(
            [np.arange(n, dtype=np.int64) for n in sizes] or [np.zeros(0, np.int64)]
        ),
        counts={k: edges.column(k).to_numpy().astype(np.int64) for k in tables.FRAME_COUNTS},
        codes=codes,
        grey=grey,
        detail=detail,
        lines=[textlines.from_bytes(blob) for blob in edges.column("lines").to_pylist()],
        hue=tables.fixed_binary(edges, "hue", 4 * colour.BINS).view("<f4").astype(np.float32),
        tone=colour.tone_histograms(grey, silhouettes),
        blocks=colour.grey_blocks(grey, width, height),
        keys=art.block_keys(edge_codes, detail, width),
    )


def compared(a: Side, b: Side, crowded: int) -> None:
    """Prepare two sides for comparison: the keys of blocks held by more than `crowded` of
    their frames together are common motifs (art.common); they propose no pair and do not
    count in same_art. Sets both sides' `common` and narrows their `detail`."""
    drop = art.common(a.keys, b.keys, crowded)
    for side in (a, b) if a is not b else (a,):
        side.common = drop
        side.detail = art.without(side.detail, side.keys, drop)


def search(
    a: Side,
    b: Side,
    caps: Mapping[str, float],
    same: bool,
    relative_cap: float | None = None,
    candidates: Mapping[str, int] | None = None,
    shared_blocks: int | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], dict[str, npt.NDArray]]:
    """The pairs (i, j) of frames of `a` and `b` that the distance stage stores: under a cap
    of `caps` for some Hamming metric (edge-map metrics also within `relative_cap` times each
    frame's edge pixels), within the ``lines`` cap or the ``cosine`` cap, or sharing at
    least `shared_blocks` blocks of identical edges (art.shared_blocks: the candidates of
    same_art); never two frames of one image. With `same`, `a` and `b` are the same frames
    and only i < j counts. Sorted by (i, j); also returns every Hamming metric's distances
    of those pairs (pass them on to :func:`pair_distances`)."""
    hamming = {m: int(c) for m, c in caps.items() if m in a.codes}
    limits = None
    if relative_cap is not None:
        la = np.floor(relative_cap * a.counts["edge_pixels"]).astype(np.int64)
        lb = np.floor(relative_cap * b.counts["edge_pixels"]).astype(np.int64)
        limits = {m: (la, lb) for m in metrics.EDGE_BITMAPS if m in hamming}
    extra_i, extra_j = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    if metrics.LINES in caps:
        li, lj, _ = textlines.within(a.lines, b.lines, caps[metrics.LINES], same)
        extra_i.append(li)
        extra_j.append(lj)
    if shared_blocks is not None:
        si, sj = art.shared_blocks(a.keys, b.keys, shared_blocks, same, a.common)
        extra_i.append(si)
        extra_j.append(sj)
    if metrics.COSINE in caps and a.vectors is not None and b.vectors is not None:
        ci, cj = cosine.cosine_within(a.vectors, b.vectors, caps[metrics.COSINE], same)
        extra_i.append(ci)
        extra_j.append(cj)
    extra = (np.concatenate(extra_i), np.concatenate(extra_j))
    i, j, dist = bits.pairs_within(a.codes, b.codes, hamming, same, candidates, extra, limits)
    if same:  # two frames of one image (frames.mode all or sample) are not a pair
        other = a.image_of[i] != b.image_of[j]
        i, j, dist = i[other], j[other], {m: d[other] for m, d in dist.items()}
    return i, j, dist


def pair_distances(
    a: Side,
    b: Side,
    i: npt.ArrayLike,
    j: npt.ArrayLike,
    metric_names: Sequence[str],
    width: int,
    art_tolerance: int,
    known: Mapping[str, npt.NDArray] | None = None,
) -> dict[str, npt.NDArray]:
    """Every metric of `metric_names` for each listed pair (a[i[k]], b[j[k]]); those of
    `known` (already computed for these pairs, as :func:`search` returns them) are reused."""
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    out: dict[str, npt.NDArray] = {}
    for m in metric_names:
        if known is not None and m in known:
            out[m] = known[m]
        elif m in a.codes:
            ca, cb = a.codes[m], b.codes[m]
            raw = bits.distances(ca.probe, cb.target, i, j, ca.offset, cb.offset)
            out[m] = raw // ca.divisor
        elif m == metrics.SAME_ART:
            out[m] = art.same_art(a.grey, b.grey, a.detail, b.detail, i, j, width, art_tolerance)
        elif m == metrics.LINES:
            out[m] = textlines.distances(a.lines, b.lines, i, j)
        elif m == metrics.HUE:
            out[m] = colour.distances(a.hue, b.hue, i, j)
        elif m == metrics.TONE:
            out[m] = colour.distances(a.tone, b.tone, i, j)
        elif m == metrics.GREY:
            out[m] = colour.block_change(a.blocks, b.blocks, i, j)
        elif m == metrics.COSINE:
            if a.vectors is None or b.vectors is None:
                raise ValueError("the cosine metric needs the embeddings")
            out[m] = cosine.cosine_distances(a.vectors, b.vectors, i, j)
        else:
            raise ValueError(f"unknown metric {m!r}")
    return out
