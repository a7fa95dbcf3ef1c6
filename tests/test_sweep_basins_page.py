"""The Sweep page's map of starts (issue 18) through AppTest: both basin maps and success over
seeds, in English and Chinese; what the maps say checked against gradient descent written out
here by hand; a click on a cell opening that start in the Playground; the link keys.

A click on a chart comes from the browser as the chart's widget state (JSON text), sent again
on every rerun while that chart is drawn: the ``browser`` fixture does what Streamlit's
frontend does (as in tests/test_events_hostile.py).
"""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import figures
import sweep
from sweep_pages import sweep_page
from ui import settings as S

# The basins lesson's setup (SGD beside momentum on the six-hump camel, 32 x 32 starts, 300 steps;
# 200 seeds from beside the saddle at (-1.15, 0.77) with noise 2), as a link.
CAMEL = {
    "sw_landscape": "six_hump_camel", "sw_optimizer": "sgd", "sw_x": "x0", "sw_y": "y0", "sw_metric": "basin",
    "sw_vs": "momentum", "sw_mode": "grid", "sw_n": "32", "sw_steps": "300", "sw_noise": "2.0", "sw_seeds": "200",
    "sw_sx": "-1.15", "sw_sy": "0.77",
}  # fmt: skip


@pytest.fixture
def browser(chart_selections):
    """Selections the browser holds, by chart id -> JSON text (tests/conftest.py)."""
    return chart_selections


