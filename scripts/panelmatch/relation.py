"""How two linked frames are related: the ``relation`` of each pair in pairs.parquet.

Derived from the stored distances and the kind of link (matching.KINDS), in this order:

- ``identical``: edge distance 0, every frame hash (phash, dhash, ahash) distance 0, the
  hue distance below ``RECOLOUR_HUE`` and the tone distance below ``RECOLOUR_TONE``; or the
  same picture re-encoded (JPEG, WebP): no block's mean grey level moved by more than
  ``REENCODED_GREY`` (the ``grey`` metric), the hue and tone as above, and the edge
  distance within the pair's edge threshold (compression noise moves a few edge pixels);
- ``mirrored``: the mirrored edge map is nearer than the edge map (``edges_mirror`` below
  ``edges``) and within the pair's edge threshold;
- ``reletter``: linked by ``lines`` (the same chat log, translated);
- ``recolour``: the edge distance within the pair's edge threshold while the pHash moved
  by ``RECOLOUR_PHASH`` bits or more, or the hue histograms by ``RECOLOUR_HUE`` or more
  (the line art kept, its grey levels or its hues changed: :mod:`panelmatch.colour`);
- ``reletter``: linked by ``same_art`` (identical detailed art under new lettering), or an
  edge distance at most ``CLOSE`` times the pair's edge threshold (the drawing kept with
  small changes, such as new lettering); but ``recolour`` when the tone histograms moved
  by ``RECOLOUR_TONE`` or more (new lettering changes the grey levels of the few pixels
  it covers, a recolouring a region's: a skin tone keeps its hue and line art);
- ``shifted``: linked by a corroborated hash alone (the picture kept while its edges moved
  too far for the edge link: a shift or a slight crop);
- ``similar``: anything else (a redraw, heavier edits, or similar deep fingerprints);
- for a pair linked by ``local`` features alone (local verification, :mod:`panelmatch.local`:
  its ``scale``, ``cover_a`` and ``cover_b``): ``zoomed`` when the transform scales by
  ``ZOOM`` or more either way (a close-up); else ``cropped`` when one image reproduces at
  least ``KEPT`` of its drawn pixels in the other and the other less (one shows part of the
  other at its size); ``shifted`` when both do (the whole picture, moved too far for the
  whole-panel metrics); ``partial`` when neither does.

A redraw whose hash stays close is labelled ``shifted``, and a shift whose edges stay close
``reletter``: whole-panel distances do not tell a moved drawing from a redrawn one.

With local features, a pair the whole-panel metrics link and verification measured keeps
their relation unless it has a *trusted* transform: at least ``TRUSTED_INLIERS`` inliers,
at least ``TRUSTED_COVER`` of both frames' drawn pixels reproduced, a scale within
``1 / SAME_SCALE .. SAME_SCALE``; ``identical`` and a ``lines`` link keep theirs all the
same. A mirrored transform makes it ``mirrored`` (a nearly symmetric drawing, whose
mirrored edge map is not nearer, mirrored and maybe recoloured). For a ``shifted``,
``reletter`` or ``similar`` pair, a shift of at least ``MOVED`` of the frame's longer side
makes it ``shifted``, and a ``shifted`` pair that moved less becomes ``similar`` (the
hash kept while the drawing stayed in place: a redraw).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

#: Every relation a pair can have (and a ground truth can name).
RELATIONS = (
    "identical",
    "recolour",
    "reletter",
    "shifted",
    "mirrored",
    "zoomed",
    "cropped",
    "partial",
    "similar",
)
#: A ground truth's ``reuse`` value of the image its group's other members reuse.
ORIGINAL = "original"
#: An edge distance at most this fraction of the pair's edge threshold kept the drawing:
#: what changed is small, such as its lettering.
CLOSE = 0.3
#: pHash bits (of 64) that a recolouring moves, and new lettering does not.
RECOLOUR_PHASH = 10
#: The hue distance (colour.distances, 0..1) of a recolouring that keeps grey levels, such
#: as a sprite's shiny version; new lettering moves it less.
RECOLOUR_HUE = 0.15
#: The tone distance (colour.tone_histograms, 0..1) of a recolouring that keeps hues and
#: line art, such as another skin tone: on the real emoji, skin-tone pairs that the other
#: tests call ``reletter`` move it by 0.037 (median); the demo's re-letterings by at most
#: 0.015.
RECOLOUR_TONE = 0.03
#: The grey metric (colour.block_change, 0..255) of a lossy re-encoding of one picture:
#: real panels saved again as JPEG (quality 60 and 80) or WebP (80) move a block's mean by
#: 1.2 levels (median) and at most 4 in 97 of 100 pairs; the demo's re-letterings move one
#: by 5 or more.
REENCODED_GREY = 4.0
#: A local link that scales by this much or more, either way, is a close-up.
ZOOM = 1.25
#: A local link's image that reproduces at least this share of its drawn pixels in the
#: other is kept whole in it.
KEPT = 0.75
#: A verified transform tells how a whole-panel link's drawing moved when this many
#: inliers agree on it, it reproduces this share of both frames' drawn pixels, and it
#: scales by less than this either way.
TRUSTED_INLIERS = 8
TRUSTED_COVER = 0.5
SAME_SCALE = 1.05
#: A trusted transform whose shift is at least this share of the frame's longer side
#: (local.Match.moved) moved the drawing: 4 pixels of a 650-pixel panel.
MOVED = 0.006
_FRAME_HASHES = ("phash", "dhash", "ahash")


def label(
    distances: Mapping[str, npt.ArrayLike],
    link: npt.ArrayLike,
    edge_threshold: npt.ArrayLike,
) -> npt.NDArray[np.object_]:
    """The relation of each linked pair, from its `distances` (metric -> one value per
    pair; ``edges`` is needed, the others are used when present), its kind of `link`
    (matching.KINDS names) and its `edge_threshold` (the pair's, as pairs.parquet stores it;
    NaN where unknown); a ``local`` link also reads ``scale``, ``cover_a`` and ``cover_b``
    from `distances`. See the module docstring."""
    kind = np.asarray(link, dtype=object)
    limit = np.asarray(edge_threshold, dtype=np.float64)
    edges = np.asarray(distances["edges"], dtype=np.float64)
    if not len(kind) == len(limit) == len(edges):
        raise ValueError("distances, link and edge_threshold must have one value per pair")
    n = len(kind)

    def metric(name: str, default: float) -> npt.NDArray[np.float64]:
        value = distances.get(name)
        return np.full(n, default) if value is None else np.asarray(value, dtype=np.float64)

    out = np.full(n, "similar", dtype=object)
    # from the weakest evidence to the strongest: each later test overrides
    out[kind == "hash"] = "shifted"
    out[(kind == "same_art") | (edges <= CLOSE * limit)] = "reletter"
    recoloured = (metric("phash", 0) >= RECOLOUR_PHASH) | (metric("hue", 0) >= RECOLOUR_HUE)
    out[recoloured & (edges <= limit)] = "recolour"
    tone = metric("tone", 0)
    out[(out == "reletter") & (tone >= RECOLOUR_TONE)] = "recolour"
    out[kind == "lines"] = "reletter"
    mirror = metric("edges_mirror", np.inf)
    out[(mirror < edges) & (mirror <= limit)] = "mirrored"
    same = edges == 0
    for h in _FRAME_HASHES:
        same &= metric(h, 0) == 0
    kept = (metric("hue", 0) < RECOLOUR_HUE) & (tone < RECOLOUR_TONE)
    reencoded = (metric("grey", np.inf) <= REENCODED_GREY) & (edges <= limit)
    out[kept & (same | reencoded)] = "identical"
    local = kind == "local"
    scale = metric("scale", np.nan)  # NaN where not verified: no comparison holds
    trusted = (
        ~local
        & (metric("inliers", 0) >= TRUSTED_INLIERS)
        & (np.minimum(metric("cover_a", 0), metric("cover_b", 0)) >= TRUSTED_COVER)
        & (scale <= SAME_SCALE)
        & (scale >= 1 / SAME_SCALE)
        & (kind != "lines")
        & (out != "identical")
    )
    flipped = trusted & (metric("mirror", 0) > 0)
    placed = trusted & ~flipped & np.isin(out, ["shifted", "reletter", "similar"])
    moved = metric("moved", 0) >= MOVED
    stayed = placed & ~moved & (out == "shifted")
    out[placed & moved] = "shifted"
    out[stayed] = "similar"
    out[flipped] = "mirrored"
    if local.any():
        scale = metric("scale", 1.0)
        whole_a, whole_b = metric("cover_a", 0) >= KEPT, metric("cover_b", 0) >= KEPT
        found = np.where(
            whole_a & whole_b, "shifted", np.where(whole_a | whole_b, "cropped", "partial")
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            zoom = (scale >= ZOOM) | (scale <= 1 / ZOOM)
        out[local] = np.where(zoom, "zoomed", found)[local]
    return out


def of_row(row: Mapping) -> str:
    """:func:`label` of one pair given as a mapping (a row of pairs.parquet or of
    neighbours.parquet: its metrics, ``link`` and ``edge_threshold``)."""
    return of_rows([row])[0]


#: What a metric missing from a row counts as in :func:`of_rows` (label's own defaults).
_MISSING = {
    "edges": 0.0,
    "edges_mirror": np.inf,
    **{h: 0.0 for h in _FRAME_HASHES},
    "hue": 0.0,
    "tone": 0.0,
    "grey": np.inf,
    "scale": 1.0,
    "cover_a": 0.0,
    "cover_b": 0.0,
    "inliers": 0.0,
    "mirror": 0.0,
    "moved": np.nan,
    "region_cover": 0.0,
    "region_area": 0.0,
}


def of_rows(rows: Sequence[Mapping]) -> list[str]:
    """:func:`of_row` of each of `rows`, in one call of :func:`label`. A metric a row lacks
    (absent or None) counts as label's default for it (``edges`` 0, ``edges_mirror``
    infinite, a hash, ``hue`` or ``tone`` 0, ``grey`` infinite, ``scale`` 1, a cover 0), an unknown
    ``edge_threshold`` as NaN, and no ``link`` as ``edge``."""
    if not rows:
        return []
    # a default in place of a missing value is what label does for a metric it lacks
    distances = {
        m: np.array([missing if (v := r.get(m)) is None else v for r in rows], dtype=np.float64)
        for m, missing in _MISSING.items()
    }
    limits = [np.nan if (v := r.get("edge_threshold")) is None else v for r in rows]
    kinds = [r.get("link") or "edge" for r in rows]
    return [str(x) for x in label(distances, kinds, limits)]
