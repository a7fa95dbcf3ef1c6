"""Hostile chart events and singular numerics (issue 16, points 2 and 8).

The Sweep heatmap's selection comes from the browser as JSON text. A drag past the heatmap's
top edge reaches beyond what the hyperparameter allows (beta1 = 1.00428); a forged message can
hold anything (NaN, strings, 1e308, an exponent of 400, text that is not JSON, wrong shapes).
Each is sent here the way the browser sends it: as the chart's widget state, kept by the
browser and sent again on every rerun while that chart is drawn (the ``browser`` fixture).
What is asserted is what a visitor sees: no exception, a notice, the heatmap, a history that
still works, before and after the next rerun.

NumPy warnings: RuntimeWarnings are errors in these tests (``filterwarnings`` mark). The
Playground's runs, figures and readouts run inside an ``st.fragment``; a hyperparameter move
reruns only the fragment, which Streamlit calls directly, not through the router's page. The
``harness`` app is the real app plus one button whose callback does what the hyperparameter
panel's report does (new values into session state) and reruns only the fragment, by its key
(``st.rerun("race")``, Streamlit's public API for a fragment-only rerun).
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import sweep
from figures.style import packed
from landscapes.curvature import analyze

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
CJK = re.compile(r"[\u4e00-\u9fff]")


# -- the browser's side of a chart selection ----------------------------------------------------


@pytest.fixture
def browser(chart_selections):
    """Selections the browser holds, by chart id -> JSON text (tests/conftest.py)."""
    return chart_selections


def sweep_page(lang: str = "en", **query) -> AppTest:
    """The default Sweep page (Adam, lr x beta1, 64 x 64, 500 steps), in ``lang``."""
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in {"lang": lang, **query}.items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/sweep.py").run()
    assert not at.exception, at.exception
    return at


def select(at: AppTest, held: dict, text: str) -> AppTest:
    """Drag (or forge) a selection on the heatmap: ``text`` is what the browser sends."""
    (chart,) = at.get("plotly_chart")
    held[chart.proto.id] = text
    return at.run()


def drag(x, y, points=()) -> str:
    """A box selection as Streamlit's frontend reports it (axis units: log10 of the learning rate)."""
    return json.dumps({"selection": {"points": list(points), "point_indices": [], "box": [{"xref": "x", "yref": "y", "x": x, "y": y}], "lasso": []}})


def heatmap_axes(at: AppTest) -> tuple[np.ndarray, np.ndarray]:
    """The heatmap's cell centres as drawn (axis units), decoded from the figure the page sent."""
    (chart,) = at.get("plotly_chart")
    spec = json.loads(chart.proto.spec)
    (trace,) = [d for d in spec["data"] if d["type"] == "heatmap"]
    decode = lambda a: np.frombuffer(base64.b64decode(a["bdata"]), dtype={"f4": np.float32, "f8": np.float64}[a["dtype"]])  # noqa: E731
    return decode(trace["x"]), decode(trace["y"])


def notices(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def history(at: AppTest) -> list:
    return [box for _, box in at.session_state["sw_history"]] if "sw_history" in at.session_state else []


def working(at: AppTest) -> None:
    """The page is whole: no exception, the heatmap, the best line and the buttons."""
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("plotly_chart")) == 1
    assert at.info, "the best-point line"
    for key in ("sw_refine", "sw_back", "sw_reset", "sw_open"):
        assert at.button(key=key)


# -- (a) a box dragged past the heatmap's edge -----------------------------------------------


