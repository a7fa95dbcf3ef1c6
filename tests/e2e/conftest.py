"""Fixtures for the browser tests: one Streamlit server and one Chromium per session.

Run: python -m pytest tests/e2e -q -p no:cacheprovider
The server runs ``app.py`` from the repository root (found from this file's path)
on a free port; Chromium is Debian's (``E2E_CHROMIUM`` overrides the path).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from dataclasses import dataclass, field

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import ROOT, StreamlitServer, figure_data, figure_traces, launch_browser, wait_idle  # noqa: E402,F401

__all__ = ["wait_idle", "figure_data", "figure_traces"]


@pytest.fixture(scope="session")
def server():
    """The running app server (a ``harness.StreamlitServer``); ``server.url`` is the base URL."""
    if not os.path.exists(harness.CHROMIUM):
        pytest.fail(f"no Chromium at {harness.CHROMIUM}: apt-get install -y chromium (or set E2E_CHROMIUM)")
    srv = StreamlitServer("app.py", cwd=ROOT).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def base_url(server) -> str:
    return server.url


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(harness.CHROMIUM):
        pytest.fail(f"no Chromium at {harness.CHROMIUM}: apt-get install -y chromium (or set E2E_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_browser(p)
        try:
            yield b
        finally:
            b.close()


@dataclass
class BrowserLog:
    """What the page reported: console errors and uncaught page errors."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    setattr(item, "rep_" + rep.when, rep)
    return rep


def _save_failure(request, page, server=None) -> None:
    """On a failed test: a screenshot and the server log's tail, paths printed in the report."""
    rep = getattr(request.node, "rep_call", None)
    if rep is None or not rep.failed:
        return
    out = os.path.join(tempfile.gettempdir(), "descent-e2e")
    os.makedirs(out, exist_ok=True)
    shot = os.path.join(out, request.node.name + ".png")
    try:
        page.screenshot(path=shot, full_page=True)
        rep.sections.append(("e2e artifacts", f"screenshot: {shot}\nurl: {page.url}"))
    except Exception as exc:  # the page may be gone
        rep.sections.append(("e2e artifacts", f"no screenshot: {exc}"))
    if server is not None:
        rep.sections.append(("streamlit log (tail)", server.log_text()[-4000:]))


def _new_page(browser, log: BrowserLog, **context_args):
    context = browser.new_context(**context_args)
    context.add_init_script(harness.PLOTLY_PROBE)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on("console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log.page_errors.append(str(e)))
    return context, page


@pytest.fixture
def page(request, browser, browser_log, server):
    """A desktop-sized page in a fresh context (its own Streamlit session), errors recorded in ``browser_log``."""
    context, pg = _new_page(browser, browser_log, viewport={"width": 1400, "height": 1000})
    yield pg
    _save_failure(request, pg, server)
    context.close()


@pytest.fixture
def phone_page(request, browser, browser_log, server):
    """A 390 x 844 touch page (an iPhone-sized viewport)."""
    context, pg = _new_page(
        browser, browser_log, viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True, has_touch=True
    )
    yield pg
    _save_failure(request, pg, server)
    context.close()


@pytest.fixture
def server_log_mark(server):
    """Offset into the server log at the start of the test; see ``assert_healthy``."""
    return server.log_size()


# Opened at a page URL (/lessons, /sweep), Streamlit's frontend first probes
# /<page>/_stcore/health and /<page>/_stcore/host-config in case the app is served under a
# base path, then uses /_stcore/...: those two 404s are expected.
_PROBE = re.compile(r"/[a-z_]+/_stcore/(health|host-config)$")


@pytest.fixture
def bad_responses(page) -> list[str]:
    """Every HTTP response of 400 or more the page receives (the base-path probes aside)."""
    seen: list[str] = []
    page.on("response", lambda r: seen.append(f"{r.status} {r.url}") if r.status >= 400 and not _PROBE.search(r.url.split("?")[0]) else None)
    return seen
