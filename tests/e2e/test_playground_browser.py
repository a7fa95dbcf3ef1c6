"""The Playground in a real browser: load, sliders, click-to-start, playback, language, links, phone.

Each test opens its own page (a new Streamlit session) against one server. Expected
values come from the app's own catalogs and settings, so renaming a default does
not break these tests; behaviour changes do.
"""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlparse

from harness import (
    LOAD_TIMEOUT_MS,
    figure_data,
    figure_traces,
    open_app,
    path_traces,
    pixel_of,
    signature,
    wait_for_figure_change,
    wait_idle,
)
from i18n import t
from landscapes.catalog import CATALOG
import landscapes
from ui import settings as S

CHART = ".st-key-path_chart .js-plotly-plot"
DEFAULT_OPTIMIZERS = ("sgd", "momentum")  # ui/controls.py multiselect default
# The 1x play button of the figure's updatemenu ("▶ 1×"; once "▶ play 1×").
PLAY_1X = re.compile(r"▶\s*(?:\S+\s+)?1×")
BENCH = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
BENCH_LINK = "/?landscape=rosenbrock&" + "&".join(f"optimizers={o}" for o in BENCH) + "&steps=1000"


def default_surface() -> str:
    return landscapes.names()[0]


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def assert_healthy(page, browser_log, server, mark: int) -> None:
    """No exception element, no page errors, no console errors, no traceback in the server log."""
    assert page.locator("[data-testid=stException]").count() == 0, page.locator("[data-testid=stException]").first.inner_text()
    assert browser_log.page_errors == [], browser_log.page_errors
    assert browser_log.console_errors == [], browser_log.console_errors
    log = server.log_since(mark)
    assert "Traceback" not in log and "Uncaught app exception" not in log, log[-3000:]


def landscape_shown(page) -> str:
    """The landscape selectbox's displayed choice (the combobox input's value)."""
    return page.locator(".st-key-landscape input[role=combobox]").input_value()


def slider(page, label: str):
    """The range input of the slider whose visible label is exactly ``label``.

    (Its accessible name is the label twice, "Steps Steps": react-aria labels the
    input by itself and by its group, so ``get_by_role(name=...)`` is not exact.)
    """
    label_re = re.compile("^" + re.escape(label) + "$")
    box = page.locator("[data-testid=stSlider]").filter(has=page.locator("[data-testid=stWidgetLabel]", has_text=label_re))
    return box.locator("input[type=range]")


def slider_value(page, label: str) -> str:
    return slider(page, label).input_value()


def hyper_input(page, key: str):
    """A control of the hyperparameters panel (a native input named by its key, ``adam_lr``)."""
    return page.locator(f".st-key-hyper_panel input[name={key}]")


def hyper_shown(page, key: str):
    """The value the panel shows beside control ``key``."""
    return page.locator(".st-key-hyper_panel .dl-hp-row").filter(has=page.locator(f"input[name={key}]")).locator("output")


def close(a: float, b: float, tol: float = 1e-5) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


def trace_named(traces: list[dict], name: str) -> dict:
    found = [tr for tr in traces if tr["name"] == name]
    assert found, f"no trace {name!r} in {[tr['name'] for tr in traces]}"
    return found[0]


# (a) -----------------------------------------------------------------------------------


def test_default_scenario_loads(page, base_url, browser_log, server, server_log_mark):
    open_app(page, base_url + "/")
    surface = default_surface()

    assert page.get_by_role("heading", name=t("nav.playground", "en")).is_visible()
    assert page.locator(CHART).is_visible()
    assert CATALOG[surface].title["en"] == landscape_shown(page)
    assert int(slider_value(page, t("pg.steps", "en"))) == S.default_steps(surface)
    sx, sy = S.default_start(surface)
    assert float(page.locator(".st-key-x0 input").input_value()) == sx
    assert float(page.locator(".st-key-y0 input").input_value()) == sy

    fig = figure_data(page)
    kinds = [(tr["type"], tr["name"]) for tr in fig["traces"]]
    assert kinds[0][0] == "heatmap" and kinds[1][0] == "contour", kinds  # colors, then level lines
    assert [tr["name"] for tr in path_traces(fig["traces"])] == [t(f"opt.{o}", "en") for o in DEFAULT_OPTIMIZERS]
    for tr in path_traces(fig["traces"]):
        assert tr["n"] >= 2 and close(tr["x"][0], sx) and close(tr["y"][0], sy), tr["name"]  # float32 on the wire
    start = trace_named(fig["traces"], t("fig.start", "en"))
    assert (start["x"], start["y"]) == ([sx], [sy])
    assert any(PLAY_1X.fullmatch(label) for label in fig["updatemenus"][0]), fig["updatemenus"]
    assert fig["frames"] > 1
    assert_healthy(page, browser_log, server, server_log_mark)


