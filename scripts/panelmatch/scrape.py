"""Read story pages, find their panel images and download them.

A site is either a web root (``https://...``) or a local folder holding the same pages as
files (an offline mirror). Both go through the same parser and the same URL rules: a page
is fetched at ``root + page_path.format(page=N)`` and each panel ``src`` is resolved against
the page's URL. For a mirror the URLs use the placeholder origin :data:`MIRROR_ORIGIN`, whose
paths map onto files under the mirror folder.
"""

from __future__ import annotations

import email.utils
import hashlib
import io
import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

import requests
from bs4 import BeautifulSoup
from PIL import Image

from . import tables

#: One row of the manifest (tables.MANIFEST).
_row = tables.manifest_row

MIRROR_ORIGIN = "http://mirror.invalid"


@dataclass(frozen=True)
class Response:
    """What a fetch returned: an HTTP status (0 when no response came) and the body.

    `error` is the manifest status when the fetch failed in a way other than its HTTP
    status (timeout, connection_error, truncated, too_large, redirect_offsite, ...).
    """

    status: int
    body: bytes = b""
    error: str = ""
    retry_after: float | None = None  # seconds the server asked us to wait (429/503)


Fetch = Callable[[str], Response]


def status_of(resp: Response) -> str:
    """The manifest status of a failed fetch: its error, else ``http_<code>``."""
    return resp.error or f"http_{resp.status}"


def is_web(root: str) -> bool:
    return root.startswith(("http://", "https://"))


def page_url(root: str, page_path: str, page: int) -> str:
    """The URL of story page `page`."""
    origin = root.rstrip("/") if is_web(root) else MIRROR_ORIGIN
    path = page_path.format(page=page)
    if not path.startswith("/"):
        path = "/" + path
    return origin + path


def find_images(html: str | bytes, selector: str) -> list[str]:
    """The `src` of every element matching the CSS `selector`, in document order."""
    soup = BeautifulSoup(html, "html.parser")
    return [el["src"].strip() for el in soup.select(selector) if el.get("src", "").strip()]


class RefusedSource(ValueError):
    """An image reference that the scraper will not follow; the message says why."""


def host_allowed(url: str, site: str, allowed_hosts: Iterable[str] = ()) -> bool:
    """True when `url` is http(s) on the host of `site` or on one of `allowed_hosts`."""
    parts = urlsplit(url)
    hosts = {urlsplit(site).netloc.lower()} | {h.lower() for h in allowed_hosts}
    return parts.scheme in ("http", "https") and parts.netloc.lower() in hosts


def resolve(page: str, src: str, allowed_hosts: Iterable[str] = ()) -> str:
    """Absolute URL of image `src` found on the page at URL `page`.

    Only http(s) on the page's own host (or an allowed host) is followed. Other schemes
    (file:, javascript:, data:), other hosts, paths that climb above the root, and
    references with backslashes or control characters raise RefusedSource.
    """
    if any(ord(c) < 32 or c == "\\" for c in src):
        raise RefusedSource(f"backslash or control character in {src[:80]!r}")
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", src) and not src.lower().startswith(
        ("http:", "https:")
    ):
        raise RefusedSource(f"scheme not allowed: {src[:80]!r}")
    if "/../" in "/" + unquote(urlsplit(src).path) + "/":
        raise RefusedSource(f"path climbs out of the site: {src[:80]!r}")
    url = urljoin(page, src)
    if urlsplit(url).scheme not in ("http", "https"):
        raise RefusedSource(f"scheme not allowed: {src[:80]!r}")
    if not host_allowed(url, page, allowed_hosts):
        raise RefusedSource(
            f"host {urlsplit(url).netloc!r} is neither the site's host nor an allowed host"
        )
    return url