def specs(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def decode(a) -> np.ndarray:
    if isinstance(a, list):
        return np.asarray(a, dtype=float)
    dtype = {"f4": np.float32, "f8": np.float64, "i4": np.int32}[a["dtype"]]
    out = np.frombuffer(base64.b64decode(a["bdata"]), dtype=dtype)
    return out.reshape([int(n) for n in a["shape"].split(",")]) if "shape" in a else out


def basin_maps(at: AppTest) -> list[dict]:
    return [s for s in specs(at) if any(d.get("name") == "basins" for d in s["data"])]


def legend(spec: dict) -> list[str]:
    """The outcomes' legend entries (each with its share), not the marked start's."""
    return [d["name"] for d in spec["data"] if d.get("showlegend") and d["name"].endswith("%")]


def texts(at: AppTest) -> str:
    return "\n".join(e.value for e in [*at.markdown, *at.caption, *at.info, *at.warning])


# -- six-hump camel by hand: f = (4 - 2.1 x^2 + x^4 / 3) x^2 + x y + (-4 + 4 y^2) y^2 ---------------


def camel_gradient(p: np.ndarray) -> np.ndarray:
    x, y = p[..., 0], p[..., 1]
    return np.stack([8 * x - 8.4 * x**3 + 2 * x**5 + y, x - 8 * y + 16 * y**3], axis=-1)


# Its six minima (Dixon and Szegő; Molga and Smutnicki's test-function survey): the two
# global ones at +-(0.0898, -0.7126), f = -1.0316, and four local ones.
CAMEL_MINIMA = np.array([(-1.7036, 0.7961), (-1.6071, -0.5687), (-0.0898, 0.7127), (0.0898, -0.7127), (1.6071, 0.5687), (1.7036, -0.7961)])


def heavy_ball(start, steps: int, lr: float, mu: float = 0.0) -> np.ndarray:
    """Gradient descent with heavy-ball momentum, torch.optim.SGD's form: v = mu v + g, x -= lr v."""
    p, v = np.array(start, dtype=float), np.zeros(2)
    for _ in range(steps):
        v = mu * v + camel_gradient(p)
        p = p - lr * v
    return p


# -- the page ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def camel_en() -> AppTest:
    return sweep_page(CAMEL)


def test_both_maps_and_the_seeds_are_drawn(camel_en):
    at = camel_en
    maps = basin_maps(at)
    assert len(maps) == 2, "SGD's map and momentum's beside it"
    for spec in maps:
        (heat,) = [d for d in spec["data"] if d.get("name") == "basins"]
        assert decode(heat["z"]).shape == (32, 32)
        stars = [d for d in spec["data"] if d.get("text") == [str(k) for k in range(1, 7)]]
        assert len(stars) == 1 and np.allclose(np.c_[stars[0]["x"], stars[0]["y"]], CAMEL_MINIMA, atol=1e-3)
        assert sum(1 for d in spec["data"] if d["type"] == "contour") >= 1, "the level lines under the map"
        (start,) = [d for d in spec["data"] if d.get("name") == "start of the seeded runs"]
        assert (start["x"], start["y"]) == ([-1.15], [0.77])
    (bars,) = [s for s in specs(at) if any(d["type"] == "bar" for d in s["data"])]
    assert [d["name"] for d in bars["data"]] == ["SGD", "Momentum"]
    text = texts(at)
    # The lesson's numbers (tests/test_lesson_basins.py recounts them from runs made without the sweep).
    assert "SGD: a global minimum from 59.0% of the 1024 starts" in text
    assert "Momentum: a global minimum from 62.9% of the 1024 starts" in text
    assert "SGD reached a global minimum in 20% of 200 seeds, 95% CI 15–26%." in text
    # The settings every run shares, as the hand-written runs below use them.
    assert "SGD, every run: learning rate = 0.01." in text
    assert "Momentum, every run: learning rate = 0.005, momentum μ = 0.9." in text


def test_each_maps_legend_counts_its_cells(camel_en):
    for spec in basin_maps(camel_en):
        (heat,) = [d for d in spec["data"] if d.get("name") == "basins"]
        slots = decode(heat["z"])
        names = legend(spec)
        shares = [float(re.search(r"([\d.]+)%$", n).group(1)) for n in names]
        counted = [100 * np.mean(slots == i) for i in range(len(names))]
        assert shares == pytest.approx(counted, abs=0.051)  # one decimal
        assert sum(shares) == pytest.approx(100, abs=0.3)


@pytest.mark.parametrize("column, mu, lr", [(0, 0.0, 0.01), (1, 0.9, 0.005)])
def test_cells_end_where_gradient_descent_by_hand_ends(camel_en, column, mu, lr):
    # The Playground's teaching values on the camel: SGD lr 0.01; momentum lr 0.005, mu 0.9.
    spec = basin_maps(camel_en)[column]
    (heat,) = [d for d in spec["data"] if d.get("name") == "basins"]
    xs, ys, slots = decode(heat["x"]), decode(heat["y"]), decode(heat["z"])
    names = legend(spec)
    rng = np.random.default_rng(18)
    for iy, ix in rng.integers(0, 32, size=(12, 2)):
        end = heavy_ball((float(xs[ix]), float(ys[iy])), 300, lr, mu)
        d = np.hypot(*(CAMEL_MINIMA - end).T)
        name = names[slots[iy, ix]]
        if d.min() < 0.05:  # settled at a minimum: the cell says which one
            assert f"minimum {int(np.argmin(d)) + 1}" in name, (xs[ix], ys[iy], end, name)
        else:  # away from every minimum: not coloured as one
            assert "minimum" not in name or np.hypot(*(CAMEL_MINIMA[int(re.search(r"minimum (\d)", name).group(1)) - 1] - end)) < 0.4


def _same(key: str, a, b) -> bool:
    numeric = key in ("sw_noise", "sw_sx", "sw_sy", "sw_n", "sw_steps", "sw_seeds")
    return float(a) == float(b) if numeric else str(a) == str(b)


def test_the_link_holds_every_setting(camel_en):
    state = {key: camel_en.session_state[key] for key in CAMEL}
    assert all(_same(key, state[key], CAMEL[key]) for key in CAMEL), state
    # The page's own link (a control at its default may leave it) opens the same page.
    link = {key: camel_en.query_params[key] for key in CAMEL if key in camel_en.query_params}
    assert {"sw_x", "sw_y", "sw_sx", "sw_sy", "sw_vs", "sw_noise"} <= set(link)
    again = sweep_page({k: v[0] if isinstance(v, list) else v for k, v in link.items()})
    assert all(_same(key, again.session_state[key], state[key]) for key in CAMEL)
    assert not again.warning


def test_in_chinese():
    at = sweep_page(CAMEL, lang="zh")
    text = texts(at)
    assert "SGD：1024 个起点中有 59.0% 到达全局极小值" in text
    assert "在 200 个随机种子中有 20% 到达全局极小值，95% 置信区间 15–26%" in text
    assert any("极小值" in n for n in legend(basin_maps(at)[0]))
    assert "最终到达哪个极小值" in at.selectbox(key="sw_metric").format_func("basin")


def test_without_noise_the_page_says_every_seed_is_the_same_run():
    at = sweep_page({**CAMEL, "sw_noise": "0.0", "sw_vs": "none", "sw_n": "8", "sw_seeds": "50"})
    assert len(basin_maps(at)) == 1
    assert any("Without gradient noise every seed makes the same run" in i.value for i in at.info)
    # The noise-free run from beside the saddle rolls into the local minimum (1), every seed alike.
    assert "SGD reached a global minimum in 0% of 50 seeds" in texts(at)


@pytest.mark.parametrize("key, bad", [("sw_sx", "50"), ("sw_seeds", "5000"), ("sw_vs", "sgd"), ("sw_noise", "0.7")])
def test_a_bad_value_in_the_link_falls_back_with_a_notice(key, bad):
    at = sweep_page({**CAMEL, "sw_n": "8", key: bad})
    assert len(basin_maps(at)) >= 1
    (notice,) = at.warning
    assert key in notice.value
    assert {"sw_sx": -1.5, "sw_seeds": 200, "sw_vs": "none", "sw_noise": 0.0}[key] == at.session_state[key]


def click(x: float, y: float, curve: int = 0) -> str:
    """One cell clicked, as Streamlit's frontend reports a plotly click (no box)."""
    point = {"x": x, "y": y, "curve_number": curve, "point_number": 0, "point_index": 0}
    return json.dumps({"selection": {"points": [point], "point_indices": [0], "box": [], "lasso": []}})


@pytest.mark.parametrize("chart", [0, 1])
def test_a_click_on_a_cell_opens_that_start_in_the_playground(browser, chart):
    at = sweep_page({**CAMEL, "sw_n": "16"})
    spec = basin_maps(at)[chart]
    (heat,) = [d for d in spec["data"] if d.get("name") == "basins"]
    xs, ys = decode(heat["x"]), decode(heat["y"])
    charts = [c for c in at.get("plotly_chart") if any(d.get("name") == "basins" for d in json.loads(c.proto.spec)["data"])]
    browser[charts[chart].proto.id] = click(float(xs[11]), float(ys[3]))  # the centre as drawn (float32)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [title.value for title in at.title] != ["Sweep"], "the Playground opened"
    exact = np.linspace(-2.0, 2.0, 16)[11], np.linspace(-1.1, 1.1, 16)[3]  # the camel's window, 16 starts a side
    assert (at.session_state["x0"], at.session_state["y0"]) == pytest.approx(exact, abs=1e-12)  # the run's own start, not the float32 one
    assert list(at.session_state["optimizers"]) == ["sgd", "momentum"]
    assert at.session_state["landscape"] == "six_hump_camel" and at.session_state["steps"] == 300
    assert at.session_state["noise"] == 0.0  # as the maps ran


def test_a_box_on_a_map_of_starts_zooms_into_it(browser):
    at = sweep_page({**CAMEL, "sw_n": "8", "sw_vs": "none"})
    (chart,) = [c for c in at.get("plotly_chart") if "basins" in c.proto.spec]
    browser[chart.proto.id] = json.dumps({"selection": {"points": [], "point_indices": [], "box": [{"xref": "x", "yref": "y", "x": [-1.0, 1.0], "y": [-0.5, 3.0]}], "lasso": []}})
    at.run()
    assert not at.exception
    (heat,) = [d for d in basin_maps(at)[0]["data"] if d.get("name") == "basins"]
    xs, ys = decode(heat["x"]), decode(heat["y"])
    assert (xs[0], xs[-1], ys[0], ys[-1]) == pytest.approx((-1.0, 1.0, -0.5, 1.1), abs=1e-6)  # cut at the window's top
    assert "y₀" in at.warning[0].value  # the notice names the axis it was cut on


def test_the_figure_marks_every_outcome_with_its_own_glyph():
    result = sweep.Sweep(
        "x0", "y0", np.array([0.0, 1.0]), np.array([0.0, 1.0]), np.zeros((2, 2)), np.full((2, 2), "converged"), np.full((2, 2), 7),
        basin=np.array([[0, -1], [-2, -3]]), minima=np.array([[0.0, 0.0]]), minimum_losses=np.array([0.0]),
    )  # fmt: skip
    labels = {
        "x": "x0", "y": "y0", "minimum": "min",
        "outcome": [(0, "min 1"), (-3, "saddle"), (-2, "moving"), (-1, "diverged")],
        "hover": {0: "at 1 after {steps}", -1: "div {steps}", -2: "moving {steps}", -3: "saddle {steps}"},
    }
    spec = figures.basin_figure(result, labels)
    (heat,) = [d for d in spec["data"] if d.get("name") == "basins"]
    assert decode(heat["z"]).tolist() == [[0, 3], [2, 1]]  # legend slots
    (cells,) = [d for d in spec["data"] if d.get("name") == "cells"]  # the hover text and the click: on the cells, row by row
    assert cells["text"] == ["at 1 after 7", "div 7", "moving 7", "saddle 7"] and heat["hoverinfo"] == "skip"
    assert spec["data"][-1] is cells  # on top of every other trace
    assert (spec["layout"]["dragmode"], spec["layout"]["clickmode"]) == ("zoom", "event+select")  # a click selects (see basin_figure)
    glyphs = {d["name"]: (d["marker"]["symbol"], decode(d["x"]).tolist(), decode(d["y"]).tolist()) for d in spec["data"] if d["name"].startswith("glyph")}
    assert glyphs == {"glyph -3": ("cross-thin", [1.0], [1.0]), "glyph -2": ("line-ew", [0.0], [1.0]), "glyph -1": ("x-thin", [1.0], [0.0])}
    assert [d["name"] for d in spec["data"] if d.get("showlegend")] == ["min 1", "saddle", "moving", "diverged"]


def test_opening_the_best_point_works_from_a_link_that_set_the_sliders():
    # The sliders bind sw_n and sw_steps to the link; switching pages must not trip over them.
    at = sweep_page({"sw_n": "8", "sw_steps": "100"})
    at.button(key="sw_open").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["steps"] == 100 and list(at.session_state["optimizers"]) == ["adam"]
    assert [title.value for title in at.title] != ["Sweep"]


def test_the_seeds_button_opens_the_seeded_start_with_its_noise():
    at = sweep_page({**CAMEL, "sw_n": "8", "sw_seeds": "20"})
    at.button(key="sw_seeds_open").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert (at.session_state["x0"], at.session_state["y0"], at.session_state["noise"]) == (-1.15, 0.77, 2.0)
    assert list(at.session_state["optimizers"]) == ["sgd", "momentum"] and at.session_state["seed"] == 0


def test_the_best_cell_of_a_learning_rate_by_start_sweep_opens_with_its_start():
    at = sweep_page({"sw_landscape": "himmelblau", "sw_optimizer": "adam", "sw_x": "lr", "sw_y": "x0", "sw_n": "8", "sw_steps": "200"})
    (best,) = [i.value for i in at.info if i.value.startswith("Best:")]
    x0 = float(re.search(r"start x₀ = (-?[\d.e-]+)", best).group(1))  # printed to 4 significant digits
    at.button(key="sw_open").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["x0"] == pytest.approx(x0, abs=5e-4 * max(1, abs(x0)))
    assert at.session_state["y0"] == S.default_start("himmelblau")[1]  # the coordinate not on an axis
    assert list(at.session_state["optimizers"]) == ["adam"]



def test_leaving_a_map_of_starts_after_moving_its_sliders_keeps_the_page_working():
    # The seeds' controls bind their values to the link; when they are no longer drawn Streamlit
    # drops those keys itself (deleting a bound key by hand is an error).
    at = sweep_page({**CAMEL, "sw_n": "8"})
    at.select_slider(key="sw_noise").set_value(0.3).run()
    at.selectbox(key="sw_y").set_value("lr").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not {"sw_noise", "sw_seeds", "sw_sx", "sw_sy", "sw_vs"} & set(at.query_params)
    at.selectbox(key="sw_landscape").set_value("faithful").run()
    assert not at.exception, [e.value for e in at.exception]


def test_a_new_surface_takes_its_own_seeded_start():
    at = sweep_page({**CAMEL, "sw_n": "8"})
    at.selectbox(key="sw_landscape").set_value("himmelblau").run()
    assert not at.exception
    assert (at.session_state["sw_sx"], at.session_state["sw_sy"]) == S.default_start("himmelblau")


def test_swapped_start_axes_turn_the_surface_with_them():
    at = sweep_page({**CAMEL, "sw_x": "y0", "sw_y": "x0", "sw_n": "8", "sw_vs": "none"})
    (spec,) = basin_maps(at)
    assert spec["layout"]["xaxis"]["range"] == [-1.1, 1.1] and spec["layout"]["yaxis"]["range"] == [-2.0, 2.0]
    (stars,) = [d for d in spec["data"] if d.get("text") == [str(k) for k in range(1, 7)]]
    assert np.allclose(np.c_[stars["y"], stars["x"]], CAMEL_MINIMA, atol=1e-3)  # y0 across, x0 up
    (start,) = [d for d in spec["data"] if d.get("name") == "start of the seeded runs"]
    assert (start["x"], start["y"]) == ([0.77], [-1.15])
    levels = [d for d in spec["data"] if d["type"] == "contour"]
    lx, ly = decode(levels[0]["x"]), decode(levels[0]["y"])
    assert -1.1 <= lx.min() and lx.max() <= 1.1 and ly.max() > 1.5 and ly.min() < -1.5  # y0's span across, x0's up


def test_a_data_surface_map_of_starts_says_its_mini_batches_and_the_seeds_need_them():
    query = {"sw_landscape": "faithful", "sw_optimizer": "sgd", "sw_x": "x0", "sw_y": "y0", "sw_n": "8", "sw_seeds": "20"}
    at = sweep_page(query)
    assert len(basin_maps(at)) == 1 and "sw_noise" not in [w.key for w in at.select_slider]
    assert any("With the full batch every seed makes the same run" in i.value for i in at.info)
    at = sweep_page({**query, "sw_batch": "16"})
    text = texts(at)
    assert "uses mini-batches of 16 drawn with seed 0" in text and "draws their mini-batches of 16" in text
    assert not any("full batch" in i.value for i in at.info)


def test_percentages_in_words_never_round_a_share_to_none_or_all():
    from ui.sweep_view import percent

    assert (percent(40 / 200), percent(1 / 200), percent(199 / 200), percent(0 / 200), percent(200 / 200)) == ("20", "0.5", "99.5", "0", "100")