# (b) -----------------------------------------------------------------------------------


def test_steps_slider_by_keyboard_reruns_and_changes_paths(page, base_url, browser_log, server, server_log_mark):
    open_app(page, base_url + "/")
    label = t("pg.steps", "en")
    before = figure_traces(page)
    v0 = int(slider_value(page, label))

    steps = slider(page, label)
    assert steps.count() == 1
    steps.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    target = v0 + 4 * 5  # the Steps slider moves in steps of 5
    page.wait_for_function("(v) => new URLSearchParams(location.search).get('steps') === String(v)", arg=target)
    after = wait_for_figure_change(page, signature(before))
    wait_idle(page)
    after = figure_traces(page)

    assert int(slider_value(page, label)) == target
    old, new = path_traces(before), path_traces(after)
    assert [tr["name"] for tr in new] == [tr["name"] for tr in old]
    assert [(tr["n"], tr["x"], tr["y"]) for tr in new] != [(tr["n"], tr["x"], tr["y"]) for tr in old]
    # More steps: no trail gets shorter, and each trail starts where it did.
    for o, n in zip(old, new):
        assert n["n"] >= o["n"], (o["name"], o["n"], n["n"])
        assert (n["x"][0], n["y"][0]) == (o["x"][0], o["y"][0])
    assert_healthy(page, browser_log, server, server_log_mark)


def test_a_typed_start_reruns_only_the_runs_and_its_link_draws_the_same(page, base_url, browser_log, server, server_log_mark):
    # The start's inputs rerun the race fragment alone (ui/state.rerun_runs): the sidebar stays as
    # the user left it, the URL takes the value, and that link draws the same paths.
    open_app(page, base_url + "/")
    before = figure_traces(page)
    box = page.locator(".st-key-x0 input")
    box.fill("-1.25")
    box.press("Enter")
    page.wait_for_function("() => new URLSearchParams(location.search).get('x0') === '-1.25'")
    wait_for_figure_change(page, signature(before))
    after = figure_traces(page)
    start = next(tr for tr in after if tr["name"] == "start")
    assert start["x"][0] == -1.25
    assert all(tr["x"][0] == -1.25 for tr in path_traces(after))  # every run starts there
    assert page.locator(".st-key-x0 input").input_value() == "-1.250"
    assert slider(page, t("pg.steps", "en")).count() == 1  # the sidebar is still drawn
    link = page.url
    open_app(page, link)
    assert [(tr["x"], tr["y"]) for tr in path_traces(figure_traces(page))] == [(tr["x"], tr["y"]) for tr in path_traces(after)]
    assert_healthy(page, browser_log, server, server_log_mark)


def test_the_schedule_and_its_warm_up_rerun_the_runs_and_the_sidebar_s_plot(page, base_url, browser_log, server, server_log_mark):
    # The schedule's controls rerun the race and the sidebar's schedule plot, each a keyed
    # fragment (ui/state.rerun_schedule): the paths change, the plot appears and follows the
    # warm-up, and the link takes both values.
    open_app(page, base_url + "/")
    sidebar = page.locator("[data-testid=stSidebar]")
    assert sidebar.get_by_text(t("pg.schedule_constant", "en")).count() == 1
    before = figure_traces(page)
    sidebar.locator("summary", has_text=t("pg.schedule", "en")).click()
    combo = page.locator(".st-key-schedule input[role=combobox]")
    combo.click()
    combo.fill("cosine")
    combo.press("Enter")
    page.wait_for_function("() => new URLSearchParams(location.search).get('schedule') === 'cosine'")
    wait_for_figure_change(page, signature(before))
    wait_idle(page)
    assert sidebar.get_by_text(t("pg.schedule_title", "en")).count() == 1
    plot = sidebar.locator("img.dl-schedule")
    assert plot.count() == 1
    drawn = plot.get_attribute("data-factors")
    after = figure_traces(page)
    warmup = slider(page, t("pg.warmup", "en"))
    warmup.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => Number(new URLSearchParams(location.search).get('warmup')) > 0")
    wait_for_figure_change(page, signature(after))
    wait_idle(page)
    warmed = plot.get_attribute("data-factors")
    assert warmed != drawn and float(warmed.strip("[]").split(",")[0]) < float(drawn.strip("[]").split(",")[0])  # warm-up starts lower
    assert slider(page, t("pg.steps", "en")).count() == 1  # the sidebar is still drawn
    assert_healthy(page, browser_log, server, server_log_mark)


