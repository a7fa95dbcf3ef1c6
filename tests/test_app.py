"""The Playground through Streamlit's AppTest: every control path runs without an exception."""

from __future__ import annotations

import base64
import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import figures
import landscapes
import optimizers

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def fresh(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def unpack(arr) -> np.ndarray:
    if isinstance(arr, dict):  # plotly.js typed array: base64 bytes
        dtype = {"f4": np.float32, "f8": np.float64, "i4": np.int32}[arr["dtype"]]
        return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=dtype)
    return np.asarray(arr, dtype=float)


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def live_layers(at: AppTest) -> dict[str, dict]:
    """The path chart's two layers as sent to the browser: {"back": payload, "front": payload}."""
    payloads = [json.loads(c.proto.bytes) for c in at.get("bidi_component") if c.proto.component_name == "descent_lab.live_chart"]
    return {p["role"]: p for p in payloads if p.get("name") == "path_chart"}


def path_chart(at: AppTest) -> dict:
    """The path chart as one figure (its two layers put back together)."""
    layers = live_layers(at)
    assert set(layers) == {"back", "front"}, "the path chart is missing"
    return figures.merged({role: p["figure"] for role, p in layers.items()})


def hyper_panel(at: AppTest):
    """The hyperparameters panel's element."""
    from ui.hyper_panel import COMPONENT_NAME

    return next(c for c in at.get("bidi_component") if c.proto.component_name == COMPONENT_NAME)


def panel_data(at: AppTest) -> dict:
    """The hyperparameters panel's data as sent to the browser."""
    return json.loads(hyper_panel(at).proto.bytes)


def hyper_values(at: AppTest) -> dict[str, object]:
    """What the hyperparameters panel shows: {key: the value's text, or True/False for a switch}."""
    data = panel_data(at)
    return {it["key"]: data["scales"][it["scale"]][it["index"]] if "scale" in it else it["on"] for g in data["groups"] for it in g["items"]}


def taken_from(report) -> tuple[list | None, dict]:
    """What the hyperparameters panel's on_change callback takes from ``report`` (through
    ``hyper_panel.reported_changes``, on a session state of its own): the changes (None for
    a malformed report) and what it keeps in session state."""
    from ui import hyper_panel

    state = {hyper_panel.PANEL_KEY: {"change": report}}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(hyper_panel.st, "session_state", state)
        changes = hyper_panel.reported_changes()
    return changes, {k: v for k, v in state.items() if k != hyper_panel.PANEL_KEY}


def report_hyper(at: AppTest, report) -> AppTest:
    """Run the page as after the hyperparameters panel sent ``report``: the callback's part
    (``taken_from``) goes into the session through AppTest's public session state, then the
    page runs. The browser -> component -> callback path itself is held by the browser tests
    (AppTest has no public way to fire a component's trigger)."""
    changes, kept = taken_from(report)
    for key, value in [*(changes or ()), *kept.items()]:
        at.session_state[key] = value
    return at.run()


def set_hyper(at: AppTest, key: str, value, seq: int | None = None) -> AppTest:
    """Set one hyperparameter through the panel as the browser reports it: the index of ``value``
    among its control's options (or on/off), in the panel's next numbered report."""
    from ui import settings as S

    options = S.hyper_options(S.hyper_keys()[key][1])
    seq = panel_data(at)["applied"] + 1 if seq is None else seq
    return report_hyper(at, {"seq": seq, "changes": {key: value if options is None else options.index(value)}})


def status_text(at: AppTest) -> str:
    """The text of the page's Markdown and HTML elements (the status lines and the readouts are HTML)."""
    return " ".join([m.value for m in at.markdown] + [h.proto.body for h in at.get("html")])


def test_default_page_shows_sgd_and_momentum_on_the_bowl():
    at = fresh()
    assert not at.exception
    spec = path_chart(at)
    names = [d.get("name") for d in spec["data"]]
    assert "SGD" in names and "Momentum" in names
    assert len(spec["frames"]) >= 2
    assert "SGD" in status_text(at) and "Momentum" in status_text(at)


@pytest.mark.parametrize("name", landscapes.names())
def test_every_landscape_renders(name):
    at = fresh()
    at.selectbox(key="landscape").set_value(name).run()
    assert not at.exception
    spec = path_chart(at)
    (x0, x1), _ = landscapes.get(name).window
    assert spec["layout"]["xaxis"]["range"] == [x0, x1]
    # The surface's own start point is taken.
    assert at.number_input(key="x0").value == pytest.approx(landscapes.get(name).hints["start"][0])


def test_every_optimizer_at_once_reports_a_status_each():
    at = fresh({"landscape": "rosenbrock"})
    at.multiselect(key="optimizers").set_value(optimizers.names()).run()
    assert not at.exception
    text = status_text(at)
    for name in ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam", "Newton", "Saddle-free Newton", "L-BFGS"]:
        assert name in text
    # Per optimizer: its path and its head on the contour, its loss in the panel below.
    groups = [d["legendgroup"] for d in path_chart(at)["data"] if d.get("legendgroup")]
    assert sorted(groups) == sorted(optimizers.names() * 3)


def schedule_factors(at: AppTest) -> np.ndarray:
    """The factors the sidebar's learning-rate plot shows (the values its line is drawn through)."""
    import re

    plots = [h.proto.body for h in at.get("html") if "dl-schedule" in h.proto.body]
    assert len(plots) == 1, "the learning-rate plot is missing"
    return np.array(json.loads(re.search(r"data-factors='([^']*)'", plots[0]).group(1)))


@pytest.mark.parametrize("schedule", optimizers.schedules.names())
def test_every_schedule_runs_and_is_plotted(schedule):
    at = fresh()
    at.selectbox(key="schedule").set_value(schedule).run()
    at.run()  # the whole page (after a keyed rerun AppTest holds only what the fragments drew)
    at.slider(key="warmup").set_value(20).run()
    assert not at.exception
    factors = schedule_factors(at)
    steps = int(at.session_state["steps"])
    assert len(factors) == min(400, steps)
    # The Playground's periods: cosine over the steps after the warm-up, cyclical every 100 steps.
    options = {"cosine": {"period": steps - 20}, "cyclical": {"period": 100}}.get(schedule, {})
    expected = optimizers.schedules.make(schedule, warmup_steps=20, **options)(np.arange(steps))[figures.thin(steps, 400)]
    np.testing.assert_allclose(factors, expected, rtol=1e-6)


def test_cosine_anneals_over_the_runs_steps(monkeypatch):
    from ui import compute

    runs, real = [], compute.compute
    monkeypatch.setattr(compute, "compute", lambda sc: runs.append(real(sc)) or runs[-1])
    at = fresh({"schedule": "cosine", "steps": "60"})
    assert not at.exception and not at.warning
    # 0.5 (1 + cos(pi t / 60)), t = 0..59: the last step's rate is 0.5 (1 + cos(59 pi / 60)) = 0.000685.
    expected = np.array([0.5 * (1 + math.cos(math.pi * t / 60)) for t in range(60)])
    np.testing.assert_allclose(schedule_factors(at), expected, rtol=1e-6, atol=1e-12)
    assert schedule_factors(at)[-1] == pytest.approx(0.0006852326, rel=1e-6)
    # The runs take the same rates (SGD at the bowl's suggested 0.15).
    np.testing.assert_allclose(runs[-1]["sgd"].lrs, 0.15 * expected, rtol=1e-12, atol=1e-15)
    # After a warm-up of 20 of 80 steps: a ramp (t+1)/20, then a cosine of period 60.
    at = fresh({"schedule": "cosine", "steps": "80", "warmup": "20"})
    expected = [(t + 1) / 20 for t in range(20)] + [0.5 * (1 + math.cos(math.pi * t / 60)) for t in range(60)]
    np.testing.assert_allclose(schedule_factors(at), expected, rtol=1e-6, atol=1e-12)


