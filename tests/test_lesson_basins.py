"""The basins lesson (C3, H1): its shares recounted without the sweep, its check, its page and its Sweep link."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import landscapes
import lessons
import optimizers
import sweep
from i18n import t
from ui import lessons_view
from ui import settings as S

APP = str(Path(__file__).resolve().parents[1] / "app.py")
# The six-hump camel's global minima, as the benchmark literature gives them: the value and the two points.
CAMEL_GLOBAL = -1.0316284535
CAMEL_GLOBAL_POINTS = np.array([[0.0898, -0.7126], [-0.0898, 0.7126]])


@pytest.fixture(scope="module")
def lesson():
    return lessons.get("basins")


@pytest.fixture(scope="module")
def outcome(lesson):
    return lessons.run(lesson)


def _global(losses) -> np.ndarray:
    """At a global minimum: the final loss within 1e-6 of the camel's global value (every run ends within 1e-6 of a minimum)."""
    return np.abs(np.asarray(losses) - CAMEL_GLOBAL) < 1e-6


def _grid_starts(f, n: int) -> np.ndarray:
    (x_lo, x_hi), (y_lo, y_hi) = f.window
    x, y = np.meshgrid(np.linspace(x_lo, x_hi, n), np.linspace(y_lo, y_hi, n))
    return np.stack([x, y], axis=-1)


def test_the_grid_shares_recounted_from_runs_made_without_the_sweep(lesson, outcome):
    n = outcome.numbers
    panel = lesson.panels[0]
    f = lessons.surface(panel)
    starts = _grid_starts(f, int(n["side"]))
    sgd, mom = panel.runs
    ends = {}
    for name, spec, hyper in (
        ("sgd", sgd, sgd.hyper),
        ("momentum", mom, mom.hyper),
        ("sgd_eff", sgd, {**sgd.hyper, "lr": mom.hyper["lr"] / (1 - mom.hyper["momentum"])}),
    ):
        batch = optimizers.run_batch(f, spec.optimizer, starts, panel.steps, history=False, **hyper)
        # Every run ends at a minimum (so "not global" is "local"), whatever its status.
        assert np.linalg.norm(batch.final_points[..., None, :] - f.minima, axis=-1).min(axis=-1).max() < 1e-6
        ends[name] = (batch.final_points, _global(batch.final_losses))
        assert n[name] == pytest.approx(100 * ends[name][1].mean(), abs=1e-12), name
    plain, rolled = ends["sgd"][1], ends["momentum"][1]
    assert n["gained"] == np.sum(rolled & ~plain) and n["lost"] == np.sum(plain & ~rolled)
    assert n["starts"] == starts.size // 2 == 1024 and n["eff_lr"] == pytest.approx(0.05)
    # A handful of starts, one run at a time: every start momentum gained, and every 97th cell.
    cells = list(zip(*np.nonzero(rolled & ~plain))) + [np.unravel_index(k, plain.shape) for k in range(0, plain.size, 97)]
    for iy, ix in cells:
        start = tuple(starts[iy, ix])
        for name, spec, hyper in (("sgd", sgd, sgd.hyper), ("momentum", mom, mom.hyper)):
            single = optimizers.run(f, spec.optimizer, start=start, steps=panel.steps, **hyper)
            assert _global(single.final_loss) == ends[name][1][iy, ix], (name, start)
            np.testing.assert_allclose(single.points[-1], ends[name][0][iy, ix], atol=1e-9)


def test_the_edge_start_is_one_momentum_gains(lesson, outcome):
    # Setup 1 draws a start where the two differ: SGD in the shallow local minimum (loss 2.104), momentum at a global one.
    sgd, mom = outcome.trajectories[0]
    assert sgd.final_loss == pytest.approx(2.1042503, abs=1e-6) and _global(mom.final_loss)
    assert sgd.hyperparameters == {"lr": 0.01} and mom.hyperparameters == {"lr": 0.005, "momentum": 0.9}


def test_the_seed_share_recounted_one_run_at_a_time(lesson, outcome):
    n = outcome.numbers
    panel = lesson.panels[1]
    f = lessons.surface(panel)
    exact, noisy = panel.runs
    assert noisy.noise > 0 == exact.noise and noisy.hyper == exact.hyper
    ends = np.array([
        optimizers.run(f, "sgd", start=panel.start, steps=panel.steps, noise=noisy.noise, seed=s, **noisy.hyper).points[-1]
        for s in range(noisy.seed, noisy.seed + int(n["seeds"]))
    ])  # fmt: skip
    # A noisy run hovers near a minimum (here all within 0.13 of one): "reached" is within 0.3 of a global
    # minimum, whose nearest other stationary point (the saddle at the origin) is 0.72 away.
    assert np.linalg.norm(ends[:, None] - f.minima, axis=-1).min(axis=-1).max() < 0.2
    reached = list(np.linalg.norm(ends[:, None] - CAMEL_GLOBAL_POINTS, axis=-1).min(axis=-1) < 0.3)
    assert n["seeds"] == 200 and n["reached"] == sum(reached) and n["noisy"] == pytest.approx(100 * np.mean(reached))
    # The Wilson score interval by its formula (z = 1.96): centre (p + z^2/2n) / (1 + z^2/n).
    k, m, z = sum(reached), len(reached), 1.959963984540054
    p = k / m
    centre = (p + z * z / (2 * m)) / (1 + z * z / m)
    half = z * np.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / (1 + z * z / m)
    assert (n["low"], n["high"]) == pytest.approx((100 * (centre - half), 100 * (centre + half)))
    # The noise-free run from the same start settles in the local minimum on that side of the saddle.
    clean = outcome.trajectories[1][0]
    assert n["clean_local"] == 1 and n["clean_loss"] == clean.final_loss == pytest.approx(-0.2154638, abs=1e-6)
    assert n["global_loss"] == pytest.approx(CAMEL_GLOBAL, abs=1e-9)
    # The start really is beside the saddle between that local minimum and a global one.
    saddle = min((c for c in f.critical_points if c.kind == "saddle"), key=lambda c: np.hypot(*(np.asarray(c.point) - panel.start)))
    assert np.hypot(*(np.asarray(saddle.point) - panel.start)) < 0.05 and saddle.value == pytest.approx(0.5437, abs=1e-3)


