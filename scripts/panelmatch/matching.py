"""The matching rule: which stored pairs of frames are linked, by what, and how strongly.

The rule (the ``matching`` section of the configuration, a
:class:`panelmatch.settings.Matching`) links a pair when any of its *link kinds*
(:data:`KINDS`) says so:

- ``edge`` (the original study's final method): the pair's edge distance, the smallest of
  ``edge_metrics`` (``edges``, and ``edges_mirror`` for mirrored redraws), is below the
  *edge threshold* of both frames. With ``threshold: scaled`` a frame's threshold is
  ``min(edge_scale * edge_pixels, edge_cap)``: a nearly blank panel has few edge pixels, so
  its threshold is small and it cannot match busy panels. With ``threshold: global`` it is
  ``edge_cap`` for every frame;
- ``hash``: a hash distance at most ``hash_max[hash]``, *corroborated* by the edge maps: the
  edge distance must also be below ``hash_corroboration`` times ``edge_scale`` times the
  smaller edge-pixel count (the scaled threshold without its cap; null: no
  corroboration). A 64-bit hash of a small drawing on a flat background is close to that
  of any other such drawing; the edge maps tell them apart;
- ``mixed``: ``(edge / (edge_pixels_a + edge_pixels_b) + hash / (bits / 2)) / 2`` at most
  ``mixed[hash]``. Each distance is divided by its typical value between unrelated images,
  then the two are averaged, as the study did with its corpus means;
- ``cosine`` (with embeddings): a cosine distance at most ``cosine_max``;
- ``same_art``: at least ``same_art.blocks`` blocks of detailed art are identical in both
  frames, and they are at least ``same_art.fraction`` of the detailed blocks of the less
  detailed frame (:mod:`panelmatch.art`): the same drawing under new lettering;
- ``lines``: the text-line colour layouts differ by at most ``lines_max``
  (:mod:`panelmatch.textlines`): the same chat log, translated;
- ``local`` (with local features, ``local.enabled``): a verified pair
  (:mod:`panelmatch.local`) with at least ``local.min_inliers`` RANSAC inliers, of which
  one image has at least ``local.cover`` of its drawn pixels reproduced by the other (a
  close-up or a crop), or at least ``local.region_cover`` of the drawn pixels inside the
  inliers' convex hull are reproduced, that hull spanning at least ``local.region_area`` of
  each image, and moved or scaled (:func:`panelmatch.local.elsewhere`: a drawing pasted
  into another scene; a region reproduced in place is the layout's, a template). Its
  ratio is ``(1 - cover) / (1 - local.cover)`` of the larger cover, or ``(1 -
  region_cover) / (1 - local.region_cover)``, the smaller of those that hold, and it links
  only pairs no other kind links. The
  distances of a pair that was not verified hold no ``inliers``, or 0.

Three guards apply to every pair:

- the *template* guard: a link of any kind but ``edge`` needs both frames to have at most
  ``TEMPLATE_SHARE`` of their edge pixels in templates (:mod:`panelmatch.templates`; the
  counts then hold ``template_pixels`` beside the ``edge_pixels`` left). A hash, a share
  of identical blocks or a fingerprint of a frame that is mostly template measures the
  template, not the drawing; the edge rule compares what is left;
- the *silhouette* guard: a link of any kind but ``edge`` needs the frames' silhouettes
  (their opaque pixels) to differ by at most ``silhouette_scale`` times the smaller one.
  Two opaque frames always pass; a sprite recoloured keeps its silhouette exactly, two
  different sprites do not (null: off);
- the low-content guard: a frame with fewer than ``min_edge_pixels`` edge pixels links only
  to an identical frame (edge distance and every frame-hash distance zero).

Each linked pair gets a *ratio*, its distance over the limit of the kind that linked it
(0 = identical, below 1 = linked), and that kind. A link is *strong* when its ratio is at
most ``strong`` and its kind is one of ``strong_links``; the chaining guard
(:func:`panelmatch.grouping.split_chains`) lets a group grow past ``max_group_size`` only
through strong links.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from panelmatch import bits, local, metrics
from panelmatch.settings import Matching

#: The kinds of link, in the order in which a tie of ratios is attributed.
KINDS = ("edge", "hash", "mixed", "cosine", "same_art", "lines", "local")
#: Edge weight of a link in the graph is WEIGHT_TOP - ratio (in 0.01 .. 1.01).
WEIGHT_TOP = 1.01
#: The template guard: a link of any kind but ``edge`` needs both frames to have at most
#: this share of their edge pixels in templates (panelmatch.templates).
TEMPLATE_SHARE = 0.5


def edge_thresholds(
    edge_pixels: npt.ArrayLike, edge_scale: float, edge_cap: float
) -> npt.NDArray[np.float64]:
    """Each frame's edge threshold: ``min(edge_scale * edge_pixels, edge_cap)``."""
    if edge_scale < 0 or edge_cap < 0:
        raise ValueError(f"edge_scale and edge_cap must be >= 0, got {edge_scale}, {edge_cap}")
    return np.minimum(edge_scale * np.asarray(edge_pixels, dtype=np.float64), float(edge_cap))


