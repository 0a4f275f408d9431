"""Deep image fingerprints (opt-in): ONNX inference of one vector per frame.

Vectors are float arrays of shape (n, d), L2-normalised, so that the cosine similarity of
two images is their dot product and their *cosine distance* is ``1 - dot`` (0 for the same
direction, at most 2). onnxruntime is imported only when a model is run, so the default
pipeline never needs it. Their distances are in :mod:`panelmatch.cosine`, the groups
made from them in :mod:`panelmatch.embedding_groups`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
from PIL import Image

Vectors = npt.NDArray[np.float32]


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
        threads: int | None = None,
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
        options.intra_op_num_threads = max(0, int(threads or 0))  # 0: onnxruntime's own
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
