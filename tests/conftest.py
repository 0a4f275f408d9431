"""Shared fixtures: the repository layout, small images, and real Snakemake runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "Snakefile"
SHARED = Path(os.environ.get("PANELMATCH_SHARED", REPO.parent / "shared"))
REAL_PANELS = SHARED / "data" / "homestuck" / "panels"

# Test this checkout's core library, whatever else is installed.
sys.path.insert(0, str(REPO / "scripts"))

#: A small demo: 24 pages, one family per relation, 3 chunks of 8 pages.
SMALL_DEMO = {
    "source": {"site": {"last_page": 24, "pages_per_chunk": 8}},
    "demo": {"pages": 24, "families_per_relation": 1, "singles": 2},
}


#: The site's settings the scraper tests use (the schema's user agent).
AGENT = yaml.safe_load((REPO / "config.yaml").read_text())["source"]["site"]["user_agent"]


def fetcher(**changes):
    """An HttpFetcher with the scraper tests' timeout, retries and limits, and `changes`."""
    from panelmatch import scrape

    options = {"timeout": 5, "retries": 0, "max_bytes": 50 << 20, "user_agent": AGENT}
    return scrape.HttpFetcher(**{**options, **changes})


def scrape_pages(*args, concurrency=1, **kwargs):
    """scrape.scrape_pages, one page at a time unless told otherwise."""
    from panelmatch import scrape

    return scrape.scrape_pages(*args, concurrency=concurrency, **kwargs)


def doodle(seed: int, text: list[str] | None = None) -> np.ndarray:
    """A 650 x 450 page laid out as every other: boxes at fixed places, each filled with
    its own random polygons and strokes (from `seed`); with `text`, two boxes above its
    lines of lettering, else three."""
    rng = np.random.default_rng(seed)
    page = np.full((450, 650, 3), 255, np.uint8)
    boxes = [(10, 10, 320, 250), (330, 10, 640, 250), (10, 260, 640, 340)]
    for x0, y0, x1, y1 in boxes[: 2 if text else 3]:
        for _ in range(14):
            points = rng.integers((x0, y0), (x1, y1), size=(rng.integers(3, 6), 2))
            colour = tuple(int(c) for c in rng.integers(0, 230, 3))
            if rng.random() < 0.5:
                cv2.fillPoly(page, [points.astype(np.int32)], colour)
            cv2.polylines(page, [points.astype(np.int32)], True, (0, 0, 0), 2)
        cv2.rectangle(page, (x0, y0), (x1, y1), (0, 0, 0), 4)
    for k, line in enumerate(text or []):
        cv2.putText(page, line, (20, 290 + 28 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1)
    return page


def write_config(path: Path, cfg: dict) -> Path:
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def snakemake_cmd(workdir: Path, *args: str, configfile: Path | None = None) -> list[str]:
    require_workflow_mark()
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(SNAKEFILE),
        "--directory",
        str(workdir),
        "--cores",
        "2",
    ]
    # targets and options first: --configfile takes every following word as a file
    cmd += list(args)
    if configfile is not None:
        cmd += ["--configfile", str(configfile)]
    return cmd


#: The test being run (set by the autouse fixture below), so that the helpers can check
#: that a test which runs Snakemake is marked ``workflow``: ``pytest -m "not workflow"``
#: is the fast loop, and one unmarked Snakemake run would slow it by a minute.
_CURRENT: list[pytest.Item] = []
WORKFLOW = "workflow"


@pytest.fixture(autouse=True)
def _current_test(request):
    _CURRENT.append(request.node)
    yield
    _CURRENT.pop()


def require_workflow_mark() -> None:
    """Fail the running test unless it is marked ``workflow`` (it is about to run Snakemake)."""
    if _CURRENT and _CURRENT[-1].get_closest_marker(WORKFLOW) is None:
        pytest.fail(
            f"{_CURRENT[-1].nodeid} runs Snakemake but is not marked @pytest.mark.workflow",
            pytrace=False,
        )


def pytest_collection_modifyitems(config, items):
    """A test that reads the session's demo run needs Snakemake: it must be marked."""
    unmarked = [
        item.nodeid
        for item in items
        if "small_demo_run" in getattr(item, "fixturenames", ())
        and item.get_closest_marker(WORKFLOW) is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "these tests use small_demo_run (a real Snakemake run) without the workflow mark: "
            + ", ".join(unmarked)
        )


def snakemake(
    workdir: Path, *args: str, configfile: Path | None = None, check: bool = True, env=None
):
    """Run the real workflow in `workdir`; returns the CompletedProcess (output in .stdout)."""
    cmd = snakemake_cmd(workdir, *args, configfile=configfile)
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, env=env)
    proc.stdout = proc.stdout + proc.stderr
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-6000:]}")
    return proc


@pytest.fixture(scope="session")
def small_demo_run(tmp_path_factory) -> Path:
    """One real run of the workflow on the small demo; tests read its outputs, never modify it."""
    workdir = tmp_path_factory.mktemp("demo_run")
    cfg = write_config(workdir / "small.yaml", SMALL_DEMO)
    snakemake(workdir, configfile=cfg)
    return workdir


class SiteServer:
    """A real HTTP server on 127.0.0.1 serving a folder, recording every request path."""

    def __init__(self, root: Path, delay: float = 0.0):
        import functools
        import http.server
        import threading
        import time

        self.requests: list[str] = []
        log = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                log.append(self.path)
                time.sleep(delay)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
        )
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory):
    """The small demo site written by the core generator, and its ground truth rows."""
    import democomic as demo

    root = tmp_path_factory.mktemp("demo_site") / "site"
    d = SMALL_DEMO["demo"]
    truth = demo.write_site(root, 413, d["pages"], d["families_per_relation"], d["singles"])
    return root, truth


@pytest.fixture
def serve():
    servers = []

    def start(root: Path, delay: float = 0.0) -> SiteServer:
        server = SiteServer(root, delay)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def browser(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
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
    service = webdriver.ChromeService(shutil.which("chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    yield driver
    driver.quit()
