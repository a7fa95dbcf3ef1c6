"""The Playground on data surfaces in a real browser: the data panel, its models moving with
the paths, the narrow layout, Chinese, and links with values the surface does not offer.

Same plumbing as ``test_playground_browser.py`` (one server, one Chromium, a fresh page per
test). The path chart's traces are read by their ``uid`` (``figures/paths.py``,
``figures/data_panel.py``): ``<opt>-path``, ``<opt>-head``, ``<opt>-model``, ``data-train``,
``data-test``, ``<opt>-loss``, ``<opt>-test``. Expected models are computed here from the
head's coordinates and the examples the panel shows, by the model's formula.
"""

from __future__ import annotations

import math
import re
import time

import pytest
from harness import open_app, wait_idle
from i18n import t

# The 1x play button of the figure's updatemenu ("▶ 1×").
PLAY_1X = re.compile(r"▶\s*(?:\S+\s+)?1×")
FRONT = ".st-key-path_chart .js-plotly-plot"
FAITHFUL_RAW = "/?landscape=faithful&scaling=raw&optimizers=sgd&optimizers=adam&batch_size=16"
# Old Faithful: 272 eruptions, 20% held out; iris (versicolor, virginica): 100 flowers.
FAITHFUL_SPLIT = (218, 54)
IRIS_SPLIT = (80, 20)

# The front layer's traces by uid (data on the x3/y3 panel included), its axes, the narrow
# flag, and the back layer's geometry (to check that it follows the front).
_READ = """() => {
  const gd = document.querySelector('.st-key-path_chart .js-plotly-plot');
  const back = document.querySelector('.st-key-dl_back_path_chart .js-plotly-plot');
  if (!gd || !gd._fullData || !gd._fullLayout || !gd._fullLayout.xaxis) return null;
  const L = gd._fullLayout;
  const arr = (a) => (a && a.length !== undefined ? Array.from(a, Number) : []);
  const axis = (ax) => ax ? {title: ax.title ? ax.title.text : null, domain: ax.domain.slice(), range: ax.range.slice()} : null;
  const traces = {};
  for (const d of gd._fullData) {
    traces[d.uid] = {
      uid: d.uid, name: d.name, mode: d.mode || null, xaxis: d.xaxis || 'x', yaxis: d.yaxis || 'y',
      symbol: d.marker ? d.marker.symbol : null, showscale: d.marker ? !!d.marker.showscale : null,
      dash: d.line ? d.line.dash : null, meta: d.meta || null, x: arr(d.x), y: arr(d.y),
    };
  }
  const BL = back && back._fullLayout;
  return {
    traces,
    axes: Object.fromEntries(['xaxis', 'yaxis', 'xaxis2', 'yaxis2', 'xaxis3', 'yaxis3'].map((a) => [a, axis(L[a])])),
    narrow: gd.getAttribute('data-narrow'),
    width: L.width,
    size: {l: L._size.l, t: L._size.t, w: L._size.w, h: L._size.h},
    back: BL && BL.xaxis ? {x: BL.xaxis.domain.slice(), y: BL.yaxis.domain.slice(), width: BL.width, height: BL.height,
      size: {l: BL._size.l, t: BL._size.t, w: BL._size.w, h: BL._size.h}} : null,
    frames: gd._transitionData && gd._transitionData._frames ? gd._transitionData._frames.length : 0,
    updatemenus: (L.updatemenus || []).map((m) => (m.buttons || []).map((b) => b.label)),
  };
}"""


def read(page) -> dict:
    fig = page.evaluate(_READ)
    assert fig is not None, "the path chart is not drawn"
    return fig


def assert_healthy(page, browser_log, server, mark: int) -> None:
    """No exception element, no page or console errors, no traceback in the server log."""
    exc = page.locator("[data-testid=stException]")
    assert exc.count() == 0, exc.first.inner_text()
    assert browser_log.page_errors == [], browser_log.page_errors
    assert browser_log.console_errors == [], browser_log.console_errors
    log = server.log_since(mark)
    assert "Traceback" not in log and "Uncaught app exception" not in log, log[-3000:]