@pytest.mark.parametrize(
    "y_axis, y_drag, top",
    [
        ("beta1", [0.5, 1.00428], 0.99),  # beta1's sweep range is [0, 0.99]; 1.00428 is no beta1 at all
        ("beta2", [0.95, 1.00048], 0.9999),  # beta2's is [0.9, 0.9999]
    ],
)
def test_a_box_dragged_past_the_top_edge_is_cut_to_the_searched_range(browser, y_axis, y_drag, top):
    at = sweep_page(sw_y=y_axis)
    points = [{"x": -2.0, "y": y_drag[0] + 0.01, "curve_number": 1, "point_number": 0, "point_index": 0}]
    select(at, browser, drag([-3.0, -1.0], y_drag, points))
    working(at)
    # lr is on a log axis: -3 .. -1 is 1e-3 .. 1e-1; the y range is cut at the top of the declared range.
    assert history(at) == [pytest.approx((1e-3, 1e-1, y_drag[0], top))]
    xs, ys = heatmap_axes(at)
    assert xs[0] == pytest.approx(-3, abs=1e-6) and xs[-1] == pytest.approx(-1, abs=1e-6)
    assert ys[0] == pytest.approx(y_drag[0], rel=1e-6) and ys[-1] == pytest.approx(top, rel=1e-6)
    (notice,) = notices(at)
    assert f"{top:g}" in notice and "β" in notice
    at.run()  # the next rerun: the browser sends the new chart's (empty) selection
    working(at)
    assert notices(at) == [notice] and history(at) == [pytest.approx((1e-3, 1e-1, y_drag[0], top))]
    at.button(key="sw_back").click().run()  # the history still works: back to the full grid
    working(at)
    assert history(at) == [] and notices(at) == []
    xs, ys = heatmap_axes(at)
    assert ys[0] == pytest.approx(0.0 if y_axis == "beta1" else 0.9, abs=1e-6)


@pytest.mark.parametrize(
    "x_drag, y_drag, expected",
    [
        ([-3.0, 1e308], [0.2, 0.6], (1e-3, 1.0, 0.2, 0.6)),  # a corner at 10^(1e308): the largest lr searched is 1
        ([-3.0, 400.0], [0.2, 0.6], (1e-3, 1.0, 0.2, 0.6)),  # an exponent of 400 (10^400 is no float)
        ([-3.0, -1.0], [-1e308, 0.6], (1e-3, 1e-1, 0.0, 0.6)),  # beta1 from -1e308: from 0
        ([-400.0, -1.0], [0.2, 0.6], (1e-5, 1e-1, 0.2, 0.6)),  # 10^-400 underflows; the smallest lr searched is 1e-5
    ],
    ids=["1e308", "exponent-400", "minus-1e308", "exponent-minus-400"],
)
def test_huge_corners_are_cut_to_the_searched_range(browser, x_drag, y_drag, expected):
    at = sweep_page()
    select(at, browser, drag(x_drag, y_drag))
    working(at)
    assert history(at) == [pytest.approx(expected)]
    assert len(notices(at)) == 1
    at.run()
    working(at)
    assert len(notices(at)) == 1 and history(at) == [pytest.approx(expected)]


# -- (a) selections that cannot be used ----------------------------------------------------


FORGED = {
    "nan": '{"selection": {"box": [{"x": [NaN, -1.0], "y": [0.2, 0.6]}], "points": []}}',
    "infinity": '{"selection": {"box": [{"x": [-3.0, 1e309], "y": [0.2, 0.6]}], "points": []}}',
    "strings": '{"selection": {"box": [{"x": ["-3", "abc"], "y": [0.2, 0.6]}], "points": []}}',
    "null": '{"selection": {"box": [{"x": [null, -1.0], "y": [0.2, 0.6]}], "points": []}}',
    "booleans": '{"selection": {"box": [{"x": [true, false], "y": [0.2, 0.6]}], "points": []}}',
    "huge-integer": '{"selection": {"box": [{"x": [-3, 1' + "0" * 400 + '], "y": [0.2, 0.6]}], "points": []}}',
    "points-of-strings": '{"selection": {"box": [], "points": [{"x": "a", "y": 0.2}, {"x": -1.0, "y": "b"}]}}',
    "points-not-objects": '{"selection": {"box": [], "points": [3, 4]}}',
    "one-corner": '{"selection": {"box": [{"x": [-3.0], "y": [0.2, 0.6]}], "points": []}}',
    "three-corners": '{"selection": {"box": [{"x": [-3.0, -2.0, -1.0], "y": [0.2, 0.6]}], "points": []}}',
    "box-a-string": '{"selection": {"box": "abc", "points": []}}',
    "box-of-numbers": '{"selection": {"box": [1, 2], "points": []}}',
    "corners-an-object": '{"selection": {"box": [{"x": {"a": 1}, "y": [0.2, 0.6]}], "points": []}}',
    "selection-a-list": '{"selection": [1, 2]}',
    "selection-a-string": '{"selection": "everything"}',
    "a-number": "5",
    "not-json": '{"selection": {"box": [{"x": [-3',
    "empty-text": "",
    "outside-the-range": '{"selection": {"box": [{"x": [400, 500], "y": [0.2, 0.6]}], "points": []}}',
    "no-width": '{"selection": {"box": [{"x": [-2.0, -2.0], "y": [0.2, 0.6]}], "points": []}}',
}