def test_the_cyclical_period_is_a_control_and_in_the_link():
    at = fresh({"schedule": "cyclical", "cycle": "40", "steps": "100"})
    assert not at.exception and not at.warning
    assert at.slider(key="cycle").value == 40
    triangle = lambda t, p: 0.1 + 0.9 * (1 - abs(2 * (t % p) / p - 1))  # noqa: E731 (floor 0.1, peak 1 at p/2)
    np.testing.assert_allclose(schedule_factors(at), [triangle(t, 40) for t in range(100)], rtol=1e-6)
    assert schedule_factors(at)[20] == pytest.approx(1.0) and schedule_factors(at)[40] == pytest.approx(0.1)
    at.slider(key="cycle").set_value(20).run()
    np.testing.assert_allclose(schedule_factors(at), [triangle(t, 20) for t in range(100)], rtol=1e-6)
    # The whole page again (after a keyed rerun AppTest holds only what the fragments drew), with
    # the address bar as the browser leaves it: it writes a bound control's value there itself.
    at.query_params["cycle"] = "20"
    at.run()
    # Only the cyclical schedule has a period to set; the value comes back with it.
    at.selectbox(key="schedule").set_value("constant").run()
    assert "cycle" not in [s.key for s in at.slider]
    at.selectbox(key="schedule").set_value("cyclical").run()
    assert at.slider(key="cycle").value == 20
    # A link without a period: 100 steps, as before the control existed.
    at = fresh({"schedule": "cyclical", "steps": "100"})
    assert at.slider(key="cycle").value == 100 and not at.warning
    np.testing.assert_allclose(schedule_factors(at), [triangle(t, 100) for t in range(100)], rtol=1e-6)
    # A period the control cannot take: the default, and the notice names it.
    at = fresh({"schedule": "cyclical", "cycle": "5"})
    assert at.slider(key="cycle").value == 100
    assert "cycle" in " ".join(w.value for w in at.warning)


def test_schedule_options_by_hand():
    from ui import settings as S

    assert S.schedule_options("cosine", 60, 0) == {"period": 60}
    assert S.schedule_options("cosine", 80, 20, 300) == {"period": 60}
    assert S.schedule_options("cosine", 50, 100) == {"period": 1}  # a warm-up longer than the run
    assert S.schedule_options("cyclical", 60, 0) == {"period": 100}
    assert S.schedule_options("cyclical", 60, 0, 30) == {"period": 30}
    for name in ("constant", "step", "exponential", "inverse_time"):
        assert S.schedule_options(name, 60, 10, 30) == {}
    assert S.schedule_setting("cosine", 60, 10) == ("cosine", 10, (("period", 50),))
    assert not S.is_scheduled(("constant", 0, ())) and S.is_scheduled(("constant", 10, ()))
    assert S.is_scheduled(("step", 0, ()))


def test_noise_and_averaging_add_an_averaged_path():
    at = fresh()
    at.select_slider(key="noise").set_value(1.0).run()
    at.run()  # noise reruns the race fragment alone; AppTest then holds only its elements (see RUN_ONLY below)
    at.selectbox(key="average").set_value("polyak").run()
    assert not at.exception
    names = [d.get("name") for d in path_chart(at)["data"]]
    assert "SGD (averaged)" in names and "Momentum (averaged)" in names


def test_diverging_learning_rate_is_reported_in_words():
    at = fresh({"landscape": "rosenbrock", "optimizers": "sgd"})
    set_hyper(at, "sgd_lr", 0.1)
    assert not at.exception
    assert hyper_values(at)["sgd_lr"] == "0.1"
    assert "diverged at step" in status_text(at)
    assert "lower the learning rate" in status_text(at)


def test_bad_link_values_fall_back_with_a_notice():
    at = fresh({"landscape": "nope", "steps": "abc", "sgd_lr": "-3", "optimizers": "zzz"})
    assert not at.exception
    warning = " ".join(w.value for w in at.warning)
    for key in ("landscape", "steps", "sgd_lr", "optimizers"):
        assert key in warning
    assert at.selectbox(key="landscape").value == "bowl"
    path_chart(at)


def test_benchmark_link_opens_that_scenario():
    at = fresh(
        {
            "landscape": "rosenbrock",
            "optimizers": ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"],
            "steps": "1000",
        }
    )
    assert not at.exception
    assert at.selectbox(key="landscape").value == "rosenbrock"
    assert at.multiselect(key="optimizers").value == ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
    assert at.slider(key="steps").value == 1000
    assert not at.warning


def test_click_on_the_contour_sets_the_start():
    from ui.controls import set_start_from_click, start_was_clicked

    import streamlit as st

    at = fresh()
    assert live_layers(at)["front"]["clickable"] is True  # the browser reports clicks on the contour
    with pytest.MonkeyPatch.context() as mp:
        state = {"x0": -1.0, "y0": 1.0, "probe": {"click": {"x": 1.25, "y": -0.5}}}
        mp.setattr(st, "session_state", state)
        set_start_from_click("probe")
        assert (state["x0"], state["y0"]) == (1.25, -0.5)
        # The start's number inputs are in the sidebar: the page asks for a full rerun, once.
        assert start_was_clicked() and not start_was_clicked()
        # No click, or a malformed one, leaves the start alone.
        for event in (None, {}, {"click": None}, {"click": {"x": "a", "y": 1}}, {"click": {"x": float("nan"), "y": 0.0}}):
            state["probe"] = event
            set_start_from_click("probe")
            assert (state["x0"], state["y0"]) == (1.25, -0.5)
            assert not start_was_clicked()


def test_a_click_reruns_the_race_and_the_start_s_inputs_not_the_sidebar():
    """With the race fragment current, a click asks Streamlit for a keyed rerun of the race and
    of the start's inputs (their own fragment), which then write the start again to show it; the
    browser test clicks the real chart and checks that the next move keeps that start."""
    from ui import settings as S
    from ui import state as state_module

    import streamlit as st

    class Halt(Exception):
        pass

    asked = []

    def rerun(scope="app"):
        asked.append(scope)
        raise Halt  # st.rerun halts a callback

    at = fresh()
    with pytest.MonkeyPatch.context() as mp:
        session = {"x0": -1.0, "y0": 1.0, "probe": {"click": {"x": 0.5, "y": 0.25}}}
        mp.setattr(st, "session_state", session)
        mp.setattr(state_module, "_fragment_is_current", lambda: True)
        mp.setattr(st, "rerun", rerun)
        with pytest.raises(Halt):
            state_module.set_start_from_click("probe")
        assert asked == [[state_module.RACE, state_module.START]] and (session["x0"], session["y0"]) == (0.5, 0.25)
        assert not state_module.start_was_clicked()  # no full rerun asked for
        # The inputs' own run writes the start again, so that Streamlit shows it as new there.
        assert session[S.START_SHOWN_KEY] is False
        state_module.show_clicked_start()
        assert session[S.START_SHOWN_KEY] is True and (session["x0"], session["y0"]) == (0.5, 0.25)
    # Drawn as by that keyed rerun: the start's inputs hold the click, and the race is the link's.
    at.session_state["x0"], at.session_state["y0"] = 0.5, 0.25
    at.run()
    assert (at.number_input(key="x0").value, at.number_input(key="y0").value) == (0.5, 0.25)
    assert path_chart(at) == path_chart(fresh({"x0": "0.5", "y0": "0.25"}))


def test_overlays_and_other_views_render():
    at = fresh()
    at.toggle(key="field").set_value(True).run()
    at.toggle(key="eigen").set_value(True).run()
    at.toggle(key="taylor").set_value(True).run()
    assert not at.exception
    names = [d.get("name") or "" for d in path_chart(at)["data"]]
    assert "downhill direction" in names and "quadratic model" in names
    assert sum("eigenvector" in n for n in names) == 2


def test_language_switch_changes_the_text():
    at = fresh()
    at.radio(key="lang").set_value("zh").run()
    assert not at.exception
    assert at.title[0].value == "演练场"
    assert "动量法" in status_text(at)