# (c) -----------------------------------------------------------------------------------


def _click_target(fig: dict) -> tuple[float, float]:
    """A point inside the window, away from every marker (start, heads, critical points)."""
    (x0, x1), (y0, y1) = fig["xrange"], fig["yrange"]
    markers = [
        (x, y)
        for tr in fig["traces"]
        if tr["type"] == "scatter" and tr["mode"] != "lines"
        for x, y in zip(tr["x"], tr["y"])
    ]

    def norm(px, py):
        return (px - x0) / (x1 - x0), (py - y0) / (y1 - y0)

    best, best_d = None, -1.0
    for i in range(9):
        for j in range(9):
            u, v = 0.2 + 0.6 * i / 8, 0.2 + 0.6 * j / 8
            d = min((((u - a) ** 2 + (v - b) ** 2) ** 0.5 for a, b in (norm(*m) for m in markers)), default=1.0)
            if d > best_d:
                best, best_d = (x0 + u * (x1 - x0), y0 + v * (y1 - y0)), d
    return best


def test_click_on_contour_sets_start(page, base_url, browser_log, server, server_log_mark):
    open_app(page, base_url + "/")
    fig = figure_data(page)
    old_x = page.locator(".st-key-x0 input").input_value()
    old_y = page.locator(".st-key-y0 input").input_value()
    tx, ty = _click_target(fig)
    px, py = pixel_of(page, tx, ty)
    (wx0, wx1), (wy0, wy1) = fig["xrange"], fig["yrange"]

    # As a person does: move in; the corner readout names the point under the mouse.
    page.mouse.move(px - 40, py - 30)
    page.mouse.move(px, py, steps=8)
    readout = page.locator(".st-key-path_chart .dl-cursor")
    readout.wait_for(state="visible")
    m = re.fullmatch(r"\((-?[\d.]+), (-?[\d.]+)\)", readout.text_content() or "")
    assert m, f"readout {readout.text_content()!r} is not a point"
    hx, hy = float(m.group(1)), float(m.group(2))
    # On a grid of ~200 steps across the window, within a pixel or two of the mouse.
    assert abs(hx - tx) <= (wx1 - wx0) / 100 and abs(hy - ty) <= (wy1 - wy0) / 100, ((hx, hy), (tx, ty))
    before = signature(figure_traces(page))
    page.mouse.click(px, py)

    page.wait_for_function(
        "([ox, oy]) => { const x = document.querySelector('.st-key-x0 input'), y = document.querySelector('.st-key-y0 input');"
        " return x && y && (x.value !== ox || y.value !== oy); }",
        arg=[old_x, old_y],
    )
    after = wait_for_figure_change(page, before)
    x0 = float(page.locator(".st-key-x0 input").input_value())
    y0 = float(page.locator(".st-key-y0 input").input_value())
    # The start is the point the readout showed.
    assert (x0, y0) == (hx, hy), ((x0, y0), (hx, hy))
    assert wx0 <= x0 <= wx1 and wy0 <= y0 <= wy1
    q = query(page)
    assert float(q["x0"][0]) == x0 and float(q["y0"][0]) == y0, page.url
    start = trace_named(after, t("fig.start", "en"))
    assert close(start["x"][0], x0, 1e-6) and close(start["y"][0], y0, 1e-6), start
    for tr in path_traces(after):
        assert close(tr["x"][0], x0) and close(tr["y"][0], y0), tr["name"]  # every path starts there
    # The click reran the race and the start's inputs by key: the next move keeps the clicked start
    # (inputs still showing the old one would send it back with that move).
    wait_idle(page)
    steps = slider(page, t("pg.steps", "en"))
    steps.focus()
    page.keyboard.press("ArrowRight")
    moved = wait_for_figure_change(page, signature(after))
    assert (float(page.locator(".st-key-x0 input").input_value()), float(page.locator(".st-key-y0 input").input_value())) == (x0, y0)
    for tr in path_traces(moved):
        assert close(tr["x"][0], x0) and close(tr["y"][0], y0), tr["name"]
    assert_healthy(page, browser_log, server, server_log_mark)


