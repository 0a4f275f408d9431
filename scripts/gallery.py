"""Rule gallery: the static HTML gallery (cards of groups, per-image pages, plots)."""

import dataclasses
import os
import shutil
from pathlib import Path

import pandas as pd
from panelmatch import gallery, logs, scrape, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, p = snakemake.input, snakemake.params
out_dir = Path(snakemake.output[0])

table = tables.read(inp.groups)
pairs = tables.read(inp.pairs)
neigh = tables.read(inp.neighbours)
thumbs = tables.read_many(inp.thumbs)
# every kept frame has a thumbnail; an image shows the frame that matched in its group
thumb = {(r.image, r.frame): r for r in thumbs.itertuples(index=False)}
number = {image: k for k, image in enumerate(dict.fromkeys(thumbs["image"]))}
first_frame = thumbs.drop_duplicates("image").set_index("image")["frame"]
kept = thumbs.groupby("image", sort=False).size()
table["number"] = table["image"].map(number)
label = dict(zip(table["image"], table["group"], strict=True))
pairs["group"] = pairs["image_a"].map(label)
shown = {}
for _group, joined in pairs[pairs["group"] == pairs["image_b"].map(label)].groupby("group"):
    shown.update(gallery.matching_frames(joined.to_dict("records")))


def link(page):
    if pd.isna(page) or p.site_root is None:
        return None
    url = scrape.page_url(p.site_root, p.page_path, int(page))
    if scrape.is_web(p.site_root):
        return url
    local = os.path.join(p.site_root, url.removeprefix(scrape.MIRROR_ORIGIN).lstrip("/"))
    return os.path.relpath(local, out_dir)


with tables.staged_dir(out_dir) as stage:
    members = {}
    (stage / "thumbs").mkdir()
    for (image, frame), t in thumb.items():
        (stage / "thumbs" / f"{number[image]}-{frame}.webp").write_bytes(t.webp)

    def showing(member, frame):
        """`member` showing another of its frames."""
        t = thumb[(member.image, frame)]
        return dataclasses.replace(
            member,
            frame=frame,
            thumb=f"thumbs/{member.number}-{frame}.webp",
            width=int(t.width),
            height=int(t.height),
        )

    for row in table.itertuples(index=False):
        frame = shown.get(row.image, int(first_frame[row.image]))
        t = thumb[(row.image, frame)]
        members[row.image] = gallery.Member(
            number=int(row.number),
            image=row.image,
            page=None if pd.isna(row.page) else int(row.page),
            link=link(row.page),
            medoid=bool(row.medoid),
            thumb=f"thumbs/{row.number}-{frame}.webp",
            width=int(t.width),
            height=int(t.height),
            frame=frame,
            frames=int(kept[row.image]),
        )

    metrics = list(p.metrics)
    columns = ["image_a", "frame_a", "image_b", "frame_b", *metrics, "edge_threshold", "ratio"]
    groups = []
    for label_of, rows in table[table["group_size"] > 1].groupby("group", sort=True):
        joined = pairs[pairs["group"] == label_of]
        ratio = joined["ratio"].mean() if len(joined) else 1.0
        groups.append(
            gallery.Group(
                group=int(label_of),
                members=[members[i] for i in rows["image"]],
                pairs=joined[columns].to_dict("records"),
                tightness=float(ratio),
            )
        )
    groups = gallery.order_groups(groups, p.order)
    where = {g.group: gallery.page_name(k // p.groups_per_page) for k, g in enumerate(groups)}

    (stage / "plots").mkdir()
    plots = []
    for path, caption in zip(inp.plots, p.captions, strict=True):
        shutil.copy(path, stage / "plots" / Path(path).name)
        plots.append((f"plots/{Path(path).name}", caption))
    leak = pd.read_csv(inp.leakage, dtype=str, keep_default_na=False).to_dict("records")
    summary = Path(inp.summary).read_text(encoding="utf-8")
    for name, text in gallery.index_pages(
        groups, metrics, p.groups_per_page, p.title, summary, plots, leak
    ).items():
        (stage / name).write_text(text, encoding="utf-8")

    (stage / "image").mkdir()
    size = dict(zip(table["image"], table["group_size"], strict=True))
    by_image = {image: rows for image, rows in neigh.groupby("image", sort=False)}
    for image, member in members.items():
        rows = by_image.get(image, neigh.iloc[0:0]).to_dict("records")
        html = gallery.image_page(
            member,
            int(size[image]),
            where.get(label[image], "index.html"),
            int(label[image]),
            rows,
            # each neighbour by the frame that is nearest to this image
            [showing(members[r["neighbour"]], int(r["neighbour_frame"])) for r in rows],
            metrics,
        )
        (stage / "image" / f"{member.number}.html").write_text(html, encoding="utf-8")

log.info(
    "gallery: %d groups on %d page(s), %d image pages",
    len(groups),
    max(1, -(-len(groups) // p.groups_per_page)),
    len(members),
)
