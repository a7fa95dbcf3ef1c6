"""Browser-test plumbing shared by tests/e2e and bench/bench_browser.py (no pytest here).

- ``StreamlitServer`` (from ``bench/server.py``, shared with the benchmarks): ``python -m
  streamlit run <script>`` on a free loopback port, from the repository root,
  health-checked, its log kept in a temp file for failure messages.
- ``launch_browser``: Debian's Chromium (Playwright's own download does not work here).
- ``wait_idle``, ``figure_traces``, ``wait_for_figure_change``: what the tests wait on
  and assert against. A Streamlit rerun replaces a ``st.plotly_chart``'s
  ``.js-plotly-plot`` div (the old one is purged), so every read looks the element
  up again. The Playground's path chart is two stacked divs (``ui/live_chart.py``):
  the reads put their traces together, back layer first.
"""

from __future__ import annotations

import os
import time

from bench.server import ROOT, StreamlitServer  # noqa: F401 - the tests' server

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
# First load of a session: sympy compile on a cold server, then Chromium parses
# Plotly (4.7 MB; on the Playground twice, Streamlit's and the live chart's own) and
# draws three charts. 15-40 s seen on a busy 2-core machine.
LOAD_TIMEOUT_MS = 120_000
RERUN_TIMEOUT_MS = 60_000


def launch_browser(playwright, **kwargs):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, **kwargs)


# -- waiting ----------------------------------------------------------------------


# Add to a browser context (``context.add_init_script``): counts Plotly draws. Streamlit
# loads Plotly lazily and assigns ``window.Plotly``, and so does the plotly.min.js the live
# path chart loads for itself (before it puts the page's own back): the setter wraps
# newPlot/react/animate of each (the live chart moves its traces with animate when only
# their points change).
# After a rerun Streamlit remounts each chart (purge, then a fresh draw) right as the
# script state turns notRunning, so "idle" alone can catch a chart mid-redraw.
PLOTLY_PROBE = """
(() => {
  let P;
  window.__plotly = {pending: 0, calls: 0, by: {}};
  const wrap = (v) => {
    if (!v || v.__e2eWrapped) return v;
    for (const f of ['newPlot', 'react', 'animate']) {
      const orig = v[f];
      if (typeof orig !== 'function') continue;
      v[f] = function (...args) {
        window.__plotly.pending++;
        window.__plotly.calls++;
        window.__plotly.by[f] = (window.__plotly.by[f] || 0) + 1;
        let r;
        try { r = orig.apply(this, args); } catch (e) { window.__plotly.pending--; throw e; }
        Promise.resolve(r).finally(() => requestAnimationFrame(() => { window.__plotly.pending--; }));
        return r;
      };
    }
    v.__e2eWrapped = true;
    return v;
  };
  Object.defineProperty(window, 'Plotly', {configurable: true, enumerable: true, get: () => P, set: (v) => { P = wrap(v); }});
})();
"""

_QUIET = """() => [document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state') ?? null,
  window.__plotly ? window.__plotly.calls : -1, window.__plotly ? window.__plotly.pending : 0]"""


def wait_idle(page, timeout: int = RERUN_TIMEOUT_MS, settle: float = 0.5) -> None:
    """Wait until the script is not running and no Plotly draw started for ``settle`` seconds.

    Without ``PLOTLY_PROBE`` in the page this is: notRunning, a ``settle`` pause, notRunning.
    """
    deadline = time.monotonic() + timeout / 1000
    while True:
        page.wait_for_selector(IDLE, timeout=max(1, int((deadline - time.monotonic()) * 1000)))
        before = page.evaluate(_QUIET)
        time.sleep(settle)
        after = page.evaluate(_QUIET)
        if after[0] == "notRunning" and after[1] == before[1] and after[2] == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"page never settled within {timeout / 1000:.0f} s: {after}")


def open_app(page, url: str, chart_key: str = "path_chart", timeout: int = LOAD_TIMEOUT_MS) -> None:
    """Navigate and wait until the chart is drawn and the script has finished."""
    page.goto(url, wait_until="domcontentloaded", timeout=timeout)
    # Either the chart is drawn, or the run ended without it (an exception, say): fail fast then.
    page.wait_for_function(
        "(key) => (" + _FULLDATA_READY + ")(key) || !!document.querySelector('" + IDLE + " [data-testid=stException]')",
        arg=chart_key,
        timeout=timeout,
    )
    exc = page.locator("[data-testid=stException]")
    if exc.count():
        raise AssertionError(f"the app shows an exception at {page.url}: {exc.first.inner_text()[:2000]}")
    wait_idle(page, timeout=timeout)