def alerts(page) -> list[str]:
    box = page.locator("[data-testid=stAlert]")
    return [box.nth(i).inner_text() for i in range(box.count())]


def finite(xs: list[float]) -> bool:
    return all(math.isfinite(v) for v in xs)


def mean_sd(xs: list[float]) -> tuple[float, float]:
    m = sum(xs) / len(xs)
    return m, math.sqrt(sum((v - m) ** 2 for v in xs) / len(xs))  # ddof=0, as landscapes/data.py


def close_lists(got: list[float], want: list[float], tol: float = 1e-4) -> bool:
    """Equal within float32 packing (the chart's coordinates travel as float32)."""
    return len(got) == len(want) and all(
        (math.isnan(g) and math.isnan(w)) or abs(g - w) <= tol * max(1.0, abs(w)) for g, w in zip(got, want)
    )


def head_of(fig: dict, opt: str) -> tuple[float, float]:
    h = fig["traces"][f"{opt}-head"]
    assert len(h["x"]) == 1, h
    return h["x"][0], h["y"][0]


def linear_model(w: float, b: float, xs: list[float]) -> list[float]:
    """Raw scaling: the panel's line is y = w x + b with x in the data's own units (minutes)."""
    return [w * x + b for x in xs]


def assert_data_panel(fig: dict, optimizers: tuple[str, ...], split: tuple[int, int], lang: str = "en") -> None:
    tr = fig["traces"]
    train, test = tr.get("data-train"), tr.get("data-test")
    assert train and test, sorted(tr)
    assert (len(train["x"]), len(test["x"])) == split, (len(train["x"]), len(test["x"]))
    assert (train["xaxis"], train["yaxis"], test["xaxis"], test["yaxis"]) == ("x3", "y3", "x3", "y3")
    assert train["mode"] == test["mode"] == "markers"
    assert test["symbol"] == "circle-open" and train["symbol"] != "circle-open", (train["symbol"], test["symbol"])
    assert (train["name"], test["name"]) == (t("fig.data_train", lang), t("fig.data_test", lang))
    assert finite(train["x"] + train["y"] + test["x"] + test["y"])
    models = sorted(u for u in tr if u.endswith("-model"))
    assert models == sorted(f"{o}-model" for o in optimizers), models
    for o in optimizers:
        m = tr[f"{o}-model"]
        assert (m["xaxis"], m["yaxis"], m["mode"]) == ("x3", "y3", "lines"), m
        assert m["name"] == t(f"opt.{o}", lang)
    assert fig["axes"]["xaxis3"] is not None and fig["axes"]["yaxis3"] is not None


def assert_loss_panel(fig: dict, optimizers: tuple[str, ...]) -> None:
    tr = fig["traces"]
    for o in optimizers:
        solid, dotted = tr.get(f"{o}-loss"), tr.get(f"{o}-test")
        assert solid and dotted, (o, sorted(tr))
        assert (solid["xaxis"], solid["yaxis"], dotted["xaxis"], dotted["yaxis"]) == ("x2", "y2", "x2", "y2")
        assert dotted["dash"] == "dot" and solid["dash"] != "dot", (solid["dash"], dotted["dash"])
        assert len(solid["y"]) >= 2 and len(solid["y"]) == len(dotted["y"])
        assert solid["x"] == dotted["x"]  # the same steps
        assert finite(solid["y"]) and finite(dotted["y"]) and solid["y"] != dotted["y"]


# 1 -------------------------------------------------------------------------------------


def test_data_link_draws_the_data_panel_and_both_losses(page, base_url, browser_log, server, server_log_mark):
    opts = ("sgd", "adam")
    open_app(page, base_url + FAITHFUL_RAW)
    fig = read(page)
    assert_data_panel(fig, opts, FAITHFUL_SPLIT)
    assert_loss_panel(fig, opts)
    assert (fig["axes"]["xaxis"]["title"], fig["axes"]["yaxis"]["title"]) == ("w", "b")
    # Beside the contour on a wide screen.
    assert fig["narrow"] == "false" and fig["axes"]["xaxis3"]["domain"][0] > fig["axes"]["xaxis"]["domain"][1], fig["axes"]
    # Every model at its run's final point: the line w x + b (raw scaling: x in minutes).
    for o in opts:
        m = fig["traces"][f"{o}-model"]
        w, b = head_of(fig, o)
        assert finite(m["x"]) and close_lists(m["y"], linear_model(w, b, m["x"])), (o, w, b, m["y"][:3])
    # The path's frames move path, head and model together.
    assert fig["frames"] > 1
    assert alerts(page) == [], alerts(page)
    q = page.evaluate("() => Object.fromEntries(new URLSearchParams(location.search))")
    assert (q.get("scaling"), q.get("batch_size")) == ("raw", "16"), page.url  # the link keeps its settings
    assert_healthy(page, browser_log, server, server_log_mark)


