"""Rule frames: decode the first frame of each usable image of a chunk as RGB."""

import pandas as pd
from panelmatch import frames, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
background = frames.parse_colour(snakemake.params.background)
manifest = tables.read(snakemake.input.manifest)
usable = manifest[manifest["status"] == tables.OK]
done, failed = 0, []
progress = logs.Progress(log, "frames", len(usable))
with tables.frame_writer(snakemake.output.frames) as add:
    for row in usable.itertuples(index=False):
        try:
            with open(row.path, "rb") as fh:
                data = fh.read()
            rgb = frames.first_frame(data, background, snakemake.params.max_pixels)
        except (OSError, frames.FrameError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            failed.append(
                {"image": row.image, "path": row.path, "stage": "frames", "reason": reason}
            )
            log.warning("%s (%s): %s", row.image, row.path, reason)
        else:
            add(row.image, rgb)
            done += 1
        progress.step()
tables.write(
    pd.DataFrame(failed, columns=tables.FAILURES.names), snakemake.output.failures, tables.FAILURES
)
log.info("%d frames, %d failures", done, len(failed))