def test_custom_start_number_inputs_move_the_path():
    at = fresh()
    before = path_chart(at)
    at.number_input(key="x0").set_value(2.0).run()
    at.run()  # a typed start reruns the race fragment alone; AppTest then holds only its elements
    at.number_input(key="y0").set_value(-2.0).run()
    start = [d for d in path_chart(at)["data"] if d.get("name") == "start"][0]
    assert (start["x"], start["y"]) == ([2.0], [-2.0])
    assert before != path_chart(at)


def test_default_view_shows_sgd_zigzag_and_momentum_smoothing_it():
    """Claims C1 and C3 on first load: no control needs touching. The paths drawn are checked
    against the closed form of the default runs, and the turns counted from that closed form."""
    import base64

    at = fresh()
    assert at.selectbox(key="landscape").value == "bowl" and at.slider(key="p_condition").value == 10.0
    assert (at.number_input(key="x0").value, at.number_input(key="y0").value) == (-3.5, 1.5)
    assert hyper_values(at) == {"sgd_lr": "0.15", "momentum_lr": "0.015", "momentum_momentum": "0.8"}
    spec = path_chart(at)
    # The paths on the contour (the loss panel's lines sit on the y2 axis).
    lines = {d["name"]: d for d in spec["data"] if d.get("legendgroup") and d.get("mode") == "lines" and d.get("yaxis", "y") == "y"}

    def ys(trace):
        return np.frombuffer(base64.b64decode(trace["y"]["bdata"]), dtype=np.float32)[:30].astype(float)

    k = np.arange(30)
    # f = (x^2 + 10 y^2) / 2. SGD, lr 0.15: y_k = 1.5 (1 - 1.5)^k = 1.5 (-0.5)^k. Every step
    # dy_k = -2.25 (-0.5)^k points the other way from the one before: 28 turns in 30 points.
    sgd = ys(lines["SGD"])
    np.testing.assert_allclose(sgd, 1.5 * (-0.5) ** k, rtol=1e-6)
    assert np.all(np.sign(np.diff(sgd)) == -np.sign(1.5 * (-0.5) ** k[:29]))  # alternating, as drawn
    # Momentum, lr 0.015, mu 0.8: y_{k+1} = (1 + mu - 0.15) y_k - mu y_{k-1}, y_1 = 0.85 y_0, so
    # y_k = rho^k (a cos k theta + b sin k theta), rho = sqrt(mu), cos theta = 1.65 / (2 rho), and
    # dy_k = rho^k m cos(k theta - phi): it turns only where k theta - phi passes an odd multiple
    # of pi/2, once every pi / theta = 7.9 steps: at k = 7, 15, 23, 3 turns.
    rho = np.sqrt(0.8)
    theta = np.arccos(1.65 / (2 * rho))
    a, b = 1.5, (0.85 * 1.5 / rho - 1.5 * np.cos(theta)) / np.sin(theta)
    momentum = ys(lines["Momentum"])
    np.testing.assert_allclose(momentum, rho**k * (a * np.cos(k * theta) + b * np.sin(k * theta)), rtol=1e-5, atol=1e-6)
    phi = np.arctan2(b * (rho * np.cos(theta) - 1) - a * rho * np.sin(theta), a * (rho * np.cos(theta) - 1) + b * rho * np.sin(theta))
    assert np.all(np.sign(np.diff(momentum)) == np.sign(np.cos(k[:29] * theta - phi)))  # its turns, as drawn
    turns = np.floor((28 * theta - phi) / np.pi + 0.5) - np.floor(-phi / np.pi + 0.5)
    assert turns == 3 <= 28 / 3  # momentum turns back a third as often as SGD, or less


def _styles(at: AppTest) -> str:
    return " ".join(h.proto.body for h in at.get("html"))


def test_a_prepared_link_hides_the_chosen_controls_and_keeps_their_values():
    at = fresh({"hide": ["hyper", "training"], "present": "true", "sgd_lr": "0.1"})
    assert not at.exception
    css = _styles(at)
    assert ".st-key-hyper_group" in css and ".st-key-training_group" in css
    assert ".st-key-optimizers" not in css
    assert "font-size" in css  # presenter mode
    assert hyper_values(at)["sgd_lr"] == "0.1"  # hidden, yet set by the link
    assert at.session_state["sgd_lr"] == 0.1
    assert path_chart(at)["layout"]["font"]["size"] == 20


def test_unknown_hide_group_is_reported():
    at = fresh({"hide": "everything"})
    assert not at.exception
    assert "hide" in " ".join(w.value for w in at.warning)


def test_export_buttons_are_offered_once_their_popover_opens():
    at = fresh()
    assert not at.get("download_button")  # closed: nothing made, nothing sent on a move
    at.session_state["export"] = True  # what opening the popover sets
    labels = [b.label for b in at.run().get("download_button")]
    assert not at.exception
    assert any("HTML" in label for label in labels) and any("CSV" in label for label in labels)


@pytest.mark.parametrize("view", ["surface", "inside", "formulas"])
def test_each_view_opens_from_a_link_and_from_the_switch(view):
    from_link = fresh({"view": view})
    switched = fresh()
    switched.button_group(key="view").set_value(view).run()
    for at in (from_link, switched):
        assert not at.exception and not at.warning
        assert at.button_group(key="view").value == view
        link = at.query_params.get("view")
        assert (link if isinstance(link, list) else [link]) == [view]  # the link names the view, in any language
        assert not live_layers(at)  # the path chart is drawn only in its own view
    main = lambda at: [json.loads(c.proto.spec) for c in at.main.get("plotly_chart")]  # noqa: E731 (the sidebar has the schedule)
    shown = {
        "surface": lambda at: [c["data"][0]["type"] for c in main(at)] == ["surface"],
        "inside": lambda at: len(main(at)) == 2 and at.slider(key="inside_step").value == 0,
        "formulas": lambda at: len(at.latex) >= 3 + 2,  # f, gradient, Hessian and each optimizer's rule
    }[view]
    assert shown(from_link) and shown(switched)


def test_a_bad_view_in_a_link_opens_the_paths_with_a_notice():
    at = fresh({"view": "nowhere"})
    assert not at.exception
    assert at.button_group(key="view").value == "paths" and live_layers(at)
    assert "view" in " ".join(w.value for w in at.warning)


