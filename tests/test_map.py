"""The callback map (map.html): its data from a site, and the page in a real headless
browser on the demo, on a generated gallery of 9,442 panels, and at tens of thousands of
arcs."""

import json
import random
import re
from pathlib import Path

import pytest
from panelmatch import gallery
from test_gallery import load, needs_browser, problems, star_links


def member(k, image, page, group=None):
    return gallery.Member(
        k, image, page, None, image, False, f"thumbs/{k}-0.jpg", 64, 48, group=group
    )


def chained(number, members, reasons=None):
    """A group whose first member is linked to every other (pairs with a relation)."""
    pairs = star_links(members, ratio=0.3, edges=100, edge_threshold=500.0)
    for row, found in zip(pairs, reasons or [], strict=False):
        row["relation"] = found
    return gallery.chain(gallery.Group(number, members, pairs), ["edges"])


def site_of(members, groups):
    return gallery.Site("t", members, groups, {}, ["edges"], ["edges"], [], [], [], [], "size", 50)


def test_map_data_of_a_story():
    ms = [member(k, f"{p}_1.gif", p) for k, p in enumerate([3, 40, 1200, 7, 9])]
    groups = [
        chained(1, [ms[0], ms[1], ms[2]], ["recolour", "mirrored"]),
        chained(2, [ms[4], ms[3]], ["identical"]),
    ]
    for m in ms[:3]:
        m.group = 1
    data = gallery.callback_map(site_of(ms, groups), {1: "index.html#g1", 2: "page-2.html#g2"})
    assert (data["axis"], data["low"], data["high"], data["stretch"]) == ("pages", 3, 1200, 100)
    arcs = [data["arcs"][k : k + 6] for k in range(0, len(data["arcs"]), 6)]
    names = data["names"]
    told = [
        (a, b, data["kinds"][data["kind_of_reason"][r]], data["groups"][g], names[x], names[y])
        for a, b, r, g, x, y in arcs
    ]
    # each callback from the member it calls back to (its chain link) to the later use,
    # in reading order within its group
    assert told == [
        (3, 40, "recolour", 1, "3_1.gif", "40_1.gif"),
        (3, 1200, "mirrored", 1, "3_1.gif", "1200_1.gif"),
        (7, 9, "identical", 2, "7_1.gif", "9_1.gif"),
    ]
    assert data["cards"] == ["index.html#g1", "page-2.html#g2"] and data["sizes"] == [3, 2]
    assert data["labels"] == []
    script = gallery.map_script(data)
    assert script.startswith("window.PANELMATCH_MAP=") and script.endswith(";\n")
    assert json.loads(script.removeprefix("window.PANELMATCH_MAP=").rstrip(";\n")) == data


def test_map_of_a_folder_runs_along_the_natural_order():
    names = ["b/10.png", "b/9.png", "A.png", "café.png"]
    ms = [member(k, name, None) for k, name in enumerate(names)]
    groups = [chained(1, [ms[0], ms[1]], ["shifted"])]
    data = gallery.callback_map(site_of(ms, groups), {1: "index.html#g1"})
    assert data["axis"] == "images" and data["labels"] == [
        "A.png",
        "b/9.png",
        "b/10.png",
        "café.png",
    ]
    assert data["arcs"][:2] == [1, 2]  # b/9.png (position 1) before b/10.png (position 2)
    assert data["stretch"] == 10  # a short axis: stretches of ten


def test_every_reason_has_a_kind_on_the_map():
    assert len(gallery.MAP_KIND_OF_REASON) == len(gallery.REASONS)
    assert len(gallery.MAP_COLOURS) == len(gallery.MAP_KINDS)
    assert set(gallery.MAP_KIND_OF_REASON) == set(range(len(gallery.MAP_KINDS)))


def drawn(browser) -> int:
    return int(browser.execute_script("return document.getElementById('map').dataset.drawn"))


def hover_and_click(browser, arc: int):
    """Point at an arc's top, read the tooltip, then click it."""
    from selenium.webdriver.common.action_chains import ActionChains

    x, y = browser.execute_script(f"return window.panelmatchMap.apex({arc})")
    canvas = browser.find_element("id", "map")
    width, height = canvas.size["width"], canvas.size["height"]
    actions = ActionChains(browser)
    actions.move_to_element_with_offset(canvas, int(x - width / 2), int(y - height / 2) + 1)
    actions.pause(0.3).perform()
    tip = browser.find_element("id", "tip")
    text = tip.text if tip.is_displayed() else ""
    ActionChains(browser).click().perform()
    return text


