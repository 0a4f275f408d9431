"""From the stored pairs to what the matching rule links: the groups, evaluate and
neighbours rules.

:class:`Run` is the run's frames as these rules read them (names, each frame's image,
the per-frame counts and the edge maps). :func:`linked_pairs` streams the distance shards
one at a time (:func:`panelmatch.pairs.stream`), takes the edge metrics on the edge maps
without the run's templates (:mod:`panelmatch.templates`), applies each matching rule
(:func:`panelmatch.matching.link`) and keeps only the linked frame pairs, so that memory
never holds every stored pair. :func:`groups_and_pairs` and :func:`neighbours` build the
tables of ``results/groups.parquet``, ``results/pairs.parquet`` and
``results/neighbours.parquet`` from it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from panelmatch import bits, grouping, matching, nearest, pairs, relation, tables, templates
from panelmatch.settings import Matching

Paths = Sequence[str | os.PathLike]


@dataclass
class Run:
    """The frames of a run (the frame features tables of every chunk, in order)."""

    names: npt.NDArray[np.object_]  # each image's name, in run order
    image_of: npt.NDArray[np.int64]  # each frame's image number
    offsets: npt.NDArray[np.int64]  # each chunk's first frame (pairs.stream)
    frame: npt.NDArray[np.int64]  # each frame's index in its file
    counts: dict[str, npt.NDArray[np.int64]]  # tables.FRAME_COUNTS of each frame
    codes: bits.Codes  # each frame's edge map
    width: int  # the comparison size (edges.width x edges.height)
    height: int
    _templates: dict[int | None, templates.Templates] = field(default_factory=dict, repr=False)
    _counts: dict[int | None, dict[str, npt.NDArray]] = field(default_factory=dict, repr=False)

    @classmethod
    def read(cls, frame_tables: Paths, width: int, height: int) -> Run:
        """The run from its frame features tables (results/frame_features/{chunk}.parquet)."""
        frames, offsets = tables.read_images(frame_tables)
        names, image_of = tables.image_numbers(frames["image"])
        return cls(
            names=names,
            image_of=image_of,
            offsets=np.asarray(offsets, dtype=np.int64),
            frame=frames["frame"].to_numpy(np.int64),
            counts={k: frames[k].to_numpy(np.int64) for k in tables.FRAME_COUNTS},
            codes=tables.read_edge_codes(frame_tables, width * height),
            width=width,
            height=height,
        )

    def __len__(self) -> int:
        """The number of images."""
        return len(self.names)

    def templates(self, frames_bound: int | None) -> templates.Templates:
        """The run's templates: the edge blocks more than `frames_bound` frames hold
        (``matching.template_frames``; None: none), computed once per bound."""
        if frames_bound not in self._templates:
            self._templates[frames_bound] = templates.of(
                self.codes, self.width, self.height, frames_bound
            )
        return self._templates[frames_bound]

    def counts_without_templates(self, frames_bound: int | None) -> dict[str, npt.NDArray]:
        """The per-frame counts with the edge pixels left once the templates are cleared,
        and the edge pixels they held (``template_pixels``; matching.link reads both),
        computed once per bound (linking, then grouping, read them for every rule)."""
        if frames_bound not in self._counts:
            self._counts[frames_bound] = self.templates(frames_bound).counts(self.counts)
        return self._counts[frames_bound]


def linked_pairs(
    run: Run,
    shards: Iterable[pairs.Shard],
    hash_bits: Mapping[str, int],
    rules: Mapping[str, Matching],
    tolerance: int,
    columns: Sequence[str],
    local: bool = False,
) -> dict[str, pairs.Shard]:
    """Each rule's linked frame pairs among stored shards (pairs.stream), one shard at a
    time: the edge metrics retaken without the run's templates (by each rule's
    ``template_frames``), matching.link with the per-frame counts, and only the linked
    pairs kept, with `columns` of their distances. With `local`, a verified pair that is
    also in a distance shard is kept once, its verified copy (streamed last)."""
    kept: dict[str, list[pairs.Shard]] = {name: [] for name in rules}
    for shard in shards:
        for name, settings in rules.items():
            bound = settings.template_frames
            seen = run.templates(bound).rescore(shard.a, shard.b, shard.distances, tolerance)
            left = run.counts_without_templates(bound)
            sides = matching.pair_counts(left, shard.a, shard.b)
            keep = matching.link(seen, *sides, hash_bits, settings).keep
            kept[name].append(pairs.Shard(shard.a, shard.b, seen).take(keep))
    out = {}
    for name, parts in kept.items():
        found = pairs.concat(parts, columns)
        out[name] = pairs.last_copies(found) if local else found
    return out


def grouped(
    run: Run, linked: pairs.Shard, hash_bits: Mapping[str, int], settings: Matching
) -> grouping.Grouping:
    """:func:`panelmatch.grouping.group_images` on a rule's linked frame pairs."""
    return grouping.group_images(
        len(run),
        linked.a,
        linked.b,
        linked.distances,
        run.counts_without_templates(settings.template_frames),
        hash_bits,
        settings,
        run.image_of,
    )


def pair_relations(
    linked: pairs.Shard, links: matching.Links, index: npt.ArrayLike, columns: Sequence[str]
) -> npt.NDArray[np.object_]:
    """The relation (panelmatch.relation) of the linked frame pairs at `index`."""
    return relation.label(
        {m: linked.distances[m][index] for m in columns},
        matching.kind_names(links.kind[index]),
        links.limit[index],
    )