def test_a_drag_or_a_click_on_the_loss_panel_leaves_the_start(page, base_url, browser_log, server, server_log_mark):
    open_app(page, base_url + "/")
    fig = figure_data(page)
    old = (page.locator(".st-key-x0 input").input_value(), page.locator(".st-key-y0 input").input_value())
    tx, ty = _click_target(fig)
    px, py = pixel_of(page, tx, ty)
    # A pan: press, move, release.
    page.mouse.move(px, py)
    page.mouse.down()
    page.mouse.move(px + 60, py + 40, steps=6)
    page.mouse.up()
    # A click in the loss panel, below the contour.
    loss = page.locator(".st-key-path_chart .nsewdrag[data-subplot='x2y2']").bounding_box()
    page.mouse.click(loss["x"] + loss["width"] / 2, loss["y"] + loss["height"] / 2)
    page.wait_for_timeout(1500)
    wait_idle(page)
    assert (page.locator(".st-key-x0 input").input_value(), page.locator(".st-key-y0 input").input_value()) == old
    assert_healthy(page, browser_log, server, server_log_mark)


def test_a_learning_rate_move_after_scrubbing_moves_the_paths_and_restores_the_others(page, base_url, browser_log, server, server_log_mark):
    """A move that changes only points (one learning rate) moves the traces instead of
    redrawing the chart; paths the viewer had scrubbed back come back whole."""
    open_app(page, base_url + "/")
    rest = figure_data(page)
    whole = {tr["name"]: tr for tr in path_traces(rest["traces"])}
    # Scrub to an early frame, as the slider under the chart does.
    page.evaluate(
        "() => { const gd = document.querySelector('.st-key-path_chart .js-plotly-plot');"
        " const name = gd._transitionData._frames[2].name;"
        " return window.__descentLabPlotly.instance.animate(gd, [name], {mode: 'immediate', frame: {duration: 0, redraw: false}, transition: {duration: 0}}); }"
    )
    wait_idle(page)
    scrubbed = figure_data(page)
    assert all(tr["n"] < whole[tr["name"]]["n"] for tr in path_traces(scrubbed["traces"])), "the scrub did not shorten the trails"
    draws = page.evaluate("() => ({...window.__plotly.by})")

    lr = hyper_input(page, "sgd_lr")
    lr.focus()
    page.keyboard.press("ArrowRight")
    after = wait_for_figure_change(page, signature(scrubbed["traces"]))
    wait_idle(page)
    fig = figure_data(page)
    now = page.evaluate("() => ({...window.__plotly.by})")
    detail = (draws, now, rest["frames"], fig["frames"], {k: v["n"] for k, v in whole.items()}, [(tr["name"], tr["n"]) for tr in path_traces(fig["traces"])])
    assert now.get("react", 0) == draws.get("react", 0) and now.get("animate", 0) > draws.get("animate", 0), detail

    paths = {tr["name"]: tr for tr in path_traces(fig["traces"])}
    momentum, sgd = t("opt.momentum", "en"), t("opt.sgd", "en")
    # The untouched run is whole again, point for point; the moved one is a new whole path.
    assert (paths[momentum]["x"], paths[momentum]["y"]) == (whole[momentum]["x"], whole[momentum]["y"])
    assert paths[sgd]["x"] != whole[sgd]["x"] and paths[sgd]["n"] >= 2
    assert fig["slider_active"] == fig["frames"] - 1  # the scrub slider back on the last step
    assert after is not None
    assert_healthy(page, browser_log, server, server_log_mark)


