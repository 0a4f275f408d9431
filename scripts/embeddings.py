"""Rule embeddings: each frame through the configured ONNX model, L2-normalised vectors."""

from panelmatch import embeddings, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
p = snakemake.params
images = tables.frame_images(snakemake.input.frames)
model = embeddings.Model(
    snakemake.input.model, p.output or None, list(p.providers), snakemake.threads
)
progress = logs.Progress(log, "embeddings", len(images))


def inputs():
    for _image, rgb in tables.iter_frames(snakemake.input.frames):
        yield embeddings.preprocess(rgb, (p.width, p.height), p.mean, p.std)
        progress.step()


vectors = embeddings.embed(model, inputs(), p.batch_size)
tables.write_vectors(images, vectors.astype(p.dtype), snakemake.output[0])
log.info(
    "%d vectors of %d values (%s) from %s, output %r, providers %s",
    len(images),
    vectors.shape[1] if vectors.ndim == 2 else 0,
    p.dtype,
    snakemake.input.model,
    model.output,
    model.providers,
)
