"""Rule hashes: perceptual hashes of each frame, bit-packed, one column per method."""

import numpy as np
import pandas as pd
from panelmatch import bits, hashes, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
methods, size = list(snakemake.params.methods), snakemake.params.hash_size
frames = tables.read(snakemake.input.frames)
rows = {m: [] for m in methods}
progress = logs.Progress(log, "hashes", len(frames))
for row in frames.itertuples(index=False):
    rgb = np.frombuffer(row.pixels, dtype=np.uint8).reshape(row.height, row.width, 3)
    for m, value in hashes.perceptual_hashes(rgb, methods, size).items():
        rows[m].append(value)
    progress.step()
out = pd.DataFrame({"image": frames["image"]})
for m in methods:
    matrix = np.array(rows[m], dtype=bool).reshape(len(frames), hashes.hash_bits(m, size))
    out[m] = bits.to_bytes(bits.pack(matrix))
tables.write(out, snakemake.output[0], tables.hashes_schema(methods))
log.info("%d images hashed with %s", len(out), methods)
