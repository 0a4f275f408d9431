"""Rule thumbnails: a small WebP of each kept frame of a chunk, for the gallery."""

import pandas as pd
from panelmatch import frames, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
p = snakemake.params
kept = tables.read(snakemake.input.edges, ["image", "frame"])
manifest = tables.read(snakemake.input.manifest, ["image", "path"])
paths = dict(zip(manifest["image"], manifest["path"], strict=True))
rows = []
progress = logs.Progress(log, "thumbnails", len(kept))
for image, frame, rgb in frames.stored_frames(kept, paths, p.frames):
    webp, w, h = frames.thumbnail(rgb, p.size)
    rows.append({"image": image, "frame": frame, "width": w, "height": h, "webp": webp})
    progress.step()
tables.write(pd.DataFrame(rows, columns=tables.THUMBS.names), snakemake.output[0], tables.THUMBS)
