"""Deep image fingerprints (opt-in): ONNX inference, cosine distances, and the seeds'
grouping methods on the vectors.

Vectors are float arrays of shape (n, d), L2-normalised, so that the cosine similarity of
two images is their dot product and their *cosine distance* is ``1 - dot`` (0 for the same
direction, at most 2). onnxruntime is imported only when a model is run, so the default
pipeline never needs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from PIL import Image

from panelmatch import grouping

Vectors = npt.NDArray[np.float32]

#: Linkage methods accepted for the hierarchical clustering.
LINKAGES = ("average", "single", "complete")


def preprocess(
    rgb: npt.NDArray[np.uint8],
    size: tuple[int, int],
    mean: Sequence[float],
    std: Sequence[float],
) -> npt.NDArray[np.float32]:
    """An RGB array (h, w, 3) as a model input (3, height, width): resized (bilinear) to
    `size` = (width, height), scaled to 0..1, then ``(x - mean) / std`` per channel."""
    if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
        raise ValueError(f"mean and std need 3 values each, std > 0; got {mean}, {std}")
    img = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    x = np.asarray(img.resize(size, Image.Resampling.BILINEAR), dtype=np.float32) / 255.0
    x = (x - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def normalise(vectors: npt.ArrayLike) -> Vectors:
    """Rows scaled to unit length (an all-zero row stays zero)."""
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim != 2:
        raise ValueError(f"vectors must have shape (n, d), got {v.shape}")
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    return np.divide(v, norm, out=np.zeros_like(v), where=norm > 0)


#: The input size used when neither the configuration nor the model fixes one.
DEFAULT_SIZE = (224, 224)


def input_size(
    fixed: tuple[int, int] | None, width: int | None, height: int | None
) -> tuple[int, int]:
    """The (width, height) frames are resized to: the configured ``embeddings.width`` and
    ``height`` when set, else the size the model's input is `fixed` at, else
    DEFAULT_SIZE. Raises ValueError naming both keys when a setting contradicts the
    model's fixed size (onnxruntime would refuse every batch)."""
    if fixed is not None:
        for key, value, want in (("width", width, fixed[0]), ("height", height, fixed[1])):
            if value is not None and value != want:
                raise ValueError(
                    f"embeddings.{key} is {value} but the model's input is fixed at"
                    f" {fixed[0]}x{fixed[1]} (width x height): set embeddings.width and"
                    " embeddings.height to that size, or leave them null"
                )
        return fixed
    return (width or DEFAULT_SIZE[0], height or DEFAULT_SIZE[1])