def test_the_check_fails_at_its_edges(lesson, outcome):
    n = dict(outcome.numbers)
    assert lesson.effect(n)
    for change in (
        {"momentum": n["sgd"] + 1.9},  # momentum barely ahead
        {"sgd_eff": n["momentum"] - 1.9},  # SGD at the same effective rate nearly as good
        {"reached": 0.0},  # no seed reached the global minimum
        {"reached": n["seeds"]},  # every seed did: noise did not split them
        {"clean_local": 0.0},  # the noise-free run already reached the global minimum
    ):
        assert not lesson.effect({**n, **change}), change


def test_its_sweep_state_is_the_lessons_setup_on_the_sweep_pages_controls(lesson):
    state = dict(lesson.sweep_state)
    grid, beside = lesson.panels
    assert state["sw_landscape"] == grid.landscape == beside.landscape
    assert (state["sw_optimizer"], state["sw_vs"]) == tuple(r.optimizer for r in grid.runs)
    assert (state["sw_x"], state["sw_y"], state["sw_metric"], state["sw_mode"]) == ("x0", "y0", "basin", "grid")
    assert state["sw_steps"] == grid.steps == beside.steps
    assert (state["sw_sx"], state["sw_sy"]) == beside.start and state["sw_noise"] == beside.runs[1].noise
    outcome_numbers = lessons.run(lesson).numbers
    assert state["sw_n"] == outcome_numbers["side"] and state["sw_seeds"] == outcome_numbers["seeds"]
    # Values the Sweep page's controls offer.
    assert state["sw_noise"] in S.NOISE_OPTIONS
    for key, (lo, hi), step in (
        ("sw_n", S.SWEEP_N_RANGE, S.SWEEP_N_STEP),
        ("sw_steps", S.SWEEP_STEPS_RANGE, S.SWEEP_STEPS_STEP),
        ("sw_seeds", S.SWEEP_SEEDS_RANGE, S.SWEEP_SEEDS_STEP),
    ):
        assert lo <= state[key] <= hi and (state[key] - lo) % step == 0, key
    (x_lo, x_hi), (y_lo, y_hi) = landscapes.get(grid.landscape).window
    assert x_lo <= state["sw_sx"] <= x_hi and y_lo <= state["sw_sy"] <= y_hi
    # The page runs each optimizer at the surface's teaching values: the lesson's runs are those.
    for spec in (*grid.runs, beside.runs[1]):
        for name, value in spec.hyper.items():
            assert S.default_hyperparameter(spec.optimizer, name, grid.landscape) == value, (spec.optimizer, name)
    # The Sweep page's seeds start at 0, as the lesson's do.
    assert beside.runs[1].seed == 0


def test_the_share_link_opens_the_sweep_page_with_the_same_keys(lesson):
    link = lessons_view.share_link(lesson, lessons.preset(lesson))
    assert link.startswith("/sweep?")
    query = parse_qs(link.split("?", 1)[1])
    assert {k: v[0] for k, v in query.items()} == {k: str(v) for k, v in lesson.sweep_state.items()}
    # The lesson without a sweep_state (coarse-to-fine) still links to its Playground preset.
    search = lessons.get("coarse_to_fine")
    assert search.sweep_state is None
    assert lessons_view.share_link(search, lessons.preset(search)) == f"/?{lessons_view.link_query(lessons.preset(search))}"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_lesson_renders_with_its_notice(lesson, outcome, lang):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = lang  # a link in that language
    at.switch_page("pages/lessons.py").run()
    at.selectbox(key="lesson").set_value("basins").run()
    assert not at.exception
    notice = t("lesson.basins.notice", lang, **outcome.numbers)
    assert [s.value for s in at.success] == [f"**{t('ls.notice', lang)}:** {notice}"]
    assert t("lesson.basins.explanation", lang) in [m.value for m in at.markdown]
    assert len(at.get("plotly_chart")) == 2
    link = next(m.value for m in at.markdown if m.value.startswith(f"[{t('ls.share', lang)}]"))
    assert link == f"[{t('ls.share', lang)}]({lessons_view.share_link(lesson, lessons.preset(lesson))})"


def test_the_button_sets_the_sweep_pages_keys_and_opens_it(lesson):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/lessons.py").run()
    at.selectbox(key="lesson").set_value("basins").run()
    at.session_state["sw_landscape"] = "rosenbrock"  # another Sweep setup before: the button replaces it
    at.session_state["sw_n"] = 64
    at.button(key="open_lesson").click().run()
    assert [title.value for title in at.title] == [t("sw.title", "en")]
    for key, value in lesson.sweep_state.items():
        assert at.session_state[key] == value, key
