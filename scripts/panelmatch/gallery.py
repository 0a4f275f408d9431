"""The static gallery: what a reader browses, built from the run's tables.

The pages are rendered from the Jinja2 templates beside this module (``templates/``) with
autoescaping, so every text taken from the input (file names, page URLs) is escaped. The
gallery needs no server, font or network: thumbnails are files beside the pages, the
originals are linked by relative paths, images load lazily, and long lists are split into
pages. Only two pages carry JavaScript, small and inline: the search (``find.html``) and
the compare view (``compare.html``); every other page is plain HTML.

- **Groups as callback chains**: each group's members in reading order (by page and
  position on the page for a site, by path for a folder). The first appearance is marked;
  each later member is a *callback*, shown with its strongest link to an earlier member, the
  page gap, and a sentence saying why the two belong together (:func:`why`).
- **Orders** (:data:`ORDERS`): by size, tightness, span of pages, earliest page, or kind of
  reuse (the group's most common reason).
- **Images**: every image, paginated, with its group, the original file, the story page
  and its nearest images; lists of the images in no group and of the failed inputs.
"""

from __future__ import annotations

import functools
import json
import math
import multiprocessing
import os
import re
import unicodedata
import urllib.parse
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import jinja2
import pandas as pd
from markupsafe import Markup, escape

from panelmatch import relation, scrape

#: Orders accepted for the group cards (gallery.order; each has its own pages).
ORDERS = ("size", "tightness", "span", "earliest", "reason")
#: Images per image page.
IMAGES_PER_PAGE = 200
#: The reasons, in the order of the "kind of reuse" sort (plain words, :func:`why`).
REASONS = (
    "identical",
    "the same drawing, mirrored",
    "the same line art, recoloured",
    "the same panel, with small changes such as new lettering",
    "the same drawing under new lettering",
    "the same chat log, re-lettered",
    "the same picture, shifted or cropped",
    "similar line art and picture",
    "similar by deep fingerprints",
    "similar line art, with heavier changes (new lettering, edits or a redraw)",
    "a close-up of part of the drawing",
    "the same drawing, cropped to part of it",
    "part of the drawing, reused",
    "the same picture, saved again (lossy compression)",
)

#: The plain words of the relations that need no further telling apart.
_WORDS = {
    "identical": REASONS[0],
    "mirrored": REASONS[1],
    "recolour": REASONS[2],
    "shifted": REASONS[6],
    "zoomed": REASONS[10],
    "cropped": REASONS[11],
    "partial": REASONS[12],
}

#: A thumbnail shorter than this on its longest side is drawn larger (Member.zoom).
SMALL_IMAGE = 128
#: Characters after which a group's shared name prefix may end (common_prefix).
NAME_BREAKS = "/_- "

#: The callback map's kinds of reuse, which colour its arcs (each reason belongs to one).
MAP_KINDS = (
    "identical",
    "recolour",
    "reletter",
    "shifted",
    "mirrored",
    "zoomed or cropped",
    "similar",
)
#: Their colours (Okabe and Ito's palette, told apart with colour-blindness).
MAP_COLOURS = ("#0072b2", "#e69f00", "#009e73", "#56b4e9", "#cc79a7", "#d55e00", "#7f7f7f")
#: The map's kind of each reason (REASONS, in order).
MAP_KIND_OF_REASON = (0, 4, 1, 2, 2, 2, 3, 6, 6, 6, 5, 5, 5, 0)
#: The callback map's stretches: callbacks per this many pages (or images of a folder), on
#: an axis of at least MAP_STRETCH * 10 positions; a tenth of it on a shorter one.
MAP_STRETCH = 100

_quote = functools.lru_cache(maxsize=65536)(urllib.parse.quote)

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


def number_text(value: object) -> str:
    """A distance for people: floats with one decimal."""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.1f}"
    return str(value)


_TEMPLATES.filters["num"] = number_text


