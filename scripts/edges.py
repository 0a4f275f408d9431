"""Rule edges: resize each frame, then Canny; store bit-packed edge maps."""

import numpy as np
import pandas as pd
from panelmatch import bits, edges, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
p = snakemake.params
frames = tables.read(snakemake.input.frames)
maps = np.zeros((len(frames), p.height, p.width), dtype=bool)
progress = logs.Progress(log, "edges", len(frames))
for k, row in enumerate(frames.itertuples(index=False)):
    rgb = np.frombuffer(row.pixels, dtype=np.uint8).reshape(row.height, row.width, 3)
    maps[k] = edges.edge_map(
        rgb, (p.width, p.height), p.resample, p.canny_low, p.canny_high, p.channels
    )
    progress.step()
codes = bits.pack(maps)
out = pd.DataFrame(
    {"image": frames["image"], "edge_pixels": bits.popcount(codes), "edges": bits.to_bytes(codes)}
)
tables.write(out, snakemake.output[0], tables.EDGES)
log.info("%d edge maps of %dx%d", len(out), p.width, p.height)