# 2 -------------------------------------------------------------------------------------


def test_play_moves_the_models_with_the_paths(page, base_url, browser_log, server, server_log_mark):
    opts = ("sgd", "adam")
    open_app(page, base_url + FAITHFUL_RAW)
    rest = read(page)
    rest_heads = {o: head_of(rest, o) for o in opts}
    rest_models = {o: rest["traces"][f"{o}-model"]["y"] for o in opts}
    xs = {o: rest["traces"][f"{o}-model"]["x"] for o in opts}
    labels = [b for b in rest["updatemenus"][0] if PLAY_1X.fullmatch(b)]
    assert len(labels) == 1, rest["updatemenus"]

    page.locator(".st-key-path_chart g.updatemenu-button").filter(has_text=labels[0]).click()
    samples = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        fig = page.evaluate(_READ)
        if fig is not None:
            samples.append({o: (head_of(fig, o), fig["traces"][f"{o}-model"]["x"], fig["traces"][f"{o}-model"]["y"]) for o in opts})
            at_rest = all(samples[-1][o][0] == rest_heads[o] and samples[-1][o][2] == rest_models[o] for o in opts)
            if len(samples) > 3 and at_rest:
                break  # back on the finished runs: playback is over
        time.sleep(0.1)

    for o in opts:
        heads = [s[o][0] for s in samples]
        models = [tuple(s[o][2]) for s in samples]
        during = [s for s in samples if s[o][0] != rest_heads[o]]
        assert len(set(heads)) >= 3, (o, heads)  # the head moved through several frames
        assert len(set(models)) >= 3, (o, len(set(models)))  # and so did the model
        assert during and all(tuple(s[o][2]) != tuple(rest_models[o]) for s in during), o
        # At every sampled frame the model is the line of that frame's head.
        for s in samples:
            (w, b), mx, my = s[o]
            assert mx == xs[o], o  # the model moves along y only: the same x grid
            assert close_lists(my, linear_model(w, b, mx)), (o, (w, b), my[:3], linear_model(w, b, mx)[:3])
        # The animation ends with the model back at the final point.
        (w, b), _, my = samples[-1][o]
        assert (w, b) == rest_heads[o] and my == rest_models[o], (o, (w, b), rest_heads[o])

    # After play, a learning-rate move (the chart moves its traces instead of redrawing): the
    # moved run's model follows its new head, the other run's stays.
    lr = page.locator(".st-key-hyper_panel input[name=sgd_lr]")
    lr.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "(h) => { const gd = document.querySelector('" + FRONT + "');"
        " const d = gd && gd._fullData && gd._fullData.find((t) => t.uid === 'sgd-head');"
        " return d && (d.x[0] !== h[0] || d.y[0] !== h[1]); }",
        arg=list(rest_heads["sgd"]),
    )
    wait_idle(page)
    moved = read(page)
    w, b = head_of(moved, "sgd")
    assert (w, b) != rest_heads["sgd"]
    assert close_lists(moved["traces"]["sgd-model"]["y"], linear_model(w, b, xs["sgd"])), (w, b)
    assert head_of(moved, "adam") == rest_heads["adam"] and moved["traces"]["adam-model"]["y"] == rest_models["adam"]
    assert_healthy(page, browser_log, server, server_log_mark)


# 3 -------------------------------------------------------------------------------------