def test_hyperparameter_panel_by_keyboard_and_from_a_link(page, base_url, browser_log, server, server_log_mark):
    """The panel's controls are the browser's own inputs: arrow keys step a learning rate, every
    press lands (the link and the chart follow the last one), focus stays, Space flips a switch,
    and a link's value is what the panel shows."""
    open_app(page, base_url + "/?optimizers=adam&adam_beta1=0.5")
    lr, shown = hyper_input(page, "adam_lr"), hyper_shown(page, "adam_lr")
    start = S.default_hyperparameter("adam", "lr", default_surface())
    assert shown.inner_text() == f"{start:g}"
    assert hyper_shown(page, "adam_beta1").inner_text() == "0.5"  # from the link
    before = signature(figure_traces(page))

    lr.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    target = S.LR_OPTIONS[S.LR_OPTIONS.index(start) + 3]
    page.wait_for_function("(v) => new URLSearchParams(location.search).get('adam_lr') === v", arg=f"{target:g}")
    wait_for_figure_change(page, before)
    wait_idle(page)
    assert shown.inner_text() == f"{target:g}"
    assert lr.evaluate("(el) => el.getRootNode().activeElement === el"), "the learning rate lost focus"
    assert lr.get_attribute("aria-valuetext") == f"{target:g}"

    switch = hyper_input(page, "adam_bias_correction")
    assert switch.is_checked()
    switch.focus()
    page.keyboard.press("Space")
    page.wait_for_function("() => new URLSearchParams(location.search).get('adam_bias_correction') === 'false'")
    wait_idle(page)
    assert not switch.is_checked()
    assert query(page).get("adam_lr") == [f"{target:g}"]  # the other setting kept
    assert_healthy(page, browser_log, server, server_log_mark)


def test_quick_moves_of_two_controls_both_land_and_groups_follow_their_default(page, base_url, browser_log, server, server_log_mark):
    """Two controls moved before the server answers: both changes reach it (each report carries
    every unconfirmed change) and the panel ends showing what the server holds. Groups open by
    default for two optimizers close by default when a third comes in; one the viewer closed stays closed."""
    open_app(page, base_url + "/?optimizers=sgd&optimizers=momentum")
    groups = page.locator(".st-key-hyper_panel details")
    assert groups.count() == 2 and all(groups.nth(i).get_attribute("open") is not None for i in range(2))
    lr, mu = hyper_input(page, "momentum_lr"), hyper_input(page, "momentum_momentum")
    lr0, mu0 = S.default_hyperparameter("momentum", "lr", default_surface()), S.default_hyperparameter("momentum", "momentum", default_surface())
    lr.focus()
    page.keyboard.press("ArrowRight")
    mu.focus()
    page.keyboard.press("ArrowLeft")
    want_lr, want_mu = S.LR_OPTIONS[S.LR_OPTIONS.index(lr0) + 1], round(mu0 - 0.01, 2)
    page.wait_for_function(
        "([a, b]) => { const q = new URLSearchParams(location.search); return q.get('momentum_lr') === a && q.get('momentum_momentum') === b; }",
        arg=[f"{want_lr:g}", f"{want_mu:g}"],
    )
    wait_idle(page)
    assert (hyper_shown(page, "momentum_lr").inner_text(), hyper_shown(page, "momentum_momentum").inner_text()) == (f"{want_lr:g}", f"{want_mu:g}")

    # The viewer closes SGD's group, then adds a third optimizer.
    page.locator(".st-key-hyper_panel summary", has_text=t("opt.sgd", "en")).click()
    box = page.locator(".st-key-optimizers input")
    box.click()
    box.fill(t("opt.adam", "en"))
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.wait_for_function("() => new URLSearchParams(location.search).getAll('optimizers').length === 3")
    wait_idle(page)
    assert groups.count() == 3
    opened = {groups.nth(i).get_attribute("data-group"): groups.nth(i).get_attribute("open") is not None for i in range(3)}
    assert opened == {"sgd": False, "momentum": False, "adam": False}, opened  # three: closed by default
    assert hyper_shown(page, "momentum_lr").text_content() == f"{want_lr:g}"  # values kept (in a closed group)
    assert_healthy(page, browser_log, server, server_log_mark)