class Found(NamedTuple):
    """What the groups rule writes: the groups table, the pairs table and its counts."""

    groups: pd.DataFrame  # tables.GROUPS, in group order
    pairs: pd.DataFrame  # tables.pairs_schema, in image-pair order
    templates: int  # frames holding a template
    groups_of_two_or_more: int
    grouped_images: int


def groups_and_pairs(
    run: Run,
    shards: Paths,
    manifest: pd.DataFrame,
    settings: Matching,
    hash_bits: Mapping[str, int],
    metric_max: Mapping[str, float],
    tolerance: int,
    local: bool = False,
) -> Found:
    """The groups of the run's images under the configured rule, and its linked image
    pairs, each through its best frame pair with its distances and relation.

    `shards` are the distance shards (and, with `local`, results/verified.parquet last);
    `manifest` is the run's manifest (``image``, ``path``, ``page``; the usable rows)."""
    # with local features, their verified pairs are one more shard, and every pair carries
    # what verification measured (tables.LOCAL_COLUMNS; nothing for the distance shards')
    columns = list(metric_max) + (tables.LOCAL_COLUMNS if local else [])
    stream = pairs.stream(shards, run.offsets, list(metric_max), local)
    linked = linked_pairs(
        run, stream, hash_bits, {"configured": settings}, tolerance, columns, local
    )
    linked = linked["configured"]
    labels, links, pick, families = grouped(run, linked, hash_bits, settings)
    names, n = run.names, len(run)
    sizes = grouping.sizes(labels)
    # the linked image pairs, each through its best frame pair
    pick = pick[links.keep[pick]]
    ia, ib = run.image_of[linked.a[pick]], run.image_of[linked.b[pick]]
    # each group's most typical member: the smallest total ratio to the other members over
    # the linked pairs (an unlinked pair of members counts as 1, the weakest link)
    medoid = nearest.medoids(labels, ia, ib, links.ratio[pick], 1.0)
    manifest = manifest.set_index("image")
    groups = pd.DataFrame(
        {
            "image": names,
            "path": manifest["path"].reindex(names).to_numpy(),
            "page": manifest["page"].reindex(names).to_numpy(),
            "group": labels,
            "group_size": sizes,
            "medoid": medoid,
            "family": families,
            "family_size": grouping.sizes(families),
            "order": np.arange(n),
        }
    ).sort_values(["group", "order"], kind="stable")

    out = pd.DataFrame({"image_a": names[ia], "image_b": names[ib]})
    out["frame_a"] = run.frame[linked.a[pick]]
    out["frame_b"] = run.frame[linked.b[pick]]
    for m in metric_max:
        out[m] = linked.distances[m][pick]
    out["edge_threshold"] = links.limit[pick].astype(np.float32)
    out["ratio"] = links.ratio[pick].astype(np.float32)
    out["link"] = matching.kind_names(links.kind[pick])
    for m in columns[len(metric_max) :]:
        out[m] = linked.distances[m][pick]
    out["relation"] = pair_relations(linked, links, pick, columns)
    out["order"] = ia * n + ib
    out = out.sort_values("order", kind="stable")
    return Found(
        groups,
        out,
        int(run.templates(settings.template_frames).touched.sum()),
        len(set(labels[sizes > 1].tolist())),
        int((sizes > 1).sum()),
    )


def neighbours(
    run: Run,
    shards: Paths,
    settings: Matching,
    hash_bits: Mapping[str, int],
    metric_max: Mapping[str, float],
    tolerance: int,
    k: int,
) -> pd.DataFrame:
    """Each image's `k` nearest images among the stored pairs, ranked by the matching
    rule's edge distance, each through its best pair of frames, with every distance and
    whether the rule links them (exactly the pairs of the groups rule's pairs table).

    One shard at a time: all frames of an image are in one chunk, so all frame pairs of two
    images are in one shard, and only pairs among some image's k nearest are kept."""
    found = run.templates(settings.template_frames)
    counts = run.counts_without_templates(settings.template_frames)
    best = nearest.Nearest(len(run), k)
    for shard in pairs.stream(shards, run.offsets, list(metric_max)):
        seen = found.rescore(shard.a, shard.b, shard.distances, tolerance)
        links = matching.link(
            seen, *matching.pair_counts(counts, shard.a, shard.b), hash_bits, settings
        )
        pick = matching.best_pairs(run.image_of, shard.a, shard.b, links)
        columns = {m: seen[m][pick] for m in metric_max}
        columns |= {
            "frame_a": run.frame[shard.a[pick]],
            "frame_b": run.frame[shard.b[pick]],
            "edge_threshold": links.limit[pick],
            "linked": links.keep[pick],
            "link": matching.kind_names(links.kind[pick]),
        }
        best.add(
            run.image_of[shard.a[pick]], run.image_of[shard.b[pick]], links.edge[pick], columns
        )
    image, rank, neighbour, first, kept = best.result()

    names = run.names
    out = pd.DataFrame({"image": names[image], "rank": rank, "neighbour": names[neighbour]})
    # the image's own frame and the neighbour's, whichever side of the pair each was on
    out["frame"] = np.where(first, kept.get("frame_a", []), kept.get("frame_b", []))
    out["neighbour_frame"] = np.where(first, kept.get("frame_b", []), kept.get("frame_a", []))
    for m in metric_max:
        out[m] = kept.get(m, np.zeros(0))
    out["edge_threshold"] = np.asarray(kept.get("edge_threshold", []), dtype=np.float32)
    out["linked"] = np.asarray(kept.get("linked", []), dtype=bool)
    out["link"] = kept.get("link", np.zeros(0, dtype=object))
    return out