# A chart's Plotly divs: the live path chart has a back layer (the surface) in its own
# element, ``dl_back_<key>``, under the front one; other charts have one div.
_LAYERS = """(key) => {
  const front = document.querySelector('.st-key-' + key + ' .js-plotly-plot');
  const back = document.querySelector('.st-key-dl_back_' + key + ' .js-plotly-plot');
  return back ? [back, front] : [front];
}"""

_FULLDATA_READY = """(key) => (""" + _LAYERS + """)(key).every((gd) => !!(gd && gd._fullData && gd._fullData.length && gd._fullLayout && gd._fullLayout.xaxis))"""


# -- reading the chart ----------------------------------------------------------------

_READ_FIGURE = """(key) => {
  const layers = (""" + _LAYERS + """)(key);
  if (!layers.every((gd) => gd && gd._fullData && gd._fullLayout && gd._fullLayout.xaxis)) return null;
  const gd = layers[layers.length - 1];  // the front: axes, menus, frames
  const arr = (a) => (a && a.length !== undefined ? Array.from(a, Number) : []);
  const L = gd._fullLayout;
  // Every layer's traces, back first; not the front's stand-ins for the back's colorbar.
  const data = layers.flatMap((g) => g._fullData).filter((d) => d.meta !== 'colorbar-only');
  return {
    traces: data.map((d, i) => ({
      index: i,
      name: d.name,
      type: d.type,
      mode: d.mode || null,
      yaxis: d.yaxis || 'y',
      n: d.x ? d.x.length : 0,
      // Contour x/y are the grid axes; the z grid is left out (large, and unchanged by paths).
      x: arr(d.x),
      y: arr(d.y),
    })),
    xrange: L.xaxis.range.slice(),
    yrange: L.yaxis.range.slice(),
    updatemenus: (L.updatemenus || []).map((m) => (m.buttons || []).map((b) => b.label)),
    slider_active: L.sliders && L.sliders.length ? L.sliders[0].active : null,
    slider_prefix: L.sliders && L.sliders.length && L.sliders[0].currentvalue ? L.sliders[0].currentvalue.prefix : null,
    frames: gd._transitionData && gd._transitionData._frames ? gd._transitionData._frames.length : 0,
  };
}"""


def figure_data(page, key: str = "path_chart") -> dict | None:
    """The drawn figure of chart ``key`` as plain data: per-trace name/type/mode/x/y, axis ranges, menus."""
    return page.evaluate(_READ_FIGURE, key)


def figure_traces(page, key: str = "path_chart") -> list[dict] | None:
    fig = figure_data(page, key)
    return None if fig is None else fig["traces"]


def path_traces(traces: list[dict]) -> list[dict]:
    """The optimizer trails on the contour (scatter, lines only, not the loss panel's y2): one per optimizer."""
    return [t for t in traces if t["type"] == "scatter" and t["mode"] == "lines" and t.get("yaxis", "y") == "y"]


def signature(traces: list[dict] | None):
    """Comparable digest of the scatter traces (the contour z grid is not read)."""
    if traces is None:
        return None
    return tuple((t["name"], t["n"], tuple(round(v, 6) for v in t["x"][-3:]), tuple(round(v, 6) for v in t["y"][-3:])) for t in traces if t["type"] == "scatter")


def wait_for_figure_change(page, before, key: str = "path_chart", timeout: float = RERUN_TIMEOUT_MS / 1000):
    """Poll until the chart's scatter data differs from ``before`` (a ``signature``), then wait idle."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = signature(figure_traces(page, key))
        if now is not None and now != before:
            wait_idle(page)
            after = figure_traces(page, key)
            if after is not None:
                return after
        time.sleep(0.2)
    raise AssertionError(f"chart {key!r} did not change within {timeout:.0f} s")


def pixel_of(page, x: float, y: float, key: str = "path_chart") -> tuple[float, float]:
    """Page pixel of data point (x, y) in chart ``key`` (linear axes)."""
    fig = figure_data(page, key)
    box = page.locator(f".st-key-{key} .nsewdrag").first.bounding_box()
    (x0, x1), (y0, y1) = fig["xrange"], fig["yrange"]
    px = box["x"] + (x - x0) / (x1 - x0) * box["width"]
    py = box["y"] + (y1 - y) / (y1 - y0) * box["height"]
    return px, py


def no_errors(page, browser_log, bad_responses=()) -> None:
    """The page shows no exception, logged no page error or console error (a failed resource
    load aside: ``bad_responses`` lists those that matter), and received no bad response."""
    exc = page.locator("[data-testid=stException]")
    assert exc.count() == 0, exc.first.inner_text()
    assert browser_log.page_errors == [], browser_log.page_errors
    assert list(bad_responses) == []
    other = [m for m in browser_log.console_errors if not m.startswith("Failed to load resource")]
    assert other == [], other