def test_the_schema_memo_answers_as_plotly_does(page, base_url, browser_log, server, server_log_mark):
    """The live chart memoizes Plotly's per-trace schema walk (ui/assets/live_chart.js) in its own
    Plotly only: for every trace of every chart on the page (surface, level lines, paths, loss
    panel, arrows, Taylor model, the sidebar's schedule), before and after a move, it answers as
    Plotly's own walk; the Plotly of Streamlit's charts (``window.Plotly``) is another, unpatched."""
    open_app(page, base_url + BENCH_LINK + "&field=true&eigen=true&taylor=true")
    shared = page.evaluate(
        """() => { const own = window.__descentLabPlotly.instance, P = window.Plotly;
          return {same: P === own, patched: !!(P && P.PlotSchema.findArrayAttributes.original)}; }"""
    )
    assert shared == {"same": False, "patched": False}, shared
    compare = """() => {
      const S = window.__descentLabPlotly.instance.PlotSchema;
      if (!S.findArrayAttributes.original) return null;
      const out = [];
      for (const gd of document.querySelectorAll('.js-plotly-plot')) {
        for (const t of gd._fullData || []) {
          const memo = [S.findArrayAttributes(t), S.findArrayAttributes(t)];  // asked twice: the memo's answer must not change
          out.push([t.type, JSON.stringify(memo[0]), JSON.stringify(memo[1]), JSON.stringify(S.findArrayAttributes.original(t))]);
        }
      }
      return out;
    }"""
    before = page.evaluate(compare)
    assert before, "the memo is not installed"
    assert {"heatmap", "contour", "scatter"} <= {row[0] for row in before}, {row[0] for row in before}
    assert all(a == b == c for _, a, b, c in before), [r for r in before if not r[1] == r[2] == r[3]]
    assert any('"marker.color"' in row[3] for row in before)  # not only x and y: the colorbar's stand-in
    lr = hyper_input(page, "adam_lr")
    page.locator(".st-key-hyper_panel summary", has_text=t("opt.adam", "en")).click()
    old = signature(figure_traces(page))
    lr.focus()
    page.keyboard.press("ArrowRight")
    wait_for_figure_change(page, old)
    wait_idle(page)
    after = page.evaluate(compare)
    assert all(a == b == c for _, a, b, c in after), [r for r in after if not r[1] == r[2] == r[3]]
    assert_healthy(page, browser_log, server, server_log_mark)


# (d) -----------------------------------------------------------------------------------


def test_the_live_chart_draws_with_the_plotly_package_s_own_plotly_js(page, base_url, browser_log, server, server_log_mark):
    """The live chart's Plotly is the plotly.min.js of the installed ``plotly`` package, served by
    Streamlit's public component file serving (ui/live_chart.py), not Streamlit's hashed bundle.
    An upgrade that moves that route or that file fails here by name."""
    import re
    from pathlib import Path

    import plotly

    from ui import live_chart

    shipped = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text(encoding="utf-8")[:200]
    version = re.search(r"plotly\.js v(\d+\.\d+\.\d+)", shipped).group(1)
    open_app(page, base_url + "/")
    served = page.request.get(base_url + live_chart.plotly_url())
    assert served.ok and "javascript" in served.headers.get("content-type", ""), (
        f"Streamlit no longer serves the plotly package's plotly.min.js at {live_chart.plotly_url()} "
        f"(components.v1.declare_component(path=...)): {served.status} {served.headers.get('content-type')}"
    )
    assert f"plotly.js v{version}" in served.text()[:200]
    loaded = page.evaluate("() => window.__descentLabPlotly.instance.version")
    assert loaded == version, (loaded, version)
    # ui/assets/live_chart.js reads Plotly's internal gd._fullLayout for the plot area's
    # geometry (the back layer's alignment, clicks, the cursor readout) and the loss panel's
    # range: the one Plotly internal it relies on. An upgrade that changes it fails here by name.
    missing = page.evaluate(
        """() => {
          const gd = [...document.querySelectorAll('.js-plotly-plot')].find((g) => g.closest('[class*="st-key-dl_layers_"]'));
          const L = gd && gd._fullLayout;
          if (!L) return ['gd._fullLayout'];
          const need = {'_size.l': L._size && L._size.l, '_size.w': L._size && L._size.w, '_size.t': L._size && L._size.t,
            width: L.width, height: L.height, 'xaxis.range': L.xaxis && L.xaxis.range, 'xaxis.domain': L.xaxis && L.xaxis.domain,
            'yaxis.range': L.yaxis && L.yaxis.range, 'yaxis2.range': L.yaxis2 && L.yaxis2.range};
          return Object.entries(need).filter(([, v]) => v === undefined || v === null).map(([k]) => k);
        }"""
    )
    assert missing == [], f"live_chart.js reads Plotly's internal gd._fullLayout, and plotly.js {loaded} lacks: {missing}"
    assert_healthy(page, browser_log, server, server_log_mark)


