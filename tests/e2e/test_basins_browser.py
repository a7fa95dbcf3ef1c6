"""The Sweep page's map of starts (issue 18) in a real browser: two basin maps side by side,
success over seeds, and a click on a cell that opens that start in the Playground.

The link is the lesson "basins" setup: the six-hump camel, SGD beside momentum, a 32 x 32 grid
of starts, 300 steps; 200 seeds from (-1.15, 0.77) with gradient noise 2. Its numbers (59.0%,
62.9% of the starts; 20% of the seeds, 95% CI 15-26%) are the lesson's, checked without a
browser in tests/test_lesson_basins.py: here they must reach the page.

Two page loads in all (one per test); the grids and the seeded runs are cached by the server,
so the second load computes nothing.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from harness import LOAD_TIMEOUT_MS, figure_data, no_errors, open_app, path_traces, wait_idle
from i18n import t

import sweep

SWEEP = (
    "/sweep?sw_landscape=six_hump_camel&sw_optimizer=sgd&sw_x=x0&sw_y=y0&sw_metric=basin&sw_vs=momentum"
    "&sw_mode=grid&sw_n=32&sw_steps=300&sw_noise=2.0&sw_seeds=200&sw_sx=-1.15&sw_sy=0.77"
)
MAPS = ("sweep_chart", "sweep_chart_vs")  # SGD's map, momentum's beside it
SEEDS_CHART = "sweep_seeds_chart"
N = 32
NAMES = [t("opt.sgd", "en"), t("opt.momentum", "en")]
# The six-hump camel's two global minima, (+-0.0898, -+0.7126).
GLOBAL_MINIMA = [(0.0898, -0.7126), (-0.0898, 0.7126)]
PLAYGROUND_URL = re.compile(r"^https?://[^/]+/(playground)?(\?.*)?$")  # the default page: / (the Sweep is /sweep)
TARGET = (1.5, -0.5)  # the cell clicked: the one whose centre is nearest (in the basin of minimum 6)


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


_READY = "(key) => { const gd = document.querySelector('.st-key-' + key + ' .js-plotly-plot'); return !!(gd && gd._fullData && gd._fullData.length && gd._fullLayout && gd._fullLayout.xaxis); }"


def open_sweep(page, base_url: str) -> None:
    """Open the link and wait until both maps and the seeds chart are drawn and the page is idle."""
    open_app(page, base_url + SWEEP, chart_key=MAPS[0])
    for key in (MAPS[1], SEEDS_CHART):
        page.wait_for_function(_READY, arg=key, timeout=LOAD_TIMEOUT_MS)
    wait_idle(page)


# What figure_data leaves out: the heatmap's z grid, marker symbols, bar values.
_DETAILS = """(key) => {
  const gd = document.querySelector('.st-key-' + key + ' .js-plotly-plot');
  const arr = (a) => (a && a.length !== undefined ? Array.from(a, (v) => (v === null ? null : Number(v))) : []);
  return gd._fullData.map((d) => ({
    name: d.name, type: d.type,
    z: d.type === 'heatmap' ? Array.from(d.z, (row) => arr(row)) : null,
    symbol: d.marker ? d.marker.symbol : null,
    x: d.type === 'bar' ? arr(d.x) : null,  // horizontal bars: the shares ...
    y: d.type === 'bar' ? Array.from(d.y, String) : null,  // ... of these outcomes
  }));
}"""


def details(page, key: str) -> list[dict]:
    return page.evaluate(_DETAILS, key)


def cell_centres() -> tuple[np.ndarray, np.ndarray]:
    """The grid the link asks for: N points per axis over the surface's window of starts."""
    (x_lo, x_hi), (y_lo, y_hi) = (sweep.axis_range(a, "six_hump_camel") for a in sweep.START_AXES)
    return np.linspace(x_lo, x_hi, N), np.linspace(y_lo, y_hi, N)


