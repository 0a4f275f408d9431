"""Rule edges: resize each frame, then Canny; store bit-packed edge maps and the
black-and-white images of the same resized frames."""

import numpy as np
import pandas as pd
from panelmatch import bits, edges, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
p = snakemake.params
images = tables.frame_images(snakemake.input.frames)
maps = np.zeros((len(images), p.height, p.width), dtype=bool)
black = np.zeros_like(maps)
progress = logs.Progress(log, "edges", len(images))
for k, (_image, rgb) in enumerate(tables.iter_frames(snakemake.input.frames)):
    small = edges.resize(rgb, (p.width, p.height), p.resample)
    maps[k] = edges.canny(small, p.canny_low, p.canny_high, p.channels)
    black[k] = edges.black_and_white(small, p.bw_threshold)
    progress.step()
codes = bits.pack(maps)
out = pd.DataFrame(
    {
        "image": images,
        "edge_pixels": bits.popcount(codes),
        "edges": bits.to_bytes(codes),
        "bw": bits.to_bytes(bits.pack(black)),
    }
)
tables.write(out, snakemake.output[0], tables.EDGES)
log.info("%d edge maps and black-and-white images of %dx%d", len(out), p.width, p.height)
