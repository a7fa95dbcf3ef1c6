"""Presenter mode on a projector: the path chart, its play controls and the loss panel fit the window.

At 1280 x 720 and 1920 x 1080, with the sidebar shown and hidden (``hide=sidebar``), the
benchmark link in presenter mode is opened with every scroll container at its start; the
chart's parts must then lie inside the window, below the page's fixed header, and text
must be readable from the back of a room: at least 20 px in a 1080 px window, at least
16 px in a 720 px one (the chart's text follows the window's height, ``ui/compute.size``).
"""

from __future__ import annotations

import pytest
from conftest import wait_idle
from harness import PLOTLY_PROBE, open_app

import figures

BENCH = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
LINK = "landscape=rosenbrock&" + "&".join(f"optimizers={o}" for o in BENCH) + "&steps=1000&present=true"

# (width, height, the smallest text allowed in px)
SCREENS = [(1280, 720, 16), (1920, 1080, 20)]

# Every scroll container back to its start, then the boxes of the chart's parts (front layer)
# and of the back layer's plot area, in the window's coordinates.
_MEASURE = """() => {
  window.scrollTo(0, 0);
  for (const el of document.querySelectorAll('*')) if (el.scrollTop) el.scrollTop = 0;
  const front = document.querySelector('.st-key-path_chart .js-plotly-plot');
  const back = document.querySelector('.st-key-dl_back_path_chart .js-plotly-plot');
  const box = (el) => { if (!el) return null; const r = el.getBoundingClientRect(); return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; };
  const all = (root, sel) => Array.from(root.querySelectorAll(sel)).filter((e) => e.getClientRects().length).map(box);
  // Where a layer's x and y axes span, as Plotly placed them.
  const axesBox = (gd) => {
    const r = gd.getBoundingClientRect();
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    return {left: r.left + xa._offset, right: r.left + xa._offset + xa._length, top: r.top + ya._offset, bottom: r.top + ya._offset + ya._length};
  };
  const header = document.querySelector('[data-testid=stHeader]');
  return {
    inner: [window.innerWidth, window.innerHeight],
    header: header ? header.getBoundingClientRect().bottom : 0,
    chart: box(front.querySelector('.main-svg')),
    contour: box(front.querySelector('.nsewdrag[data-subplot="xy"]')),
    back_contour: axesBox(back),
    front_axes: axesBox(front),
    loss: box(front.querySelector('.nsewdrag[data-subplot="x2y2"]')),
    loss_axes: all(front, '.x2tick text, .y2tick text, .g-x2title text, .g-y2title text'),
    buttons: all(front, '.updatemenu-button'),
    slider: all(front, '.slider-container'),
    legend: all(front, '.legendtext'),
  };
}"""

# Computed font sizes: the chart's text (ticks, legend, play controls, axis and panel titles),
# and every visible piece of text of the page (icons excepted: symbols, not words).
_FONTS = """() => {
  const front = document.querySelector('.st-key-path_chart .js-plotly-plot');
  const chart = Array.from(front.querySelectorAll('.xtick text, .ytick text, .x2tick text, .y2tick text, .legendtext, .updatemenu-button text, .slider-container text, .annotation-text, .g-xtitle text, .g-x2title text'))
    .filter((e) => e.getClientRects().length && e.textContent.trim())
    .map((e) => [e.textContent.trim().slice(0, 30), parseFloat(getComputedStyle(e).fontSize)]);
  const page = [];
  const walker = document.createTreeWalker(document.querySelector('[data-testid=stApp]'), NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el || !el.getClientRects().length || el.closest('svg')) continue;
    if (el.closest('[data-testid^=stIcon]') || getComputedStyle(el).visibility === 'hidden') continue;
    page.push([n.textContent.trim().slice(0, 30), parseFloat(getComputedStyle(el).fontSize)]);
  }
  return {chart, page};
}"""

# The drawn front traces' names and colours (lines and markers), legend entries first.
_TRACES = """() => {
  const gd = document.querySelector('.st-key-path_chart .js-plotly-plot');
  return gd._fullData.filter((d) => d.showlegend).map((d) => [d.name, d.line ? d.line.color : null, d.line ? d.line.dash : null]);
}"""


@pytest.fixture
def screen_page(request, browser, browser_log, server):
    """A page at the parametrized projector size, errors recorded in ``browser_log``."""
    width, height, _ = request.param
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_init_script(PLOTLY_PROBE)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    pg.on("console", lambda m: browser_log.console_errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: browser_log.page_errors.append(str(e)))
    yield pg
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        import os
        import tempfile

        out = os.path.join(tempfile.gettempdir(), "descent-e2e")
        os.makedirs(out, exist_ok=True)
        shot = os.path.join(out, request.node.name.replace("/", "_") + ".png")
        pg.screenshot(path=shot)
        rep.sections.append(("e2e artifacts", f"screenshot: {shot}"))
    context.close()