def test_play_button_animates_paths(page, base_url, browser_log, server, server_log_mark):
    open_app(page, base_url + "/")
    rest = figure_data(page)
    rest_paths = path_traces(rest["traces"])
    rest_sig = signature(rest["traces"])
    full_n = [tr["n"] for tr in rest_paths]
    full_last = [(tr["x"][-1], tr["y"][-1]) for tr in rest_paths]
    labels = [b for b in rest["updatemenus"][0] if PLAY_1X.fullmatch(b)]
    assert len(labels) == 1, rest["updatemenus"]

    button = page.locator(".st-key-path_chart g.updatemenu-button").filter(has_text=labels[0])
    assert button.count() == 1
    button.click()
    samples = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        fig = figure_data(page)
        if fig is not None:
            paths = path_traces(fig["traces"])
            samples.append((tuple(tr["n"] for tr in paths), tuple((tr["x"][-1], tr["y"][-1]) for tr in paths), fig["slider_active"]))
            if len(samples) > 3 and signature(fig["traces"]) == rest_sig:
                break  # back at the finished paths: playback is over
        time.sleep(0.1)

    counts = [s[0] for s in samples]
    heads = [s[1] for s in samples]
    during = [c for c in counts if list(c) != full_n]
    assert len(set(counts)) >= 3, counts  # the trails grew through several frames
    assert during and all(n < f for c in during for n, f in zip(c, full_n)), (counts, full_n)
    assert len(set(heads)) >= 3, heads  # the trail ends (heads) moved
    assert len({s[2] for s in samples}) >= 3, [s[2] for s in samples]  # the scrub slider followed
    # Playback ends on the resting figure: the finished paths.
    assert list(counts[-1]) == full_n and list(heads[-1]) == full_last, (counts[-1], full_n)
    assert_healthy(page, browser_log, server, server_log_mark)


_READ_FRAMES = """() => {
  const gd = document.querySelector('.st-key-path_chart .js-plotly-plot');
  const frames = (gd && gd._transitionData && gd._transitionData._frames) || [];
  return frames.map((f) => ({name: f.name, traces: f.traces,
    data: f.data.map((d) => ({x: Array.from(d.x, Number), y: Array.from(d.y, Number)}))}));
}"""


def test_the_browser_makes_the_frames_the_server_describes(page, base_url, browser_log, server, server_log_mark):
    """The live chart gets its animation as a recipe (figures/paths.py) and makes the frames in
    the browser (framesOf in ui/assets/live_chart.js); figures.expanded makes them in Python.
    The same link rendered by AppTest gives the recipe: both must make the same frames, bit for bit."""
    import base64
    import json

    import numpy as np
    from streamlit.testing.v1 import AppTest

    import figures
    from harness import ROOT

    def unpack(a) -> np.ndarray:
        assert a["dtype"] == "f4", a
        return np.frombuffer(base64.b64decode(a["bdata"]), dtype=np.float32)

    start = ("-1.321", "1.789")
    open_app(page, base_url + BENCH_LINK + f"&x0={start[0]}&y0={start[1]}")
    drawn = page.evaluate(_READ_FRAMES)

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in {"landscape": "rosenbrock", "optimizers": list(BENCH), "steps": "1000", "x0": start[0], "y0": start[1]}.items():
        at.query_params[k] = v
    at.run()
    (front,) = [p for c in at.get("bidi_component") if c.proto.component_name == "descent_lab.live_chart" for p in [json.loads(c.proto.bytes)] if p["role"] == "front"]
    assert "animation" in front["figure"] and not front["figure"]["frames"]  # sent as a recipe
    made = figures.expanded(front["figure"])["frames"]

    assert [f["name"] for f in drawn] == [f["name"] for f in made] and len(made) > 2
    for got, want in zip(drawn, made):
        assert got["traces"] == want["traces"]
        assert len(got["data"]) == len(want["data"]) == 2 * len(BENCH)
        for g, w in zip(got["data"], want["data"]):
            for axis in "xy":
                np.testing.assert_array_equal(np.asarray(g[axis], dtype=np.float32), unpack(w[axis]))
    assert_healthy(page, browser_log, server, server_log_mark)


# (e) -----------------------------------------------------------------------------------


def test_switch_language_to_chinese(page, base_url, browser_log, server, server_log_mark):
    open_app(page, base_url + "/")
    page.locator("[data-testid=stSidebar]").get_by_text("中文", exact=True).click()
    page.get_by_role("heading", name=t("nav.playground", "zh")).wait_for(timeout=LOAD_TIMEOUT_MS)
    wait_idle(page)

    assert page.get_by_role("heading", name=t("nav.playground", "en"), exact=True).count() == 0
    assert slider(page, t("pg.steps", "zh")).count() == 1
    assert slider(page, t("pg.steps", "en")).count() == 0
    assert page.get_by_text(t("pg.landscape", "zh"), exact=True).first.is_visible()
    assert query(page).get("lang") == ["zh"]
    assert page.locator(CHART).is_visible()
    fig = figure_data(page)
    assert fig["slider_prefix"] == t("fig.step", "zh") + " ", fig["slider_prefix"]  # the scrub slider's "step"
    # Same paths, translated legend.
    assert [tr["name"] for tr in path_traces(fig["traces"])] == [t(f"opt.{o}", "zh") for o in DEFAULT_OPTIMIZERS]
    assert_healthy(page, browser_log, server, server_log_mark)


