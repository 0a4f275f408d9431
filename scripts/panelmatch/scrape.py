"""Read story pages, find their panel images and download them.

A site is either a web root (``https://...``) or a local folder holding the same pages as
files (an offline mirror). Both go through the same parser and the same URL rules: a page
is fetched at ``root + page_path.format(page=N)`` and each panel ``src`` is resolved against
the page's URL. For a mirror the URLs use the placeholder origin :data:`MIRROR_ORIGIN`, whose
paths map onto files under the mirror folder.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

import requests
from bs4 import BeautifulSoup
from PIL import Image

from . import tables

MIRROR_ORIGIN = "http://mirror.invalid"
USER_AGENT = "panelmatch/0.1 (reused-art finder; polite batch scraper)"


@dataclass(frozen=True)
class Response:
    """What a fetch returned: an HTTP status (0 when no response came) and the body."""

    status: int
    body: bytes = b""
    error: str = ""  # why there is no usable response (network error, size limit, ...)


Fetch = Callable[[str], Response]


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


def resolve(page: str, src: str) -> str:
    """Absolute URL of image `src` found on the page at URL `page`.

    Only http(s) on the page's own host is followed; other schemes (file:, javascript:,
    data:) and other hosts raise RefusedSource, as does a path that climbs above the root.
    """
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", src) and not src.lower().startswith(
        ("http:", "https:")
    ):
        raise RefusedSource(f"scheme not allowed: {src[:80]!r}")
    if "/../" in "/" + unquote(urlsplit(src).path) + "/":
        raise RefusedSource(f"path climbs out of the site: {src[:80]!r}")
    url = urljoin(page, src)
    parts, base = urlsplit(url), urlsplit(page)
    if parts.scheme not in ("http", "https"):
        raise RefusedSource(f"scheme not allowed: {src[:80]!r}")
    if parts.netloc.lower() != base.netloc.lower():
        raise RefusedSource(f"host {parts.netloc!r} is not the site's host {base.netloc!r}")
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


@dataclass
class HttpFetcher:
    """Polite HTTP GETs: one session (connection reuse), a User-Agent, a minimum interval
    between requests, bounded retries with exponential backoff and jitter for 5xx, 429 and
    network errors, and a byte limit on bodies."""

    timeout: float = 30.0
    delay: float = 0.0
    retries: int = 3
    backoff: float = 1.0
    max_bytes: int = 50 * 1024 * 1024
    user_agent: str = USER_AGENT
    sleep: Callable[[float], None] = time.sleep
    _session: requests.Session = field(default_factory=requests.Session, repr=False)
    _last: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._session.headers["User-Agent"] = self.user_agent

    def _wait_turn(self) -> None:
        gap = self.delay - (time.monotonic() - self._last)
        if gap > 0:
            self.sleep(gap)
        self._last = time.monotonic()

    def _once(self, url: str) -> Response:
        self._wait_turn()
        try:
            with self._session.get(
                url, timeout=self.timeout, stream=True, allow_redirects=False
            ) as r:
                if r.is_redirect:
                    return Response(r.status_code, error="redirect")
                chunks, size = [], 0
                for chunk in r.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > self.max_bytes:
                        return Response(r.status_code, error="too_large")
                    chunks.append(chunk)
                return Response(r.status_code, b"".join(chunks))
        except requests.Timeout:
            return Response(0, error="timeout")
        except requests.RequestException as exc:
            return Response(0, error=f"connection_error: {type(exc).__name__}")

    def __call__(self, url: str) -> Response:
        attempt = 0
        while True:
            resp = self._once(url)
            retry = resp.status >= 500 or resp.status == 429 or (resp.status == 0)
            if not retry or attempt >= self.retries:
                return resp
            self.sleep(self.backoff * (2**attempt) * (1 + random.random()))
            attempt += 1


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


def fetcher_for(root: str, **http_options) -> Fetch:
    """An HttpFetcher for a web root, a MirrorFetcher for a folder."""
    if is_web(root):
        return HttpFetcher(**http_options)
    if not Path(root).is_dir():
        raise FileNotFoundError(f"source.site.root {root!r} is neither a URL nor a folder")
    return MirrorFetcher(Path(root))


def _status(resp: Response) -> str:
    if resp.error:
        return resp.error if resp.status == 0 else f"http_{resp.status}_{resp.error}"
    return f"http_{resp.status}"


def save_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def scrape_pages(
    pages: Iterable[int],
    root: str,
    page_path: str,
    selector: str,
    fetch: Fetch,
    images_dir: Path,
    reuse: bool,
    log: Callable[[str], None] = lambda _msg: None,
) -> list[dict]:
    """Fetch each page, download its panel images into `images_dir`, return manifest rows.

    Every page yields at least one row: one per image found, or one page-level row with
    index 0 saying why there is none (http_404 for a gap, no_images, ...). With `reuse`, an
    image already on disk from an earlier run (same page, position and URL) is not
    downloaded again: image URLs are taken to be immutable.
    """
    rows: list[dict] = []
    for page in pages:
        url = page_url(root, page_path, page)
        resp = fetch(url)
        if resp.status != 200 or resp.error:
            rows.append(_row(page, 0, None, url, None, None, _status(resp)))
            log(f"page {page}: {_status(resp)} ({url})")
            continue
        srcs = find_images(resp.body, selector)
        if not srcs:
            rows.append(_row(page, 0, None, url, None, None, "no_images"))
            continue
        for index, src in enumerate(srcs, start=1):
            image = f"{page}_{index}"
            try:
                img_url = resolve(url, src)
            except RefusedSource as exc:
                rows.append(_row(page, index, image, src, None, None, "refused_src"))
                log(f"page {page} image {index}: refused: {exc}")
                continue
            target = images_dir / local_name(page, index, img_url)
            if reuse and target.is_file() and target.stat().st_size > 0:
                data = target.read_bytes()
            else:
                got = fetch(img_url)
                if got.status != 200 or got.error:
                    rows.append(_row(page, index, image, img_url, None, None, _status(got)))
                    log(f"page {page} image {index}: {_status(got)} ({img_url})")
                    continue
                data = got.body
                if not looks_like_image(data):
                    rows.append(_row(page, index, image, img_url, None, data, "not_an_image"))
                    log(f"page {page} image {index}: not an image ({img_url})")
                    continue
                save_atomic(target, data)
            rows.append(_row(page, index, image, img_url, str(target), data, tables.OK))
    return rows


def _row(page, index, image, url, path, data, status) -> dict:
    return {
        "page": page,
        "index": index,
        "image": image,
        "url": url,
        "path": path,
        "bytes": len(data) if data is not None else None,
        "sha256": hashlib.sha256(data).hexdigest() if data is not None else None,
        "status": status,
    }


def file_row(folder: Path, relpath: str) -> dict:
    """Manifest row of one file of a folder input (status ok, or why it cannot be read)."""
    path = folder / relpath
    try:
        data = path.read_bytes()
    except OSError as exc:
        return _row(None, 0, relpath, None, str(path), None, f"unreadable: {exc.strerror}")
    return _row(None, 0, relpath, None, str(path), data, tables.OK)
