"""Distance metrics: their names, and the codes each one compares.

Every metric is a distance between two images, stored as one column of the distance
shards and of ``results/pairs.parquet``. Bitmap metrics compare width x height bitmaps
made by the edges stage:

- ``edges``: Hamming distance of the Canny edge maps (the study's final feature).
- ``edges_mirror``: distance of one edge map to the other one flipped left to right, so a
  mirrored redraw scores like a plain one. Take ``min(edges, edges_mirror)`` to match
  either way (``matching.edge_metrics``).
- ``edges_tolerant``: edge pixels of either map with no edge pixel of the other map within
  ``tolerance`` pixels (a square neighbourhood). A one-pixel shift of a thin line costs
  nothing, where plain ``edges`` counts the line twice. Computed as a Hamming distance of
  derived codes (see :func:`coded`), so it runs in the same kernel.
- ``bw``: Hamming distance of black-and-white images (grey below ``edges.bw_threshold`` is
  black; the study's first baseline).
- ``bw_inverse``: distance of one black-and-white image to the other's inverse. The study
  took ``min(bw, bw_inverse)``, so a negative matches its positive.

Hash metrics are the methods of ``hashes.methods`` (hashes of the frame) and
``edges_<method>`` for ``hashes.edge_methods`` (hashes of the edge map drawn as an image).
With an embeddings model, ``cosine`` is the cosine distance of the deep fingerprints.

Every run also computes six metrics that no cap of the bitmaps or hashes would find:

- ``silhouette``: Hamming distance of the silhouettes (the opaque pixels at the comparison
  size; 0 between two opaque frames). Computed for the stored pairs only.
- ``same_art``: the blocks of detailed art that both frames share exactly
  (:mod:`panelmatch.art`). A count, so *larger is closer*. Computed for the stored pairs.
- ``lines``: the edit distance of the text-line colour layouts (:mod:`panelmatch.textlines`),
  0..1, 1.0 when either frame has none. Searched among the frames that have a layout, so a
  pair within ``distances.caps.lines`` is stored whatever its other distances.
- ``hue``: the total variation distance of the hue histograms (:mod:`panelmatch.colour`),
  0..1. Computed for the stored pairs only; it tells a recolouring (relation), and links
  nothing.
- ``tone``: the same of the grey-level histograms of the opaque pixels
  (:mod:`panelmatch.colour`), 0..1, for the stored pairs only: a recolouring that keeps
  hues (a skin tone), for the relation; it links nothing.
- ``grey``: the largest change of a block's mean grey level (:mod:`panelmatch.colour`),
  0..255, for the stored pairs only: a lossy re-encoding of one picture changes every block
  by a few levels, new lettering the blocks it covers by tens; it links nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from panelmatch import art, bits, hashes

#: Bitmap metrics accepted in ``distances.bitmaps``.
BITMAPS = ("edges", "edges_mirror", "edges_tolerant", "bw", "bw_inverse")
#: The bitmap metrics of the edge maps: distances.relative_cap bounds them by edge pixels.
EDGE_BITMAPS = ("edges", "edges_mirror", "edges_tolerant")
#: Prefix of the hashes of the edge maps (panelmatch.hashes names them).
EDGE_HASH = hashes.EDGE_HASH
#: The metrics every run computes besides the bitmaps and hashes (see the module docstring).
SILHOUETTE, SAME_ART, LINES, HUE, TONE = "silhouette", "same_art", "lines", "hue", "tone"
GREY = "grey"
ALWAYS = (SILHOUETTE, SAME_ART, LINES, HUE, TONE, GREY)


def names(
    bitmaps: Sequence[str], hash_methods: Sequence[str], edge_methods: Sequence[str]
) -> list[str]:
    """Every metric computed, in column order: bitmaps, frame hashes, edge-map hashes, then
    :data:`ALWAYS` (the embeddings' cosine, when configured, comes after these)."""
    unknown = sorted(set(bitmaps) - set(BITMAPS))
    if unknown:
        raise ValueError(f"unknown bitmap metrics {unknown}; choose from {list(BITMAPS)}")
    if "edges" not in bitmaps:
        raise ValueError("distances.bitmaps must include edges")
    ordered = [m for m in BITMAPS if m in bitmaps]
    return ordered + list(hash_methods) + [EDGE_HASH + m for m in edge_methods] + list(ALWAYS)


#: The embeddings' metric (a float: 1 - cosine similarity; see panelmatch.embeddings).
COSINE = "cosine"


def max_distance(metric: str, width: int, height: int, hash_bits: int) -> int | float:
    """The largest value `metric` can take (it decides the stored type: an unsigned
    integer, or float32 for the cosine and lines distances)."""
    if metric == COSINE:
        return 2.0
    if metric in (LINES, HUE, TONE):
        return 1.0
    if metric == GREY:
        return 255.0
    if metric == SAME_ART:
        return art.blocks(width, height)
    if metric == "edges_tolerant":
        return 2 * width * height
    if metric in BITMAPS or metric == SILHOUETTE:
        return width * height
    return hash_bits


def flip(codes: bits.Codes, width: int, height: int) -> bits.Codes:
    """Each (height x width) bitmap of `codes` flipped left to right."""
    return bits.reverse_rows(codes, width, height)


def dilate(codes: bits.Codes, width: int, height: int, radius: int) -> bits.Codes:
    """Each (height x width) bitmap of `codes` dilated by a (2r+1) x (2r+1) square."""
    if radius < 0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    maps = bits.unpack(codes, width * height).reshape(len(codes), height, width)
    for axis, size in ((1, height), (2, width)):
        out = maps.copy()
        for step in range(1, radius + 1):
            if step >= size:
                break
            lo = [slice(None)] * 3
            hi = [slice(None)] * 3
            lo[axis], hi[axis] = slice(0, size - step), slice(step, size)
            out[tuple(lo)] |= maps[tuple(hi)]
            out[tuple(hi)] |= maps[tuple(lo)]
        maps = out
    return bits.pack(maps)


def invert(codes: bits.Codes, nbits: int) -> bits.Codes:
    """Each code with its `nbits` bits inverted (the padding bits stay zero)."""
    return bits.pack(~bits.unpack(codes, nbits))


def coded(
    metric: str,
    edges: bits.Codes,
    bw: bits.Codes,
    width: int,
    height: int,
    tolerance: int,
) -> bits.Coded:
    """The codes of a bitmap `metric` for one side's images (see :class:`bits.Coded`).

    `edges` and `bw` are the images' packed edge maps and black-and-white images.
    For ``edges_tolerant`` with e = edge map and D = its dilation, the distance
    ``|e_i & ~D_j| + |e_j & ~D_i|`` equals
    ``(|e_i| - |D_i| + hamming([e_i | D_i], [D_j | e_j]) + |e_j| - |D_j|) / 2``, because
    ``|x & ~y| = (hamming(x, y) + |x| - |y|) / 2``: a Hamming distance of concatenated
    codes with per-image offsets, which the kernel searches exactly.
    """
    nbits = width * height
    if metric == "edges":
        return bits.plain(edges)
    if metric == "edges_mirror":
        return bits.Coded(edges, flip(edges, width, height))
    if metric == "edges_tolerant":
        grown = dilate(edges, width, height, tolerance)
        offset = bits.popcount(edges) - bits.popcount(grown)
        return bits.Coded(np.hstack([edges, grown]), np.hstack([grown, edges]), offset, 2)
    if metric == "bw":
        return bits.plain(bw)
    if metric == "bw_inverse":
        return bits.Coded(bw, invert(bw, nbits))
    raise ValueError(f"{metric!r} is not a bitmap metric; choose from {list(BITMAPS)}")


def codes(
    names: Sequence[str],
    edges: bits.Codes,
    bw: bits.Codes,
    hash_codes: Mapping[str, bits.Codes],
    width: int,
    height: int,
    tolerance: int,
    silhouettes: bits.Codes | None = None,
) -> dict[str, bits.Coded]:
    """The codes of every Hamming metric in `names` for one side's images: bitmap metrics
    from the packed edge maps and black-and-white images (:func:`coded`), hash metrics from
    `hash_codes` (metric -> codes), ``silhouette`` from `silhouettes`. The cosine, same_art,
    lines, hue, tone and grey metrics are not Hamming distances and are skipped."""
    out = {}
    for m in names:
        if m in BITMAPS:
            out[m] = coded(m, edges, bw, width, height, tolerance)
        elif m == SILHOUETTE:
            if silhouettes is None:
                raise ValueError("the silhouette metric needs the silhouettes")
            out[m] = bits.plain(silhouettes)
        elif m not in (COSINE, SAME_ART, LINES, HUE, TONE, GREY):
            out[m] = bits.plain(hash_codes[m])
    return out
