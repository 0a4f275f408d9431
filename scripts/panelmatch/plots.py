"""Plots of a run as PNG bytes (matplotlib, no display needed)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
import pandas as pd  # noqa: E402

from panelmatch import grouping, matching, pairs  # noqa: E402
from panelmatch.settings import Matching  # noqa: E402


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


class Histograms:
    """Counts of each metric's values over batches of pairs (one shard at a time), in
    :data:`BINS` equal bins from 0 to `largest[metric]` (larger values count in the last)."""

    BINS = 40

    def __init__(self, largest: Mapping[str, float]):
        self.edges = {
            m: np.linspace(0.0, float(top) or 1.0, self.BINS + 1) for m, top in largest.items()
        }
        self.counts = {m: np.zeros(self.BINS, dtype=np.int64) for m in largest}

    def add(self, distances: Mapping[str, npt.ArrayLike]) -> None:
        for m, values in distances.items():
            if m in self.counts:
                top = self.edges[m][-1]
                found, _ = np.histogram(
                    np.minimum(np.asarray(values, dtype=np.float64), top), self.edges[m]
                )
                self.counts[m] += found


def distance_histograms(
    histograms: Histograms, lines: Mapping[str, Sequence[tuple[float, str]]]
) -> bytes:
    """One histogram per metric of the stored pairs' distances, with threshold lines."""
    names = list(histograms.counts)
    fig, axes = plt.subplots(1, max(1, len(names)), figsize=(3.2 * max(1, len(names)), 2.8))
    axes = np.atleast_1d(axes)
    for ax, name in zip(axes, names, strict=False):
        edges, counts = histograms.edges[name], histograms.counts[name]
        ax.stairs(counts, edges, fill=True, color="#4a7ab7")
        for x, label in lines.get(name, []):
            ax.axvline(x, color="#d2691e", linestyle="--", label=label)
        ax.set_title(name)
        ax.set_xlabel("distance")
        if lines.get(name):
            ax.legend(fontsize=7)
    axes[0].set_ylabel("stored pairs")
    fig.tight_layout()
    return _png(fig)


def group_sizes(sizes: npt.ArrayLike) -> bytes:
    """Number of groups of each size (2 and up)."""
    sizes = np.asarray(sizes)
    values, counts = np.unique(sizes[sizes > 1], return_counts=True)
    fig, ax = plt.subplots(figsize=(5, 2.8))
    ax.bar([str(v) for v in values], counts, color="#4a7ab7")
    ax.set_xlabel("group size (images)")
    ax.set_ylabel("groups")
    ax.set_title("Group sizes")
    fig.tight_layout()
    return _png(fig)


def sensitivity(curve: Mapping[str, Sequence[float]], current: float) -> bytes:
    """Groups and grouped images against the edge threshold scale."""
    fig, ax = plt.subplots(figsize=(5.5, 3))
    ax.plot(curve["edge_scale"], curve["groups"], marker="o", ms=3, label="groups (2+)")
    ax.plot(curve["edge_scale"], curve["grouped_images"], marker="s", ms=3, label="grouped images")
    ax.axvline(current, color="#d2691e", linestyle="--", label=f"edge_scale = {current}")
    ax.set_xlabel("matching.edge_scale (connected components)")
    ax.set_title("Threshold sensitivity")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _png(fig)


def kmedoids(curve: Mapping[str, Sequence[float]], chosen: int) -> bytes:
    """The k-medoids scan: inertia (the elbow) and silhouette against k, chosen k marked."""
    fig, left = plt.subplots(figsize=(5.5, 3))
    if len(curve["k"]):
        left.plot(curve["k"], curve["inertia"], marker="o", ms=3, color="#4a7ab7")
        right = left.twinx()
        right.plot(curve["k"], curve["silhouette"], marker="s", ms=3, color="#2e8b57")
        right.set_ylabel("silhouette", color="#2e8b57")
    left.axvline(chosen, color="#d2691e", linestyle="--", label=f"k = {chosen}")
    left.set_xlabel("k (representatives)")
    left.set_ylabel("inertia (sum of cosine distances)", color="#4a7ab7")
    left.set_title("k-medoids on the embeddings")
    left.legend(fontsize=7, loc="upper center")
    fig.tight_layout()
    return _png(fig)


#: The edge scales of the sensitivity curve (the threshold scaled from 0.05 to 1.5).
SCALES = tuple(round(0.05 * k, 2) for k in range(1, 31))


def threshold_lines(
    caps: Mapping[str, float], settings: Matching
) -> dict[str, list[tuple[float, str]]]:
    """The lines each metric's histogram draws: its cap, the rule's edge cap on its edge
    metrics, and its hash_max on a hash."""
    lines = {m: [(cap, f"cap {cap}")] for m, cap in caps.items()}
    for m in settings.edge_metrics:
        lines.setdefault(m, []).append((settings.edge_cap, f"edge_cap {settings.edge_cap}"))
    for m, limit in settings.hash_max.items():
        if limit is not None:
            lines.setdefault(m, []).append((limit, f"hash_max {limit}"))
    return lines


class Figures(NamedTuple):
    """What the plots rule writes (PNG bytes, and the sensitivity curve's table)."""

    distances: bytes
    sizes: bytes
    sensitivity: bytes
    curve: pd.DataFrame


def of_run(
    shards: Iterable[pairs.Shard],
    images: int,
    edge_pixels: npt.ArrayLike,
    image_of: npt.ArrayLike,
    group_sizes_found: npt.ArrayLike,
    caps: Mapping[str, float],
    metric_max: Mapping[str, float],
    settings: Matching,
) -> Figures:
    """A run's plots from its stored pairs (pairs.stream, one shard at a time: histogram
    counts and components per scale, never every pair at once), its frames' edge pixels and
    image numbers, and the size of each of its groups: the distance histograms (each
    metric from 0 to half again its cap, or to its largest value without one), the group
    sizes, and how many groups each edge scale would give."""
    histograms = Histograms(
        {m: 1.5 * caps[m] if m in caps else largest for m, largest in metric_max.items()}
    )
    curve = grouping.Sensitivity(images, edge_pixels, SCALES, settings.edge_cap, image_of)
    for shard in shards:
        histograms.add(shard.distances)
        curve.add(shard.a, shard.b, matching.edge_distance(shard.distances, settings.edge_metrics))
    found = curve.result()
    return Figures(
        distance_histograms(histograms, threshold_lines(caps, settings)),
        group_sizes(np.asarray(group_sizes_found)),
        sensitivity(found, settings.edge_scale),
        pd.DataFrame(found),
    )