@pytest.mark.workflow
@needs_browser
def test_the_map_of_the_demo(small_demo_run, browser):
    site = small_demo_run / "results/gallery"
    load(browser, site / "index.html")
    browser.find_element("link text", "Map of callbacks").click()  # one click from the start
    assert browser.current_url.endswith("map.html")
    assert problems(browser) == []
    data = json.loads(
        (site / "map-data.js")
        .read_text(encoding="utf-8")
        .removeprefix("window.PANELMATCH_MAP=")[:-2]
    )
    arcs = len(data["arcs"]) // 6
    assert arcs > 10 and drawn(browser) == arcs
    # the relation filter: each kind off takes its arcs away, back on brings them back
    kinds = [data["kind_of_reason"][data["arcs"][6 * k + 2]] for k in range(arcs)]
    most = max(set(kinds), key=kinds.count)
    box = browser.find_element("css selector", f"input[name=kind][value='{most}']")
    box.click()
    assert drawn(browser) == arcs - kinds.count(most)
    box.click()
    assert drawn(browser) == arcs
    # a gap longer than the comic leaves nothing; any gap brings every arc back
    browser.find_element("css selector", "button[data-gap='1000']").click()
    assert drawn(browser) == 0 and "0 of" in browser.find_element("id", "shown").text
    browser.find_element("css selector", "button[data-gap='0']").click()
    assert drawn(browser) == arcs
    # an arc names its two panels and why, and its click opens its group
    arc = max(range(arcs), key=lambda k: data["arcs"][6 * k + 1] - data["arcs"][6 * k])
    card = browser.execute_script(f"return window.panelmatchMap.card({arc})")
    text = hover_and_click(browser, arc)
    names = data["names"]
    assert names[data["arcs"][6 * arc + 4]] in text and names[data["arcs"][6 * arc + 5]] in text
    assert data["reasons"][data["arcs"][6 * arc + 2]] in text
    assert browser.current_url.endswith(card)
    target = browser.find_element("css selector", ":target")
    assert target.get_attribute("id") == card.split("#")[1]
    assert problems(browser) == []


def generated_comic(tmp_path: Path, panels: int = 9442, pages: int = 8100) -> Path:
    """A gallery of `panels` panels over `pages` pages: groups of 2-6 drawings reused
    anywhere in the comic, with a mix of relations."""
    rng = random.Random(5)
    relations = ["identical", "recolour", "reletter", "shifted", "mirrored", "similar", "zoomed"]
    order = list(range(panels))
    rng.shuffle(order)
    members = [
        member(k, f"{1 + k * pages // panels}_{1 + k % 2}", 1 + k * pages // panels)
        for k in range(panels)
    ]
    groups, start, number = [], 0, 1
    while start < panels - 1:
        size = min(rng.randint(2, 6), panels - start)
        chosen = [members[i] for i in order[start : start + size]]
        for m in chosen:
            m.group = number
        groups.append(chained(number, chosen, [rng.choice(relations) for _ in chosen[1:]]))
        start += size
        number += 1
    out = tmp_path / "comic"
    out.mkdir()
    for name, text in gallery.render(site_of(members, groups)).items():
        (out / name).write_text(text, encoding="utf-8")
    return out


@pytest.mark.workflow
@needs_browser
def test_the_map_at_9442_panels(browser, tmp_path):
    out = generated_comic(tmp_path)
    first_load = (out / "map.html").stat().st_size + (out / "map-data.js").stat().st_size
    assert first_load < 2_000_000
    load(browser, out / "map.html")
    assert problems(browser) == []
    total = drawn(browser)
    assert total > 5000
    assert re.match(
        rf"{total:,} of {total:,} callbacks shown; pages 1–8100",
        browser.find_element("id", "shown").text,
    )
    browser.find_element("css selector", "input[name=kind][value='0']").click()  # identical off
    without = drawn(browser)
    assert 0 < without < total
    browser.find_element("css selector", "button[data-gap='1000']").click()
    later = drawn(browser)
    assert 0 < later < without
    # the densest stretches are listed, and one zooms the map to its hundred pages
    first = browser.find_element("css selector", "#dense li a")
    assert re.match(r"pages \d+–\d+: \d+ callbacks?", first.text)
    first.click()
    assert "pages " in browser.find_element("id", "shown").text and drawn(browser) < later
    browser.find_element("id", "whole").click()
    assert drawn(browser) == later
    # the widest arc shown: pointing at it names its panels, a click opens its group
    widest = browser.execute_script(
        "const m = window.panelmatchMap, ks = m.drawn();"
        "return ks.reduce((best, k) => m.apex(k)[1] < m.apex(best)[1] ? k : best, ks[0]);"
    )
    card = browser.execute_script(f"return window.panelmatchMap.card({widest})")
    assert problems(browser) == []
    text = hover_and_click(browser, widest)  # (the generated gallery has no thumbnails)
    assert re.match(r"p\. \d+ \(.+\) → p\. \d+ \(.+\), \d+ pages later: ", text), text
    assert browser.current_url.endswith(card)


@pytest.mark.workflow
@needs_browser
def test_the_map_holds_tens_of_thousands_of_arcs(browser, tmp_path):
    """40,000 callbacks over 8,100 pages (more than the comic has): the data stays under
    2 MB and every arc is drawn."""
    out = generated_comic(tmp_path, panels=60, pages=8100)
    path = out / "map-data.js"
    data = json.loads(path.read_text(encoding="utf-8").removeprefix("window.PANELMATCH_MAP=")[:-2])
    rng = random.Random(3)
    arcs = []
    for _ in range(40_000):
        a, b = sorted(rng.randint(1, 8100) for _ in range(2))
        arcs += [
            a,
            b,
            rng.randrange(len(data["reasons"])),
            rng.randrange(len(data["groups"])),
            0,
            1,
        ]
    data["arcs"], data["low"], data["high"] = arcs, 1, 8100
    path.write_text(gallery.map_script(data), encoding="utf-8")
    assert (out / "map.html").stat().st_size + path.stat().st_size < 2_000_000
    load(browser, out / "map.html")
    assert drawn(browser) == 40_000 and problems(browser) == []