def linked(
    edge_distance: npt.ArrayLike, threshold_a: npt.ArrayLike, threshold_b: npt.ArrayLike
) -> npt.NDArray[np.bool_]:
    """The edge rule alone: ``edge_distance < min(threshold_a, threshold_b)``."""
    d = np.asarray(edge_distance, dtype=np.float64)
    return d < np.minimum(
        np.asarray(threshold_a, dtype=np.float64), np.asarray(threshold_b, dtype=np.float64)
    )


class Links(NamedTuple):
    """Which pairs a rule links, how strongly and by what (see the module docstring)."""

    keep: npt.NDArray[np.bool_]
    ratio: npt.NDArray[np.float64]  # distance over the linking kind's limit; inf if unlinked
    edge: npt.NDArray[np.int64]  # the edge distance (smallest of the rule's edge_metrics)
    limit: npt.NDArray[np.float64]  # the pair's edge threshold
    kind: npt.NDArray[np.int8]  # index into KINDS of the kind that linked it; -1 if unlinked
    strong: npt.NDArray[np.bool_]  # may hold a group together past max_group_size


def kind_names(kind: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """The names of link kinds (:data:`KINDS`; '' for -1, unlinked)."""
    names = np.array(("",) + KINDS, dtype=object)
    return names[np.asarray(kind, dtype=np.int64) + 1]


def edge_distance(
    distances: Mapping[str, npt.ArrayLike], edge_metrics: Sequence[str]
) -> npt.NDArray[np.int64]:
    """The edge rule's distance of each pair: the smallest of its `edge_metrics`."""
    missing = [m for m in edge_metrics if m not in distances]
    if missing:
        raise ValueError(f"edge_metrics {missing} were not computed (distances.bitmaps)")
    return np.min([np.asarray(distances[m], dtype=np.int64) for m in edge_metrics], axis=0)


def pair_counts(counts: Mapping[str, npt.ArrayLike], a: npt.ArrayLike, b: npt.ArrayLike):
    """The per-frame counts (edge_pixels, silhouette_pixels, detail_blocks: tables.
    FRAME_COUNTS) of both frames of each pair (a[k], b[k]): two dicts of arrays."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    side_a = {k: np.asarray(v, dtype=np.int64)[a] for k, v in counts.items()}
    side_b = {k: np.asarray(v, dtype=np.int64)[b] for k, v in counts.items()}
    return side_a, side_b


def link(
    distances: Mapping[str, npt.ArrayLike],
    side_a: Mapping[str, npt.ArrayLike],
    side_b: Mapping[str, npt.ArrayLike],
    hash_bits: Mapping[str, int],
    settings: Matching,
) -> Links:
    """Apply a matching rule to pairs of frames.

    `distances` maps each metric to its values for the pairs; `side_a`, `side_b` give the
    per-frame counts of the two frames of each pair (:func:`pair_counts`; only
    ``edge_pixels`` is needed unless the silhouette guard or ``same_art`` is on);
    `hash_bits` gives the bits of every hash metric; `settings` is the ``matching``
    configuration section.
    """
    edge = edge_distance(distances, settings.edge_metrics)
    pixels_a = np.asarray(side_a["edge_pixels"], dtype=np.int64)
    pixels_b = np.asarray(side_b["edge_pixels"], dtype=np.int64)
    n = len(edge)
    if settings.threshold == "scaled":
        ta = edge_thresholds(pixels_a, settings.edge_scale, settings.edge_cap)
        tb = edge_thresholds(pixels_b, settings.edge_scale, settings.edge_cap)
        limit = np.minimum(ta, tb)
    elif settings.threshold == "global":
        limit = np.full(n, float(settings.edge_cap))
    else:
        raise ValueError(f"threshold must be scaled or global, got {settings.threshold!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        edge_ratio = np.where(limit > 0, edge / limit, np.inf)
    hit = linked(edge, limit, limit)
    ratio = np.where(hit, edge_ratio, np.inf)
    kind = np.where(hit, 0, -1).astype(np.int8)

    others = _other_kinds(distances, side_a, side_b, hash_bits, settings, edge)
    if others:
        guard = _silhouettes_agree(distances, side_a, side_b, settings.silhouette_scale)
        guard = guard & _mostly_drawn(side_a, side_b)
        for name, (hit, score) in others:
            hit &= guard
            # a local link only links what nothing else does: a pair the whole-panel
            # metrics link keeps their kind (and relation)
            better = hit & (score < ratio) & (np.isinf(ratio) if name == "local" else True)
            ratio = np.where(better, score, ratio)
            kind = np.where(better, KINDS.index(name), kind).astype(np.int8)

    content = (pixels_a >= settings.min_edge_pixels) & (pixels_b >= settings.min_edge_pixels)
    identical = edge == 0
    for name in hash_bits:
        if name in distances and not name.startswith(metrics.EDGE_HASH):
            identical &= np.asarray(distances[name]) == 0
    keep = np.where(content, np.isfinite(ratio), identical)
    ratio = np.where(content, ratio, np.where(identical, 0.0, np.inf))
    kind = np.where(content, kind, np.where(identical, 0, -1)).astype(np.int8)
    ratio = np.where(keep, np.minimum(ratio, 1.0), np.inf)
    kind = np.where(keep, kind, -1).astype(np.int8)
    strong_kinds = [KINDS.index(k) for k in settings.strong_links]
    strong = keep & (ratio <= settings.strong) & np.isin(kind, strong_kinds)
    return Links(keep, ratio, edge, limit, kind, strong)


def _other_kinds(distances, side_a, side_b, hash_bits, settings, edge):
    """(kind, (hit, ratio)) of every link kind but the edge rule that the rule switches on."""
    out = []
    pixels_a = np.asarray(side_a["edge_pixels"], dtype=np.int64)
    pixels_b = np.asarray(side_b["edge_pixels"], dtype=np.int64)
    corroboration = settings.hash_corroboration
    for field in ("hash_max", "mixed"):
        for name, value in getattr(settings, field).items():
            if value is None:  # configuration merges cannot delete a key
                continue
            if name not in distances or name not in hash_bits:
                raise ValueError(f"{field} names {name!r}, which is not a computed hash")
            d = np.asarray(distances[name], dtype=np.float64)
            if field == "hash_max":
                hit = d <= value
                if corroboration is not None:
                    scale = corroboration * settings.edge_scale
                    hit &= edge < scale * np.minimum(pixels_a, pixels_b)
                out.append(("hash", (hit, d / (value + 1))))
            else:
                mixed = (edge / np.maximum(pixels_a + pixels_b, 1) + d / (hash_bits[name] / 2)) / 2
                out.append(("mixed", (mixed <= value, mixed / value)))
    if settings.cosine_max is not None:
        out.append(("cosine", _at_most(distances, metrics.COSINE, settings.cosine_max)))
    same = settings.same_art
    if same is not None:
        if metrics.SAME_ART not in distances:
            raise ValueError("same_art needs the same_art metric (distances)")
        c = np.asarray(distances[metrics.SAME_ART], dtype=np.float64)
        fewer = np.minimum(side_a["detail_blocks"], side_b["detail_blocks"]).astype(np.float64)
        share = c / np.maximum(fewer, 1)
        hit = (c >= same["blocks"]) & (share >= same["fraction"])
        spare = max(1.0 - same["fraction"], 1e-9)
        out.append(("same_art", (hit, np.clip((1.0 - share) / spare, 0.0, 1.0))))
    if settings.lines_max is not None:
        out.append(("lines", _at_most(distances, metrics.LINES, settings.lines_max)))
    verified = settings.local
    if verified is not None and "inliers" in distances:
        inliers = np.asarray(distances["inliers"], dtype=np.int64)
        cover = np.maximum(
            np.asarray(distances["cover_a"], dtype=np.float64),
            np.asarray(distances["cover_b"], dtype=np.float64),
        )
        region = np.asarray(distances["region_cover"], dtype=np.float64)
        spans = np.asarray(distances["region_area"], dtype=np.float64) >= verified["region_area"]
        whole = cover >= verified["cover"]
        # a region reproduced in place is the layout's (a template), not a paste
        moved = local.elsewhere(distances["moved"], distances["scale"])
        placed = spans & (region >= verified["region_cover"]) & moved
        hit = (inliers >= verified["min_inliers"]) & (whole | placed)
        ratio = np.minimum(
            np.where(whole, (1.0 - cover) / max(1.0 - verified["cover"], 1e-9), 1.0),
            np.where(placed, (1.0 - region) / max(1.0 - verified["region_cover"], 1e-9), 1.0),
        )
        out.append(("local", (hit, np.clip(ratio, 0.0, 1.0))))
    return out


def _at_most(distances: Mapping, metric: str, value: float) -> tuple:
    """(hit, ratio) of a link kind that holds when `metric` is at most `value`."""
    if metric not in distances:
        raise ValueError(f"the rule needs the {metric} distances, which were not computed")
    d = np.asarray(distances[metric], dtype=np.float64)
    return d <= value, d / value if value > 0 else np.zeros_like(d)


def _mostly_drawn(side_a, side_b):
    """The template guard (every pair passes without ``template_pixels`` counts)."""
    if "template_pixels" not in side_a or "template_pixels" not in side_b:
        return True
    out = True
    for side in (side_a, side_b):
        left = np.asarray(side["edge_pixels"], dtype=np.float64)
        held = np.asarray(side["template_pixels"], dtype=np.float64)
        out = out & (held <= TEMPLATE_SHARE * (left + held))
    return out


def _silhouettes_agree(distances, side_a, side_b, scale):
    """The silhouette guard (every pair passes when it is off or not computed)."""
    if scale is None or metrics.SILHOUETTE not in distances:
        return True
    d = np.asarray(distances[metrics.SILHOUETTE], dtype=np.float64)
    smaller = np.minimum(side_a["silhouette_pixels"], side_b["silhouette_pixels"])
    return d <= scale * smaller


def best_pairs(image_of: npt.ArrayLike, a: npt.ArrayLike, b: npt.ArrayLike, links: Links):
    """For every pair of images among the frame pairs (a[k], b[k]), the index k of its best
    frame pair: a linked one before an unlinked one, then the smallest ratio, then the
    smallest edge distance, then the first. Indices in increasing order.

    `image_of` gives each frame's image. An image pair's distance is that of its best frame
    pair, and two images are linked when any pair of their frames is.
    """
    image_of = np.asarray(image_of, dtype=np.int64)
    ia = image_of[np.asarray(a, dtype=np.int64)]
    ib = image_of[np.asarray(b, dtype=np.int64)]
    key = bits.pair_key(ia, ib, int(image_of.max(initial=0)) + 1)
    order = np.lexsort((np.arange(len(key)), links.edge, links.ratio, ~links.keep, key))
    first = np.ones(len(order), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    return np.sort(order[first])


def take(links: Links, index: npt.ArrayLike) -> Links:
    """The links of the pairs at `index`."""
    return Links(*(field[index] for field in links))