@pytest.mark.parametrize("text", list(FORGED.values()), ids=list(FORGED))
def test_a_forged_selection_is_ignored_with_a_notice(browser, text):
    at = sweep_page()
    before = heatmap_axes(at)
    select(at, browser, text)
    working(at)
    assert history(at) == []  # the grid is unchanged
    after = heatmap_axes(at)
    assert np.array_equal(before[0], after[0]) and np.array_equal(before[1], after[1])
    (notice,) = notices(at)
    assert "selection" in notice
    at.run()  # the next rerun: the browser sends the same text again
    working(at)
    assert notices(at) == [notice] and history(at) == []
    at.button(key="sw_refine").click().run()  # and the page still refines
    working(at)
    assert len(history(at)) == 1 and notices(at) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_notices_speak_the_page_s_language(browser, lang):
    at = sweep_page(lang)
    # AppTest reruns a page without the entry file (it resets Streamlit's pages-folder detection
    # on every run), so the sidebar's language switch is not drawn and its value dropped; the
    # browser keeps it. Held here as the switch holds it.
    at.session_state["lang"] = lang
    select(at, browser, FORGED["not-json"])
    working(at)
    (ignored,) = notices(at)
    at.session_state["lang"] = lang
    at.button(key="sw_reset").click().run()
    at.session_state["lang"] = lang
    select(at, browser, drag([-3.0, -1.0], [0.5, 1.00428]))
    working(at)
    (cut,) = notices(at)
    assert cut != ignored and "0.99" in cut
    for text in (ignored, cut):
        assert bool(CJK.search(text)) == (lang == "zh"), text


def test_a_valid_selection_after_a_refused_one_refines_and_clears_the_notice(browser):
    at = sweep_page()
    select(at, browser, FORGED["strings"])
    assert len(notices(at)) == 1
    select(at, browser, drag([-3.0, -1.0], [0.2, 0.6]))
    working(at)
    assert history(at) == [pytest.approx((1e-3, 1e-1, 0.2, 0.6))] and notices(at) == []


# -- the selection, read without the page -----------------------------------------------------


def _batch_sweep() -> sweep.Sweep:
    """A sweep over lr x batch size on Old Faithful (218 training rows), as the page holds it."""
    return sweep.Sweep(
        "lr", "batch_size", np.array([1e-3]), np.array([1.0]), np.zeros((1, 1)), np.array([["max_steps"]]), np.zeros((1, 1)),
        box=(1e-5, 1.0, 1.0, 218.0), x_log=True, y_log=True, x_range=(1e-5, 1.0), y_range=(1.0, 218.0), surface="faithful",
    )  # fmt: skip


def test_a_whole_number_axis_is_cut_to_whole_numbers_within_the_training_set():
    from ui import sweep_view

    event = {"selection": {"box": [{"x": [-3.0, -1.0], "y": [0.3, 3.0]}], "points": []}}  # batch 10^0.3 = 2.0 .. 10^3 = 1000
    box, cut = sweep_view.selection_box(event, _batch_sweep())
    assert box == (pytest.approx(1e-3), pytest.approx(1e-1), 1.0, 218.0) and cut == ["batch_size"]
    event = {"selection": {"box": [{"x": [-3.0, -1.0], "y": [0.35, 1.5]}], "points": []}}  # 2.24 .. 31.6, inside
    box, cut = sweep_view.selection_box(event, _batch_sweep())
    assert box[2:] == (2.0, 32.0) and cut == []  # rounded outward


def test_a_click_on_one_cell_or_a_cleared_selection_is_no_selection():
    from ui import sweep_view

    s = _batch_sweep()
    assert sweep_view.selection_box(None, s) is None
    assert sweep_view.selection_box({"selection": {"box": [], "points": [], "lasso": []}}, s) is None
    assert sweep_view.selection_box({"selection": {"box": [], "points": [{"x": -2.0, "y": 1.0}]}}, s) is None


