"""Rule gallery: the static HTML gallery (callback chains, image pages, compare view,
search, failures, summary and plots).

Inputs: results/groups.parquet, pairs.parquet, neighbours.parquet, every chunk's
thumbnails, results/failures.csv, skipped.csv (folder runs), leakage.csv, summary.json and
the plots.
Output: results/gallery/ (index.html and the pages beside it; panelmatch.gallery.site_of).
"""

import gc
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from panelmatch import gallery, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
# a short-lived job that builds a million small objects and frees them at exit: Python's
# cycle collector found nothing to free and took about a tenth of its time
gc.disable()
log = logs.to_file(snakemake.log[0])
inp, params = snakemake.input, snakemake.params
out_dir = Path(snakemake.output[0])

failures = tables.read_csv(inp.failures)
built = gallery.site_of(
    tables.read(inp.groups),
    tables.read(inp.pairs),
    tables.read(inp.neighbours),
    tables.read_many(inp.thumbs, ["image", "frame", "width", "height"]),
    gallery_dir=str(out_dir),
    site_root=params.site_root,
    page_path=params.page_path,
    metrics=list(params.metrics),
    title=params.title,
    edge_metrics=list(params.edge_metrics),
    summary=json.loads(Path(inp.summary).read_text(encoding="utf-8")),
    plots=[(f"plots/{Path(f).name}", c) for f, c in zip(inp.plots, params.captions, strict=True)],
    leakage=tables.read_csv(inp.leakage).to_dict("records"),
    failures=failures.to_dict("records"),
    skipped=tables.read_csv(
        inp.skipped[0] if inp.skipped else None, tables.SKIPPED_COLUMNS
    ).to_dict("records"),
    order=params.order,
    groups_per_page=params.groups_per_page,
)


def write_thumbs(folder):
    """Every thumbnail into `folder`, one chunk's thumbnails in memory at a time."""
    folder.mkdir()
    for chunk in inp.thumbs:
        t = tables.read(chunk, ["image", "frame", "jpeg"])
        for image, frame, jpeg in zip(t["image"], t["frame"], t["jpeg"], strict=True):
            (folder / f"{built.numbers[image]}-{frame}.jpg").write_bytes(jpeg)


with tables.staged_dir(out_dir) as stage:
    # thousands of small files are written by a second thread while the pages render:
    # creating them is system time, and the pages are Python
    with ThreadPoolExecutor(1) as pool:
        thumbs_written = pool.submit(write_thumbs, stage / "thumbs")
        pages = gallery.render(built.site, workers=snakemake.threads)
        (stage / "plots").mkdir()
        for path in inp.plots:
            shutil.copy(path, stage / "plots" / Path(path).name)
        for name, text in pages.items():
            (stage / name).write_text(text, encoding="utf-8")
        thumbs_written.result()

log.info(
    "gallery: %d groups, %d images, %d pages, %d failed inputs",
    len(built.site.groups),
    len(built.site.members),
    len(pages),
    len(failures),
)