# Per optimizer: settings other than the defaults in a link, and what its rule must then say
# (typed by hand). Every link also asks for a cosine schedule over 80 steps, so each rule has
# the step's rate eta_t and the base rate's value.
FORMULA_LINKS: dict[str, tuple[dict[str, str], list[str]]] = {
    "sgd": ({"sgd_lr": "0.03"}, [r"x_{t+1} = x_t - \eta_t\, g_t", r"\eta = 0.03"]),
    "momentum": (
        {"momentum_lr": "0.02", "momentum_momentum": "0.5"},
        [r"v_{t+1} = \mu\, v_t + g_t,\quad x_{t+1} = x_t - \eta_t\, v_{t+1}", r"\eta = 0.02,\quad \mu = 0.5"],
    ),
    "nesterov": (
        {"nesterov_lr": "0.05", "nesterov_momentum": "0.7"},
        [r"v_{t+1} = \mu\, v_t - \eta_t\, \nabla f(x_t + \mu\, v_t),\quad x_{t+1} = x_t + v_{t+1}", r"\eta = 0.05,\quad \mu = 0.7"],
    ),
    "adagrad": (
        {"adagrad_lr": "0.5", "adagrad_eps": "1e-06"},
        [r"x_{t+1} = x_t - \eta_t\, \frac{g_t}{\sqrt{s_{t+1}} + \epsilon}", r"\eta = 0.5,\quad \epsilon = 10^{-6}"],
    ),
    "rmsprop": (
        {"rmsprop_lr": "0.003", "rmsprop_alpha": "0.9", "rmsprop_eps": "0.0001"},
        [r"s_{t+1} = \alpha\, s_t + (1-\alpha)\, g_t^2", r"\eta = 0.003,\quad \alpha = 0.9,\quad \epsilon = 0.0001"],
    ),
    "adam": (
        {"adam_lr": "0.03", "adam_bias_correction": "false", "adam_beta1": "0.8"},
        [r"x_{t+1} = x_t - \eta_t\, \frac{m_{t+1}}{\sqrt{v_{t+1}} + \epsilon}", r"\eta = 0.03,\quad \beta_1 = 0.8,\quad \beta_2 = 0.999,\quad \epsilon = 10^{-8}"],
    ),
    # Damping lambda and step cap R: the optimizer's own defaults, 1e-3 and 10.
    "newton": (
        {"newton_lr": "0.5"},
        [r"d_t = -\eta_t\, \left(H(x_t) + \lambda I\right)^{-1} g_t", r"\eta = 0.5,\quad \lambda = 0.001,\quad R = 10"],
    ),
    "saddle_free_newton": (
        {"saddle_free_newton_lr": "0.3"},
        [r"d_t = -\eta_t\, \left(V|\Lambda|V^\top + \lambda I\right)^{-1} g_t", r"\eta = 0.3,\quad \lambda = 0.001,\quad R = 10"],
    ),
    "lbfgs": ({"lbfgs_lr": "0.5", "lbfgs_memory": "5"}, [r"\alpha_t = \eta_t\, 0.5^{j}", r"\eta = 0.5,\quad m = 5,\quad c_1 = 0.0001"]),
}
RULES_HEADING = {"en": "Update rules of the selected optimizers", "zh": "所选优化器的更新公式"}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", optimizers.names())
def test_the_formulas_view_shows_each_rule_with_the_settings_of_the_link(name, lang):
    settings, fragments = FORMULA_LINKS[name]
    at = fresh({"optimizers": name, "view": "formulas", "lang": lang, "schedule": "cosine", "steps": "80", **settings})
    assert not at.exception and not at.warning
    assert RULES_HEADING[lang] in " ".join(m.value for m in at.markdown)
    latex = [l.value for l in at.latex]
    (rule,) = [l for l in latex if r"\begin{gathered}" in l]
    for fragment in fragments:
        assert fragment in rule
    assert r"\hat" not in rule  # no optimizer here has Adam's bias correction on
    # Once, under the rules: the schedule's formula, its period the run's 80 steps.
    assert latex[-1].strip("$\n") == r"\eta_t = \eta\,\tfrac12\left(1+\cos\frac{\pi \min(t,80)}{80}\right)"
    assert r"g_t = \nabla f(x_t)" in latex[-3]  # no noise


def test_momentum_and_nesterov_say_where_the_rate_sits():
    for lang, words in (("en", "Where η sits"), ("zh", "η 的位置")):
        at = fresh({"optimizers": ["momentum", "nesterov"], "view": "formulas", "lang": lang})
        notes = [c.value for c in at.caption if words in c.value]
        assert len(notes) == 2
        momentum, nesterov = notes
        assert "PyTorch" in momentum and "Sutskever" in momentum
        assert r"x \leftarrow x - \eta\,(g(x) + \mu v)" in nesterov and "SGD(nesterov=True)" in nesterov


def test_the_formulas_follow_bias_correction_warmup_noise_and_a_constant_rate():
    at = fresh({"optimizers": ["adam", "sgd"], "view": "formulas", "adam_bias_correction": "true", "adam_lr": "0.05"})
    assert not at.exception and not at.warning
    adam, sgd = [l.value for l in at.latex if r"\begin{gathered}" in l.value]
    assert r"\hat m_{t+1} = \frac{m_{t+1}}{1-\beta_1^{t+1}}" in adam and r"\eta = 0.05" in adam
    assert r"x_{t+1} = x_t - \eta\, g_t" in sgd
    assert not any(r"\eta_t" in l.value for l in at.latex)  # a constant rate: no eta_t, no schedule
    at = fresh({"optimizers": "sgd", "view": "formulas", "schedule": "cosine", "steps": "80", "warmup": "20", "noise": "0.5"})
    latex = [l.value for l in at.latex]
    assert r"\min(t-20,60)}{60}" in latex[-1] and r"t < 20" in latex[-1]
    assert r"\sigma = 0.5" in latex[-3] and r"\nabla f_t(x_t)" in latex[-3]
    at = fresh({"optimizers": "sgd", "view": "formulas", "schedule": "cyclical", "cycle": "40"})
    assert r"\bmod 40)}{40}" in at.latex[-1].value


def test_custom_function_from_a_link_runs_end_to_end():
    at = fresh({"landscape": "custom", "fx": "(1-x)^2 + 100*(y-x^2)^2", "optimizers": ["lbfgs", "adam"]})
    assert not at.exception and not at.error
    assert "L-BFGS" in status_text(at)
    assert "converged at step" in status_text(at) and "converged at step 0" not in status_text(at)
    assert any("100" in l.value for l in at.latex)
    # The typed Rosenbrock's minimum is found and marked.
    minima = [d for d in path_chart(at)["data"] if d.get("name") == "minimum"]
    assert minima and minima[0]["x"] == [pytest.approx(1.0)] and minima[0]["y"] == [pytest.approx(1.0)]


@pytest.mark.parametrize(
    "text",
    ["(x^2+y-11)^2 + (x+y^2-7)^2", "-20*exp(-0.2*sqrt(0.5*(x^2+y^2))) - exp(0.5*(cos(2*pi*x)+cos(2*pi*y))) + e + 20", "sin(x)*cos(y)", "abs(x)+abs(y)", "3"],
)
def test_valid_typed_functions_work_in_the_playground(text):
    at = fresh({"landscape": "custom", "fx": text})
    assert not at.exception and not at.error
    path_chart(at)
    assert "SGD" in status_text(at)


def test_a_bad_function_is_reported_beside_the_box_and_its_text_kept():
    at = fresh({"landscape": "custom", "fx": "x^2 + y^2"})
    at.text_input(key="fx").set_value("__import__('os').system('touch /tmp/pwned')").run()
    assert not at.exception
    assert at.error and "Cannot use this function" in at.error[0].value
    assert at.text_input(key="fx").value == "__import__('os').system('touch /tmp/pwned')"
    path_chart(at)  # the last good function is still drawn
    assert not Path("/tmp/pwned").exists()


def test_parameters_of_a_typed_function_get_sliders():
    at = fresh({"landscape": "custom", "fx": "a*x^2 + k*y^2", "c_k": "4"})
    assert not at.exception
    assert at.slider(key="c_a").value == 1.0 and at.slider(key="c_k").value == 4.0


def test_log_of_negatives_is_masked_with_a_notice():
    at = fresh({"landscape": "custom", "fx": "log(x) + y^2"})
    assert not at.exception
    assert any("outside this function's domain" in i.value for i in at.info)