def href(path: str) -> str:
    """A relative file path as a link's address: every character that means something in
    a URL (``#``, ``?``, ``%``, a tab, a backslash, a space...) percent-encoded, the
    folders' ``/`` kept."""
    return _quote(path, safe="/")


_TEMPLATES.filters["href"] = href
# one spelling of a name for display and search (a file named in NFD shows and is found as
# its NFC twin; both files stay entries of their own)
_TEMPLATES.filters["nfc"] = functools.partial(unicodedata.normalize, "NFC")


def natural_key(name: str) -> tuple:
    """A file name's place in natural, case-insensitive order: ``9.png`` before
    ``10.png``, ``lower.png`` and ``UPPER.PNG`` by their letters whatever the case (the
    name itself breaks ties)."""
    parts = re.split(r"(\d+)", name.casefold())
    return (tuple(int(p) if k % 2 else p for k, p in enumerate(parts)), name)


def numbers_table(numbers: Mapping) -> Markup:
    """A pair's distances in one escaped line, "edges 751 · phash 38 · ...", for the
    details toggle (built here, not in a template: it repeats for every link and
    neighbour)."""
    return Markup(" · ".join([_cell(k, v) for k, v in numbers.items()]))


@functools.lru_cache(maxsize=65536, typed=True)
def _cell(name: str, value: object) -> str:
    """One escaped "name value" of numbers_table: a gallery prints the few distinct ones
    tens of thousands of times (typed: 1 and 1.0 are shown differently)."""
    return f"{escape(name)} {escape(number_text(value))}"


def _relation_input(row: Mapping, metrics: Sequence[str]) -> dict:
    return {k: v for k, v in row.items() if k in metrics or k in ("link", "edge_threshold")}


def why(row: Mapping, metrics: Sequence[str], found: str | None = None) -> str:
    """Why a linked pair belongs together, in plain words (one of :data:`REASONS`): its
    ``relation`` (`found`, else the row's; derived here from its `metrics`, link and edge
    threshold when the row has none, as a neighbour's row), told apart further by its kind
    of link."""
    found = found or row.get("relation") or relation.of_row(_relation_input(row, metrics))
    kind = row.get("link") or "edge"
    if found == "identical" and (row.get("edges") or 0) > 0:
        return REASONS[13]  # the same picture, re-encoded
    if found == "reletter":
        return {"same_art": REASONS[4], "lines": REASONS[5]}.get(kind, REASONS[3])
    if found == "similar":
        return {"mixed": REASONS[7], "cosine": REASONS[8]}.get(kind, REASONS[9])
    return _WORDS.get(found, REASONS[9])


def not_linked(row: Mapping, edge_metrics: Sequence[str]) -> str:
    """Plain words for a neighbour that is not linked."""
    edge = min((row[m] for m in edge_metrics if m in row), default=None)
    threshold = row.get("edge_threshold") or 0
    if edge is None or not threshold:
        return "near, but not linked"
    return f"near, but not linked: its edge distance is {edge / threshold:.1f}× the threshold"


