"""Rule thumbnails: a small WebP of each frame of a chunk, for the gallery."""

import pandas as pd
from panelmatch import frames, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
size = snakemake.params.size
rows = []
progress = logs.Progress(log, "thumbnails", len(tables.frame_images(snakemake.input.frames)))
for image, rgb in tables.iter_frames(snakemake.input.frames):
    webp, w, h = frames.thumbnail(rgb, size)
    rows.append({"image": image, "width": w, "height": h, "webp": webp})
    progress.step()
tables.write(pd.DataFrame(rows, columns=tables.THUMBS.names), snakemake.output[0], tables.THUMBS)