# -- (b) NumPy warnings: the sources --------------------------------------------------------


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_the_curvature_of_an_overflowing_hessian_warns_nowhere():
    inf = np.inf
    c = analyze(np.array([[[inf, inf], [inf, inf]], [[1e308, 1e308], [1e308, 1e308]], [[1e200, 0.0], [0.0, 1e200]], [[1.0, inf], [-inf, 1.0]]]))
    # An infinite entry: no eigenvalues (NaN), a degenerate kind.
    assert np.isnan(c.eigenvalues[0]).all() and np.isnan(c.eigenvalues[3]).all()
    assert list(c.kind) == ["degenerate", "degenerate", "minimum", "degenerate"]
    # [[1e308, 1e308], [1e308, 1e308]]: eigenvalues 0 and 2e308, past the largest float.
    assert c.eigenvalues[1][0] == pytest.approx(0.0, abs=1e300) and c.eigenvalues[1][1] == inf
    # diag(1e200, 1e200): eigenvalues 1e200 (twice), determinant 1e400 = inf, condition number 1.
    assert c.eigenvalues[2] == pytest.approx([1e200, 1e200]) and c.determinant[2] == inf and c.condition[2] == 1.0


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_float32_packing_of_values_past_its_range_warns_nowhere():
    out = packed(np.array([1e39, -1e39, np.nan, 1.5, 3e38]), "f4")
    got = np.frombuffer(base64.b64decode(out["bdata"]), dtype=np.float32)
    # float32 ends at 3.4028e38: beyond it, +-inf (what the cast gives); NaN stays NaN.
    assert got[0] == np.inf and got[1] == -np.inf and np.isnan(got[2]) and got[3] == 1.5
    assert got[4] == pytest.approx(3e38, rel=1e-7)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_a_huge_final_gradient_is_measured_without_overflow():
    import landscapes
    import optimizers

    s = landscapes.get("bowl")
    # The bowl (condition 10) at (0, 5e153): f = 10 y^2 / 2 = 1.25e308, still finite; its gradient
    # (0, 10 y) = (0, 5e154), whose square (2.5e309) is past the largest float. Whatever the run
    # makes of such a start, the norm it reports is 5e154.
    t = optimizers.run(s, "sgd", start=(0.0, 5e153), steps=5, lr=0.01)
    assert t.result.grad_norm == pytest.approx(5e154, rel=1e-12)


# -- (b) NumPy warnings: full runs and fragment reruns of the Playground ------------------------


HARNESS = '''
import streamlit as st
from ui import router

router.main()


def _move():
    # What the hyperparameter panel's report does: the new values into session state; then
    # only the fragment reruns, as after a move in the panel.
    for key, value in st.session_state.get("_test_moves", {}).items():
        st.session_state[key] = value
    st.rerun("race")


st.button("rerun the fragment", key="_test_fragment", on_click=_move)
'''


@pytest.fixture(scope="module")
def harness(tmp_path_factory) -> str:
    """The app with one more button, next to the app's own pages (a link to them)."""
    folder = tmp_path_factory.mktemp("harness")
    (folder / "pages").symlink_to(ROOT / "pages", target_is_directory=True)
    (folder / "app.py").write_text(HARNESS, encoding="utf-8")
    return str(folder / "app.py")


ALL = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton", "saddle_free_newton", "lbfgs"]
FIRST_ORDER = ALL[:6]
OVERLAYS = {"field": "true", "eigen": "true", "taylor": "true", "inspect": "1"}