def local_name(page: int, index: int, url: str) -> str:
    """Safe local file name of the `index`-th image of `page`: ``PAGE_INDEX-DIGEST.ext``.

    Unique per page and position, so pages never collide, and tied to the URL by a short
    digest, so a page that changes its image never reuses the old file. The extension is
    kept only when it is short and alphanumeric; nothing else of the URL reaches the name.
    """
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    if not re.fullmatch(r"\.[a-z0-9]{1,5}", suffix):
        suffix = ".bin"
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:10]
    return f"{int(page)}_{int(index)}-{digest}{suffix}"


def looks_like_image(data: bytes) -> bool:
    """True when Pillow recognises the bytes as an image format (header only)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.size  # noqa: B018 - reading the header is the check
        return True
    except Exception:  # noqa: BLE001 - any failure means "not an image"
        return False


_RETRYABLE = ("timeout", "connection_error", "truncated")


@dataclass
class HttpFetcher:
    """Polite HTTP GETs.

    One session per thread (connections are reused); a User-Agent naming the tool; at most
    one request every `delay` seconds across all threads; bounded retries with exponential
    backoff and jitter for 5xx, 429, timeouts, resets and truncated bodies, honouring a
    server's Retry-After up to `max_retry_after` seconds; redirects followed only to the
    site's own or allowed hosts; bodies over `max_bytes` refused.
    """

    timeout: float
    retries: int
    max_bytes: int
    user_agent: str
    delay: float = 0.0
    backoff: float = 1.0
    allowed_hosts: tuple[str, ...] = ()
    max_redirects: int = 5
    max_retry_after: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _next: float = field(default=0.0, repr=False)

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers["User-Agent"] = self.user_agent
        return session

    def _wait_turn(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.delay
        if start > now:
            self.sleep(start - now)

    def _once(self, url: str) -> Response:
        site = url
        for _hop in range(self.max_redirects + 1):
            self._wait_turn()
            try:
                with self._session().get(
                    url, timeout=self.timeout, stream=True, allow_redirects=False
                ) as r:
                    if r.is_redirect:
                        target = urljoin(url, r.headers.get("location", ""))
                        if not host_allowed(target, site, self.allowed_hosts):
                            return Response(r.status_code, error="redirect_offsite")
                        url = target
                        continue
                    if r.status_code == 429 or r.status_code >= 500:
                        return Response(r.status_code, retry_after=_retry_after(r.headers))
                    declared = r.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > self.max_bytes:
                        return Response(r.status_code, error="too_large")
                    chunks, size = [], 0
                    for chunk in r.iter_content(64 * 1024):
                        size += len(chunk)
                        if size > self.max_bytes:
                            return Response(r.status_code, error="too_large")
                        chunks.append(chunk)
                    if declared and declared.isdigit() and int(declared) != size:
                        return Response(r.status_code, error="truncated")
                    return Response(r.status_code, b"".join(chunks))
            except requests.Timeout:
                return Response(0, error="timeout")
            except (
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ):
                return Response(0, error="truncated")
            except requests.ConnectionError:
                return Response(0, error="connection_error")
            except requests.RequestException as exc:
                return Response(0, error=f"request_error_{type(exc).__name__}")
        return Response(0, error="too_many_redirects")

    def __call__(self, url: str) -> Response:
        attempt = 0
        while True:
            resp = self._once(url)
            retry = resp.status >= 500 or resp.status == 429 or resp.error in _RETRYABLE
            if not retry or attempt >= self.retries:
                return resp
            wait = self.backoff * (2**attempt) * (1 + random.random())
            if resp.retry_after is not None:
                if resp.retry_after > self.max_retry_after:
                    return resp
                wait = max(wait, resp.retry_after)
            self.sleep(wait)
            attempt += 1


def _retry_after(headers) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), if any."""
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass
class MirrorFetcher:
    """GETs answered from an offline mirror folder: URL path /a/b -> ROOT/a/b."""

    root: Path

    def __call__(self, url: str) -> Response:
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != MIRROR_ORIGIN:
            return Response(0, error="not_in_mirror")
        root = self.root.resolve()
        target = (root / unquote(parts.path).lstrip("/")).resolve()
        if root != target and root not in target.parents:
            return Response(403, error="outside_mirror")
        if not target.is_file():
            index = target / "index.html"
            if not index.is_file():
                return Response(404)
            target = index
        return Response(200, target.read_bytes())


