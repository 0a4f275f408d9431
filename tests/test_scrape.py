"""The scraper against the demo site served by a real HTTP server on 127.0.0.1."""

import hashlib
from pathlib import Path

import pytest
from conftest import AGENT, fetcher, scrape_pages
from panelmatch import scrape

SELECTOR = "img.mar-x-auto.disp-bl"
PAGE = """<html><body><img class="logo" src="/images/logo.gif">
<img src="/images/storyfiles/hs2/00001.gif" class="mar-x-auto disp-bl">
<img class="disp-bl" src="/not/a/panel.gif">
<img class="mar-x-auto disp-bl" src="  00002.gif ">
<img class="mar-x-auto disp-bl">
</body></html>"""


def test_find_images_uses_the_selector_in_order():
    assert scrape.find_images(PAGE, SELECTOR) == ["/images/storyfiles/hs2/00001.gif", "00002.gif"]
    assert scrape.find_images("<html></html>", SELECTOR) == []


def test_page_url_for_web_and_mirror():
    assert scrape.page_url("https://www.homestuck.com/", "/story/{page}", 12) == (
        "https://www.homestuck.com/story/12"
    )
    assert scrape.page_url("some/folder", "story/{page}", 3) == f"{scrape.MIRROR_ORIGIN}/story/3"


@pytest.mark.parametrize(
    "src,expected",
    [
        ("/images/a.gif", "https://site.test/images/a.gif"),
        ("b.gif", "https://site.test/story/b.gif"),
        ("https://site.test/c.gif", "https://site.test/c.gif"),
    ],
)
def test_resolve_follows_the_site(src, expected):
    assert scrape.resolve("https://site.test/story/5", src) == expected


