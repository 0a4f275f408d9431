"""The gallery in a real headless browser, escaping of untrusted names, the Snakemake report,
group folders and the leakage table."""

import os
import re
import shutil
import unicodedata
import urllib.parse
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO, snakemake, write_config
from panelmatch import gallery
from PIL import Image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
needs_browser = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER), reason="chromium and chromedriver are not installed"
)


def load(driver, path: Path):
    driver.get(path.as_uri())
    driver.execute_script(
        "document.querySelectorAll('img').forEach(i => i.loading = 'eager');"
        "window.scrollTo(0, document.body.scrollHeight);"
    )
    driver.set_script_timeout(20)
    driver.execute_async_script(
        "const done = arguments[0];"
        "Promise.all([...document.images].map(i => i.complete ? 0 :"
        " new Promise(r => { i.onload = i.onerror = r; }))).then(done);"
    )


def problems(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def broken_images(driver) -> list[str]:
    return driver.execute_script(
        "return [...document.images].filter(i => !(i.naturalWidth > 0)).map(i => i.src);"
    )


def links_resolve(driver) -> list[str]:
    """The links of the page that lead to no existing file (web links are not followed)."""
    hrefs = driver.execute_script("return [...document.links].map(a => a.href);")
    missing = []
    for href in hrefs:
        if href.startswith("file://"):
            target = Path(urllib.parse.unquote(href.removeprefix("file://").split("#")[0]))
            if not target.exists():
                missing.append(href)
    return missing


def star_links(members, **columns) -> list[dict]:
    """Edge links from the first member to each other one (pairs.parquet rows of frame 0),
    with the given distance and ratio columns."""
    return [
        {
            "image_a": members[0].image,
            "frame_a": 0,
            "image_b": m.image,
            "frame_b": 0,
            **columns,
            "link": "edge",
        }
        for m in members[1:]
    ]


@pytest.mark.workflow
@needs_browser
def test_gallery_in_a_browser(small_demo_run, browser, tmp_path):
    site = small_demo_run / "results/gallery"
    groups = pd.read_parquet(small_demo_run / "results/groups.parquet")
    expected_groups = groups.loc[groups["group_size"] > 1, "group"].nunique()
    assert groups["group"].min() == 1  # groups are numbered from 1
    pages = sorted(site.glob("index.html")) + sorted(site.glob("page-*.html"))
    cards = 0
    for page in pages:
        load(browser, page)
        assert problems(browser) == [], page.name
        assert broken_images(browser) == [], page.name
        assert links_resolve(browser) == [], page.name
        cards += len(browser.find_elements("css selector", "section.card"))
    assert cards == expected_groups > 0
    for name in [
        "images-1.html",
        "unmatched.html",
        "failures.html",
        "overview.html",
        "find.html",
        "span-1.html",
        "earliest-1.html",
        "reason-1.html",
    ]:
        load(browser, site / name)
        assert problems(browser) == [] and broken_images(browser) == [], name
        assert links_resolve(browser) == [], name
    load(browser, site / "index.html")
    browser.save_screenshot(str(tmp_path / "gallery.png"))
    assert (tmp_path / "gallery.png").stat().st_size > 10_000
    # every card is a chain in page order: the first appearance, then callbacks with gaps
    for card in browser.find_elements("css selector", "section.card"):
        figures = card.find_elements("css selector", "figure")
        captions = [f.text for f in figures]
        pages_seen = [int(re.search(r"p\. (\d+)", c).group(1)) for c in captions]
        assert pages_seen == sorted(pages_seen), captions
        assert captions[0].startswith("first appearance")
        assert all(c.startswith("callback") for c in captions[1:])
        assert all(
            re.search(r"p\. \d+ → p\. \d+, (\d+ pages? later|on the same page)", c)
            for c in captions[1:]
        ), captions
        links = card.find_elements("css selector", "ul.links li")
        assert len(links) == len(figures) - 1
        assert len(card.find_elements("css selector", "figure.medoid")) == 1
    # plain words, numbers behind a toggle
    text, hidden = browser.execute_script(
        "const li = document.querySelector('section.card ul.links li').cloneNode(true);"
        "const d = li.querySelector('details'); d.remove();"
        "return [li.textContent, !d.open && d.textContent.includes('edge_threshold')];"
    )
    assert "edge_threshold" not in text and any(r in text for r in gallery.REASONS)
    assert hidden  # the numbers are behind a closed toggle
    # the medoid is marked only inside a group
    load(browser, site / "unmatched.html")
    assert browser.find_elements("css selector", ".medoid-mark") == []
    assert len(browser.find_elements("css selector", "figure")) == (groups["group_size"] == 1).sum()
    # an image entry: its group, the original file and the story page, its nearest images
    load(browser, site / "index.html")
    browser.find_element("css selector", "section.card figure a").click()
    entry = browser.find_element("css selector", ":target")
    assert "In group" in entry.text and "The original file" in entry.text
    assert "Nearest images" in entry.text and "story page" in entry.text
    load(browser, site / "overview.html")
    assert len(browser.find_elements("css selector", ".plots img")) == 3
    load(browser, site / "index.html")  # first load: the page and every image on it
    srcs = browser.execute_script("return [...document.images].map(i => i.src);")
    first_load = (site / "index.html").stat().st_size + sum(
        Path(s.removeprefix("file://")).stat().st_size for s in srcs
    )
    assert first_load < 2_000_000


@pytest.mark.workflow
@needs_browser
def test_compare_view(small_demo_run, browser, tmp_path):
    site = small_demo_run / "results/gallery"
    load(browser, site / "index.html")
    href = browser.find_element("css selector", "section.card a.compare").get_attribute("href")
    browser.get(href)
    browser.execute_async_script(
        "const done = arguments[0];"
        "Promise.all([...document.images].map(i => i.complete ? 0 :"
        " new Promise(r => { i.onload = i.onerror = r; }))).then(done);"
    )
    assert problems(browser) == [] and broken_images(browser) == []
    assert any(r in browser.find_element("id", "why").text for r in gallery.REASONS)
    sizes = browser.execute_script(
        "return ['ia', 'ib'].map(i => document.getElementById(i).naturalWidth);"
    )
    assert all(w > 100 for w in sizes)  # both at full size (the demo's panels are 650 wide)
    browser.find_element("css selector", "label[for=m-overlay]").click()
    before = browser.execute_script(
        "return getComputedStyle(document.getElementById('ib')).opacity"
    )
    browser.execute_script(
        "const r = document.getElementById('opacity'); r.value = 20;"
        "r.dispatchEvent(new Event('input'));"
    )
    after = browser.execute_script("return getComputedStyle(document.getElementById('ib')).opacity")
    assert float(before) == 0.5 and float(after) == 0.2
    browser.find_element("css selector", "label[for=m-diff]").click()
    blend = browser.execute_script(
        "return getComputedStyle(document.getElementById('ib')).mixBlendMode"
    )
    assert blend == "difference" and broken_images(browser) == []
    browser.save_screenshot(str(tmp_path / "compare.png"))
    # reachable from a neighbour row too
    load(browser, site / "images-1.html")
    assert browser.find_elements("css selector", "section.entry a.compare")


@pytest.mark.workflow
@needs_browser
def test_search_finds_a_page_and_a_file(small_demo_run, browser):
    site = small_demo_run / "results/gallery"
    groups = pd.read_parquet(small_demo_run / "results/groups.parquet").dropna(subset=["page"])
    row = groups.iloc[len(groups) // 2]
    # the search page sends the browser on with location.replace, which returns before the
    # next page has loaded: wait for the target rather than racing it
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 10)
    browser.get((site / "find.html").as_uri() + f"?q={int(row.page)}")
    entry = wait.until(lambda d: d.find_element("css selector", ":target"))
    assert f"p. {int(row.page)}" in entry.text
    browser.get((site / "find.html").as_uri() + f"?q={row.image}")
    heading = wait.until(lambda d: d.find_element("css selector", ":target h2"))
    assert heading.text == row.image
    assert problems(browser) == []


@needs_browser
def test_search_prefers_an_exact_file_name(tmp_path, browser):
    """A name that is part of other names (1_1.gif in 11_1.gif) goes to its own image."""
    from selenium.webdriver.support.ui import WebDriverWait

    names = ["1_1.gif", "11_1.gif", "21_1.gif"]
    members = [
        gallery.Member(k, n, None, None, f"../{n}", False, f"thumbs/{k}.jpg", 10, 10)
        for k, n in enumerate(names)
    ]
    site = gallery.Site(
        "t",
        members,
        [],
        {},
        ["edges"],
        ["edges"],
        [],
        [],
        [],
        [],
        order="size",
        groups_per_page=50,
    )
    for name, html in gallery.render(site).items():
        (tmp_path / name).write_text(html, encoding="utf-8")
    browser.get((tmp_path / "find.html").as_uri() + "?q=1_1.gif")
    heading = WebDriverWait(browser, 10).until(
        lambda d: d.find_element("css selector", ":target h2")
    )
    assert heading.text == "1_1.gif"
    # part of a name still lists every image that holds it
    browser.get((tmp_path / "find.html").as_uri() + "?q=1_1")
    assert "3 image(s) match" in browser.find_element("id", "found").text


def test_cards_escape_untrusted_names():
    evil = "<script>alert(1)</script>\"'.gif"
    m = gallery.Member(
        0, evil, None, 'javascript:alert(2)"', "../x.gif", True, "thumbs/0.jpg", 10, 10, group=3
    )
    m2 = gallery.Member(1, "b.gif", None, None, "../b.gif", False, "thumbs/1.jpg", 10, 10, group=3)
    pair = {
        "image_a": evil,
        "frame_a": 0,
        "image_b": "b.gif",
        "frame_b": 0,
        "edges": 1,
        "edge_threshold": 2.0,
        "ratio": 0.5,
        "link": "edge",
    }
    g = gallery.chain(gallery.Group(3, [m, m2], [pair]), ["edges"])
    site = gallery.Site(
        "t<b>",
        [m, m2],
        [g],
        {},
        ["edges"],
        ["edges"],
        [],
        [],
        [],
        [{"input": evil, "image": evil, "stage": "frames", "reason": "<b>x"}],
        order="size",
        groups_per_page=50,
    )
    pages = gallery.render(site)
    for html in pages.values():
        assert "<script>alert" not in html and 'javascript:alert(2)"' not in html
    assert "&lt;script&gt;" in pages["index.html"] and "&lt;b&gt;x" in pages["failures.html"]
    assert gallery.number_text(876.8499755859375) == "876.8"


def test_groups_are_ordered_chained_and_paginated():
    def group(label, n, tight, pages):
        ms = [
            gallery.Member(
                10 * label + i,
                f"{p}_1",
                p,
                None,
                "x.gif",
                i == 0,
                "thumbs/0.jpg",
                1,
                1,
                group=label,
            )
            for i, p in zip(range(n), pages, strict=True)
        ]
        pairs = star_links(ms, ratio=tight, edges=5, edges_mirror=9)
        return gallery.chain(gallery.Group(label, ms[::-1], pairs, tightness=tight), ["edges"])

    gs = [group(1, 2, 0.5, [1, 90]), group(2, 3, 0.1, [5, 6, 7]), group(3, 2, 0.9, [0, 2])]
    assert [m.page for m in gs[0].members] == [1, 90]  # reading order, whatever came in
    assert gs[0].members[1].gap == "p. 1 → p. 90, 89 pages later"
    assert [g.group for g in gallery.order_groups(gs, "size")] == [2, 1, 3]
    assert [g.group for g in gallery.order_groups(gs, "tightness")] == [2, 1, 3]
    assert [g.group for g in gallery.order_groups(gs, "span")] == [1, 2, 3]
    assert [g.group for g in gallery.order_groups(gs, "earliest")] == [3, 1, 2]
    members = [m for g in gs for m in g.members]
    site = gallery.Site(
        "t", members, gs, {}, ["edges"], ["edges"], [], [], [], [], "size", groups_per_page=2
    )
    pages = gallery.render(site)
    assert {
        "index.html",
        "page-2.html",
        "span-1.html",
        "span-2.html",
        "images-1.html",
        "find.html",
        "compare.html",
        "failures.html",
        "unmatched.html",
    } <= set(pages)
    assert pages["index.html"].count('class="card"') == 2
    assert pages["page-2.html"].count('class="card"') == 1
    assert 'class="family"' not in pages["index.html"]  # no family spans two groups


def test_a_family_of_groups_links_each_card_to_the_others():
    """Groups split from one family (grouping.split_families) point at each other, on
    every page that shows their cards; a group alone in its family says nothing."""

    def group(label, family, pages):
        ms = [
            gallery.Member(10 * label + i, f"{p}_1", p, None, "x.gif", i == 0, "t.jpg", 1, 1)
            for i, p in enumerate(pages)
        ]
        for m in ms:
            m.group = label
        pairs = star_links(ms, ratio=0.1, edges=5, edges_mirror=9)
        return gallery.chain(gallery.Group(label, ms, pairs, 0.1, family=family), ["edges"])

    gs = [group(1, 7, [1, 2, 3]), group(2, 7, [4, 5]), group(3, 8, [6, 9]), group(4, 7, [10, 11])]
    members = [m for g in gs for m in g.members]
    site = gallery.Site(
        "t", members, gs, {}, ["edges"], ["edges"], [], [], [], [], "size", groups_per_page=2
    )
    pages = gallery.render(site)
    cards = {
        g.group: html.split(f'id="g{g.group}"', 1)[1].split("</section>", 1)[0]
        for html in pages.values()
        for g in gs
        if f'id="g{g.group}"' in html
    }
    assert [n for n, _ in gs[0].related] == [2, 4]
    assert 'href="index.html#g2">group 2</a>' in cards[1]
    assert 'href="page-2.html#g4">group 4</a>' in cards[1]
    assert "group 1</a>" in cards[2] and "group 4</a>" in cards[2]
    assert 'class="family"' not in cards[3] and gs[2].related == []


def test_plain_words():
    row = {"edges": 0, "phash": 0, "dhash": 0, "link": "edge", "edge_threshold": 900.0}
    assert gallery.why(row, ["edges", "phash", "dhash"]) == "identical"
    row = {"edges": 300, "edges_mirror": 20, "phash": 30, "link": "edge", "edge_threshold": 900.0}
    assert gallery.why(row, ["edges", "edges_mirror", "phash"]) == "the same drawing, mirrored"
    row = {"edges": 300, "edges_mirror": 900, "phash": 12, "link": "edge", "edge_threshold": 900}
    assert gallery.why(row, ["edges", "phash"]) == "the same line art, recoloured"
    row = {**row, "edges": 1200, "phash": 4}
    assert gallery.why({**row, "link": "same_art"}, ["edges", "phash"]) == (
        "the same drawing under new lettering"
    )
    assert gallery.why({**row, "link": "hash"}, ["edges"]).startswith("the same picture")
    # a stored pair's own relation (pairs.parquet) is taken as it is
    assert gallery.why({**row, "relation": "recolour"}, ["edges"]) == (
        "the same line art, recoloured"
    )


def test_numbers_and_neighbour_words_on_the_image_pages():
    # numbers_table caches its cells: 1 and 1.0 stay told apart, names stay escaped
    assert gallery.numbers_table({"edges": 1, "ratio": 1.0}) == "edges 1 · ratio 1.0"
    assert gallery.numbers_table({"ratio": 1.0, "edges": 1}) == "ratio 1.0 · edges 1"
    assert gallery.numbers_table({"<m>": "a&b"}) == "&lt;m&gt; a&amp;b"
    # the linked neighbours' relations come from one relation.of_rows call: each row's
    # words are those gallery.why gives the row alone
    metrics = ["edges", "edges_mirror", "phash", "dhash"]
    rows = [
        {"edges": 0, "edges_mirror": 40, "phash": 0, "dhash": 0, "edge_threshold": 900.0},
        {"edges": 700, "edges_mirror": 200, "phash": 30, "dhash": 9, "edge_threshold": 900.0},
        {"edges": 150, "edges_mirror": 900, "phash": 20, "dhash": 9, "edge_threshold": 900.0},
        {"edges": 1200, "edges_mirror": 1300, "phash": 4, "dhash": 3, "edge_threshold": 900.0},
        {"edges": 1500, "edges_mirror": 1600, "phash": 30, "dhash": 30, "edge_threshold": 900.0},
    ]
    links = ["edge", "edge", "edge", "hash", ""]
    members = [
        gallery.Member(k, f"m{k}.gif", None, None, "x.gif", False, f"thumbs/{k}-0.jpg", 1, 1)
        for k in range(len(rows) + 1)
    ]
    near = [
        {
            **r,
            "image": "m0.gif",
            "neighbour": f"m{k + 1}.gif",
            "rank": k + 1,
            "neighbour_frame": 0,
            "linked": bool(link),
            "link": link,
        }
        for k, (r, link) in enumerate(zip(rows, links, strict=True))
    ]
    expected = [gallery.why(r, metrics) for r in near[:4]]
    assert expected == [
        "identical",
        "the same drawing, mirrored",
        "the same line art, recoloured",
        "the same picture, shifted or cropped",
    ]
    site = gallery.Site(
        "t",
        members,
        [],
        {"m0.gif": near},
        metrics,
        ["edges"],
        [],
        [],
        [],
        [],
        order="size",
        groups_per_page=50,
    )
    page = gallery.render(site)["images-1.html"]
    words = re.findall(r"<td>([^<]*)<details>", page)
    assert words == [*expected, "near, but not linked: its edge distance is 1.7× the threshold"]


def _forked_with_pid(ks):
    return {**_RENDER_FORKED(ks), "pid": str(os.getpid())}


_RENDER_FORKED = gallery._render_forked


def test_a_second_process_renders_the_same_image_pages(monkeypatch):
    n = 2 * gallery.IMAGES_PER_PAGE + 50  # three image pages
    members = [
        gallery.Member(k, f"m{k}.gif", None, None, "x.gif", False, f"thumbs/{k}-0.jpg", 1, 1)
        for k in range(n)
    ]
    for k in range(0, n - 1, 2):
        members[k].group = members[k + 1].group = k // 2 + 1
    groups = [
        gallery.chain(
            gallery.Group(
                k // 2 + 1,
                [members[k], members[k + 1]],
                star_links(
                    members[k : k + 2], edges=5, edges_mirror=9, ratio=0.2, edge_threshold=50.0
                ),
            ),
            ["edges"],
        )
        for k in range(0, n - 1, 2)
    ]
    near = {
        m.image: [
            {
                "image": m.image,
                "neighbour": f"m{(m.number + 1) % n}.gif",
                "rank": 1,
                "neighbour_frame": 0,
                "edges": 5,
                "edge_threshold": 50.0,
                "linked": True,
                "link": "edge",
            }
        ]
        for m in members
    }
    site = gallery.Site(
        "t",
        members,
        groups,
        near,
        ["edges"],
        ["edges"],
        [],
        [],
        [],
        [],
        order="size",
        groups_per_page=50,
    )
    one = gallery.render(site)
    monkeypatch.setattr(gallery, "_render_forked", _forked_with_pid)
    two = gallery.render(site, workers=2)
    assert two.pop("pid") != str(os.getpid())  # the forked process rendered its share
    assert list(two) == list(one) and two == one
    assert one["images-3.html"].count('class="entry"') == 50
    with pytest.raises(ValueError, match="workers must be >= 1"):
        gallery.render(site, workers=0)


@pytest.mark.workflow
@needs_browser
def test_first_load_budget_at_9442_panels(small_demo_run, browser, tmp_path):
    """A gallery of 9,442 panels (the comic's size), groups of 2-5, real thumbnails."""
    thumb = sorted((small_demo_run / "results/gallery/thumbs").glob("*.jpg"))
    members, groups, k = [], [], 0
    label = 1
    while k < 9442:
        size = 2 + label % 4
        ms = []
        for i in range(size):
            ms.append(
                gallery.Member(
                    k,
                    f"{k + 1}_1",
                    k + 1,
                    None,
                    "x.gif",
                    i == 0,
                    f"thumbs/{k}-0.jpg",
                    160,
                    111,
                    group=label,
                )
            )
            k += 1
        pairs = star_links(ms, ratio=0.3, edges=100)
        groups.append(gallery.chain(gallery.Group(label, ms, pairs), ["edges"]))
        members += ms
        label += 1
    out = tmp_path / "big"
    (out / "thumbs").mkdir(parents=True)
    for m in members:
        shutil.copy(thumb[m.number % len(thumb)], out / m.thumb)
    site = gallery.Site(
        "big",
        members,
        groups,
        {},
        ["edges"],
        ["edges"],
        [],
        [],
        [],
        [],
        order="size",
        groups_per_page=50,
    )
    for name, html in gallery.render(site).items():
        (out / name).write_text(html, encoding="utf-8")
    load(browser, out / "index.html")
    assert problems(browser) == [] and broken_images(browser) == []
    srcs = browser.execute_script("return [...document.images].map(i => i.src);")
    first_load = (out / "index.html").stat().st_size + sum(
        Path(s.removeprefix("file://")).stat().st_size for s in srcs
    )
    assert len(srcs) > 100 and first_load < 2_000_000


@pytest.mark.workflow
def test_snakemake_report_zip(small_demo_run):
    snakemake(small_demo_run, "--report", "report.zip")
    with zipfile.ZipFile(small_demo_run / "report.zip") as z:
        names = z.namelist()
    assert any(n.endswith("report.html") for n in names)
    n_images = len(pd.read_parquet(small_demo_run / "results/groups.parquet"))
    assert any(n.endswith("/index.html") for n in names)  # the gallery, whole
    assert sum("/thumbs/" in n for n in names) == n_images
    assert sum("/images-" in n for n in names) == -(-n_images // gallery.IMAGES_PER_PAGE)
    assert any(n.endswith("/compare.html") for n in names)
    assert sum(n.endswith("sensitivity.png") for n in names) >= 1
    assert any(n.endswith("summary.txt") for n in names)


@pytest.mark.workflow
def test_group_folders_and_leakage(small_demo_run, tmp_path):
    images = sorted((small_demo_run / "results/images").glob("*.gif"))
    folder = tmp_path / "in"
    for sub in ("train", "test", "other"):
        (folder / sub).mkdir(parents=True)
    shutil.copy(images[0], folder / "train/a.gif")
    shutil.copy(images[0], folder / "test/a_again.gif")  # leaks across folds
    shutil.copy(images[1], folder / "train/b.gif")
    shutil.copy(images[1], folder / "train/b_again.gif")  # duplicate inside one fold
    shutil.copy(images[2], folder / "other/c.gif")
    run = tmp_path / "run"
    run.mkdir()
    cfg = {
        "source": {"folder": str(folder)},
        "gallery": {"group_folders": True},
        "evaluation": {"truth": None},
    }
    snakemake(run, configfile=write_config(tmp_path / "c.yaml", cfg))
    groups = pd.read_csv(run / "results/groups.csv").set_index("image")
    leakage = pd.read_csv(run / "results/leakage.csv")
    leaked = groups.loc["train/a.gif", "group"]
    assert leakage["group"].tolist() == [leaked] and leakage["folds"].tolist() == ["test,train"]
    assert {"train/a.gif", "test/a_again.gif"} <= set(leakage["images"][0].split(";"))
    grouped = groups[groups["group_size"] > 1]
    links = sorted((run / "results/group_folders").rglob("*.gif"))
    assert len(links) == len(grouped) >= 4
    for link in links:
        assert link.is_symlink() and not os.path.isabs(os.readlink(link))
        image = link.name.replace("__", "/")
        assert link.parent.name == f"group_{groups.loc[image, 'group']}"
        assert link.parent.parent.name == f"size_{groups.loc[image, 'group_size']}"
        assert link.resolve() == (folder / image).resolve()
    assert "Groups spanning folds (1)" in (run / "results/gallery/index.html").read_text()


@pytest.mark.workflow
def test_thumbnails_come_from_the_features_pass(small_demo_run):
    """Intended difference from the former thumbnails rule: the thumbnails are JPEGs made
    by the features pass from the frames it decoded (no second decode); each equals a
    fresh decode of that frame through frames.thumbnail, at frames.thumbnail_size."""
    from panelmatch import frames, tables
    from panelmatch.settings import FrameSelection

    settings = yaml.safe_load((REPO / "config.yaml").read_text())["frames"]
    manifest = tables.read_many(sorted((small_demo_run / "results/manifest").glob("*.parquet")))
    paths = dict(zip(manifest["image"], manifest["path"], strict=False))
    thumbs = tables.read_many(sorted((small_demo_run / "results/thumbs").glob("*.parquet")))
    edges = tables.read_many(sorted((small_demo_run / "results/frame_features").glob("*.parquet")))
    assert thumbs[["image", "frame"]].equals(edges[["image", "frame"]])
    fresh = frames.stored_frames(
        thumbs.head(20),
        {k: small_demo_run / v for k, v in paths.items() if isinstance(v, str)},
        FrameSelection.within(settings),
    )
    for row, (image, frame, rgb) in zip(thumbs.head(20).itertuples(), fresh, strict=True):
        jpeg, w, h = frames.thumbnail(rgb, settings["thumbnail_size"])
        assert (row.image, row.frame, row.width, row.height) == (image, frame, w, h)
        assert row.jpeg == jpeg and jpeg[:2] == b"\xff\xd8"
        assert max(w, h) == settings["thumbnail_size"]


def test_folder_order_is_natural_and_case_insensitive():
    names = ["10.png", "UPPER.PNG", "9.png", "lower.png", "a2b10.gif", "a2b9.gif", "A2b9.gif"]
    assert sorted(names, key=gallery.natural_key) == [
        "9.png",
        "10.png",
        "A2b9.gif",
        "a2b9.gif",
        "a2b10.gif",
        "lower.png",
        "UPPER.PNG",
    ]

    def member(name):
        return gallery.Member(0, name, None, None, name, False, "t.jpg", 1, 1)

    ordered = sorted(
        [member(n) for n in ["10.png", "9.png", "B.png", "a.png"]], key=lambda m: m.order
    )
    assert [m.image for m in ordered] == ["9.png", "10.png", "a.png", "B.png"]


def test_links_to_files_with_hostile_names_are_encoded():
    for name, encoded in [
        ("sub dir/a#1.gif", "sub%20dir/a%231.gif"),
        ("q?x=1.png", "q%3Fx%3D1.png"),
        ("tab\there.gif", "tab%09here.gif"),
        ("back\\slash.gif", "back%5Cslash.gif"),
        ("100%.gif", "100%25.gif"),
        ("café.gif", "caf%C3%A9.gif"),
    ]:
        assert gallery.href("../" + name) == "../" + encoded
    m = gallery.Member(
        0, "a#1.gif", None, None, "../a#1.gif", True, "thumbs/0-0.jpg", 10, 10, group=1
    )
    m2 = gallery.Member(
        1, "b.gif", None, None, "../b.gif", False, "thumbs/1-0.jpg", 10, 10, group=1
    )
    pairs = star_links([m, m2], edges=1, edge_threshold=2.0, ratio=0.5)
    g = gallery.chain(gallery.Group(1, [m, m2], pairs), ["edges"])
    site = gallery.Site(
        "t",
        [m, m2],
        [g],
        {},
        ["edges"],
        ["edges"],
        [],
        [],
        [],
        [],
        order="size",
        groups_per_page=50,
    )
    pages = gallery.render(site)
    assert 'href="../a%231.gif">The original file' in pages["images-1.html"]
    assert "★ most typical" in pages["index.html"] and "medoid" not in pages["index.html"].split(
        "<style>"
    )[1].split("</style>")[1].replace('class="medoid', "").replace("medoid-mark", "")


def test_a_groups_heading_says_what_its_links_say():
    recolour, mirrored = gallery.REASONS[2], gallery.REASONS[1]
    assert gallery.heading_text([recolour, recolour]) == recolour
    assert gallery.heading_text([recolour, mirrored, recolour]) == (
        f"{recolour} (2 of 3 links); also {mirrored} (1)"
    )


def test_nfc_and_nfd_spellings_show_and_are_found_alike():
    import unicodedata

    nfc, nfd = "café.png", unicodedata.normalize("NFD", "café.png")
    assert nfc != nfd
    members = [
        gallery.Member(k, name, None, None, "../" + name, False, f"t{k}.jpg", 1, 1)
        for k, name in enumerate([nfc, nfd])
    ]
    site = gallery.Site(
        "t",
        members,
        [],
        {},
        ["edges"],
        ["edges"],
        [],
        [],
        [],
        [],
        order="size",
        groups_per_page=50,
    )
    find = gallery.render(site)["find.html"]
    assert find.count(f'data-name="{nfc}"') == 2  # both files, one spelling to search
    assert nfd not in find and 'q.normalize("NFC")' in find


def run_tables():
    """groups, pairs, neighbours and thumbnails tables of a run of three images, two of
    them one group (as the groups, neighbours and features rules write them)."""
    groups = pd.DataFrame(
        {
            "image": ["p/a.png", "p/b.png", "p/c.png"],
            "path": ["/data/p/a.png", "/data/p/b.png", "/data/p/c.png"],
            "page": [None, None, None],
            "group": [1, 1, 2],
            "group_size": [2, 2, 1],
            "medoid": [True, False, True],
            "family": [1, 1, 2],
            "family_size": [2, 2, 1],
        }
    )
    pairs = pd.DataFrame(
        {
            "image_a": ["p/a.png"],
            "image_b": ["p/b.png"],
            "frame_a": [0],
            "frame_b": [1],
            "edges": [10],
            "edge_threshold": [500.0],
            "ratio": [0.02],
            "link": ["edge"],
            "relation": ["identical"],
        }
    )
    neighbours = pd.DataFrame(
        {
            "image": ["p/a.png", "p/c.png"],
            "rank": [1, 1],
            "neighbour": ["p/b.png", "p/a.png"],
            "edges": [10, 900],
            "edge_threshold": [500.0, 400.0],
            "linked": [True, False],
            "link": ["edge", ""],
        }
    )
    thumbs = pd.DataFrame(
        {
            "image": ["p/a.png", "p/b.png", "p/b.png", "p/c.png"],
            "frame": [0, 0, 1, 0],
            "width": [64, 64, 60, 32],
            "height": [48, 48, 40, 32],
        }
    )
    return groups, pairs, neighbours, thumbs


def test_site_of_builds_members_groups_and_neighbours_from_the_tables():
    built = gallery.site_of(
        *run_tables(),
        gallery_dir="/data/results/gallery",
        site_root=None,
        page_path=None,
        metrics=["edges"],
        title="t",
        edge_metrics=["edges"],
        summary=[],
        plots=[],
        leakage=[],
        failures=[],
        order="size",
        groups_per_page=50,
    )
    site = built.site
    assert built.numbers == {"p/a.png": 0, "p/b.png": 1, "p/c.png": 2}
    a, b, c = site.members
    assert (a.original, a.group, a.medoid) == ("../../p/a.png", 1, True)
    # the member is shown by the frame its link matched, with that frame's size
    assert (b.frame, b.width, b.height, b.frames, b.thumb) == (1, 60, 40, 2, "thumbs/1-1.jpg")
    assert c.group is None and not c.medoid and c.link is None
    assert [g.group for g in site.groups] == [1]
    assert [m.image for m in site.groups[0].members] == ["p/a.png", "p/b.png"]
    # a linked neighbour reads the pair's relation
    assert site.neighbours["p/a.png"][0]["relation"] == "identical"
    assert "relation" not in site.neighbours["p/c.png"][0]


def test_story_link_for_a_site_a_mirror_and_a_folder(tmp_path):
    assert gallery.story_link(None, "https://x.test", None, "g") is None
    assert gallery.story_link(float("nan"), "https://x.test", None, "g") is None
    assert gallery.story_link(3, None, None, "g") is None
    web = gallery.story_link(3, "https://x.test", "/story/{page}", "g")
    assert web == "https://x.test/story/3"
    mirror = gallery.story_link(
        3, str(tmp_path / "mirror"), "/story/{page}", str(tmp_path / "gallery")
    )
    assert mirror.startswith("../mirror/")


def test_folder_links_put_each_group_of_two_or_more_in_a_folder_by_size():
    groups, *_ = run_tables()
    groups.loc[1, "image"] = "p/noext"
    links = gallery.folder_links(groups)
    assert links == [
        gallery.FolderLink("size_2/group_1", "p__a.png", "/data/p/a.png"),
        gallery.FolderLink("size_2/group_1", "p__noext.png", "/data/p/b.png"),
    ]


def test_a_folder_group_names_each_image_once_and_reads_first_and_also():
    names = ["sprites/red/pikachu_1.png", "sprites/red/pikachu_2.png", "sprites/red/pikachu_10.png"]
    ms = [
        gallery.Member(k, n, None, None, n, k == 0, f"thumbs/{k}-0.jpg", 64, 48, group=1)
        for k, n in enumerate(names)
    ]
    pairs = star_links(ms, edges=1, edge_threshold=2.0, ratio=0.5)
    g = gallery.chain(gallery.Group(1, ms, pairs), ["edges"])
    assert [m.role for m in g.members] == ["first", "also", "also"]
    assert [(m.prefix, m.rest) for m in g.members] == [
        ("sprites/red/pikachu_", "1.png"),
        ("sprites/red/pikachu_", "2.png"),
        ("sprites/red/pikachu_", "10.png"),
    ]
    assert [link.gap for link in g.links] == ["1.png → 2.png", "1.png → 10.png"]
    assert all(m.gap == "" for m in g.members)  # the card names each image once
    site = gallery.Site("t", ms, [g], {}, ["edges"], ["edges"], [], [], [], [], "size", 50)
    page = gallery.render(site)["index.html"]
    card = page.split('id="g1"', 1)[1]
    shown = re.sub(r"<[^>]+>", "", card.split("</section>")[0])  # the text a reader sees
    assert shown.count("pikachu_2.png") == 1  # its caption only; the links say "2.png"
    assert (
        '<span class="shared" title="sprites/red/pikachu_2.png">sprites/red/pikachu_</span>2.png'
        in card
    )
    # a 64-pixel sprite is drawn twice as large, with crisp pixels
    assert 'width="128" height="96" class="crisp"' in card
    assert "the first, then each of the others" in page


def test_a_story_keeps_its_pages_and_roles():
    ms = [
        gallery.Member(k, f"{p}_1.gif", p, None, "x", False, f"thumbs/{k}-0.jpg", 160, 111, group=1)
        for k, p in enumerate([5, 9])
    ]
    g = gallery.chain(gallery.Group(1, ms, star_links(ms, ratio=0.2, edges=3)), ["edges"])
    assert [m.role for m in g.members] == ["first appearance", "callback"]
    assert g.members[1].gap == "p. 5 → p. 9, 4 pages later" == g.links[0].gap
    assert g.members[1].zoom == 1


def test_common_prefix_ends_at_a_break_and_never_takes_a_whole_name():
    assert gallery.common_prefix(["a/emoji_1f3fb.png", "a/emoji_1f3fc.png"]) == "a/emoji_"
    assert gallery.common_prefix(["abc.png", "abd.png"]) == ""
    assert gallery.common_prefix(["x/a.png", "x/a.png.bak"]) == "x/"
    assert gallery.common_prefix(["solo.png"]) == ""


@pytest.mark.workflow
@needs_browser
def test_compare_view_fits_the_window(small_demo_run, browser):
    """Side by side, both panels (650 px wide) are whole inside a 1400 x 1000 window; a
    click shows them at full size; overlaid, the second keeps the first's size."""
    site = small_demo_run / "results/gallery"
    load(browser, site / "index.html")
    href = browser.find_element("css selector", "section.card a.compare").get_attribute("href")
    browser.set_window_size(1400, 1000)
    browser.get(href)
    browser.execute_async_script(
        "const done = arguments[0];"
        "Promise.all([...document.images].map(i => i.complete ? 0 :"
        " new Promise(r => { i.onload = i.onerror = r; }))).then(done);"
    )

    def boxes():
        return browser.execute_script(
            "return [innerWidth, innerHeight].concat(['ia', 'ib'].map(i => {"
            " const r = document.getElementById(i).getBoundingClientRect();"
            " return [r.left, r.top, r.right, r.bottom]; }));"
        )

    width, height, *images = boxes()
    assert width >= 1300 and height >= 800  # the window's own viewport
    for left, top, right, bottom in images:
        assert 0 <= left < right <= width and 0 <= top < bottom <= height, (images, width, height)
    natural = browser.execute_script("return document.getElementById('ia').naturalWidth")
    browser.find_element("id", "ia").click()  # full size
    assert browser.execute_script("return document.getElementById('ia').width") == natural
    browser.find_element("id", "ia").click()  # and back
    browser.find_element("css selector", "label[for=m-overlay]").click()
    sizes = browser.execute_script(
        "return ['ia', 'ib'].map(i => [document.getElementById(i).width,"
        " document.getElementById(i).height]);"
    )
    assert sizes[0] == sizes[1]
    _, _, *images = boxes()
    for left, top, right, bottom in images:
        assert 0 <= left < right <= width and 0 <= top < bottom <= height
    assert problems(browser) == []


HOSTILE = [
    "a#1.png",
    "q?x=1.png",
    "tab\there.png",
    "back\\slash.png",
    "n" * 246 + ".png",
    "cafe\u0301.png",
]


@pytest.mark.workflow
@needs_browser
def test_hostile_names_give_working_links_in_a_browser(browser, tmp_path):
    """Files named with #, ?, a tab, a backslash, 250 characters or in NFD: every link of
    every page reaches its file, every thumbnail and original loads, and the compare view
    shows both images."""
    import numpy as np
    from panelmatch import frames

    folder = tmp_path / "pics"
    folder.mkdir()
    out = tmp_path / "results" / "gallery"
    (out / "thumbs").mkdir(parents=True)
    members = []
    for k, name in enumerate(HOSTILE):
        rgb = np.full((60, 80, 3), 40 * k, dtype=np.uint8)
        Image.fromarray(rgb).save(folder / name)
        jpeg, w, h = frames.thumbnail(rgb, 160)
        (out / "thumbs" / f"{k}-0.jpg").write_bytes(jpeg)
        original = os.path.relpath(folder / name, out)
        members.append(
            gallery.Member(
                k, name, None, None, original, k == 0, f"thumbs/{k}-0.jpg", w, h, group=1
            )
        )
    pairs = star_links(members, edges=1, edge_threshold=2.0, ratio=0.5)
    group = gallery.chain(gallery.Group(1, members, pairs), ["edges"])
    site = gallery.Site("t", members, [group], {}, ["edges"], ["edges"], [], [], [], [], "size", 50)
    for name, text in gallery.render(site).items():
        (out / name).write_text(text, encoding="utf-8")
    for page in ["index.html", "images-1.html", "find.html", "map.html"]:
        load(browser, out / page)
        assert problems(browser) == [] and broken_images(browser) == [], page
        assert links_resolve(browser) == [], page
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 1200  # a 250-character name wraps
    load(browser, out / "index.html")
    hrefs = [a.get_attribute("href") for a in browser.find_elements("css selector", "a.compare")]
    assert len(hrefs) == len(HOSTILE) - 1
    for href in hrefs:
        browser.get(href)
        browser.execute_async_script(
            "const done = arguments[0];"
            "Promise.all([...document.images].map(i => i.complete ? 0 :"
            " new Promise(r => { i.onload = i.onerror = r; }))).then(done);"
        )
        assert broken_images(browser) == [], href
        assert (
            browser.find_element("id", "eb").text
            in [unicodedata.normalize("NFC", n) for n in HOSTILE] + HOSTILE
        )
    assert problems(browser) == []


def test_a_re_encoded_copy_is_called_so():
    row = {"edges": 55, "edge_threshold": 900.0, "relation": "identical", "link": "hash"}
    assert gallery.why(row, ["edges"]) == "the same picture, saved again (lossy compression)"
    assert gallery.why({**row, "edges": 0}, ["edges"]) == "identical"
    kind = gallery.MAP_KINDS[
        gallery.MAP_KIND_OF_REASON[gallery.REASONS.index(gallery.why(row, ["edges"]))]
    ]
    assert kind == "identical"
