"""Rule embeddings: each kept frame through the configured ONNX model, L2-normalised vectors."""

from panelmatch import embeddings, frames, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
p = snakemake.params
kept, paths = tables.kept_frames(snakemake.input.edges, snakemake.input.manifest)
model = embeddings.Model(
    snakemake.input.model, p.output or None, list(p.providers), snakemake.threads
)
progress = logs.Progress(log, "embeddings", len(kept))


def inputs():
    for _image, _frame, rgb in frames.stored_frames(kept, paths, p.frames):
        yield embeddings.preprocess(rgb, (p.width, p.height), p.mean, p.std)
        progress.step()


vectors = embeddings.embed(model, inputs(), p.batch_size)
tables.write_vectors(kept["image"], vectors.astype(p.dtype), snakemake.output[0])
log.info(
    "%d vectors of %d values (%s) from %s, output %r, providers %s",
    len(kept),
    vectors.shape[1] if vectors.ndim == 2 else 0,
    p.dtype,
    snakemake.input.model,
    model.output,
    model.providers,
)
