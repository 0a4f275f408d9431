"""Rule embeddings: each kept frame through the configured ONNX model, L2-normalised vectors.

Inputs: the chunk's manifest and frame features (its list of kept frames), the model.
Output: results/embeddings/{chunk}.parquet (tables.write_vectors)."""

from panelmatch import embeddings, frames, logs, tables
from panelmatch.settings import FrameSelection

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
params = snakemake.params
kept, paths = tables.kept_frames(snakemake.input.frame_features, snakemake.input.manifest)
model = embeddings.Model(
    snakemake.input.model, params.output or None, list(params.providers), snakemake.threads
)
progress = logs.Progress(log, "embeddings", len(kept))


def inputs():
    for _image, _frame, rgb in frames.stored_frames(kept, paths, FrameSelection.of(params.frames)):
        yield embeddings.preprocess(rgb, (params.width, params.height), params.mean, params.std)
        progress.step()


vectors = embeddings.embed(model, inputs(), params.batch_size)
tables.write_vectors(kept["image"], vectors.astype(params.dtype), snakemake.output[0])
log.info(
    "%d vectors of %d values (%s) from %s, output %r, providers %s",
    len(kept),
    vectors.shape[1] if vectors.ndim == 2 else 0,
    params.dtype,
    snakemake.input.model,
    model.output,
    model.providers,
)