class Model:
    """An ONNX image model run with onnxruntime (CPU, or the first available GPU provider).

    `output` names the output to take (default: the first); it is flattened per image.
    The model's first input must take a float32 batch of shape (n, 3, height, width).
    `threads` bounds onnxruntime's threads (0: its default, all cores).
    """

    def __init__(
        self,
        path: str,
        output: str | None = None,
        providers: Sequence[str] = (),
        threads: int = 0,
    ):
        import onnxruntime as ort

        available = ort.get_available_providers()
        if providers:
            missing = [p for p in providers if p not in available]
            if missing:
                raise ValueError(f"onnxruntime providers {missing} are not available: {available}")
            chosen = list(providers)
        else:
            gpu = [p for p in ("CUDAExecutionProvider", "ROCMExecutionProvider") if p in available]
            chosen = gpu[:1] + ["CPUExecutionProvider"]
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = max(0, int(threads))  # 0: onnxruntime's default
        try:
            self.session = ort.InferenceSession(str(path), options, providers=chosen)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ValueError(f"{path}: cannot load the ONNX model: {exc}") from exc
        self.providers = self.session.get_providers()
        self.input = self.session.get_inputs()[0].name
        outputs = [o.name for o in self.session.get_outputs()]
        if output is not None and output not in outputs:
            raise ValueError(f"{path}: the model has no output {output!r}; it has {outputs}")
        self.output = output or outputs[0]

    def input_size(self) -> tuple[int, int] | None:
        """The (width, height) the model's first input is fixed at, or None when either is
        free (a symbolic or missing dimension)."""
        shape = self.session.get_inputs()[0].shape
        if len(shape) != 4 or not all(isinstance(d, int) and d > 0 for d in shape[2:]):
            return None
        return int(shape[3]), int(shape[2])

    def __call__(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        (out,) = self.session.run([self.output], {self.input: batch})
        return np.asarray(out, dtype=np.float32).reshape(len(batch), -1)


def embed(model, inputs: Iterable[npt.NDArray[np.float32]], batch_size: int) -> Vectors:
    """L2-normalised vectors of preprocessed inputs, run through `model` in batches."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    out, batch = [], []
    for x in inputs:
        batch.append(x)
        if len(batch) == batch_size:
            out.append(model(np.stack(batch)))
            batch = []
    if batch:
        out.append(model(np.stack(batch)))
    if not out:
        return np.zeros((0, 0), dtype=np.float32)
    return normalise(np.concatenate(out))


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


def hierarchical(
    vectors: Vectors,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    distance: npt.ArrayLike,
    similarity: float,
    linkage: str = "average",
    max_component: int = 20_000,
) -> npt.NDArray[np.int32]:
    """Hierarchical clustering of the vectors cut at cosine similarity `similarity`.

    Groups are the flat groups whose merge distance (cosine distance, under `linkage`)
    is at most ``1 - similarity``. Only the stored pairs (a[k], b[k]) with their cosine
    `distance` are needed, not the N x N matrix: single, average and complete linkage
    never merge two groups that no pair within the cut joins, so the clustering is run
    separately on each connected component of the pairs within the cut (exactly, with all
    distances inside the component). The stored pairs must hold every pair within the
    cut (a cosine cap of at least ``1 - similarity``).
    """
    from scipy.cluster import hierarchy
    from scipy.spatial.distance import pdist

    if linkage not in LINKAGES:
        raise ValueError(f"linkage must be one of {LINKAGES}, got {linkage!r}")
    if not 0 <= similarity <= 1:
        raise ValueError(f"similarity must be in 0..1, got {similarity}")
    v = np.asarray(vectors, dtype=np.float64)
    n = len(v)
    cut = 1.0 - similarity
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    near = np.asarray(distance, dtype=np.float64) <= cut
    component = grouping.components(n, a[near], b[near])
    labels = np.full(n, -1, dtype=np.int64)
    next_label = 0
    for members in grouping.members(component):
        if len(members) == 1:
            labels[members[0]] = next_label
            next_label += 1
            continue
        if len(members) > max_component:
            raise ValueError(
                f"a connected component of {len(members)} images is over {max_component}: "
                "raise embeddings.similarity"
            )
        d = np.clip(pdist(v[members], "cosine"), 0, None)
        flat = hierarchy.fcluster(hierarchy.linkage(d, linkage), t=cut, criterion="distance")
        labels[members] = flat - 1 + next_label
        next_label += int(flat.max())
    return grouping.number(labels)


class Duplicates(NamedTuple):
    keep: npt.NDArray[np.bool_]
    duplicate_of: npt.NDArray[np.int64]  # -1 for a kept image
    distance: npt.NDArray[np.float32]  # to the image it duplicates (nan when kept)


def duplicates(
    n: int, a: npt.ArrayLike, b: npt.ArrayLike, distance: npt.ArrayLike, similarity: float
) -> Duplicates:
    """De-duplication at a cosine similarity: images are taken in order (0..n-1); an image
    whose similarity to an already kept image is at least `similarity` is a duplicate of
    the most similar such image (ties: the earlier); otherwise it is kept."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    d = np.asarray(distance, dtype=np.float64)
    close = d <= 1.0 - similarity
    lo, hi, dd = np.minimum(a, b)[close], np.maximum(a, b)[close], d[close]
    order = np.lexsort((lo, dd, hi))
    keep = np.ones(n, dtype=bool)
    of = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan, dtype=np.float32)
    for k in order.tolist():
        later, earlier = int(hi[k]), int(lo[k])
        if of[later] < 0 and keep[earlier]:
            keep[later] = False
            of[later] = earlier
            dist[later] = dd[k]
    return Duplicates(keep, of, dist)


def _nearest(vectors: Vectors, centres: Vectors, block: int = 4096):
    best = np.empty(len(vectors), dtype=np.int64)
    dist = np.empty(len(vectors), dtype=np.float64)
    for start in range(0, len(vectors), block):
        d = 1.0 - vectors[start : start + block] @ centres.T
        best[start : start + block] = d.argmin(axis=1)
        dist[start : start + block] = d.min(axis=1)
    return best, np.clip(dist, 0, None)