def test_the_server_keeps_import_time_objects_out_of_the_cycle_collector():
    # bench/load.py: full collections over sympy's and plotly's import-time objects
    # stalled every session; the router freezes them once per process. Checked in a
    # fresh interpreter, so the freeze does not leak into the tests after this one.
    code = textwrap.dedent(
        """
        import gc, weakref
        assert gc.get_freeze_count() == 0
        import sympy, ui.router
        ui.router.tune_garbage_collector()
        assert gc.get_freeze_count() > 10_000 and gc.get_threshold()[0] >= 10_000
        assert not any(o is vars(sympy) for o in gc.get_objects())  # import-time objects are frozen
        class Node: pass
        a, b = Node(), Node(); a.b, b.a = b, a
        r = weakref.ref(a); del a, b
        gc.collect(); assert r() is None  # a cycle made later is still collected
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=str(Path(APP).parent))
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]


def test_live_chart_payload_is_plain_json():
    from ui.live_chart import encode

    payload = {"x": np.array([1.0, np.nan, np.inf]), "n": np.int64(3), "f": np.float32(0.5), "i": np.arange(2), "s": "é"}
    assert json.loads(encode(payload)) == {"x": [1.0, None, None], "n": 3, "f": 0.5, "i": [0, 1], "s": "é"}
    with pytest.raises(TypeError):
        encode({"bad": object()})
    with pytest.raises(ValueError):
        encode({"bad": float("nan")})  # a bare NaN is not JSON: the figures never send one


def test_a_back_layer_is_encoded_once_for_the_same_content_and_anew_for_any_other():
    from ui.live_chart import _encoded_once, encode

    base = {"figure": {"data": [{"z": {"dtype": "f4", "bdata": "AAAA"}}], "layout": {"height": 500}}}
    assert _encoded_once(base) == encode(base)
    # Values that compare equal in Python but are written differently in JSON are other content.
    for height in (500.0, True, 501):
        other = {"figure": {"data": base["figure"]["data"], "layout": {"height": height}}}
        assert _encoded_once(other) == encode(other) != encode(base)
    zero, minus_zero = ({"figure": {"layout": {"x": v}}} for v in (0.0, -0.0))
    assert _encoded_once(zero) == b'{"figure":{"layout":{"x":0.0}}}' and _encoded_once(minus_zero) == b'{"figure":{"layout":{"x":-0.0}}}'
    arrays = {"figure": {"x": np.arange(3)}}  # what only encode knows how to write: encoded as it is
    assert _encoded_once(arrays) == encode(arrays) == b'{"figure":{"x":[0,1,2]}}'
    for key in (1, True, 1.0):  # keys that Python calls equal and JSON writes as "1", "true", "1.0"
        assert _encoded_once({key: 0}) == encode({key: 0})


def back_layer_bytes(at: AppTest) -> list[bytes]:
    return [c.proto.bytes for c in at.get("bidi_component") if c.proto.component_name == "descent_lab.live_chart" and json.loads(c.proto.bytes)["role"] == "back"]


def test_the_surface_layer_is_the_same_bytes_while_the_surface_is():
    """Streamlit sends an element it has sent before as a reference: the back layer goes once."""
    at = fresh({"landscape": "rosenbrock", "optimizers": ["sgd", "adam"]})
    back = back_layer_bytes(at)
    set_hyper(at, "adam_lr", 0.01)
    again = back_layer_bytes(at)
    assert back == again and len(back) == 1
    at.selectbox(key="landscape").set_value("bowl").run()
    assert back_layer_bytes(at) != back


def readout_rows(at: AppTest) -> dict[str, list[str]]:
    """The curvature readouts table: {where: [point, eigenvalues, det, condition, kind]}."""
    import re

    table = next(h.proto.body for h in at.get("html") if "dl-readouts" in h.proto.body and "<table" in h.proto.body)
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1])
    cells = [re.findall(r"<td>(.*?)</td>", r) for r in rows]
    return {c[0]: c[1:] for c in cells}


def test_readouts_give_the_hessian_at_the_start_by_hand():
    # Rosenbrock at (-1.5, 2): H = [[2 - 400(y - x^2) + 800 x^2, -400 x], [-400 x, 200]]
    # = [[1902, 600], [600, 200]]: det 20400, eigenvalues (2102 -+ sqrt(2102^2 - 4 * 20400)) / 2.
    at = fresh({"landscape": "rosenbrock", "optimizers": ["sgd", "adam"]})
    rows = readout_rows(at)
    point, eigen, det, cond, kind = rows["start"]
    assert point == "(-1.5, 2)"
    assert eigen == "9.75, 2092" and det == "2.04e+04" and cond == "214.6"
    assert kind.startswith("minimum")
    assert {"end of SGD", "end of Adam", "SGD at step 0", "Adam at step 0"} <= set(rows)
    at.slider(key="inspect").set_value(3).run()
    assert {"SGD at step 3", "Adam at step 3"} <= set(readout_rows(at))


def test_a_move_builds_its_figure_once_before_drawing(monkeypatch):
    """One pass: the page settles every value, builds the figure once, draws the chart, then the
    hyperparameter panel that shows those values; nothing runs twice."""
    import streamlit as st

    from ui import controls

    at = fresh({"landscape": "rosenbrock", "optimizers": ["sgd", "adam"]})
    events = []
    real_figure, real_panel = figures.path_figure, controls.hyper_controls
    monkeypatch.setattr(figures, "path_figure", lambda *a, **k: events.append("figure") or real_figure(*a, **k))
    monkeypatch.setattr(controls, "hyper_controls", lambda *a: events.append("widgets") or real_panel(*a))
    monkeypatch.setattr(st, "rerun", lambda *a, **k: events.append("rerun"))
    assert hyper_values(at)["adam_lr"] == "0.03"  # Rosenbrock's suggestion
    set_hyper(at, "adam_lr", 0.05)
    assert not at.exception
    assert events == ["figure", "widgets"]
    assert hyper_values(at)["adam_lr"] == "0.05"


def test_a_links_view_settings_reach_the_chart_in_the_first_run(monkeypatch):
    """A session's first run from a link with overlays and an inspected step: the chart is drawn
    once, before its widgets, with exactly what they then show (no early guess, no second run)."""
    import streamlit as st

    reruns = []
    monkeypatch.setattr(st, "rerun", lambda *a, **k: reruns.append(1))
    at = fresh({"landscape": "bowl", "optimizers": ["sgd"], "taylor": "true", "inspect": "7"})
    assert not at.exception and reruns == []
    assert at.toggle(key="taylor").value is True and at.toggle(key="field").value is False
    assert at.slider(key="inspect").value == 7
    names = [d.get("name") for d in path_chart(at)["data"]]
    from i18n import t

    assert t("fig.taylor", "en") in names  # the quadratic model at the inspected step
    # A step beyond the run (60 steps) is kept at its last step, in the chart and the slider alike.
    at = fresh({"landscape": "bowl", "optimizers": ["sgd"], "steps": "20", "inspect": "50"})
    assert at.slider(key="inspect").value == 20 and reruns == []


def test_a_shorter_run_keeps_the_inspected_step_within_it_in_one_run(monkeypatch):
    """Fewer steps than the inspected one: the step is clamped to the new last step (not reset
    to 0), before the chart that depends on it is drawn, so the page runs once."""
    at = fresh({"landscape": "rosenbrock", "optimizers": ["sgd", "adam"], "eigen": "true", "steps": "60"})
    at.slider(key="inspect").set_value(40).run()
    built = []
    real = figures.path_figure
    monkeypatch.setattr(figures, "path_figure", lambda *a, **k: built.append(1) or real(*a, **k))
    at.slider(key="steps").set_value(20).run()
    assert not at.exception
    assert at.slider(key="inspect").value == 20
    assert {"SGD at step 20", "Adam at step 20"} <= set(readout_rows(at))
    assert len(built) == 1  # built once, with the clamped step


def test_the_view_comes_back_after_the_optimizers_were_all_removed():
    at = fresh({"view": "surface"})
    at.multiselect(key="optimizers").set_value([]).run()
    at.multiselect(key="optimizers").set_value(["sgd"]).run()
    assert not at.exception
    assert at.button_group(key="view").value == "surface"
    link = at.query_params.get("view")
    assert (link if isinstance(link, list) else [link]) == ["surface"]


# -- the hyperparameters panel (ui/hyper_panel.py) -------------------------------------


def test_the_panel_shows_each_chosen_optimizer_with_the_surface_suggestions():
    at = fresh({"landscape": "rosenbrock", "optimizers": ["sgd", "adam"]})
    assert hyper_values(at) == {
        "sgd_lr": "0.0005", "adam_lr": "0.03", "adam_beta1": "0.9", "adam_beta2": "0.999", "adam_eps": "1e-08", "adam_bias_correction": True,
    }  # fmt: skip
    groups = panel_data(at)["groups"]
    assert [g["title"] for g in groups] == ["SGD · Hyperparameters", "Adam · Hyperparameters"]
    assert [g["open"] for g in groups] == [True, True]  # two optimizers: open
    assert [g["color"] for g in groups] == [figures.style("sgd")["color"], figures.style("adam")["color"]]
    many = fresh({"landscape": "rosenbrock", "optimizers": ["sgd", "momentum", "adam"]})
    assert not any(g["open"] for g in panel_data(many)["groups"])  # three: closed, the chart needs the room


def test_a_reported_change_sets_the_value_the_run_and_the_link():
    at = fresh({"landscape": "rosenbrock", "optimizers": ["sgd", "adam"]})
    before = [d for d in path_chart(at)["data"] if d.get("name") == "Adam" and d.get("mode") == "lines"][0]
    set_hyper(at, "adam_lr", 0.07)
    set_hyper(at, "adam_bias_correction", False)
    assert not at.exception
    assert at.session_state["adam_lr"] == 0.07 and at.session_state["adam_bias_correction"] is False
    assert hyper_values(at)["adam_lr"] == "0.07" and hyper_values(at)["adam_bias_correction"] is False
    assert at.query_params["adam_lr"] == "0.07" and at.query_params["adam_bias_correction"] == "false"
    after = [d for d in path_chart(at)["data"] if d.get("name") == "Adam" and d.get("mode") == "lines"][0]
    assert not np.array_equal(unpack(after["x"]), unpack(before["x"]))
    # Back to the surface's suggestion: the link drops the key again.
    set_hyper(at, "adam_lr", 0.03)
    assert "adam_lr" not in at.query_params and at.query_params["adam_bias_correction"] == "false"


@pytest.mark.parametrize(
    "report",
    [
        {"seq": 1, "changes": {"adam_lr": 10_000}},
        {"seq": 1, "changes": {"adam_lr": -1}},
        {"seq": 1, "changes": {"adam_lr": True}},
        {"seq": 1, "changes": {"adam_lr": "3"}},
        {"seq": 1, "changes": {"adam_lr": None}},
        {"seq": 1, "changes": {"adam_bias_correction": "no"}},
        {"seq": 1, "changes": {"x0": 1}},
        {"seq": 1, "changes": {"adam_lr": 3, "x0": 1}},  # one bad part: none of it
        {"seq": 1, "changes": {}},
        {"seq": 1, "changes": ["adam_lr", 3]},
        {"seq": True, "changes": {"adam_lr": 3}},
        {"seq": -1, "changes": {"adam_lr": 3}},
        {"changes": {"adam_lr": 3}},
        {"key": "adam_lr", "index": 3},
        ["adam_lr", 3],
        "adam_lr",
    ],
)
def test_a_malformed_report_changes_nothing(report):
    at = fresh({"landscape": "rosenbrock", "optimizers": ["adam"]})
    shown = hyper_values(at)
    state = {k: at.session_state[k] for k in shown}
    report_hyper(at, report)
    assert not at.exception
    assert hyper_values(at) == shown
    assert {k: at.session_state[k] for k in shown} == state
    assert panel_data(at)["applied"] == 0  # not taken: the panel keeps waiting for its value


def test_one_report_carries_every_unconfirmed_change_and_its_number_comes_back():
    at = fresh({"landscape": "rosenbrock", "optimizers": ["sgd", "adam"]})
    assert panel_data(at)["applied"] == 0
    from ui import settings as S

    # The browser moved two controls before the server answered: its latest report holds both.
    report_hyper(at, {"seq": 2, "changes": {"sgd_lr": S.LR_OPTIONS.index(0.001), "adam_bias_correction": False}})
    assert not at.exception
    assert hyper_values(at)["sgd_lr"] == "0.001" and hyper_values(at)["adam_bias_correction"] is False
    assert panel_data(at)["applied"] == 2
    # A panel made anew (after another page) counts from 1 again; the server follows.
    set_hyper(at, "adam_lr", 0.05, seq=1)
    assert hyper_values(at)["adam_lr"] == "0.05" and panel_data(at)["applied"] == 1


def test_an_optimizer_taken_away_leaves_the_link_and_keeps_its_values():
    at = fresh({"landscape": "rosenbrock", "optimizers": ["sgd", "adam"], "adam_lr": "0.1", "adam_eps": "1e-06"})
    assert hyper_values(at)["adam_lr"] == "0.1" and hyper_values(at)["adam_eps"] == "1e-06"
    at.multiselect(key="optimizers").set_value(["sgd"]).run()
    assert not {"adam_lr", "adam_eps"} & set(at.query_params)
    at.multiselect(key="optimizers").set_value(["sgd", "adam"]).run()
    assert hyper_values(at)["adam_lr"] == "0.1"
    assert at.query_params["adam_lr"] == "0.1" and at.query_params["adam_eps"] == "1e-06"


def test_a_new_surface_puts_its_suggested_rates_in_the_panel():
    at = fresh({"landscape": "rosenbrock", "optimizers": ["sgd", "momentum"], "sgd_lr": "0.001"})
    at.selectbox(key="landscape").set_value("bowl").run()
    # The bowl's teaching values (its catalog hints): lr 0.15 and 0.015, momentum 0.8.
    assert hyper_values(at) == {"sgd_lr": "0.15", "momentum_lr": "0.015", "momentum_momentum": "0.8"}
    assert "sgd_lr" not in at.query_params


def test_the_panel_speaks_chinese():
    at = fresh({"optimizers": ["adam"], "lang": "zh"})
    data = panel_data(at)
    from i18n import t

    assert data["label"] == t("pg.hyper", "zh") and data["groups"][0]["title"].startswith(t("opt.adam", "zh"))
    assert [it["label"] for it in data["groups"][0]["items"]][0] == t("hp.lr", "zh")


def test_link_texts_of_hyperparameters_by_hand():
    from ui import settings as S

    assert S.hyper_from_link("lr", "0.03") == 0.03 and S.hyper_from_link("lr", "3e-2") == 0.03
    assert S.hyper_from_link("lr", "0.04") is None  # not a rate the scale offers
    assert S.hyper_from_link("lr", "-3") is None and S.hyper_from_link("lr", "abc") is None
    assert S.hyper_from_link("momentum", "0.904") == 0.9 and S.hyper_from_link("momentum", "1.5") is None
    assert S.hyper_from_link("bias_correction", "False") is False and S.hyper_from_link("bias_correction", "0") is None
    memory = S.hyper_from_link("memory", "5")
    assert memory == 5 and isinstance(memory, int)
    assert S.hyper_from_link("eps", "1e-8") == 1e-08
    assert [S.hyper_link_text(v) for v in (0.0003, 1e-08, True, False, 5, 0.9, 10.0)] == ["0.0003", "1e-08", "true", "false", "5", "0.9", "10"]


def test_no_page_makes_the_server_load_pandas_or_pyarrow():
    """Streamlit imports pandas and pyarrow (about 60 MB per server process) the first time an
    element's data might hold a dataframe, e.g. a dict given to a component. Nothing here needs
    them: the panels and charts send JSON bytes. Checked in a fresh interpreter, through every
    Sweep button (a refinement adds the history table)."""
    code = textwrap.dedent(
        f"""
        import sys
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file({APP!r}, default_timeout=120)
        at.query_params["landscape"] = "rosenbrock"
        at.query_params["optimizers"] = ["sgd", "adam"]
        at.run()
        for page in ("pages/lessons.py", "pages/sweep.py"):
            at.switch_page(page).run()
        assert not at.exception, at.exception
        # Every Sweep button: a refinement puts the history table on the page.
        for key in ("sw_refine", "sw_refine", "sw_back", "sw_reset", "sw_refine", "sw_open"):
            at.button(key=key).click().run()
            assert not at.exception, (key, at.exception)
            if key == "sw_refine":
                assert not at.button(key="sw_back").disabled, "the refinement was not taken"
        assert at.multiselect(key="optimizers").value == ["adam"], "the best point did not open"
        print(sorted(m for m in ("pandas", "pyarrow") if m in sys.modules))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=str(Path(APP).parent))
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout[-500:]


