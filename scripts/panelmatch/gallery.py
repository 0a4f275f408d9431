"""The static gallery: HTML pages built from the run's tables, as strings.

Every text that comes from the input (file names, page URLs) is escaped. The pages need no
server, script, font or network: thumbnails and plots are files beside them, images load
lazily, and groups are split over pages of `groups_per_page` cards.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

#: Orders accepted for the group cards.
ORDERS = ("size", "tightness", "span")

CSS = """
body{font:15px/1.4 system-ui,sans-serif;margin:0;background:#f4f1ea;color:#222}
header,main,footer{max-width:1200px;margin:auto;padding:0 16px}
h1{font-size:24px;margin:16px 0 4px}nav{margin:8px 0}nav a{margin-right:10px}
.card{background:#fff;border:1px solid #ccc;border-radius:6px;margin:14px 0;padding:10px 14px}
.card h2{font-size:17px;margin:0 0 8px}.members{display:flex;flex-wrap:wrap;gap:10px}
figure{margin:0;text-align:center;font-size:13px}figure img{display:block;border:1px solid #999}
figure.medoid img{border:3px solid #d2691e}.medoid-mark{color:#d2691e;font-weight:bold}
table{border-collapse:collapse;font-size:13px;margin-top:8px}
td,th{border:1px solid #ddd;padding:2px 6px}
.plots img{max-width:100%;border:1px solid #ccc;background:#fff;margin:4px 0}
pre{background:#fff;border:1px solid #ccc;padding:8px;overflow-x:auto}
"""


def esc(value: object) -> str:
    """HTML-escaped text of a value; floats with one decimal."""
    if isinstance(value, float):
        value = f"{value:.1f}"
    return html.escape(str(value), quote=True)


@dataclass
class Member:
    number: int  # global image number: names its thumbnail and its page
    image: str
    page: int | None
    link: str | None  # source page URL, when the input was a site
    medoid: bool
    thumb: str  # path relative to the gallery folder
    width: int
    height: int
    frame: int = 0  # the frame shown (its index in the file)
    frames: int = 1  # frames kept of the image (frames.mode)


@dataclass
class Group:
    group: int
    members: list[Member]
    pairs: list[dict] = field(default_factory=list)  # image_a, image_b and distances
    tightness: float = 0.0  # mean edge distance / threshold of its pairs (lower is tighter)

    @property
    def span(self) -> int:
        pages = [m.page for m in self.members if m.page is not None]
        return max(pages) - min(pages) if pages else 0


def order_groups(groups: Sequence[Group], how: str) -> list[Group]:
    """Cards in display order: largest, tightest, or widest page span first."""
    if how not in ORDERS:
        raise ValueError(f"gallery.order must be one of {list(ORDERS)}, got {how!r}")
    keys = {
        "size": lambda g: (-len(g.members), g.group),
        "tightness": lambda g: (g.tightness, -len(g.members), g.group),
        "span": lambda g: (-g.span, -len(g.members), g.group),
    }
    return sorted(groups, key=keys[how])


def matching_frames(pairs: Sequence[dict]) -> dict[str, int]:
    """The frame to show of each image of a group: its frame in the group's strongest link
    that involves it (smallest ratio; pairs hold image_a, frame_a, image_b, frame_b, ratio)."""
    shown: dict[str, int] = {}
    for r in sorted(pairs, key=lambda r: r["ratio"]):
        shown.setdefault(r["image_a"], int(r["frame_a"]))
        shown.setdefault(r["image_b"], int(r["frame_b"]))
    return shown


def page_name(k: int) -> str:
    return "index.html" if k == 0 else f"page-{k + 1}.html"


def _doc(title: str, body: str, depth: int = 0) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)}</title>"
        f"<style>{CSS}</style></head><body>{body}</body></html>\n"
    )


def _figure(m: Member, prefix: str = "") -> str:
    cls = ' class="medoid"' if m.medoid else ""
    mark = (
        ' <span class="medoid-mark" title="medoid: the most central member">★ medoid</span>'
        if m.medoid
        else ""
    )
    page = (
        f' · <a href="{esc(m.link)}">page {m.page}</a>'
        if m.link
        else (f" · page {m.page}" if m.page is not None else "")
    )
    frame = f" · frame {m.frame}" if m.frames > 1 or m.frame else ""
    return (
        f'<figure{cls}><a href="{prefix}image/{m.number}.html">'
        f'<img src="{prefix}{esc(m.thumb)}" width="{m.width}" height="{m.height}"'
        f' loading="lazy" alt="{esc(m.image)}"></a>'
        f"<figcaption>{esc(m.image)}{frame}{page}{mark}</figcaption></figure>"
    )


def _distance_table(rows: Sequence[dict], metrics: Sequence[str], first: Sequence[str]) -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in list(first) + list(metrics))
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(r[c])}</td>" for c in list(first) + list(metrics)) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def card(g: Group, metrics: Sequence[str]) -> str:
    pages = [m.page for m in g.members if m.page is not None]
    where = f" · pages {min(pages)}–{max(pages)}" if pages else ""
    joined = (
        f"<details><summary>{len(g.pairs)} linking pair(s) and their distances</summary>"
        + _distance_table(
            g.pairs,
            list(metrics) + ["edge_threshold", "ratio"],
            ["image_a", "frame_a", "image_b", "frame_b"],
        )
        + "</details>"
        if g.pairs
        else ""
    )
    return (
        f'<section class="card" id="group-{g.group}">'
        f"<h2>Group {g.group} · {len(g.members)} images{where}</h2>"
        f'<div class="members">{"".join(_figure(m) for m in g.members)}</div>{joined}</section>'
    )


def index_pages(
    groups: Sequence[Group],
    metrics: Sequence[str],
    per_page: int,
    title: str,
    summary: str,
    plots: Sequence[tuple[str, str]],
    leakage: Sequence[dict],
) -> dict[str, str]:
    """All gallery pages (file name -> HTML): the cards, `per_page` to a page, groups that
    span folds at the top of the first, and an overview page with the summary and plots."""
    if per_page < 1:
        raise ValueError(f"groups_per_page must be >= 1, got {per_page}")
    chunks = [groups[i : i + per_page] for i in range(0, len(groups), per_page)] or [[]]
    links = "".join(f'<a href="{page_name(k)}">{k + 1}</a>' for k in range(len(chunks)))
    nav = f'<nav>Groups: {links} · <a href="overview.html">Summary and plots</a></nav>'
    out = {}
    for k, chunk in enumerate(chunks):
        parts = [
            f"<header><h1>{esc(title)}</h1><p>{len(groups)} groups of reused art, page"
            f" {k + 1} of {len(chunks)}. The medoid (most central member) of each group is"
            " framed; click a panel for its nearest neighbours.</p>"
            f"{nav}</header><main>"
        ]
        if k == 0 and leakage:
            parts.append(
                f'<h2 id="leakage">Groups spanning folds ({len(leakage)})</h2>'
                + _distance_table(leakage, [], ["group", "folds", "images"])
            )
        if not chunk:
            parts.append("<p>No group: no two images matched under the thresholds.</p>")
        parts.append("".join(card(g, metrics) for g in chunk))
        parts.append(f"</main><footer>{nav}</footer>")
        out[page_name(k)] = _doc(f"{title} ({k + 1}/{len(chunks)})", "".join(parts))
    figures = "".join(
        f'<figure><img src="{esc(src)}" alt="{esc(cap)}"><figcaption>{esc(cap)}</figcaption>'
        "</figure>"
        for src, cap in plots
    )
    out["overview.html"] = _doc(
        f"{title}: summary and plots",
        f"<header><h1>{esc(title)}: summary and plots</h1>{nav}</header><main>"
        f'<h2>Summary</h2><pre>{esc(summary)}</pre><h2>Plots</h2><div class="plots">{figures}'
        "</div></main>",
    )
    return out


def image_page(
    member: Member,
    group_size: int,
    group_page: str,
    group: int,
    rows: Sequence[dict],
    neighbours: Sequence[Member],
    metrics: Sequence[str],
) -> str:
    """One image's page: its thumbnail, its group, and its nearest images with distances."""
    table = "".join(
        f"<tr><td>{r['rank']}</td><td>{_figure(n, '../')}</td>"
        + "".join(f"<td>{esc(r[c])}</td>" for c in metrics)
        + f"<td>{esc(r['edge_threshold'])}</td><td>{'yes' if r['linked'] else 'no'}</td></tr>"
        for r, n in zip(rows, neighbours, strict=True)
    )
    head = "".join(
        f"<th>{esc(c)}</th>" for c in ["rank", "neighbour", *metrics, "edge threshold", "linked"]
    )
    group = (
        f'<a href="../{group_page}#group-{group}">group {group}</a> of {group_size}'
        if group_size > 1
        else "no group (matched nothing under the thresholds)"
    )
    body = (
        f"<header><h1>{esc(member.image)}</h1>"
        '<nav><a href="../index.html">Back to the gallery</a></nav></header><main>'
        f'<div class="members">{_figure(member, "../")}</div><p>In {group}.</p>'
        f"<h2>Nearest images</h2>"
        + (
            f"<table><tr>{head}</tr>{table}</table>"
            if rows
            else "<p>No stored pair: nothing was within the caps.</p>"
        )
        + "</main>"
    )
    return _doc(member.image, body)