@dataclass
class Member:
    number: int  # global image number: names its thumbnail and its entry
    image: str
    page: int | None
    link: str | None  # the story page, when the input was a site
    original: str  # the original file, relative to the gallery folder
    medoid: bool  # the group's most typical member (its medoid; only inside a group)
    thumb: str  # path relative to the gallery folder
    width: int
    height: int
    frame: int = 0  # the frame shown (its index in the file)
    frames: int = 1  # frames kept of the image (frames.mode)
    group: int | None = None  # its group's number (from 1), None when in no group
    entry: str = ""  # its entry: image page and anchor
    role: str = ""  # "first appearance" or "callback" in a story, "first" or "also" in a folder
    gap: str = ""  # callback: where it calls back to ("p. 12 → p. 40, 28 pages later")
    # its name within its group: the part every member shares (shown faded), and the rest
    prefix: str = ""
    rest: str = ""

    @property
    def zoom(self) -> int:
        """How many times larger its thumbnail is drawn: a small image (a sprite) at least
        SMALL_IMAGE pixels on its longest side, by a whole factor, with crisp pixels."""
        return max(1, SMALL_IMAGE // max(self.width, self.height, 1))

    @property
    def order(self) -> tuple:
        """Reading order: by page and position on the page (site), else by path in
        natural, case-insensitive order (:func:`natural_key`)."""
        if self.page is not None:
            tail = self.image.rsplit("_", 1)[-1]
            return (0, self.page, int(tail) if tail.isdigit() else 0, ((), self.image))
        return (1, 0, 0, natural_key(self.image))


@dataclass
class Link:
    """A linked pair shown to a reader: from an earlier member to a later one."""

    earlier: Member
    later: Member
    reason: str
    gap: str
    compare: str  # the compare view's address (set by render)
    numbers: Markup  # the distances (numbers_table), for the details toggle


@dataclass
class Group:
    group: int
    members: list[Member]
    pairs: list[dict] = field(default_factory=list)  # its linked pairs and their distances
    tightness: float = 0.0  # mean ratio of its links (lower is tighter)
    links: list[Link] = field(default_factory=list)  # the chain: one per callback
    reason: str = ""  # the most common reason of its chain
    heading: str = ""  # what its links say: the most common reason, and the others counted
    family: int = 0  # its family (groups.parquet): groups sharing a template or background
    # the other groups of its family: (group number, its card's address), set by render
    related: list[tuple[int, str]] = field(default_factory=list)

    @property
    def span(self) -> int:
        pages = [m.page for m in self.members if m.page is not None]
        return max(pages) - min(pages) if pages else 0

    @property
    def earliest(self) -> int:
        pages = [m.page for m in self.members if m.page is not None]
        return min(pages) if pages else 0


def order_groups(groups: Sequence[Group], how: str) -> list[Group]:
    """Cards in display order: largest, tightest, widest page span, earliest page, or by
    kind of reuse first."""
    if how not in ORDERS:
        raise ValueError(f"gallery.order must be one of {list(ORDERS)}, got {how!r}")
    rank = {r: k for k, r in enumerate(REASONS)}
    keys = {
        "size": lambda g: (-len(g.members), g.group),
        "tightness": lambda g: (g.tightness, -len(g.members), g.group),
        "span": lambda g: (-g.span, -len(g.members), g.group),
        "earliest": lambda g: (g.earliest, g.group),
        "reason": lambda g: (rank.get(g.reason, len(rank)), -len(g.members), g.group),
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


def gap_text(earlier: Member, later: Member) -> str:
    """Where a callback calls back to, in words: pages in a story; in a folder, the two
    names without the part the group's names share."""
    if earlier.page is not None and later.page is not None:
        pages = later.page - earlier.page
        later_by = (
            "on the same page" if pages == 0 else f"{pages} page{'s' if pages != 1 else ''} later"
        )
        return f"p. {earlier.page} → p. {later.page}, {later_by}"
    return f"{earlier.rest or earlier.image} → {later.rest or later.image}"


def common_prefix(names: Sequence[str]) -> str:
    """The start every name shares, cut after its last folder or word break (NAME_BREAKS),
    and never the whole of a name: ``a/emoji_1f3fb.png`` and ``a/emoji_1f3fc.png`` share
    ``a/emoji_``."""
    if len(names) < 2:
        return ""
    shared = os.path.commonprefix(list(names))
    cut = max(shared.rfind(c) for c in NAME_BREAKS) + 1
    shared = shared[:cut]
    return "" if any(len(n) == len(shared) for n in names) else shared


def compare_href(a: Member, b: Member, reason: str, mirrored: bool) -> str:
    """The compare view's address for a pair (its parameters in the fragment)."""
    fields = (
        ("a", a.original),
        ("b", b.original),
        ("an", a.image),
        ("bn", b.image),
        ("ae", a.entry),
        ("be", b.entry),
        ("why", reason),
    )
    query = "&".join(f"{k}={_quote(v, safe='')}" for k, v in fields)
    return f"compare.html#{query}&m={int(mirrored)}"


def chain(group: Group, metrics: Sequence[str]) -> Group:
    """`group` with its members in reading order, their roles, and its chain of links:
    each later member joined to the earlier member of its strongest link."""
    group.members.sort(key=lambda m: m.order)
    story = all(m.page is not None for m in group.members)
    shared = common_prefix([m.image for m in group.members])
    for m in group.members:
        m.prefix, m.rest = shared, m.image[len(shared) :]
    position = {m.image: k for k, m in enumerate(group.members)}
    best: dict[str, dict] = {}
    for r in sorted(group.pairs, key=lambda r: r["ratio"]):
        a, b = r["image_a"], r["image_b"]
        later = a if position[a] > position[b] else b
        best.setdefault(later, r)
    by_name = {m.image: m for m in group.members}
    reasons = []
    for k, m in enumerate(group.members):
        if k == 0:
            m.role = "first appearance" if story else "first"
            continue
        m.role = "callback" if story else "also"
        r = best.get(m.image)
        if r is None:
            continue
        earlier = by_name[r["image_b"] if r["image_a"] == m.image else r["image_a"]]
        reason = why(r, metrics)
        reasons.append(reason)
        gap = gap_text(earlier, m)
        # in a story the card says where each callback calls back to; in a folder its
        # name is already on it, and the link below names both
        m.gap = gap if story else ""
        numbers = numbers_table(
            {c: r[c] for c in [*metrics, "edge_threshold", "ratio", "link"] if c in r}
        )
        group.links.append(
            # its compare address needs the members' entries, which render() assigns
            Link(earlier, m, reason, gap, "", numbers)
        )
    if reasons:
        group.reason = max(REASONS, key=lambda r: (reasons.count(r), -REASONS.index(r)))
        group.heading = heading_text(reasons)
    return group


def heading_text(reasons: Sequence[str]) -> str:
    """What a group's links say, for its heading: the most common reason, then the others
    with how many links give each ("the same line art, recoloured (3 of 4 links); also
    the same drawing, mirrored (1)")."""
    counts = {r: reasons.count(r) for r in REASONS if r in reasons}
    ordered = sorted(counts, key=lambda r: (-counts[r], REASONS.index(r)))
    if len(ordered) == 1:
        return ordered[0]
    first, *others = ordered
    also = ", ".join(f"{r} ({counts[r]})" for r in others)
    return f"{first} ({counts[first]} of {len(reasons)} links); also {also}"


def page_name(order: str, k: int, default: str = "size") -> str:
    """The file of page k (from 0) of the cards in `order`; index.html is the first page
    of the configured order."""
    if order == default:
        return "index.html" if k == 0 else f"page-{k + 1}.html"
    return f"{order}-{k + 1}.html"


def image_page(k: int) -> str:
    """The file of image page k (from 0)."""
    return f"images-{k + 1}.html"


def _pages(items: Sequence, per_page: int) -> list[Sequence]:
    return [items[i : i + per_page] for i in range(0, len(items), per_page)] or [[]]


@dataclass
class Site:
    """Everything the pages show (:func:`site_of` fills it from the run's tables)."""

    title: str
    members: list[Member]  # every processed image, by number
    groups: list[Group]  # every group of 2 or more, chained
    neighbours: dict[str, list[dict]]  # image -> its neighbour rows (rank order)
    metrics: list[str]
    edge_metrics: list[str]
    summary: list[dict]  # the summary's sections (results/summary.json: summary.as_json)
    plots: list[tuple[str, str]]  # (path, caption)
    leakage: list[dict]
    failures: list[dict]  # input, image, stage, reason
    order: str  # gallery.order
    groups_per_page: int  # gallery.groups_per_page
    skipped: list[dict] = field(default_factory=list)  # path, reason, detail


class _Near(NamedTuple):
    """A neighbour on an image page (a tuple: templates read its fields fast)."""

    member: Member
    thumb: str
    rank: int
    why: str
    compare: str
    numbers: Markup


class _Entry(NamedTuple):
    """An image's entry on an image page."""

    member: Member
    card: str | None
    near: list[_Near]


def render(site: Site, workers: int = 1) -> dict[str, str]:
    """Every page of the gallery: file name -> HTML. With `workers` of 2 or more, a forked
    process renders most of the image pages (the largest part of the work) while this one
    renders the rest; the pages are the same."""
    if site.groups_per_page < 1:
        raise ValueError(f"groups_per_page must be >= 1, got {site.groups_per_page}")
    if site.order not in ORDERS:
        raise ValueError(f"gallery.order must be one of {list(ORDERS)}, got {site.order!r}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    image_pages = _pages(site.members, IMAGES_PER_PAGE)
    for k, chunk in enumerate(image_pages):
        for m in chunk:
            m.entry = f"{image_page(k)}#i{m.number}"
    for g in site.groups:
        for link in g.links:
            reason = link.reason
            link.compare = compare_href(link.earlier, link.later, reason, reason == REASONS[1])
    ordered = {o: _pages(order_groups(site.groups, o), site.groups_per_page) for o in ORDERS}
    # where each card is in the configured order (the image pages link to it)
    card_of = {
        g.group: f"{page_name(site.order, k, site.order)}#g{g.group}"
        for k, chunk in enumerate(ordered[site.order])
        for g in chunk
    }
    # a family's groups point at each other: one template, background or pose, other
    # drawings (grouping.split_families)
    family_of: dict[int, list[Group]] = {}
    for g in site.groups:
        family_of.setdefault(g.family, []).append(g)
    for g in site.groups:
        g.related = [
            (o.group, card_of[o.group])
            for o in sorted(family_of[g.family], key=lambda o: o.group)
            if o is not g and g.family
        ]
    common = {
        "title": site.title,
        "orders": ORDERS,
        "order_page": {o: page_name(o, 0, site.order) for o in ORDERS},
        "first_images": image_page(0),
        "n_groups": len(site.groups),
        "n_failures": len(site.failures),
        "n_unmatched": sum(1 for m in site.members if m.group is None),
        "story": any(m.page is not None for m in site.members),
    }
    # the relations of the linked neighbours that have none, in one call (relation.of_rows)
    rows_of = site.neighbours.values()
    unlabelled = [r for rows in rows_of for r in rows if r["linked"] and not r.get("relation")]
    labels = relation.of_rows([_relation_input(r, site.metrics) for r in unlabelled])
    found = {id(r): x for r, x in zip(unlabelled, labels, strict=True)}
    images = _ImagePages(site, image_pages, card_of, common, found)
    # a share of the image pages for a forked process: it inherits everything above
    split = round(len(image_pages) * FORKED_SHARE) if workers > 1 and len(image_pages) > 1 else 0
    forked = None
    if split:
        global _FORKED
        _FORKED = images
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
        forked = pool.submit(_render_forked, range(split))
    try:
        out: dict[str, str] = {}
        # each card once (the orders share them)
        card_template = _TEMPLATES.get_template("card.html")
        cards = {g.group: Markup(card_template.render(g=g)) for g in site.groups}
        for order in ORDERS:
            pages = ordered[order]
            names = [page_name(order, k, site.order) for k in range(len(pages))]
            for k, chunk in enumerate(pages):
                out[names[k]] = _TEMPLATES.get_template("groups.html").render(
                    common,
                    order=order,
                    page=k,
                    pages=names,
                    groups=chunk,
                    cards=cards,
                    leakage=site.leakage if k == 0 and order == site.order else [],
                )
        mine = images.render(range(split, len(image_pages)))
        out |= forked.result() if forked else {}
        out |= mine
    finally:
        if forked:
            pool.shutdown()
            _FORKED = None
    unmatched = [m for m in site.members if m.group is None]
    out["unmatched.html"] = _TEMPLATES.get_template("unmatched.html").render(
        common, members=unmatched
    )
    out["failures.html"] = _TEMPLATES.get_template("failures.html").render(
        common, failures=site.failures, skipped=site.skipped
    )
    out["overview.html"] = _TEMPLATES.get_template("overview.html").render(
        common, summary=site.summary, plots=site.plots
    )
    out["find.html"] = _TEMPLATES.get_template("find.html").render(
        common, members=sorted(site.members, key=lambda m: m.order)
    )
    out["compare.html"] = _TEMPLATES.get_template("compare.html").render(common)
    data = callback_map(site, card_of)
    out["map-data.js"] = map_script(data)
    out["map.html"] = _TEMPLATES.get_template("map.html").render(
        common,
        kinds=list(zip(MAP_KINDS, MAP_COLOURS, strict=True)),
        stretch=data["stretch"],
    )
    return out


#: The share of the image pages a forked process renders (render with workers >= 2): the
#: image pages are about two thirds of the work, and this process renders the group pages.
FORKED_SHARE = 0.65


@dataclass
class _ImagePages:
    """What the image pages need, computed once by render (and inherited by a fork)."""

    site: Site
    pages: list[Sequence[Member]]
    card_of: dict[int, str]
    common: dict
    found: dict[int, str]  # id of a linked neighbour row -> its relation

    def render(self, ks: Sequence[int]) -> dict[str, str]:
        """The image pages numbered `ks` (from 0)."""
        site, out = self.site, {}
        by_image = {m.image: m for m in site.members}
        names = [image_page(j) for j in range(len(self.pages))]
        for k in ks:
            rows = []
            for m in self.pages[k]:
                near = []
                for r in site.neighbours.get(m.image, []):
                    other = by_image.get(r["neighbour"])
                    if other is None:
                        continue
                    words = (
                        why(r, site.metrics, self.found.get(id(r)))
                        if r["linked"]
                        else not_linked(r, site.edge_metrics)
                    )
                    mirrored = bool(r["linked"]) and words == REASONS[1]
                    numbers = numbers_table(
                        {c: r[c] for c in [*site.metrics, "edge_threshold", "link"] if c in r}
                    )
                    frame = int(r["neighbour_frame"])
                    near.append(
                        _Near(
                            member=other,
                            thumb=f"thumbs/{other.number}-{frame}.jpg",
                            rank=int(r["rank"]),
                            why=words,
                            compare=compare_href(m, other, words, mirrored),
                            numbers=numbers,
                        )
                    )
                rows.append(_Entry(member=m, card=self.card_of.get(m.group), near=near))
            out[names[k]] = _TEMPLATES.get_template("images.html").render(
                self.common, page=k, pages=names, rows=rows
            )
        return out


def callback_map(site: Site, card_of: Mapping[int, str]) -> dict:
    """The callback map's data (map.html draws it): every callback of every group as an
    arc from the member it calls back to (its chain link's earlier member) to the later
    use, on one axis of pages in reading order, or for a folder of the images in their
    natural order.

    Compact, for a first load under 2 MB at the comic's size: ``arcs`` is one flat list of
    six numbers per callback (earlier and later position on the axis, the reason's index
    in ``reasons``, the group's index in ``groups``, and the two members' indices in
    ``names``); ``kind_of_reason`` maps a reason to its kind (``kinds``, ``colours``).
    ``labels`` names each position of a folder's axis (site: the axis is page numbers)."""
    story = any(m.page is not None for m in site.members)
    if story:
        pages = [m.page for m in site.members if m.page is not None]
        low, high = min(pages), max(pages)
        place = {m.image: m.page for m in site.members if m.page is not None}
        labels: list[str] = []
    else:
        ordered = sorted(site.members, key=lambda m: m.order)
        place = {m.image: k for k, m in enumerate(ordered)}
        low, high = 0, max(len(ordered) - 1, 0)
        labels = [unicodedata.normalize("NFC", m.image) for m in ordered]
    names: dict[str, int] = {}
    groups, sizes, cards, arcs = [], [], [], []
    reason_index = {r: k for k, r in enumerate(REASONS)}
    for g in site.groups:
        if not g.links:
            continue
        groups.append(g.group)
        sizes.append(len(g.members))
        cards.append(card_of.get(g.group, ""))
        for link in g.links:
            if link.earlier.image not in place or link.later.image not in place:
                continue
            for m in (link.earlier, link.later):
                if m.image not in names:
                    names[m.image] = len(names)
            arcs += [
                place[link.earlier.image],
                place[link.later.image],
                reason_index.get(link.reason, 9),  # unknown: similar, with heavier changes
                len(groups) - 1,
                names[link.earlier.image],
                names[link.later.image],
            ]
    return {
        "axis": "pages" if story else "images",
        "low": low,
        "high": high,
        "stretch": MAP_STRETCH if high - low + 1 >= 10 * MAP_STRETCH else MAP_STRETCH // 10,
        "labels": labels,
        "kinds": list(MAP_KINDS),
        "colours": list(MAP_COLOURS),
        "reasons": list(REASONS),
        "kind_of_reason": list(MAP_KIND_OF_REASON),
        "groups": groups,
        "sizes": sizes,
        "cards": cards,
        "names": [unicodedata.normalize("NFC", n) for n in names],
        "arcs": arcs,
    }


def map_script(data: Mapping) -> str:
    """map-data.js: the map's data as a script (a page opened from disk cannot fetch a
    JSON file; it can load a script)."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    # names are data: the page sets them as text, and none of their characters reads as
    # markup even were the file shown or inlined
    for char in "<>&":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return f"window.PANELMATCH_MAP={text};\n"


#: The image pages a forked process renders (set by render just before it forks).
_FORKED: _ImagePages | None = None


def _render_forked(ks: Sequence[int]) -> dict[str, str]:
    if _FORKED is None:
        raise RuntimeError("gallery._render_forked runs only in the process render forks")
    return _FORKED.render(ks)


def story_link(
    page: object, site_root: str | None, page_path: str | None, gallery_dir: str
) -> str | None:
    """The story page of a site image (its `page` number) as a link from the gallery
    folder `gallery_dir`: the page's URL, or its file in an offline mirror; None in folder
    mode (no page, or no site)."""
    if page is None or (isinstance(page, float) and math.isnan(page)) or site_root is None:
        return None
    url = scrape.page_url(site_root, page_path, int(page))
    if scrape.is_web(site_root):
        return url
    local = os.path.join(site_root, url.removeprefix(scrape.MIRROR_ORIGIN).lstrip("/"))
    return os.path.relpath(local, gallery_dir)


class Built(NamedTuple):
    """A site built from a run's tables, and each image's number (its thumbnails are
    ``thumbs/{number}-{frame}.jpg``)."""

    site: Site
    numbers: dict[str, int]


def site_of(
    groups: pd.DataFrame,
    pairs: pd.DataFrame,
    neighbours: pd.DataFrame,
    thumbs: pd.DataFrame,
    *,
    gallery_dir: str,
    site_root: str | None,
    page_path: str | None,
    metrics: Sequence[str],
    **shown: object,
) -> Built:
    """The :class:`Site` of a run: its groups.parquet, pairs.parquet, neighbours.parquet
    and the thumbnails' image, frame, width and height (in frame-table order), with the
    links built from `gallery_dir` (where the gallery goes), `site_root` and `page_path`
    (source.site; None for a folder). `shown` holds the rest of Site's fields as they are
    (title, edge_metrics, summary, plots, leakage, failures, skipped, order,
    groups_per_page)."""
    # plain dicts and lists from here: per-row pandas lookups cost seconds on 10,000 images
    keys = zip(thumbs["image"], thumbs["frame"], strict=True)
    size = dict(zip(keys, zip(thumbs["width"], thumbs["height"], strict=True), strict=True))
    number = {image: k for k, image in enumerate(dict.fromkeys(thumbs["image"]))}
    first_frame: dict[str, int] = {}
    kept: dict[str, int] = {}
    for image, frame in zip(thumbs["image"], thumbs["frame"], strict=True):
        first_frame.setdefault(image, int(frame))
        kept[image] = kept.get(image, 0) + 1
    label = dict(zip(groups["image"], groups["group"], strict=True))
    family = dict(zip(groups["group"], groups["family"], strict=False))
    pairs = pairs.assign(group=pairs["image_a"].map(label))
    linking: dict[int, list[dict]] = {}  # group -> its linked pairs, in pairs.parquet's order
    for row in pairs[pairs["group"] == pairs["image_b"].map(label)].to_dict("records"):
        linking.setdefault(row["group"], []).append(row)
    chosen: dict[str, int] = {}
    for joined in linking.values():
        chosen.update(matching_frames(joined))

    members = []
    in_group: dict[int, list[str]] = {}  # group -> its images, in groups.parquet's order
    absolute = os.path.abspath(gallery_dir)
    for row in groups.to_dict("records"):
        image = row["image"]
        frame = chosen.get(image, first_frame[image])
        width, height = size[(image, frame)]
        grouped = row["group_size"] > 1
        if grouped:
            in_group.setdefault(row["group"], []).append(image)
        page = None if pd.isna(row["page"]) else int(row["page"])
        members.append(
            Member(
                number=number[image],
                image=image,
                page=page,
                link=story_link(page, site_root, page_path, gallery_dir),
                original=os.path.relpath(os.path.abspath(row["path"]), absolute),
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
    chained = []
    for group in sorted(in_group):
        joined = linking.get(group, [])
        ratio = sum(r["ratio"] for r in joined) / len(joined) if joined else 1.0
        found = Group(
            int(group),
            [by_image[i] for i in in_group[group]],
            joined,
            float(ratio),
            family=int(family[group]),
        )
        chained.append(chain(found, metrics))

    # a linked neighbour says how the two are related as pairs.parquet does (with local
    # features that also reads the verification, which neighbours.parquet does not hold)
    said = {
        frozenset(two): found
        for two, found in zip(
            zip(pairs["image_a"], pairs["image_b"], strict=True), pairs["relation"], strict=True
        )
    }
    nearest: dict[str, list[dict]] = {}
    for row in neighbours.to_dict("records"):  # in rank order per image
        if row["linked"] and (found := said.get(frozenset((row["image"], row["neighbour"])))):
            row["relation"] = found
        nearest.setdefault(row["image"], []).append(row)
    site = Site(
        members=members,
        groups=chained,
        neighbours=nearest,
        metrics=list(metrics),
        **shown,  # type: ignore[arg-type]
    )
    return Built(site, number)


class FolderLink(NamedTuple):
    """One image of a group in results/group_folders (:func:`folder_links`)."""

    folder: str  # size_N/group_K, relative to the group folders
    name: str  # the link's name: the image's name with / as __ (and its file's suffix)
    path: str  # the image's file


def folder_links(groups: pd.DataFrame) -> list[FolderLink]:
    """The links of results/group_folders: one folder per group of 2+ images, in folders
    by group size, holding a link to each member's file (groups.parquet's rows)."""
    out = []
    for row in groups[groups["group_size"] > 1].itertuples(index=False):
        suffix = "" if Path(row.image).suffix else Path(row.path).suffix
        folder = f"size_{row.group_size}/group_{row.group}"
        out.append(FolderLink(folder, row.image.replace("/", "__") + suffix, row.path))
    return out