def test_sweep_timing_is_this_requests_own_not_the_first_computations():
    """The info line's "(N runs in X ms)" is measured on every load: a grid served from the
    cache (Back, a rerun) must not repeat the milliseconds of the run that computed it.
    A fake clock: each batched computation takes exactly 2 s of it, a cache hit none."""
    import re

    import sweep
    from ui import sweep_view

    now = [1000.0]
    real_run = sweep.run

    def slow_run(*args, **kwargs):
        now[0] += 2.0
        return real_run(*args, **kwargs)

    def timing(at: AppTest) -> tuple[int, int]:
        assert not at.exception, at.exception
        runs, ms = re.search(r"\((\d+) runs in (\d+) ms\)", at.info[0].value).groups()
        return int(runs), int(ms)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sweep_view, "time", type("Clock", (), {"perf_counter": staticmethod(lambda: now[0])}))
        mp.setattr(sweep, "run", slow_run)
        sweep_view.cached_grid.clear()  # the first load computes its grid
        at = AppTest.from_file(APP, default_timeout=60)
        at.query_params["sw_n"] = "8"
        at.query_params["sw_steps"] = "50"
        at.switch_page("pages/sweep.py").run()
        assert timing(at) == (64, 2000)  # computed: the runs' 2 s
        assert timing(at.run()) == (64, 0)  # the same grid again: from the cache, no 2 s
        at.button(key="sw_refine").click().run()
        assert timing(at) == (64, 2000)  # a new box: computed
        at.button(key="sw_back").click().run()
        assert timing(at) == (64, 0)  # the first grid, from the cache
    sweep_view.cached_grid.clear()  # no grid computed under the fake clock stays behind