@pytest.mark.parametrize(
    "src,why",
    [
        ("https://evil.test/a.gif", "host"),
        ("//evil.test/a.gif", "host"),
        ("file:///etc/passwd", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("data:image/gif;base64,AAAA", "scheme"),
        ("/images/../../etc/passwd", "climbs"),
        ("%2e%2e/%2e%2e/secret", "climbs"),
    ],
)
def test_resolve_refuses_other_places(src, why):
    with pytest.raises(scrape.RefusedSource, match=why):
        scrape.resolve("https://site.test/story/5", src)


def test_allowed_hosts_extend_the_site():
    page = "https://site.test/story/5"
    assert scrape.resolve(page, "https://cdn.test/a.gif", ["cdn.test"]) == "https://cdn.test/a.gif"
    with pytest.raises(scrape.RefusedSource, match="allowed host"):
        scrape.resolve(page, "https://cdn.test/a.gif")
    with pytest.raises(scrape.RefusedSource, match="backslash"):
        scrape.resolve(page, "..\\..\\x.gif", ["cdn.test"])


def test_unreachable_site_is_told_apart_from_an_answering_one(serve, tmp_path):
    server = serve(tmp_path)
    assert scrape.unreachable(server.url, 2, AGENT) is None  # answers (even 404 is an answer)
    assert scrape.unreachable("http://127.0.0.1:9", 2, AGENT) == "ConnectionError"


def test_local_names_are_safe_and_unique():
    a = scrape.local_name(5, 1, "https://x.test/a/../../evil name.GIF")
    b = scrape.local_name(5, 2, "https://x.test/a.gif")
    c = scrape.local_name(5, 1, "https://x.test/other.gif")
    assert a.startswith("5_1-") and a.endswith(".gif") and "/" not in a and " " not in a
    assert len({a, b, c}) == 3
    assert scrape.local_name(1, 1, "https://x.test/a.php?x=1").endswith(".php")
    assert scrape.local_name(1, 1, "https://x.test/a.verylongext").endswith(".bin")


def manifest_by_image(rows):
    return {r["image"]: r for r in rows if r["image"]}


def test_scrape_over_http_records_gaps_and_downloads(demo_site, serve, tmp_path):
    site, truth = demo_site
    server = serve(site)
    fetch = fetcher(timeout=5, retries=0)
    rows = scrape_pages(
        range(1, 14), server.url, "/story/{page}", SELECTOR, fetch, tmp_path, reuse=True
    )
    pages = {r["page"] for r in rows}
    assert pages == set(range(1, 14))
    gap = [r for r in rows if r["page"] == 7]
    assert [(r["status"], r["index"], r["image"]) for r in gap] == [("http_404", 0, None)]
    flash = [r for r in rows if r["page"] == 12]
    assert [r["status"] for r in flash] == ["no_images"]
    ok = [r for r in rows if r["status"] == "ok"]
    expected = {t["image"] for t in truth if int(t["image"].split("_")[0]) <= 13}
    assert {r["image"] for r in ok} == expected
    for r in ok:
        data = Path(r["path"]).read_bytes()
        assert r["bytes"] == len(data) and r["sha256"] == hashlib.sha256(data).hexdigest()
        assert r["url"].startswith(server.url + "/images/storyfiles/hs2/")
        assert Path(r["path"]).parent == tmp_path
    # the logo and other images on the page are not panels
    assert not any("logo" in p for p in server.requests)


def test_second_scrape_reuses_downloads(demo_site, serve, tmp_path):
    site, _ = demo_site
    server = serve(site)
    fetch = fetcher(timeout=5, retries=0)
    first = scrape_pages(range(1, 6), server.url, "/story/{page}", SELECTOR, fetch, tmp_path, True)
    image_requests = [p for p in server.requests if p.startswith("/images/")]
    assert image_requests
    server.requests.clear()
    again = scrape_pages(range(1, 6), server.url, "/story/{page}", SELECTOR, fetch, tmp_path, True)
    assert [p for p in server.requests if p.startswith("/images/")] == []
    assert again == first


def test_mirror_and_http_agree(demo_site, serve, tmp_path):
    site, _ = demo_site
    server = serve(site)
    web = scrape_pages(
        range(1, 9),
        server.url,
        "/story/{page}",
        SELECTOR,
        fetcher(retries=0),
        tmp_path / "web",
        reuse=False,
    )
    local = scrape_pages(
        range(1, 9),
        str(site),
        "/story/{page}",
        SELECTOR,
        scrape.fetcher_for(str(site)),
        tmp_path / "mirror",
        reuse=False,
    )
    strip = lambda rows: [(r["page"], r["index"], r["status"], r["sha256"]) for r in rows]  # noqa: E731
    assert strip(web) == strip(local)


def test_html_served_as_image_and_refused_sources(tmp_path, serve):
    (tmp_path / "story").mkdir()
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "fake.gif").write_text("<html>not found</html>")
    (tmp_path / "story" / "1").write_text(
        '<img class="mar-x-auto disp-bl" src="/images/fake.gif">'
        '<img class="mar-x-auto disp-bl" src="http://example.invalid/x.gif">'
        '<img class="mar-x-auto disp-bl" src="/images/missing.gif">'
    )
    server = serve(tmp_path)
    rows = scrape_pages(
        [1],
        server.url,
        "/story/{page}",
        SELECTOR,
        fetcher(retries=0),
        tmp_path / "out",
        reuse=True,
    )
    assert [r["status"] for r in rows] == ["not_an_image", "refused_src", "http_404"]
    assert [r["image"] for r in rows] == ["1_1", "1_2", "1_3"]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_mirror_fetcher_stays_inside_its_folder(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "secret").write_text("no")
    fetch = scrape.MirrorFetcher(tmp_path / "site")
    assert fetch(f"{scrape.MIRROR_ORIGIN}/../secret").status in (403, 404)
    assert fetch(f"{scrape.MIRROR_ORIGIN}/%2e%2e/secret").status == 403
    assert fetch("http://other.test/secret").error == "not_in_mirror"


def test_http_fetcher_retries_then_gives_up(tmp_path, serve):
    server = serve(tmp_path)  # empty folder: every path is 404, no retry for 404
    slept = []
    fetch = fetcher(retries=2, backoff=0.01, sleep=slept.append)
    assert fetch(server.url + "/nothing").status == 404 and slept == []
    dead = fetcher(retries=2, backoff=0.01, timeout=1, sleep=slept.append)
    resp = dead("http://127.0.0.1:9/unreachable")  # discard port: connection refused
    assert resp.status == 0 and resp.error.startswith("connection_error") and len(slept) == 2