def test_two_basin_maps_and_success_over_seeds_are_drawn(page, base_url, browser_log, bad_responses):
    open_sweep(page, base_url)
    xs, ys = cell_centres()
    stars_seen = []
    for key in MAPS:
        fig = figure_data(page, key)
        traces = {tr["name"]: tr for tr in fig["traces"]}
        more = {d["name"]: d for d in details(page, key)}
        # The basins: a 32 x 32 heatmap of outcome slots over the grid of starts.
        assert traces["basins"]["type"] == "heatmap"
        z = more["basins"]["z"]
        assert len(z) == N and all(len(row) == N for row in z), (key, len(z), {len(row) for row in z})
        assert all(v is not None and v == v for row in z for v in row)  # every cell has an outcome
        assert np.allclose(traces["basins"]["x"], xs, atol=1e-6) and np.allclose(traces["basins"]["y"], ys, atol=1e-6)
        # Level lines under and over the colours.
        assert [tr["type"] for tr in fig["traces"] if tr["name"] == "levels"] == ["contour", "contour"]
        # The minima: numbered stars; both global minima among them.
        star = traces[t("sw.basin.star", "en")]
        assert star["mode"] == "markers+text" and more[t("sw.basin.star", "en")]["symbol"] == "star"
        assert star["n"] == 6, star
        for gx, gy in GLOBAL_MINIMA:
            assert min(np.hypot(np.array(star["x"]) - gx, np.array(star["y"]) - gy)) < 1e-3, (key, star["x"], star["y"])
        stars_seen.append((star["x"], star["y"]))
        # The clickable lattice: one marker per cell centre, row by row.
        cells = traces["cells"]
        gx, gy = np.meshgrid(xs, ys)
        assert cells["n"] == N * N
        assert np.allclose(cells["x"], gx.ravel(), atol=1e-6) and np.allclose(cells["y"], gy.ravel(), atol=1e-6)
        # The window of starts, one unit as long on both axes: x spans it exactly, y holds it.
        assert np.allclose(fig["xrange"], [xs[0], xs[-1]])
        assert fig["yrange"][0] <= ys[0] and fig["yrange"][1] >= ys[-1]
    assert stars_seen[0] == stars_seen[1]  # the same surface under both maps

    # Side by side (a desktop window): same top, momentum's map to the right of SGD's.
    left, right = (page.locator(f".st-key-{key} .js-plotly-plot").bounding_box() for key in MAPS)
    assert abs(left["y"] - right["y"]) < 2 and right["x"] >= left["x"] + left["width"], (left, right)

    captions = page.locator("[data-testid=stCaptionContainer]").all_inner_texts()
    for name, share in zip(NAMES, ("59.0", "62.9")):
        expected = re.compile(rf"^{name}: a global minimum from {re.escape(share)}% of the 1024 starts \((\d+ ms|from the cache)\)\.$")
        assert any(expected.match(c.strip()) for c in captions), (name, captions)

    # Success over seeds: one horizontal bar trace per optimizer over the same outcomes (those some
    # seed reached), shares summing to 100%.
    bars = [d for d in details(page, SEEDS_CHART) if d["type"] == "bar"]
    assert [b["name"] for b in bars] == NAMES
    assert bars[0]["y"] == bars[1]["y"] and len(bars[0]["y"]) >= 2
    glob = [i for i, label in enumerate(bars[0]["y"]) if "(global)" in label]
    assert 1 <= len(glob) <= 2, bars[0]["y"]
    for b in bars:
        assert all(0 <= v <= 100 for v in b["x"]) and abs(sum(b["x"]) - 100) < 0.1, b
    assert abs(sum(bars[0]["x"][i] for i in glob) - 20.0) < 0.01, bars[0]  # 40 of 200 seeds
    text = page.locator("[data-testid=stMarkdownContainer]").all_inner_texts()
    assert "SGD reached a global minimum in 20% of 200 seeds, 95% CI 15–26%." in [s.strip() for s in text], text
    momentum = [s.strip() for s in text if s.strip().startswith(f"{NAMES[1]} reached a global minimum in ")]
    assert len(momentum) == 1 and re.fullmatch(rf"{NAMES[1]} reached a global minimum in \d+% of 200 seeds, 95% CI \d+–\d+%\.", momentum[0]), momentum
    share = round(sum(bars[1]["x"][i] for i in glob))
    assert f" in {share}% of 200 seeds" in momentum[0], (momentum, bars[1])  # the chart and the sentence agree
    no_errors(page, browser_log, bad_responses)


# Records what Plotly reports for the next click on chart ``key``: every plotly_selected (what
# Streamlit turns into the on_select event) and the plotly_click that follows it.
_LISTEN = """(key) => {
  const gd = document.querySelector('.st-key-' + key + ' .js-plotly-plot');
  const pts = (d) => (d && d.points ? d.points.map((p) => ({trace: p.data ? p.data.name : null, x: p.x, y: p.y})) : null);
  window.__cellClick = {selected: [], clicked: []};
  gd.on('plotly_selected', (d) => window.__cellClick.selected.push(pts(d)));
  gd.on('plotly_click', (d) => window.__cellClick.clicked.push(pts(d)));
  const L = gd._fullLayout;
  return {clickmode: L.clickmode, dragmode: L.dragmode, hovermode: L.hovermode,
          cells_hoverinfo: (gd._fullData.find((d) => d.name === 'cells') || {}).hoverinfo};
}"""

# The page pixel (viewport coordinates) of data point (x, y) on chart ``key``: the plot area's
# offset within the Plotly div plus the axis's linear-to-pixel map.
_PIXEL = """([key, x, y]) => {
  const gd = document.querySelector('.st-key-' + key + ' .js-plotly-plot');
  const r = gd.getBoundingClientRect(), L = gd._fullLayout;
  return [r.left + L.xaxis._offset + L.xaxis.l2p(x), r.top + L.yaxis._offset + L.yaxis.l2p(y)];
}"""


