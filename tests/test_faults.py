"""Every scraper fault ends as a manifest row with a precise status, and the run completes."""

import pandas as pd
import pytest
from conftest import fetcher, scrape_pages, snakemake, write_config
from faults import EXPECTED, MAX_BYTES, FaultServer

SELECTOR = "img.mar-x-auto.disp-bl"


@pytest.fixture
def fault_server():
    server = FaultServer()
    yield server
    server.close()


def test_each_fault_has_its_status(fault_server, tmp_path):
    slept = []
    fetch = fetcher(
        timeout=0.5, retries=2, backoff=0.01, max_bytes=MAX_BYTES, sleep=lambda s: slept.append(s)
    )
    rows = scrape_pages(
        range(1, 8), fault_server.url, "/story/{page}", SELECTOR, fetch, tmp_path, reuse=True
    )
    got = {r["image"]: r["status"] for r in rows if r["image"]}
    assert got == EXPECTED
    page_rows = {r["page"]: r["status"] for r in rows if r["index"] == 0}
    assert page_rows == {4: "http_404", 7: "no_images"}
    # 500 then success: retried once; 429: retried after at least its Retry-After
    assert len(fault_server.requests_for("/f/flaky.gif")) == 2
    assert len(fault_server.requests_for("/f/ratelimited.gif")) == 2
    assert 1.0 in slept
    # bounded attempts: 1 + retries for faults that never clear; no retry for a 404
    assert len(fault_server.requests_for("/f/reset.gif")) == 3
    assert len(fault_server.requests_for("/f/slow.gif")) == 3
    assert len(fault_server.requests_for("/story/4")) == 1
    # refused sources were never requested, the offsite redirect was not followed
    assert not any("passwd" in p or "windows" in p for _, p in fault_server.log)
    # only complete, real images were written
    assert sorted(p.name.split("-")[0] for p in tmp_path.iterdir()) == ["1_1", "1_2", "1_3", "6_1"]


def test_retry_after_is_honoured_in_real_time(fault_server, tmp_path):
    fetch = fetcher(timeout=5, retries=1, backoff=0.01)
    resp = fetch(fault_server.url + "/f/ratelimited.gif")
    assert resp.status == 200
    first, second = fault_server.requests_for("/f/ratelimited.gif")
    assert second - first >= 1.0


def test_requests_are_spaced_and_identify_the_tool(fault_server):
    fetch = fetcher(timeout=5, retries=0, delay=0.2)
    for _ in range(3):
        assert fetch(fault_server.url + "/f/ok.gif").status == 200
    times = fault_server.requests_for("/f/ok.gif")
    assert all(b - a >= 0.19 for a, b in zip(times, times[1:], strict=False))


@pytest.mark.workflow
def test_workflow_completes_and_counts_every_fault(fault_server, tmp_path):
    cfg = {
        "source": {
            "site": {
                "root": fault_server.url,
                "first_page": 1,
                "last_page": 8,
                "pages_per_chunk": 4,
                "timeout": 0.5,
                "retries": 1,
                "delay": 0.0,
                "max_image_bytes": MAX_BYTES,
            }
        },
        "evaluation": {"truth": None},
    }
    snakemake(tmp_path, configfile=write_config(tmp_path / "faults.yaml", cfg))
    failures = pd.read_csv(tmp_path / "results/failures.csv", keep_default_na=False)
    expected_failed = {k: v for k, v in EXPECTED.items() if v != "ok"}
    assert dict(zip(failures["image"], failures["reason"], strict=True)) == expected_failed
    assert set(failures["stage"]) == {"scrape"}
    groups = pd.read_csv(tmp_path / "results/groups.csv")
    assert sorted(groups["image"]) == sorted(k for k, v in EXPECTED.items() if v == "ok")
    summary = (tmp_path / "results/summary.txt").read_text()
    assert f"inputs (images found):      {len(EXPECTED)}" in summary
    assert f"processed + failed:         {len(EXPECTED)}" in summary
    assert "refused_src: 5" in summary and "timeout: 1" in summary