def inside(box: dict, width: float, height: float, top: float = 0.0) -> bool:
    return box["left"] >= 0 and box["right"] <= width + 0.5 and box["top"] >= top - 0.5 and box["bottom"] <= height + 0.5


def fit_ids():
    return [f"{w}x{h}" for w, h, _ in SCREENS]


@pytest.mark.parametrize("hide", ["", "sidebar"], ids=["sidebar", "no-sidebar"])
@pytest.mark.parametrize("screen_page", SCREENS, ids=fit_ids(), indirect=True)
def test_chart_controls_and_loss_panel_fit_the_window(screen_page, request, hide, base_url, browser_log):
    page = screen_page
    width, height, _ = request.node.callspec.params["screen_page"]
    open_app(page, base_url + "/?" + LINK + (f"&hide={hide}" if hide else ""))
    m = page.evaluate(_MEASURE)
    assert m["inner"] == [width, height]
    below = m["header"]  # the fixed header covers what lies under it
    for name in ("chart", "contour", "loss"):
        assert inside(m[name], width, height, below), (name, m[name], m["inner"], below)
    for name in ("loss_axes", "buttons", "slider", "legend"):
        assert m[name], f"no {name} drawn"
        for box in m[name]:
            assert inside(box, width, height, below), (name, box, m["inner"], below)
    # The chart takes the window down to its bottom edge (the fit is not just a small chart).
    assert m["chart"]["bottom"] >= height - 40, m["chart"]
    # The contour and the loss panel keep the server's share (700 : 300), and the surface lies under the paths.
    contour_h = m["contour"]["bottom"] - m["contour"]["top"]
    loss_h = m["loss"]["bottom"] - m["loss"]["top"]
    assert contour_h / (contour_h + loss_h) == pytest.approx(0.7, abs=0.01)
    assert all(abs(m["front_axes"][k] - m["back_contour"][k]) <= 1 for k in ("left", "top", "right", "bottom")), (m["front_axes"], m["back_contour"])
    assert not browser_log.page_errors, browser_log.page_errors


@pytest.mark.parametrize("hide", ["", "sidebar"], ids=["sidebar", "no-sidebar"])
@pytest.mark.parametrize("screen_page", SCREENS, ids=fit_ids(), indirect=True)
def test_text_is_readable_from_the_back_of_the_room(screen_page, request, hide, base_url):
    page = screen_page
    smallest = request.node.callspec.params["screen_page"][2]
    open_app(page, base_url + "/?" + LINK + (f"&hide={hide}" if hide else ""))
    fonts = page.evaluate(_FONTS)
    assert len(fonts["chart"]) > 20 and len(fonts["page"]) > 10, fonts
    small = [f for f in fonts["chart"] + fonts["page"] if f[1] < smallest]
    assert not small, small
    # The legend keeps every entry and each optimizer its colour and dash.
    legend = page.evaluate(_TRACES)
    drawn = {name: (color, dash) for name, color, dash in legend}
    names = {"sgd": "SGD", "momentum": "Momentum", "nesterov": "Nesterov", "adagrad": "AdaGrad", "rmsprop": "RMSProp", "adam": "Adam"}
    for key, name in names.items():
        s = figures.style(key)
        assert drawn[name] == (s["color"], s["dash"]), (name, drawn.get(name))


def test_the_chart_follows_the_window(browser, server, base_url):
    """From a 1080 px window to a 720 px one and back: the chart is laid out again each time."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    context.add_init_script(PLOTLY_PROBE)
    page = context.new_page()
    try:
        open_app(page, base_url + "/?" + LINK + "&hide=sidebar")
        tall = page.evaluate(_MEASURE)
        page.set_viewport_size({"width": 1280, "height": 720})
        page.wait_for_function("() => document.querySelector('.st-key-path_chart .js-plotly-plot').getBoundingClientRect().bottom <= 720")
        wait_idle(page)
        short = page.evaluate(_MEASURE)
        for name in ("chart", "loss"):
            assert inside(short[name], 1280, 720, short["header"]), (name, short[name])
        assert short["chart"]["bottom"] >= 720 - 40
        assert short["contour"]["bottom"] - short["contour"]["top"] < tall["contour"]["bottom"] - tall["contour"]["top"]
        assert all(abs(short["front_axes"][k] - short["back_contour"][k]) <= 1 for k in ("left", "top", "right", "bottom"))
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.wait_for_function("() => document.querySelector('.st-key-path_chart .js-plotly-plot').getBoundingClientRect().bottom > 1000")
        wait_idle(page)
        again = page.evaluate(_MEASURE)
        assert again["chart"]["bottom"] == pytest.approx(tall["chart"]["bottom"], abs=1)
    finally:
        context.close()