# (f) -----------------------------------------------------------------------------------


def test_benchmark_link_opens_that_scenario(page, base_url, browser_log, server, server_log_mark):
    open_app(page, base_url + BENCH_LINK)
    names = [t(f"opt.{o}", "en") for o in BENCH]

    tags = page.locator(".st-key-optimizers [data-tag]")
    assert tags.count() == 6
    assert [tags.nth(i).get_attribute("aria-label") for i in range(6)] == names
    assert slider_value(page, t("pg.steps", "en")) == "1000"
    assert page.locator(".st-key-steps [data-testid=stSliderThumbValue]").inner_text().strip() == "1000"
    assert CATALOG["rosenbrock"].title["en"] == landscape_shown(page)
    fig = figure_data(page)
    assert [tr["name"] for tr in path_traces(fig["traces"])] == names
    # The URL still says the same scenario (defaults may be dropped from it, nothing else).
    q = query(page)
    assert q.get("landscape", ["rosenbrock"]) == ["rosenbrock"]
    assert q.get("optimizers") == list(BENCH)
    assert q.get("steps", ["1000"]) == ["1000"]
    assert_healthy(page, browser_log, server, server_log_mark)


# (g) -----------------------------------------------------------------------------------


def test_malformed_link_falls_back_without_error(page, base_url, browser_log, server, server_log_mark):
    open_app(page, base_url + "/?landscape=nope&steps=abc")
    surface = default_surface()
    assert page.locator(CHART).is_visible()
    assert CATALOG[surface].title["en"] == landscape_shown(page)
    assert int(slider_value(page, t("pg.steps", "en"))) == S.default_steps(surface)
    assert len(path_traces(figure_traces(page))) == len(DEFAULT_OPTIMIZERS)
    assert_healthy(page, browser_log, server, server_log_mark)


# (h) -----------------------------------------------------------------------------------


def test_phone_viewport_shows_chart(phone_page, base_url, browser_log, server, server_log_mark):
    page = phone_page
    open_app(page, base_url + "/")
    chart = page.locator(CHART)
    # The chart on the first screen, the hyperparameters (drawn above it on a desktop) below it.
    first, panel = chart.bounding_box(), page.locator(".st-key-hyper_group").bounding_box()
    assert first and panel and first["y"] < 844 * 0.6 < first["y"] + first["height"] < panel["y"], (first, panel)
    # The chart's status lines stay under it, and its options come after the panel (the CSS
    # order moves the page's elements, not only its boxes).
    status, options = page.locator(".dl-status").bounding_box(), page.locator(".st-key-overlay_group").bounding_box()
    assert status and options and first["y"] + first["height"] <= status["y"] < panel["y"] < options["y"], (first, status, panel, options)
    chart.scroll_into_view_if_needed()
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box is not None and 250 <= box["width"] <= 390 and box["height"] > 200, box
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 + 1, box
    assert path_traces(figure_traces(page)), "no paths drawn on the phone"
    # Nothing drawn over anything: the toolbar would cover the legend (a touch screen shows it
    # without a hover), the play buttons the x-axis title, the scrub slider's labels the loss
    # panel's title.
    assert not chart.locator(".modebar").first.is_visible(), "the toolbar covers the legend on a phone"
    title = chart.locator(".xtitle").first.bounding_box()
    buttons = [b.bounding_box() for b in chart.locator(".updatemenu-button").all()]
    labels = [b.bounding_box() for b in chart.locator(".slider-label").all()]
    loss_title = chart.locator(".annotation", has_text=t("pg.loss_title", "en")).first.bounding_box()
    assert title and len(buttons) == 4 and labels and loss_title, (title, buttons, labels, loss_title)
    overlaps = lambda a, b: a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]  # noqa: E731
    assert not any(overlaps(title, b) for b in buttons), (title, buttons)
    assert not any(overlaps(loss_title, b) for b in labels), (loss_title, labels)
    assert_healthy(page, browser_log, server, server_log_mark)
