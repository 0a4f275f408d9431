"""Rule thumbnails: a small WebP of each frame of a chunk, for the gallery."""

import numpy as np
import pandas as pd
from panelmatch import frames, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
size = snakemake.params.size
rows = []
table = tables.read(snakemake.input.frames)
progress = logs.Progress(log, "thumbnails", len(table))
for row in table.itertuples(index=False):
    rgb = np.frombuffer(row.pixels, dtype=np.uint8).reshape(row.height, row.width, 3)
    webp, w, h = frames.thumbnail(rgb, size)
    rows.append({"image": row.image, "width": w, "height": h, "webp": webp})
    progress.step()
tables.write(pd.DataFrame(rows, columns=tables.THUMBS.names), snakemake.output[0], tables.THUMBS)