def test_iris_model_is_a_sigmoid_with_its_threshold(page, base_url, browser_log, server, server_log_mark):
    opts = ("sgd", "momentum")  # the default pair
    open_app(page, base_url + "/?landscape=iris")
    fig = read(page)
    assert_data_panel(fig, opts, IRIS_SPLIT)
    assert_loss_panel(fig, opts)
    assert (fig["axes"]["xaxis"]["title"], fig["axes"]["yaxis"]["title"]) == ("w", "b")
    train = fig["traces"]["data-train"]
    assert set(train["y"]) == {0.0, 1.0}, set(train["y"])  # labels: versicolor 0, virginica 1
    mean, sd = mean_sd(train["x"])  # the default scaling: standardized by the training split
    (lo, hi) = fig["axes"]["xaxis3"]["range"]
    for o in opts:
        m = fig["traces"][f"{o}-model"]
        w, b = head_of(fig, o)
        gaps = [i for i, v in enumerate(m["y"]) if math.isnan(v)]
        assert len(gaps) == 1, (o, gaps)  # one break: the curve, then the threshold segment
        g = gaps[0]
        cx, cy = m["x"][:g], m["y"][:g]
        seg_x, seg_y = m["x"][g + 1 :], m["y"][g + 1 :]
        # Between 0 and 1 (float32 rounds the tails to them), across the decision.
        assert len(cx) >= 20 and all(0.0 <= v <= 1.0 for v in cy) and min(cy) < 0.1 and max(cy) > 0.9, (o, cy)
        assert cx == sorted(cx) and cy in (sorted(cy), sorted(cy, reverse=True)), o  # monotone
        want = [1.0 / (1.0 + math.exp(-(w * (x - mean) / sd + b))) for x in cx]
        assert close_lists(cy, want), (o, (w, b), cy[:3], want[:3])
        # The threshold: a vertical pair at p = 0.5, where w x_used + b = 0, inside the panel.
        assert len(seg_x) == 2 and seg_x[0] == seg_x[1] and seg_y == [0.0, 1.0], (o, seg_x, seg_y)
        threshold = mean - b / w * sd
        assert abs(seg_x[0] - threshold) <= 1e-4 * max(1.0, abs(threshold)), (o, seg_x[0], threshold)
        assert lo <= seg_x[0] <= hi
    assert alerts(page) == [], alerts(page)
    assert_healthy(page, browser_log, server, server_log_mark)


# 4 -------------------------------------------------------------------------------------


def _wait_narrow(page, value: str) -> dict:
    page.wait_for_function("(v) => { const gd = document.querySelector('" + FRONT + "'); return gd && gd.getAttribute('data-narrow') === v; }", arg=value)
    wait_idle(page)
    return read(page)


def _assert_back_follows(fig: dict) -> None:
    back = fig["back"]
    assert back is not None
    assert back["x"] == fig["axes"]["xaxis"]["domain"] and back["y"] == fig["axes"]["yaxis"]["domain"], (back, fig["axes"])
    assert back["width"] == fig["width"] and back["size"] == fig["size"], (back, fig["size"], fig["width"])


def _scale_shown(fig: dict) -> bool:
    stand_in = [tr for tr in fig["traces"].values() if tr["meta"] == "colorbar-only"]
    assert len(stand_in) == 1, [tr["uid"] for tr in fig["traces"].values()]
    return stand_in[0]["showscale"]


def test_phone_puts_the_data_below_and_a_wide_window_beside(phone_page, base_url, browser_log, server, server_log_mark):
    page = phone_page
    open_app(page, base_url + FAITHFUL_RAW)
    chart = page.locator(FRONT)
    chart.scroll_into_view_if_needed()
    assert chart.is_visible()
    fig = _wait_narrow(page, "true")
    ax = fig["axes"]
    assert_data_panel(fig, ("sgd", "adam"), FAITHFUL_SPLIT)
    assert fig["width"] < 640, fig["width"]
    # Below the contour, full width; the loss panel below both; no colorbar.
    assert ax["yaxis3"]["domain"][1] < ax["yaxis"]["domain"][0], ax
    assert ax["yaxis2"]["domain"][1] < ax["yaxis3"]["domain"][0], ax
    assert ax["xaxis3"]["domain"] == ax["xaxis"]["domain"] == [0.0, 1.0], ax
    assert not _scale_shown(fig)
    _assert_back_follows(fig)

    page.set_viewport_size({"width": 1400, "height": 1000})
    fig = _wait_narrow(page, "false")
    ax = fig["axes"]
    assert fig["width"] >= 640, fig["width"]
    assert ax["xaxis3"]["domain"][0] > ax["xaxis"]["domain"][1], ax  # beside, to the right
    assert ax["yaxis3"]["domain"] == ax["yaxis"]["domain"], ax
    assert _scale_shown(fig)
    _assert_back_follows(fig)

    page.set_viewport_size({"width": 390, "height": 844})  # and back again
    fig = _wait_narrow(page, "true")
    assert fig["axes"]["yaxis3"]["domain"][1] < fig["axes"]["yaxis"]["domain"][0], fig["axes"]
    _assert_back_follows(fig)
    assert_healthy(page, browser_log, server, server_log_mark)


