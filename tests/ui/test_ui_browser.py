"""`otel-agents ui` in a real browser: headless Debian chromium driven by Selenium, on a demo store."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from ui_helpers import ROOT, run_demo

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(os.environ.get("OTEL_AGENTS_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "ui"


def _require_browser() -> None:
    """Skip loudly without Debian's chromium + chromium-driver; fail under CI, which must run these."""
    if CHROMIUM.is_file() and CHROMEDRIVER.is_file():
        return
    msg = (
        "!!! BROWSER TESTS SKIPPED: /usr/bin/chromium or /usr/bin/chromedriver missing. "
        "`bash scripts/ui-deps.sh` (run by `make test`) installs Debian's chromium and chromium-driver. "
        "CI must have them. !!!"
    )
    if os.environ.get("CI"):
        pytest.fail(msg.replace("SKIPPED", "CANNOT RUN UNDER CI"), pytrace=False)
    print(f"\n{msg}", file=sys.stderr)
    warnings.warn(msg, stacklevel=2)
    pytest.skip(msg)


@pytest.fixture(scope="module")
def ui_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The UI served by a real `otel-agents ui` subprocess on 127.0.0.1, over a store the demo filled."""
    _require_browser()
    home = tmp_path_factory.mktemp("browser") / "store"
    run_demo(home)
    server = subprocess.Popen(
        [sys.executable, "-m", "otel_agents.cli", "ui", "--port", "0", "--home", str(home)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert server.stdout is not None
    line = server.stdout.readline()
    assert line.startswith("otel-agents ui: http://127.0.0.1:"), line
    try:
        yield line.split()[2].rstrip("/"), home
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless chromium from Debian; the driver path is explicit, so selenium-manager fetches nothing."""
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"\nUI screenshots: {ARTIFACTS}", file=sys.stderr)
    try:
        yield driver
    finally:
        driver.quit()


def _shot(driver: object, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))  # type: ignore[attr-defined]
    assert path.stat().st_size > 10_000, f"{path} looks empty"
    return path


def test_runs_page_lists_the_demo_runs(browser: object, ui_url: tuple[str, Path]) -> None:
    """The runs page shows the demo's three runs, one of them marked error."""
    from selenium.webdriver.common.by import By

    url, _ = ui_url
    browser.get(url + "/")  # type: ignore[attr-defined]
    rows = browser.find_elements(By.CSS_SELECTOR, "#runs-body tr")  # type: ignore[attr-defined]
    assert len(rows) == 3
    statuses = [r.find_element(By.CSS_SELECTOR, ".status").text for r in rows]
    assert sorted(statuses) == ["error", "ok", "ok"]
    assert browser.title.startswith("Runs")  # type: ignore[attr-defined]
    _shot(browser, "runs")


def test_the_failed_run_shows_its_waterfall_with_the_error(browser: object, ui_url: tuple[str, Path]) -> None:
    """Clicking the failed run opens its waterfall with red error bars and the CRM error."""
    from selenium.webdriver.common.by import By

    url, _ = ui_url
    browser.get(url + "/?status=error")  # type: ignore[attr-defined]
    browser.find_element(By.CSS_SELECTOR, "#runs-body tr.error td a").click()  # type: ignore[attr-defined]
    assert "/run/demo-T-1003-" in browser.current_url  # type: ignore[attr-defined]
    waterfall = browser.find_element(By.CSS_SELECTOR, "svg.waterfall")  # type: ignore[attr-defined]
    assert waterfall.is_displayed()
    bars = waterfall.find_elements(By.CSS_SELECTOR, "rect.bar")
    errors = waterfall.find_elements(By.CSS_SELECTOR, "rect.bar.error")
    assert len(bars) == 7 and len(errors) == 3
    assert "ERROR" in waterfall.text and "execute_tool crm_lookup" in waterfall.text
    crm = next(
        d
        for d in browser.find_elements(By.CSS_SELECTOR, "details.span.error")  # type: ignore[attr-defined]
        if "crm_lookup" in d.find_element(By.TAG_NAME, "summary").text
    )
    crm.find_element(By.TAG_NAME, "summary").click()
    assert "CRM did not answer within 2s" in crm.text and "CRM lookup timed out" in crm.text
    browser.execute_script("window.scrollTo(0, 0)")  # type: ignore[attr-defined]
    _shot(browser, "failed-run")


def test_the_agent_graph_shows_edges_with_counts(browser: object, ui_url: tuple[str, Path]) -> None:
    """The agent graph draws router → billing_agent (2, one failed) and router → tech_agent (1)."""
    from selenium.webdriver.common.by import By

    url, _ = ui_url
    browser.get(url + "/")  # type: ignore[attr-defined]
    browser.find_element(By.LINK_TEXT, "Agent graph").click()  # type: ignore[attr-defined]
    edges = {
        g.get_attribute("data-target"): g
        for g in browser.find_elements(By.CSS_SELECTOR, "svg.graph g.edge-group")  # type: ignore[attr-defined]
    }
    assert set(edges) == {"billing_agent", "tech_agent"}
    assert edges["billing_agent"].get_attribute("data-count") == "2"
    assert "2 hand-offs · 50% err" in edges["billing_agent"].text
    assert "1 hand-off · 0% err" in edges["tech_agent"].text
    assert edges["billing_agent"].find_element(By.CSS_SELECTOR, "path.edge.error").is_displayed()
    nodes = browser.find_elements(By.CSS_SELECTOR, "svg.graph .node-name")  # type: ignore[attr-defined]
    assert {n.text for n in nodes} == {"router", "billing_agent", "tech_agent"}
    _shot(browser, "agent-graph")


def test_stats_page_draws_its_charts(browser: object, ui_url: tuple[str, Path]) -> None:
    """The stats page shows six charts with a line or dot per busiest agent."""
    from selenium.webdriver.common.by import By

    url, _ = ui_url
    browser.get(url + "/stats?since=1h")  # type: ignore[attr-defined]
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")  # type: ignore[attr-defined]
    assert len(charts) == 6 and all(c.is_displayed() for c in charts)
    # Lines where a series has several points, dots where it has one (the demo's latencies).
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart polyline.series")  # type: ignore[attr-defined]
    dots = browser.find_elements(By.CSS_SELECTOR, "svg.chart circle.dot")  # type: ignore[attr-defined]
    assert dots and all(d.is_displayed() for d in dots)
    _shot(browser, "stats")


def test_the_runs_page_refreshes_while_an_app_writes(browser: object, ui_url: tuple[str, Path]) -> None:
    """With the runs page open, a second demo's runs appear without a reload (the vendored poll script)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, home = ui_url
    browser.get(url + "/")  # type: ignore[attr-defined]
    before = len(browser.find_elements(By.CSS_SELECTOR, "#runs-body tr"))  # type: ignore[attr-defined]
    run_demo(home)
    WebDriverWait(browser, 20).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#runs-body tr")) == before + 3  # type: ignore[attr-defined]
    )
    body = browser.find_element(By.ID, "runs-body")  # type: ignore[attr-defined]
    assert body.get_attribute("data-refreshed")
    _shot(browser, "runs-refreshed")
