"""Rule gallery: the static HTML gallery (callback chains, image pages, compare view,
search, failures, summary and plots)."""

import gc
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
from panelmatch import gallery, logs, scrape, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
# a short-lived job that builds a million small objects and frees them at exit: Python's
# cycle collector found nothing to free and took about a tenth of its time
gc.disable()
log = logs.to_file(snakemake.log[0])
inp, p = snakemake.input, snakemake.params
out_dir = Path(snakemake.output[0])

table = tables.read(inp.groups)
pairs = tables.read(inp.pairs)
neigh = tables.read(inp.neighbours)
thumbs = tables.read_many(inp.thumbs, ["image", "frame", "width", "height"])
failures = pd.read_csv(inp.failures, dtype=str, keep_default_na=False)
skipped = (
    pd.read_csv(inp.skipped[0], dtype=str, keep_default_na=False)
    if inp.skipped
    else pd.DataFrame(columns=tables.SKIPPED_COLUMNS)
)
# plain dicts and lists from here: per-row pandas lookups cost seconds on 10,000 images
keys = zip(thumbs["image"], thumbs["frame"], strict=True)
size = dict(zip(keys, zip(thumbs["width"], thumbs["height"], strict=True), strict=True))
number = {image: k for k, image in enumerate(dict.fromkeys(thumbs["image"]))}
first_frame, kept = {}, {}
for image, frame in zip(thumbs["image"], thumbs["frame"], strict=True):
    first_frame.setdefault(image, int(frame))
    kept[image] = kept.get(image, 0) + 1
label = dict(zip(table["image"], table["group"], strict=True))
family = dict(zip(table["group"], table["family"], strict=False))
pairs["group"] = pairs["image_a"].map(label)
linking = {}  # group -> its linked pairs (both images in it), in pairs.parquet's order
for r in pairs[pairs["group"] == pairs["image_b"].map(label)].to_dict("records"):
    linking.setdefault(r["group"], []).append(r)
shown = {}
for joined in linking.values():
    shown.update(gallery.matching_frames(joined))


def story(page):
    """The story page of a site image, as a link from the gallery folder."""
    if pd.isna(page) or p.site_root is None:
        return None
    url = scrape.page_url(p.site_root, p.page_path, int(page))
    if scrape.is_web(p.site_root):
        return url
    local = os.path.join(p.site_root, url.removeprefix(scrape.MIRROR_ORIGIN).lstrip("/"))
    return os.path.relpath(local, out_dir)


members = []
in_group = {}  # group -> its images, in groups.parquet's order
gallery_dir = os.path.abspath(out_dir)
for row in table.to_dict("records"):
    image = row["image"]
    frame = shown.get(image, first_frame[image])
    width, height = size[(image, frame)]
    grouped = row["group_size"] > 1
    if grouped:
        in_group.setdefault(row["group"], []).append(image)
    members.append(
        gallery.Member(
            number=number[image],
            image=image,
            page=None if pd.isna(row["page"]) else int(row["page"]),
            link=story(row["page"]),
            original=os.path.relpath(os.path.abspath(row["path"]), gallery_dir),
            medoid=bool(row["medoid"]) and grouped,
            thumb=f"thumbs/{number[image]}-{frame}.jpg",
            width=int(width),
            height=int(height),
            frame=frame,
            frames=kept[image],
            group=int(row["group"]) if grouped else None,
        )
    )
members.sort(key=lambda m: m.number)
by_image = {m.image: m for m in members}
metrics = list(p.metrics)
groups = []
for group in sorted(in_group):
    joined = linking.get(group, [])
    ratio = sum(r["ratio"] for r in joined) / len(joined) if joined else 1.0
    g = gallery.Group(
        int(group),
        [by_image[i] for i in in_group[group]],
        joined,
        float(ratio),
        family=int(family[group]),
    )
    groups.append(gallery.chain(g, metrics))

# a linked neighbour says how the two are related as pairs.parquet does (with local
# features that also reads the verification, which neighbours.parquet does not hold)
said = {
    frozenset(two): found
    for two, found in zip(
        zip(pairs["image_a"], pairs["image_b"], strict=True), pairs["relation"], strict=True
    )
}
nearest = {}
for r in neigh.to_dict("records"):  # in rank order per image
    if r["linked"] and (found := said.get(frozenset((r["image"], r["neighbour"])))):
        r["relation"] = found
    nearest.setdefault(r["image"], []).append(r)
site = gallery.Site(
    title=p.title,
    members=members,
    groups=groups,
    neighbours=nearest,
    metrics=metrics,
    edge_metrics=list(p.edge_metrics),
    summary=Path(inp.summary).read_text(encoding="utf-8"),
    plots=[(f"plots/{Path(f).name}", c) for f, c in zip(inp.plots, p.captions, strict=True)],
    leakage=pd.read_csv(inp.leakage, dtype=str, keep_default_na=False).to_dict("records"),
    failures=failures.to_dict("records"),
    skipped=skipped.to_dict("records"),
    order=p.order,
    groups_per_page=p.groups_per_page,
)


def write_thumbs(folder):
    """Every thumbnail into `folder`, one chunk's thumbnails in memory at a time."""
    folder.mkdir()
    for chunk in inp.thumbs:
        t = tables.read(chunk, ["image", "frame", "jpeg"])
        for image, frame, jpeg in zip(t["image"], t["frame"], t["jpeg"], strict=True):
            (folder / f"{number[image]}-{frame}.jpg").write_bytes(jpeg)


with tables.staged_dir(out_dir) as stage:
    # thousands of small files are written by a second thread while the pages render:
    # creating them is system time, and the pages are Python
    with ThreadPoolExecutor(1) as pool:
        thumbs_written = pool.submit(write_thumbs, stage / "thumbs")
        pages = gallery.render(site, workers=snakemake.threads)
        (stage / "plots").mkdir()
        for path in inp.plots:
            shutil.copy(path, stage / "plots" / Path(path).name)
        for name, text in pages.items():
            (stage / name).write_text(text, encoding="utf-8")
        thumbs_written.result()

log.info(
    "gallery: %d groups, %d images, %d pages, %d failed inputs",
    len(groups),
    len(members),
    len(pages),
    len(failures),
)