# Each: the link, the optimizers, and whether SGD must diverge (worked out by hand below).
SINGULAR = {
    # |(x, y)| at the origin: its gradient and Hessian divide by zero in the generated code.
    "norm-at-origin": ({"landscape": "custom", "fx": "sqrt(x^2+y^2)", "x0": "0", "y0": "0"}, ALL, False),
    # exp(x) at x = 400: gradient e^400 = 5.2e173, finite, but its square (the norm) is not;
    # SGD's first step lands past 1e171: diverged.
    "exp-from-400": ({"landscape": "custom", "fx": "exp(x)+y^2", "x0": "400", "y0": "0"}, ALL, True),
    # exp(x y) at (26, 27): e^702 = 1e305; its Hessian's entries (y^2 e^{xy}, ...) overflow to inf.
    "exp-xy-hessian": ({"landscape": "custom", "fx": "exp(x*y)", "x0": "26", "y0": "27"}, ALL, True),
    # Rosenbrock from the window's lower edge at lr 10: SGD's first step goes to |x| ~ 1e12, where
    # the loss (~100 x^4 = 5e49) is past float32's 3.4e38.
    "rosenbrock-edge": ({"landscape": "rosenbrock", "x0": "-600", "y0": "-1000"}, FIRST_ORDER, True),
    # 1/x at x = 0 and log(x) at x < 0: outside the domain.
    "reciprocal-at-zero": ({"landscape": "custom", "fx": "1/x+y^2", "x0": "0", "y0": "0"}, FIRST_ORDER, False),
    "log-below-zero": ({"landscape": "custom", "fx": "log(x)+y^2", "x0": "-2", "y0": "-2"}, FIRST_ORDER, False),
    # The cliff valley far out: its exp overflows.
    "cliff-far-out": ({"landscape": "cliff_valley", "x0": "1000", "y0": "1000"}, FIRST_ORDER, False),
}
VIEWS = {"paths": 10.0, "surface": 7.0, "inside": 5.0, "formulas": 3.0}  # each view its own lr: the fragment computes anew


def status_lines(at: AppTest) -> str:
    return " ".join(h.proto.body for h in at.get("html") if "dl-status" in h.proto.body)


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("case", list(SINGULAR))
def test_singular_cases_warn_nowhere_on_full_runs_and_fragment_reruns(harness, case, view):
    query, opts, sgd_diverges = SINGULAR[case]
    at = AppTest.from_file(harness, default_timeout=180)
    for k, v in {**query, **OVERLAYS, "view": view, "optimizers": opts}.items():
        at.query_params[k] = v
    at.run()  # a full run, through the router
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title, "the whole page ran"
    lr = VIEWS[view]
    at.session_state["_test_moves"] = {f"{o}_lr": lr for o in opts}
    at.button(key="_test_fragment").click().run()  # a fragment rerun: new runs, figures and readouts
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert not at.title, "only the fragment reran (the page's title is outside it)"
    assert all(at.session_state[f"{o}_lr"] == lr for o in opts)
    if view == "paths":
        lines = status_lines(at)
        for name in ("SGD", "Adam"):
            assert name in lines  # every optimizer's status is shown
        if sgd_diverges:
            sgd = re.search(r"SGD</b> — ([^<]*)", lines).group(1)
            assert "diverged" in sgd


def test_every_fragment_goes_through_the_app_s_errstate():
    """A bare ``st.fragment`` would rerun outside any errstate: each fragment is ``ui.numerics.fragment``."""
    bare = [
        f"{path.relative_to(ROOT)}:{i}"
        for folder in ("pages", "ui")
        for path in sorted((ROOT / folder).glob("*.py"))
        if path.name != "numerics.py"
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bst\.fragment\b|\bfrom streamlit import fragment\b", line)
    ]
    assert bare == []
    assert (ROOT / "app.py").read_text(encoding="utf-8").count("fragment") == 0


def test_the_one_streamlit_internal_is_still_in_place():
    """ui/plotly_selection.py wraps Streamlit's plotly selection parser (PlotlyChartSelectionSerde.
    deserialize, not public API) so that text which is not JSON reads as an empty selection marked
    unreadable instead of raising before any app code runs. If a Streamlit upgrade moves or
    changes it, this fails by name; the forged-selection tests above then fail too."""
    from ui import plotly_selection

    assert plotly_selection.installed(), (
        "streamlit.elements.plotly_chart.PlotlyChartSelectionSerde.deserialize is gone or changed: "
        "ui/plotly_selection.py no longer guards the Sweep heatmap against malformed selections"
    )
    from streamlit.elements.plotly_chart import PlotlyChartSelectionSerde

    serde = PlotlyChartSelectionSerde()
    assert serde.deserialize('{"selection": {"box": [{"x": [-3')["unreadable"] is True
    good = serde.deserialize('{"selection": {"box": [{"x": [-3, -1], "y": [0.2, 0.6]}], "points": []}}')
    assert "unreadable" not in good and good["selection"]["box"][0]["x"] == [-3, -1]