def test_a_click_on_a_cell_opens_that_start_in_the_playground(page, base_url, browser_log, bad_responses):
    open_sweep(page, base_url)
    key = MAPS[0]
    cells = next(tr for tr in figure_data(page, key)["traces"] if tr["name"] == "cells")
    i = int(np.argmin(np.hypot(np.array(cells["x"]) - TARGET[0], np.array(cells["y"]) - TARGET[1])))
    cx, cy = cells["x"][i], cells["y"][i]  # as the browser holds it (float32): what a click reports
    xs, ys = cell_centres()
    centre = (float(xs[i % N]), float(ys[i // N]))  # the cell's centre (float64)
    assert abs(cx - centre[0]) < 1e-6 and abs(cy - centre[1]) < 1e-6, ((cx, cy), centre)

    page.locator(f".st-key-{key} .js-plotly-plot").scroll_into_view_if_needed()
    setup = page.evaluate(_LISTEN, key)
    px, py = page.evaluate(_PIXEL, [key, cx, cy])
    page.mouse.move(px, py)
    page.wait_for_function(
        "(key) => { const gd = document.querySelector('.st-key-' + key + ' .js-plotly-plot'); return !!(gd && gd._hoverdata && gd._hoverdata.length); }",
        arg=key,
        timeout=10_000,
    )
    hovered = page.evaluate("(key) => document.querySelector('.st-key-' + key + ' .js-plotly-plot')._hoverdata.map((p) => p.fullData.name)", key)
    page.mouse.click(px, py)
    page.wait_for_function("() => window.__cellClick && window.__cellClick.clicked.length > 0", timeout=10_000)
    reported = page.evaluate("() => window.__cellClick")
    # The click should come to Streamlit as a one-point selection of the cell's marker (what
    # the on_select callback takes for a click); the page then switches to the Playground.
    one_cell = [
        s for s in reported["selected"]
        if s is not None and len(s) == 1 and s[0]["trace"] == "cells" and abs(s[0]["x"] - cx) < 1e-9 and abs(s[0]["y"] - cy) < 1e-9
    ]  # fmt: skip
    try:  # without that selection nothing reaches the server: a shorter wait, then say what the browser reported
        page.wait_for_url(PLAYGROUND_URL, timeout=LOAD_TIMEOUT_MS if one_cell else 30_000)
    except PlaywrightTimeout:
        raise AssertionError(
            f"a click on the cell at ({cx:.4f}, {cy:.4f}) did not open the Playground (still at {page.url}); "
            f"plotly_selected payloads {reported['selected']}, plotly_click {reported['clicked']}, hovered traces {hovered}, layout {setup}"
        ) from None
    page.wait_for_function(
        "() => { const gd = document.querySelector('.st-key-path_chart .js-plotly-plot'); return !!(gd && gd._fullData && gd._fullData.length); }",
        timeout=LOAD_TIMEOUT_MS,
    )
    wait_idle(page)
    assert page.locator("h1").first.inner_text().strip() == t("nav.playground", "en")
    # Both optimizers of the maps, in their order; the surface of the sweep.
    tags = page.locator(".st-key-optimizers [data-tag]")
    assert [tags.nth(j).get_attribute("aria-label") for j in range(tags.count())] == NAMES
    traces = figure_data(page)["traces"]
    assert [tr["name"] for tr in path_traces(traces)] == NAMES
    q = query(page)
    assert q.get("landscape") == ["six_hump_camel"], page.url
    # The start: in full in the chart's start marker (the click reports the centre as the
    # browser holds it, a float32: within 1e-7); the sidebar inputs show it to 3 decimals
    # (their format "%.3f"); the link, when it holds x0 and y0, holds them in full.
    start = next(tr for tr in traces if tr["name"] == t("fig.start", "en"))
    assert start["n"] == 1 and abs(start["x"][0] - centre[0]) < 1e-6 and abs(start["y"][0] - centre[1]) < 1e-6, (start, centre)
    assert page.locator(".st-key-x0 input").input_value() == f"{centre[0]:.3f}"
    assert page.locator(".st-key-y0 input").input_value() == f"{centre[1]:.3f}"
    # The address bar holds the start in full: a reload, or the link shared, opens the same runs.
    for k, v in (("x0", centre[0]), ("y0", centre[1])):
        assert k in q and abs(float(q[k][0]) - v) < 1e-12, page.url
    assert q.get("steps") == ["300"], page.url
    assert not [k for k in q if k.startswith("sw_")], page.url  # nothing of the Sweep page's link
    wait_idle(page)
    page.reload()
    page.wait_for_function(
        "() => { const gd = document.querySelector('.st-key-path_chart .js-plotly-plot'); return !!(gd && gd._fullData && gd._fullData.length); }",
        timeout=LOAD_TIMEOUT_MS,
    )
    wait_idle(page)
    assert page.locator(".st-key-x0 input").input_value() == f"{centre[0]:.3f}"
    start = next(tr for tr in figure_data(page)["traces"] if tr["name"] == t("fig.start", "en"))
    assert abs(start["x"][0] - centre[0]) < 1e-6 and abs(start["y"][0] - centre[1]) < 1e-6, (start, centre)
    no_errors(page, browser_log, bad_responses)