def test_cursor_readout_sits_in_the_contour_beside_the_data(page, base_url, browser_log, server, server_log_mark):
    open_app(page, base_url + FAITHFUL_RAW)
    area = page.locator(".st-key-path_chart .nsewdrag[data-subplot='xy']")
    area.scroll_into_view_if_needed()
    box = area.bounding_box()
    page.mouse.move(box["x"] + 0.3 * box["width"], box["y"] + 0.6 * box["height"], steps=5)
    readout = page.locator(".st-key-path_chart .dl-cursor")
    readout.wait_for(state="visible")
    shown = readout.bounding_box()
    assert_healthy(page, browser_log, server, server_log_mark)
    assert box["x"] <= shown["x"] and shown["x"] + shown["width"] <= box["x"] + box["width"] + 1, (shown, box)
    assert box["y"] <= shown["y"] <= box["y"] + box["height"], (shown, box)


# 5 -------------------------------------------------------------------------------------


def test_chinese_on_the_tanh_unit(page, base_url, browser_log, server, server_log_mark):
    opts = ("sgd", "momentum")
    open_app(page, base_url + "/?landscape=tanh_unit&lang=zh")
    assert page.get_by_role("heading", name=t("nav.playground", "zh")).is_visible()
    fig = read(page)
    assert (fig["axes"]["xaxis"]["title"], fig["axes"]["yaxis"]["title"]) == ("a", "b")
    assert_data_panel(fig, opts, FAITHFUL_SPLIT, lang="zh")
    assert_loss_panel(fig, opts)
    # The model a tanh(b x_used) + c: x standardized by the training split, c its mean eruption.
    train = fig["traces"]["data-train"]
    mean, sd = mean_sd(train["x"])
    c = sum(train["y"]) / len(train["y"])
    for o in opts:
        m = fig["traces"][f"{o}-model"]
        a, b = head_of(fig, o)
        want = [a * math.tanh(b * (x - mean) / sd) + c for x in m["x"]]
        assert close_lists(m["y"], want), (o, (a, b), m["y"][:3], want[:3])
    assert alerts(page) == [], alerts(page)
    assert_healthy(page, browser_log, server, server_log_mark)


# 6 -------------------------------------------------------------------------------------


def test_values_a_surface_does_not_offer_fall_back_with_a_notice(page, base_url, browser_log, server, server_log_mark):
    for link, key, opts, split in (
        ("/?landscape=iris&batch_size=128", "batch_size", ("sgd", "momentum"), IRIS_SPLIT),  # 80 training flowers
        ("/?landscape=tanh_unit&scaling=raw", "scaling", ("sgd", "momentum"), FAITHFUL_SPLIT),  # standardized only
    ):
        open_app(page, base_url + link)
        notices = [a for a in alerts(page) if key in a]
        assert len(notices) == 1, (link, alerts(page))
        assert t("notice.bad_url", "en", keys=key) in notices[0], notices[0]
        assert page.locator(FRONT).is_visible()
        fig = read(page)
        assert_data_panel(fig, opts, split)
        assert fig["traces"][f"{opts[0]}-path"]["x"], link
        assert page.evaluate("(k) => new URLSearchParams(location.search).get(k)", key) is None, page.url  # the default, not in the link
    assert_healthy(page, browser_log, server, server_log_mark)
