"""The gallery in a real headless browser, escaping of untrusted names, the Snakemake report,
group folders and the leakage table."""

import os
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import snakemake, write_config
from panelmatch import gallery

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
needs_browser = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER), reason="chromium and chromedriver are not installed"
)


@pytest.fixture
def browser(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1200,1000",
    ]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))
    yield driver
    driver.quit()


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


@needs_browser
def test_gallery_in_a_browser(small_demo_run, browser, tmp_path):
    site = small_demo_run / "results/gallery"
    groups = pd.read_parquet(small_demo_run / "results/groups.parquet")
    expected_groups = groups.loc[groups["group_size"] > 1, "group"].nunique()
    pages = sorted(site.glob("index.html")) + sorted(site.glob("page-*.html"))
    cards = 0
    for page in pages:
        load(browser, page)
        assert problems(browser) == [], page.name
        assert broken_images(browser) == [], page.name
        cards += len(browser.find_elements("css selector", "section.card"))
    assert cards == expected_groups > 0
    load(browser, site / "index.html")
    browser.save_screenshot(str(tmp_path / "gallery.png"))
    assert (tmp_path / "gallery.png").stat().st_size > 10_000
    medoids = browser.find_elements("css selector", "section.card figure.medoid")
    assert len(medoids) == len(browser.find_elements("css selector", "section.card"))
    # every link leads to an existing file; follow one to an image page and back
    hrefs = browser.execute_script("return [...document.links].map(a => a.href);")
    for href in hrefs:
        target = Path(href.removeprefix("file://").split("#")[0])
        assert target.exists(), href
    first = browser.find_element("css selector", "section.card figure a")
    first.click()
    assert "Nearest images" in browser.page_source
    load(browser, Path(browser.current_url.removeprefix("file://")))
    assert problems(browser) == [] and broken_images(browser) == []
    assert len(browser.find_elements("css selector", "table tr")) > 1
    load(browser, site / "overview.html")
    assert problems(browser) == [] and broken_images(browser) == []
    assert len(browser.find_elements("css selector", ".plots img")) == 3
    load(browser, site / "index.html")  # first load: the page and every image on it
    srcs = browser.execute_script("return [...document.images].map(i => i.src);")
    first_load = (site / "index.html").stat().st_size + sum(
        Path(s.removeprefix("file://")).stat().st_size for s in srcs
    )
    assert first_load < 2_000_000


def test_card_escapes_untrusted_names():
    evil = "<script>alert(1)</script>\"'.gif"
    m = gallery.Member(0, evil, None, 'javascript:alert(2)"', True, "thumbs/0.webp", 10, 10)
    html = gallery.card(
        gallery.Group(
            3,
            [m],
            [
                {
                    "image_a": evil,
                    "frame_a": 0,
                    "image_b": evil,
                    "frame_b": 2,
                    "edges": 1,
                    "edge_threshold": 2.0,
                    "ratio": 0.5,
                }
            ],
        ),
        ["edges"],
    )
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'javascript:alert(2)"' not in html
    assert gallery.esc(876.8499755859375) == "876.8"


def test_groups_are_ordered_and_paginated():
    def group(label, n, tight, pages):
        ms = [
            gallery.Member(i, f"{i}", p, None, i == 0, f"thumbs/{i}.webp", 1, 1)
            for i, p in zip(range(n), pages, strict=True)
        ]
        return gallery.Group(label, ms, tightness=tight)

    gs = [group(0, 2, 0.5, [1, 90]), group(1, 3, 0.1, [5, 6, 7]), group(2, 2, 0.9, [1, 2])]
    assert [g.group for g in gallery.order_groups(gs, "size")] == [1, 0, 2]
    assert [g.group for g in gallery.order_groups(gs, "tightness")] == [1, 0, 2]
    assert [g.group for g in gallery.order_groups(gs, "span")] == [0, 1, 2]
    pages = gallery.index_pages(gs, ["edges"], 2, "t", "s", [], [])
    assert sorted(pages) == ["index.html", "overview.html", "page-2.html"]
    assert (
        pages["index.html"].count('class="card"') == 2
        and pages["page-2.html"].count('class="card"') == 1
    )


@needs_browser
def test_hostile_file_names_do_not_execute(tmp_path, browser, small_demo_run):
    folder = tmp_path / "in"
    folder.mkdir()
    src = sorted((small_demo_run / "results/images").glob("*.gif"))[0]
    names = ["<script>document.title='pwned'<script>.gif", "<img src=x onerror=alert(1)>.gif"]
    for name in names:
        shutil.copy(src, folder / name)
    run = tmp_path / "run"
    run.mkdir()
    cfg = {"source": {"folder": str(folder)}, "evaluation": {"truth": None}}
    snakemake(run, configfile=write_config(tmp_path / "c.yaml", cfg))
    load(browser, run / "results/gallery/index.html")
    assert browser.title != "pwned"
    assert browser.execute_script("return document.querySelectorAll('script').length") == 0
    captions = " ".join(e.text for e in browser.find_elements("css selector", "figcaption"))
    for name in names:
        assert name in captions
    assert broken_images(browser) == []


def test_snakemake_report_zip(small_demo_run):
    snakemake(small_demo_run, "--report", "report.zip")
    with zipfile.ZipFile(small_demo_run / "report.zip") as z:
        names = z.namelist()
    assert any(n.endswith("report.html") for n in names)
    n_images = len(pd.read_parquet(small_demo_run / "results/groups.parquet"))
    assert any(n.endswith("/index.html") for n in names)  # the gallery, whole
    assert sum("/thumbs/" in n for n in names) == n_images
    assert sum("/image/" in n for n in names) == n_images
    assert sum(n.endswith("sensitivity.png") for n in names) >= 1
    assert any(n.endswith("summary.txt") for n in names)


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