# -- inside the optimizer: what each trace is, and Nesterov's look-ahead -------------------


def inside_charts(at: AppTest) -> tuple[dict, dict]:
    """The inside view's two charts: the contour with its arrows, and the panels below it."""
    main = [json.loads(c.proto.spec) for c in at.main.get("plotly_chart")]
    assert len(main) == 2, "the inside view draws two charts"
    return main[0], main[1]


def named(spec: dict, name: str) -> list[dict]:
    found = [d for d in spec["data"] if d.get("name") == name]
    assert found, f"no trace {name!r}"
    return found


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_inside_view_plots_what_its_labels_say_with_nesterovs_look_ahead(lang):
    """On the bowl, f = (x^2 + 10 y^2) / 2: the gradient at a recorded point (x, y) is (x, 10 y)."""
    from i18n import t

    at = fresh({"view": "inside", "optimizers": ["nesterov", "adagrad", "adam"], "landscape": "bowl", "inside_step": "5", "lang": lang})
    assert not at.exception and not at.warning
    contour, panels = inside_charts(at)
    # The runs the page made, with the bowl's suggested settings the panel shows (ui/settings.py).
    assert (at.session_state["nesterov_lr"], at.session_state["nesterov_momentum"], at.session_state["adagrad_lr"]) == (0.015, 0.8, 0.7)
    bowl = landscapes.get("bowl")
    nesterov = optimizers.run(bowl, "nesterov", start=(-3.5, 1.5), steps=60, lr=0.015, momentum=0.8)
    adagrad = optimizers.run(bowl, "adagrad", start=(-3.5, 1.5), steps=60, lr=0.7)
    nest, ada = t("opt.nesterov", lang), t("opt.adagrad", lang)

    # Nesterov's look-ahead points x_k + mu v_k, v_k = x_k - x_{k-1} (v_0 = 0), by hand.
    p = nesterov.points
    v = np.vstack([np.zeros(2), np.diff(p, axis=0)])
    expected = p[:-1] + 0.8 * v[:-1]
    points = named(contour, f"{nest}: {t('fig.lookahead_points', lang)}")[0]
    np.testing.assert_allclose(np.stack([unpack(points["x"]), unpack(points["y"])], axis=1), expected, rtol=1e-12, atol=1e-12)
    # At step 5: the segment x_5 -> its look-ahead point, and the arrow -eta g(look-ahead) = -0.015 (x, 10 y) from there.
    seg = named(contour, f"{nest}: {t('fig.lookahead_segment', lang)}")[0]
    np.testing.assert_allclose([seg["x"], seg["y"]], [[p[5, 0], expected[5, 0]], [p[5, 1], expected[5, 1]]], rtol=1e-12)
    arrow = named(contour, f"{nest}: {t('fig.lookahead_step', lang)}")[0]
    la = expected[5]
    np.testing.assert_allclose([arrow["x"][:2], arrow["y"][:2]], [[la[0], la[0] - 0.015 * la[0]], [la[1], la[1] - 0.015 * 10 * la[1]]], rtol=1e-9)
    assert arrow["x"][1] == pytest.approx(p[6, 0], rel=1e-9)  # it ends where the step ends

    # AdaGrad's scale is the root of the SUM of squared gradients, so labelled, in both languages.
    scale = named(panels, f"{ada} · {t('fig.q.sum_sq', lang)}")
    g = np.stack([adagrad.points[:60, 0], 10 * adagrad.points[:60, 1]], axis=1)
    for c, trace in enumerate(scale):
        np.testing.assert_allclose(unpack(trace["y"]), np.sqrt(np.cumsum(g[:, c] ** 2)), rtol=1e-9)
    assert ("Σg²" in scale[0]["name"]) and (("sum of squared" in scale[0]["name"]) if lang == "en" else ("梯度平方和" in scale[0]["name"]))
    # Adam's rate is per unit of m̂, and the label says so; Nesterov's v is on an axis in units of x.
    assert named(panels, f"Adam · {t('fig.q.rate_adam', lang)}") and ("m̂" in t("fig.q.rate_adam", lang))
    disp = named(panels, f"{nest} · {t('fig.q.nesterov_v', lang)}")[0]["yaxis"]
    titles = {a["y"]: a["text"] for a in panels["layout"]["annotations"]}
    assert t("fig.displacement", lang) in titles[panels["layout"][disp.replace("y", "yaxis")]["domain"][1]]
    np.testing.assert_allclose(unpack(named(panels, f"{nest} · {t('fig.q.nesterov_v', lang)}")[0]["y"]), np.diff(p[:, 0]), rtol=1e-12)


# -- the Newton methods' damping and step cap (issue 13, point 11) -------------------------


def test_the_newton_panel_offers_damping_and_a_step_cap_with_their_defaults():
    at = fresh({"optimizers": ["newton", "saddle_free_newton"], "landscape": "bowl"})
    assert not at.exception
    shown = hyper_values(at)
    assert shown["newton_damping"] == "0.001" and shown["newton_max_step"] == "10"
    assert shown["saddle_free_newton_damping"] == "0.001" and shown["saddle_free_newton_max_step"] == "10"
    data = panel_data(at)
    assert data["scales"]["damping"] == ["0", "0.0001", "0.001", "0.01", "0.1", "1"]
    assert data["scales"]["max_step"] == ["0.1", "0.3", "1", "3", "10", "100", "1000"]
    labels = [it["label"] for it in data["groups"][0]["items"]]
    assert labels == ["learning rate", "damping λ", "step cap R"]
    zh = panel_data(fresh({"optimizers": ["newton"], "lang": "zh"}))
    assert [it["label"] for it in zh["groups"][0]["items"]][1:] == ["阻尼 λ", "步长上限 R"]


def test_undamped_newton_from_a_link_jumps_to_the_bowls_minimum_in_one_step():
    """(H + 0 I)^-1 g on f = (x^2 + 10 y^2) / 2 from (-3.5, 1.5): the step is -(x, y), onto (0, 0).
    With the default damping 0.001 each step leaves 0.001 / 1.001 of x: three steps to converge."""
    at = fresh({"optimizers": "newton", "newton_damping": "0", "landscape": "bowl"})
    assert not at.exception and not at.warning
    assert at.session_state["newton_damping"] == 0.0 and hyper_values(at)["newton_damping"] == "0"
    assert "converged at step 1:" in status_text(at)
    assert readout_rows(at)["end of Newton"][0] == "(0, 0)"
    damped = fresh({"optimizers": "newton", "landscape": "bowl"})
    assert "converged at step 3:" in status_text(damped)
    assert "newton_damping" not in damped.query_params  # the default stays out of the link
    assert at.query_params["newton_damping"] == "0"


