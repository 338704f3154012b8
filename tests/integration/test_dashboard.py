"""The dashboard in headless Chromium (Playwright) over the API on the real embedded broker:
the page loads, a risk rise and its page (``alarm``) appear live, a preference set in the page
reaches the topic.

Chromium: ``FOREWARN_CHROMIUM`` or the system's (Debian: ``apt-get install chromium``);
Playwright's own download is not needed. Without either the test skips, saying so.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.codec import Codec
from streams.api.server import ApiServer
from streams.runtime.broker import free_port
from streams.settings import Settings
from tests.apiutil import ensure_topic, grant, produce, risk
from tests.kafkautil import read_all

pytestmark = pytest.mark.integration
T0 = 1_767_571_200_000
SHOT = os.environ.get("FOREWARN_SCREENSHOT")  # a path: also save a screenshot there


def chromium() -> str | None:
    for cand in (os.environ.get("FOREWARN_CHROMIUM"), "chromium", "chromium-browser",
                 "google-chrome"):
        if cand and (found := shutil.which(cand) or (cand if Path(cand).is_file() else None)):
            return found
    return None


@pytest.fixture
def page(settings: Settings) -> Iterator[tuple[object, ApiServer]]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    exe = chromium()
    if exe is None:
        pytest.skip("no chromium binary (apt-get install chromium, or set FOREWARN_CHROMIUM)")
    ensure_topic(settings, "feedback")
    server = ApiServer(settings, port=free_port()).start()
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=exe, args=["--no-sandbox"])
            try:
                pg = browser.new_page(viewport={"width": 1500, "height": 950})
                yield pg, server
            finally:
                browser.close()
    finally:
        server.close()


def test_dashboard_live(settings: Settings, page: tuple[object, ApiServer]) -> None:
    pg, server = page
    steps = [("risk", "RiskScore", risk("web-01", T0 + i * 60_000, 0.05 + 0.01 * i))
             for i in range(30)]
    steps += [("risk", "RiskScore", risk(f"db-0{k}", T0 + i * 60_000, 0.1 * k, eta_s=None))
              for k in range(1, 4) for i in range(30)]
    steps += [("metrics", "MetricSample", {"component": "web-01", "host": "web-01",
                                           "ts": T0 + i * 60_000,
                                           "metrics": {"cpu.util": 0.4 + 0.015 * i},
                                           "tags": {}}) for i in range(31)]
    produce(settings, steps)
    pg.goto(server.url)  # type: ignore[attr-defined]
    row = pg.locator('#components tr[data-id="web-01"] td.risk')  # type: ignore[attr-defined]
    row.wait_for(timeout=20_000)
    assert row.inner_text().startswith("0.34")
    pg.locator("#status.on").wait_for(timeout=10_000)  # type: ignore[attr-defined]
    page = pg.locator('#components tr[data-id="web-01"] td.page')  # type: ignore[attr-defined]
    assert page.inner_text() == "unknown"  # events without the page (before s29): not "no"

    # a risk rise, with its page and the grant it caused, appears without a reload
    produce(settings, [
        ("risk", "RiskScore", risk("db-01", T0 + 30 * 60_000, 0.1, eta_s=None, alarm=False)),
        ("risk", "RiskScore", risk("web-01", T0 + 30 * 60_000, 0.93, eta_s=240, alarm=True)),
        ("allocations", "AllocationCommand", grant("web-01", T0 + 30 * 60_000)),
    ])
    pg.wait_for_function(  # type: ignore[attr-defined]
        "() => document.querySelector('#components tr[data-id=\"web-01\"] td.risk')"
        ".innerText.startsWith('0.93')", timeout=20_000)
    first = pg.locator("#components tbody tr").first  # type: ignore[attr-defined]
    assert first.get_attribute("data-id") == "web-01"  # pages first, then highest risk
    pg.locator('#components tr.firing[data-id="web-01"] td.page.firing',  # type: ignore
               has_text="since 01-05 00:30").wait_for(timeout=10_000)
    assert pg.locator('#components tr[data-id="db-01"] td.page').inner_text() == "–"  # type: ignore
    assert pg.locator("#paging").inner_text() == "1 paging"  # type: ignore[attr-defined]
    pg.locator("#page", has_text="PAGE FIRING since 01-05 00:30").wait_for(  # type: ignore
        timeout=10_000)
    pg.locator("#fleet-leases li", has_text="CPU_WEIGHT").wait_for(  # type: ignore[attr-defined]
        timeout=10_000)
    pg.locator("#events li", has_text="GRANT").wait_for(timeout=10_000)  # type: ignore
    pg.locator("#breach", has_text="cpu.util").wait_for(timeout=10_000)  # type: ignore
    assert pg.locator("#metric-chart canvas").count() == 1  # type: ignore[attr-defined]

    # a preference set in the page reaches the topic
    pg.fill("#pref-selector", "db-*")  # type: ignore[attr-defined]
    pg.fill("#pref-criticality", "8")  # type: ignore[attr-defined]
    pg.click("#pref-save")  # type: ignore[attr-defined]
    pg.locator("#pref-result", has_text="set db-*").wait_for(timeout=10_000)  # type: ignore
    got = read_all(settings, "preferences", until=lambda r: len(r) >= 1, codec=Codec())
    assert got[0][2] == b"db-*" and got[0][3]["criticality"] == 8
    pg.locator("#prefs li", has_text="db-*").wait_for(timeout=10_000)  # type: ignore
    if SHOT:
        pg.wait_for_timeout(1500)  # type: ignore[attr-defined]
        pg.screenshot(path=SHOT, full_page=True)  # type: ignore[attr-defined]