class Medoids(NamedTuple):
    medoids: npt.NDArray[np.int64]  # image index of each medoid
    labels: npt.NDArray[np.int64]  # medoid number (0..k-1) of each image
    inertia: float  # sum of cosine distances to the own medoid


def kmedoids(
    vectors: Vectors, k: int, seed: int = 0, iterations: int = 30, sample: int = 2000
) -> Medoids:
    """k representatives (medoids) of the vectors under cosine distance.

    k-medoids++ initialisation (seeded), then alternating assignment and update: each
    medoid moves to the member with the smallest total distance to its cluster (among at
    most `sample` candidates drawn from a large cluster), until nothing changes.
    """
    v = np.asarray(vectors, dtype=np.float32)
    n = len(v)
    if not 1 <= k <= n:
        raise ValueError(f"k must be in 1..{n}, got {k}")
    rng = np.random.default_rng(seed)
    medoids = [int(rng.integers(n))]
    closest = np.clip(1.0 - v @ v[medoids[0]], 0, None)
    for _ in range(1, k):
        weights = closest**2
        total = weights.sum()
        pick = int(rng.choice(n, p=weights / total)) if total > 0 else int(rng.integers(n))
        medoids.append(pick)
        closest = np.minimum(closest, np.clip(1.0 - v @ v[pick], 0, None))
    medoids_arr = np.array(medoids, dtype=np.int64)
    for _ in range(iterations):
        labels, _ = _nearest(v, v[medoids_arr])
        updated = medoids_arr.copy()
        for c in range(k):
            members = np.nonzero(labels == c)[0]
            if not len(members):
                continue
            candidates = members
            if len(members) > sample:
                candidates = np.sort(rng.choice(members, sample, replace=False))
            cost = (1.0 - v[candidates] @ v[members].T).sum(axis=1)
            updated[c] = candidates[int(np.argmin(cost))]
        if (updated == medoids_arr).all():
            break
        medoids_arr = updated
    labels, dist = _nearest(v, v[medoids_arr])
    return Medoids(medoids_arr, labels, float(dist.sum()))


def silhouette(vectors: Vectors, labels: npt.ArrayLike) -> float:
    """Mean silhouette coefficient under cosine distance (0 when fewer than 2 groups)."""
    v = np.asarray(vectors, dtype=np.float64)
    labels = np.asarray(labels)
    kinds = np.unique(labels)
    if len(kinds) < 2 or len(kinds) >= len(v):
        return 0.0
    d = np.clip(1.0 - v @ v.T, 0, None)
    index = np.searchsorted(kinds, labels)
    onehot = np.zeros((len(v), len(kinds)))
    onehot[np.arange(len(v)), index] = 1.0
    counts = onehot.sum(axis=0)
    sums = d @ onehot  # (n, groups): total distance to each cluster
    own = counts[index]
    a = sums[np.arange(len(v)), index] / np.maximum(own - 1, 1)
    means = sums / counts
    means[np.arange(len(v)), index] = np.inf
    b = means.min(axis=1)
    top = np.maximum(a, b)
    scores = np.where((own > 1) & (top > 0), (b - a) / np.where(top > 0, top, 1), 0.0)
    return float(scores.mean())


class Scan(NamedTuple):
    ks: list[int]
    inertia: list[float]
    silhouette: list[float]
    chosen: int


def choose_k(vectors: Vectors, ks: Sequence[int], seed: int = 0, sample: int = 2000) -> Scan:
    """k-medoids for every k in `ks`: inertia (the elbow plot) and the silhouette (on at most
    `sample` images, seeded); the chosen k has the largest silhouette (ties: smaller k)."""
    v = np.asarray(vectors, dtype=np.float32)
    ks = sorted({int(k) for k in ks if 2 <= k <= len(v)})
    if not ks:
        raise ValueError(f"no k to try: need 2 <= k <= {len(v)}")
    rng = np.random.default_rng(seed)
    subset = np.sort(rng.choice(len(v), min(sample, len(v)), replace=False))
    inertia, sil = [], []
    for k in ks:
        result = kmedoids(v, k, seed)
        inertia.append(result.inertia)
        sil.append(silhouette(v[subset], result.labels[subset]))
    best = max(range(len(ks)), key=lambda t: (round(sil[t], 9), -ks[t]))
    return Scan(ks, inertia, sil, ks[best])