def test_the_damping_and_cap_travel_through_the_panel_and_the_link():
    from ui import settings as S

    at = fresh({"optimizers": "saddle_free_newton", "saddle_free_newton_max_step": "3", "landscape": "saddle"})
    assert not at.exception and not at.warning
    assert hyper_values(at)["saddle_free_newton_max_step"] == "3" and at.session_state["saddle_free_newton_max_step"] == 3.0
    set_hyper(at, "saddle_free_newton_damping", 0.0)
    assert not at.exception
    assert at.session_state["saddle_free_newton_damping"] == 0.0 and at.query_params["saddle_free_newton_damping"] == "0"
    assert S.hyper_from_link("damping", "0") == 0.0 and S.hyper_from_link("damping", "1e-3") == 0.001
    assert S.hyper_from_link("damping", "-1") is None and S.hyper_from_link("max_step", "inf") is None
    assert S.hyper_value("damping", 0.0) == 0.0 and S.hyper_value("damping", 5e-4) == 0.001  # log scale above 0
    assert S.hyper_value("max_step", float("inf")) == 1000.0


def test_bad_damping_or_cap_in_a_link_is_reported_and_falls_back():
    at = fresh({"optimizers": "newton", "newton_damping": "junk", "newton_max_step": "0", "landscape": "bowl"})
    assert not at.exception
    warning = " ".join(w.value for w in at.warning)
    assert "newton_damping" in warning and "newton_max_step" in warning
    assert hyper_values(at)["newton_damping"] == "0.001" and hyper_values(at)["newton_max_step"] == "10"


def test_a_fractional_inspect_step_in_a_link_is_read_as_the_slider_reads_it():
    """inspect=2.5: the bound slider takes its whole part, 2; the chart and the readouts, drawn
    before it, use the same step (and the link is not reported as broken)."""
    at = fresh({"landscape": "bowl", "optimizers": ["sgd"], "inspect": "2.5", "taylor": "maybe"})
    assert not at.exception
    assert at.slider(key="inspect").value == 2 and at.toggle(key="taylor").value is False
    assert {"SGD at step 2"} <= set(readout_rows(at))
    warning = " ".join(w.value for w in at.warning)
    assert "taylor" in warning and "inspect" not in warning


# -- Controls that change only the runs rerun only the race fragment (issue 17) ---------------------

RUN_ONLY = [
    ("steps", lambda at: at.slider(key="steps").set_value(85), {"steps": "85"}),
    ("x0", lambda at: at.number_input(key="x0").set_value(-2.25), {"x0": "-2.25"}),
    ("y0", lambda at: at.number_input(key="y0").set_value(1.25), {"y0": "1.25"}),
    ("noise", lambda at: at.select_slider(key="noise").set_value(0.3), {"noise": "0.3"}),
    ("seed", lambda at: at.number_input(key="seed").set_value(7), {"noise": "0.3", "seed": "7"}),
    ("average", lambda at: at.selectbox(key="average").set_value("ema"), {"average": "ema"}),
    ("p_condition", lambda at: at.slider(key="p_condition").set_value(20.0), {"p_condition": "20.0"}),
    ("schedule", lambda at: at.selectbox(key="schedule").set_value("cosine"), {"schedule": "cosine"}),
    ("warmup", lambda at: at.slider(key="warmup").set_value(30), {"schedule": "cosine", "warmup": "30"}),
    ("cycle", lambda at: at.slider(key="cycle").set_value(40), {"schedule": "cyclical", "cycle": "40"}),
]


@pytest.mark.parametrize("name, move, link", RUN_ONLY, ids=[r[0] for r in RUN_ONLY])
def test_a_run_only_control_reruns_the_fragment_and_draws_what_its_link_draws(name, move, link):
    # The seed matters only with noise: open with the noise its link has.
    at = fresh({k: v for k, v in link.items() if k != name})
    assert at.sidebar.get("slider"), "the first run draws the sidebar"
    move(at).run()
    assert not at.exception
    # Only the fragment ran: no sidebar element was drawn again (the browser keeps the old ones).
    assert not at.sidebar.get("slider") and not at.sidebar.get("number_input")
    # What it drew is what a page opened on the link with that value draws in a full run.
    opened = fresh(link)
    assert path_chart(at) == path_chart(opened)
    # So is the sidebar's schedule plot, when there is one (its own fragment reran with the race).
    if any("dl-schedule" in h.proto.body for h in opened.get("html")):
        np.testing.assert_array_equal(schedule_factors(at), schedule_factors(opened))


@pytest.mark.parametrize(
    "link, move",
    [
        ({}, lambda at: at.selectbox(key="schedule").set_value("cyclical")),  # its period's slider appears
        ({"schedule": "cyclical"}, lambda at: at.selectbox(key="schedule").set_value("cosine")),  # and goes
        ({}, lambda at: at.selectbox(key="landscape").set_value("himmelblau")),
        ({"landscape": "custom"}, lambda at: at.slider(key="c_a").set_value(2.0)),  # its formula is in the sidebar
    ],
    ids=["to cyclical", "from cyclical", "surface", "typed function's parameter"],
)
def test_the_cyclical_schedule_and_the_surface_rerun_the_page(link, move):
    at = move(fresh(link)).run()
    assert not at.exception and at.sidebar.get("slider")


def test_the_steps_rerun_the_sidebar_s_schedule_plot_with_the_race():
    at = fresh({"schedule": "cosine"})
    at.slider(key="steps").set_value(85).run()
    assert not at.exception and not at.sidebar.get("slider")  # the rest of the sidebar stays
    factors = schedule_factors(at)  # the plot spans the steps: drawn again
    expected = [0.5 * (1 + math.cos(math.pi * t / 85)) for t in range(85)]  # cosine over the 85 steps
    np.testing.assert_allclose(factors, expected, rtol=1e-6, atol=1e-12)
    assert path_chart(at) == path_chart(fresh({"schedule": "cosine", "steps": "85"}))
    assert at.query_params["schedule"] in ("cosine", ["cosine"])
    # With a constant rate the sidebar says so in words, and a steps move leaves it.
    at = fresh()
    at.slider(key="steps").set_value(85).run()
    assert not at.exception and not [h for h in at.get("html") if "dl-schedule" in h.proto.body]


def test_a_schedule_move_writes_its_link_and_comes_back_constant():
    at = fresh()
    at.selectbox(key="schedule").set_value("step").run()
    assert not at.exception and not at.sidebar.get("slider")  # the race and the plot only
    assert at.query_params["schedule"] in ("step", ["step"]) and len(schedule_factors(at)) > 0
    at.run()
    at.selectbox(key="schedule").set_value("constant").run()
    assert "schedule" not in dict(at.query_params)  # the default leaves the link
    from i18n import t

    assert [c.value for c in at.caption if c.value == t("pg.schedule_constant", "en")]


@pytest.mark.parametrize("name, move, link", RUN_ONLY, ids=[r[0] for r in RUN_ONLY])
def test_a_run_only_move_without_an_optimizer_reruns_the_page(name, move, link):
    # No optimizer: the fragment was not drawn, so there is none to rerun alone.
    at = fresh({"optimizers": "sgd", **{k: v for k, v in link.items() if k != name}})
    at.multiselect(key="optimizers").set_value([]).run()
    move(at).run()
    assert not at.exception
    assert at.sidebar.get("slider")  # the page ran again


def test_a_run_only_move_after_a_page_change_not_yet_drawn_reruns_the_page():
    # As when a move cuts short the full run of a new surface: the session holds the new surface,
    # the fragment Streamlit keeps was drawn for the old one. The move must draw the new one.
    at = fresh()
    at.session_state["landscape"] = "himmelblau"  # set, not yet drawn by a full run
    at.slider(key="steps").set_value(85).run()
    assert not at.exception and at.sidebar.get("slider")
    minima = [d for d in path_chart(at)["data"] if d.get("name") == "minimum"][0]
    assert len(unpack(minima["x"])) == len(landscapes.get("himmelblau").minima) == 4  # the bowl has one


def test_a_run_only_move_writes_its_link():
    at = fresh()
    at.selectbox(key="average").set_value("ema").run()  # the one not bound to the URL by its widget
    assert dict(at.query_params).get("average") in ("ema", ["ema"])
    at.run()  # the sidebar again (AppTest holds only what the fragment drew)
    at.selectbox(key="average").set_value("none").run()
    assert "average" not in dict(at.query_params)  # the default leaves the link
