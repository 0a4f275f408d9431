"""Typed settings: one frozen dataclass per configuration section the core reads.

Each is built once, from a section the workflow has already validated against
``workflow/schemas/config.schema.yaml`` (which fills in every default), with
:meth:`Section.of`. No field has a default here: the schema is the only place a default
lives, and :meth:`Section.of` refuses a section with a key missing or unknown, so the two
cannot drift apart (``tests/test_settings.py`` checks every class against the schema).

Snakemake compares ``params:`` by the ``repr`` of plain types, so the rules pass plain
dicts and the scripts build these at their start; the core takes these, never a dict read
by string key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar, Self


@dataclasses.dataclass(frozen=True)
class Section:
    """A configuration section: the fields are its keys, with the schema's names."""

    #: The section's name in the configuration (and the schema).
    NAME: ClassVar[str] = ""

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Self:
        """The section from its validated mapping (every key of the schema, no other)."""
        names = {f.name for f in dataclasses.fields(cls)}
        missing, unknown = sorted(names - set(values)), sorted(set(values) - names)
        if missing or unknown:
            raise ValueError(
                f"the {cls.NAME} section"
                + (f" lacks {', '.join(missing)}" if missing else "")
                + (" and" if missing and unknown else "")
                + (f" has unknown keys {', '.join(unknown)}" if unknown else "")
                + " (validate the configuration against the schema first)"
            )
        return cls(**{name: _frozen(values[name]) for name in names})

    @classmethod
    def within(cls, values: Mapping[str, Any]) -> Self:
        """The section from a mapping that holds its keys among others (the whole
        ``frames`` section for a FrameSelection)."""
        return cls.of({f.name: values[f.name] for f in dataclasses.fields(cls) if f.name in values})

    def plain(self) -> dict[str, Any]:
        """The section as the plain mapping it came from (for params and JSON)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def but(self, **changes: Any) -> Self:
        """A copy with some keys changed (``evaluation.compare``'s overrides)."""
        return type(self).of({**self.plain(), **changes})


def _frozen(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, Mapping):
        return _FrozenDict({k: _frozen(v) for k, v in value.items()})
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


class _FrozenDict(dict):
    """A dict that refuses changes, so that a frozen section holds no mutable mapping."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("settings are read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))


@dataclasses.dataclass(frozen=True)
class FrameSelection(Section):
    """The keys of the ``frames`` section that decide which frames of a file are kept
    (its ``threads`` and ``thumbnail_size`` do not, and are passed on their own)."""

    NAME: ClassVar[str] = "frames"
    mode: str
    count: int
    same: float
    background: str
    max_pixels: int
    min_side: int


@dataclasses.dataclass(frozen=True)
class Edges(Section):
    """The comparison size and the edge maps (``edges``)."""

    NAME: ClassVar[str] = "edges"
    width: int
    height: int
    resample: str
    canny_low: float
    canny_high: float
    channels: str
    bw_threshold: int


@dataclasses.dataclass(frozen=True)
class Hashes(Section):
    """The perceptual hashes (``hashes``)."""

    NAME: ClassVar[str] = "hashes"
    methods: tuple[str, ...]
    edge_methods: tuple[str, ...]
    hash_size: int


@dataclasses.dataclass(frozen=True)
class Embeddings(Section):
    """The opt-in deep fingerprints and their groups (``embeddings``)."""

    NAME: ClassVar[str] = "embeddings"
    model: str | None
    output: str | None
    width: int | None
    height: int | None
    mean: tuple[float, ...]
    std: tuple[float, ...]
    batch_size: int
    threads: int
    dtype: str
    providers: tuple[str, ...]
    similarity: float
    linkage: str
    duplicate_similarity: float
    representatives: int
    k_range: tuple[int, ...]
    seed: int


@dataclasses.dataclass(frozen=True)
class Local(Section):
    """The opt-in local features (``local``)."""

    NAME: ClassVar[str] = "local"
    enabled: bool
    size: int
    features: int
    ratio: float
    tolerance: float
    min_matches: int
    candidates: int
    threads: int


@dataclasses.dataclass(frozen=True)
class Matching(Section):
    """The matching rule, and how groups are found (``matching``; see panelmatch.matching)."""

    NAME: ClassVar[str] = "matching"
    edge_metrics: tuple[str, ...]
    threshold: str
    edge_scale: float
    edge_cap: float
    hash_max: Mapping[str, int | None]
    hash_corroboration: float | None
    mixed: Mapping[str, int | None]
    cosine_max: float | None
    same_art: Mapping[str, float] | None
    lines_max: float | None
    silhouette_scale: float | None
    min_edge_pixels: int
    template_frames: int | None
    method: str
    max_group_size: int | None
    strong: float
    strong_links: tuple[str, ...]
    local: Mapping[str, float] | None


#: Every section class, by its name in the configuration.
SECTIONS: dict[str, type[Section]] = {
    cls.NAME: cls for cls in (FrameSelection, Edges, Hashes, Embeddings, Local, Matching)
}


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """Every setting that shapes a run's stored features and its matching rule, as the
    settings rule writes them (results/settings.json) for ``panelmatch query``."""

    frames: FrameSelection
    edges: Edges
    hashes: Hashes
    embeddings: Embeddings  # with the input size the frames were resized to
    matching: Matching
    bitmaps: tuple[str, ...]  # distances.bitmaps
    metrics: tuple[str, ...]  # every stored metric
    hash_bits: Mapping[str, int]  # the bits of each hash metric
    tolerance: int  # distances.tolerance
    art_tolerance: int  # distances.art_tolerance
    common_blocks: int  # distances.common_blocks

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> RunSettings:
        """The settings from their JSON form (:meth:`plain`)."""
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [name for name in names if name not in values]
        if missing:
            raise ValueError(
                f"the run's settings lack {', '.join(missing)}: they were written by another"
                " version of panelmatch (run the workflow again to rewrite them)"
            )
        return cls(
            **{
                name: SECTIONS[name].of(values[name]) if name in SECTIONS else _frozen(values[name])
                for name in names
            }
        )

    def plain(self) -> dict[str, Any]:
        """The settings as plain JSON types."""
        return {
            f.name: (value.plain() if isinstance(value, Section) else _plain(value))
            for f in dataclasses.fields(self)
            for value in [getattr(self, f.name)]
        }