def unreachable(root: str, timeout: float, user_agent: str) -> str | None:
    """Why a web root cannot be reached (no answer at all), or None when it answers.

    Any HTTP status counts as an answer; only network failures (refused, no route, DNS,
    timeout) make a site unreachable.
    """
    try:
        requests.head(
            root, timeout=timeout, allow_redirects=False, headers={"User-Agent": user_agent}
        )
    except requests.Timeout:
        return f"no answer within {timeout} s"
    except requests.RequestException as exc:
        return type(exc).__name__
    return None


def fetcher_for(root: str, **http_options) -> Fetch:
    """An HttpFetcher for a web root, a MirrorFetcher for a folder."""
    if is_web(root):
        return HttpFetcher(**http_options)
    if not Path(root).is_dir():
        raise FileNotFoundError(f"source.site.root {root!r} is neither a URL nor a folder")
    return MirrorFetcher(Path(root))


def scrape_pages(
    pages: Iterable[int],
    root: str,
    page_path: str,
    selector: str,
    fetch: Fetch,
    images_dir: Path,
    reuse: bool,
    concurrency: int,
    log: Callable[[str], None] = lambda _msg: None,
    allowed_hosts: Iterable[str] = (),
    on_page: Callable[[], None] = lambda: None,
) -> list[dict]:
    """Fetch each page, download its panel images into `images_dir`, return manifest rows.

    Every page yields at least one row: one per image found, or one page-level row with
    index 0 saying why there is none (http_404 for a gap, no_images, ...). With `reuse`, an
    image already on disk from an earlier run (same page, position and URL) is not
    downloaded again: image URLs are taken to be immutable. `concurrency` pages are
    fetched at once (the fetcher still spaces its requests); rows come in page order.
    `on_page` is called after each page (for progress reports).
    """
    allowed = tuple(allowed_hosts)

    def one_page(page: int) -> list[dict]:
        rows = _scrape_page(page, root, page_path, selector, fetch, images_dir, reuse, log, allowed)
        on_page()
        return rows

    if concurrency <= 1:
        return [row for page in pages for row in one_page(page)]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return [row for rows in pool.map(one_page, pages) for row in rows]


def _scrape_page(page, root, page_path, selector, fetch, images_dir, reuse, log, allowed):
    url = page_url(root, page_path, page)
    resp = fetch(url)
    if resp.status != 200 or resp.error:
        log(f"page {page}: {status_of(resp)} ({url})")
        return [_row(page, 0, None, url, None, None, status_of(resp))]
    srcs = find_images(resp.body, selector)
    if not srcs:
        return [_row(page, 0, None, url, None, None, "no_images")]
    rows = []
    for index, src in enumerate(srcs, start=1):
        image = f"{page}_{index}"
        try:
            img_url = resolve(url, src, allowed)
        except RefusedSource as exc:
            rows.append(_row(page, index, image, src[:500], None, None, "refused_src"))
            log(f"page {page} image {index}: refused: {exc}")
            continue
        target = images_dir / local_name(page, index, img_url)
        if reuse and target.is_file() and target.stat().st_size > 0:
            data = target.read_bytes()
        else:
            got = fetch(img_url)
            if got.status != 200 or got.error:
                rows.append(_row(page, index, image, img_url, None, None, status_of(got)))
                log(f"page {page} image {index}: {status_of(got)} ({img_url})")
                continue
            data = got.body
            if not looks_like_image(data):
                rows.append(_row(page, index, image, img_url, None, data, "not_an_image"))
                log(f"page {page} image {index}: not an image ({img_url})")
                continue
            tables.write_bytes(data, target)
        rows.append(_row(page, index, image, img_url, str(target), data, tables.OK))
    return rows
