"""Lessons cover every claim, show their effect with measured numbers, and open the Playground exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import lessons
import optimizers
import sweep
from i18n import t
from ui.settings import invalid_query_keys

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_every_claim_and_homework_has_a_lesson():
    covered = {c for lesson in lessons.LESSONS for c in lesson.claims}
    assert set(lessons.ALL_CLAIMS) <= covered
    assert len(lessons.ALL_CLAIMS) == 17


@pytest.fixture(scope="module")
def outcomes():
    return {lesson.key: lessons.run(lesson) for lesson in lessons.LESSONS}


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.key)
def test_each_lesson_shows_its_effect(lesson, outcomes):
    result = outcomes[lesson.key]
    assert result.shows_effect, result.numbers
    for lang in ("en", "zh"):
        text = t(f"lesson.{lesson.key}.notice", lang, **result.numbers)
        assert any(ch.isdigit() for ch in text)


def test_zigzag_numbers_are_measured_from_the_runs(outcomes):
    # Recount by hand from the recorded SGD path: direction changes of y in the first 30 points.
    sgd = outcomes["zigzag"].trajectories[0][0]
    dy = np.diff(sgd.points[:30, 1])
    dy = dy[np.abs(dy) > 1e-6]
    assert outcomes["zigzag"].numbers["sgd"] == np.sum(np.sign(dy[1:]) != np.sign(dy[:-1]))


def test_effects_fail_when_the_setting_removes_them():
    # The same measurement on a round bowl: no zig-zag, so the claim's effect is absent.
    lesson = lessons.get("zigzag")
    round_bowl = lessons.Lesson(
        key="zigzag",
        claims=lesson.claims,
        panels=(lessons.Panel("bowl", lesson.panels[0].runs, start=(-3.5, 1.5), steps=60, params={"condition": 1.0}),),
        measure=lesson.measure,
        effect=lesson.effect,
    )
    assert not lessons.run(round_bowl).shows_effect


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.key)
def test_presets_are_valid_playground_links(lesson):
    state = lessons.preset(lesson)
    query = {k: [str(x).lower() if isinstance(x, bool) else str(x) for x in (v if isinstance(v, list) else [v])] for k, v in state.items()}
    assert invalid_query_keys(query) == []
    assert state["optimizers"] and set(state["optimizers"]) <= set(optimizers.names())


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.key)
def test_each_lesson_page_renders_and_its_preset_opens_exactly(lesson):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/lessons.py").run()
    at.selectbox(key="lesson").set_value(lesson.key).run()
    assert not at.exception
    assert at.success, "the measured effect should show"
    assert len(at.get("plotly_chart")) >= 1
    at.button(key="open_lesson").click().run()
    assert not at.exception
    if lesson.link == "sweep":
        assert at.selectbox(key="sw_optimizer").value == "adam"
        return
    state = lessons.preset(lesson)
    assert at.selectbox(key="landscape").value == state["landscape"]
    assert at.multiselect(key="optimizers").value == state["optimizers"]
    assert at.slider(key="steps").value == state["steps"]
    assert (at.number_input(key="x0").value, at.number_input(key="y0").value) == pytest.approx((state["x0"], state["y0"]))
    for key, value in state.items():
        if key.split("_")[0] in optimizers.names() and not key.startswith("p_"):
            widget = at.session_state[key]
            assert widget == pytest.approx(value), key


def test_sweep_page_refines_and_opens_the_best_point():
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page("pages/sweep.py").run()
    assert not at.exception
    assert "4096 runs" in at.info[0].value
    heat = [c for c in at.get("plotly_chart")]
    assert heat
    at.button(key="sw_refine").click().run()
    assert not at.exception
    assert len(at.session_state["sw_history"]) == 1
    (_, box) = at.session_state["sw_history"][0]
    assert 1e-5 <= box[0] < box[1] <= 1.0 and box[1] / box[0] < 1e5 ** 0.5  # a quarter of the log-range of lr
    at.button(key="sw_back").click().run()
    assert at.session_state["sw_history"] == []
    at.button(key="sw_open").click().run()
    assert not at.exception
    assert at.multiselect(key="optimizers").value == ["adam"]
    assert at.selectbox(key="landscape").value == "rosenbrock"


def test_sweep_grid_matches_single_runs():
    s = sweep.run("bowl", "momentum", "lr", "momentum", (1e-3, 0.1, 0.0, 0.9), n=4, steps=50, start=(-3.5, 1.5))
    import landscapes

    bowl = landscapes.get("bowl")
    for iy, mu in enumerate(s.y):
        for ix, lr in enumerate(s.x):
            single = optimizers.run(bowl, "momentum", start=(-3.5, 1.5), steps=50, lr=float(lr), momentum=float(mu))
            assert s.final_loss[iy, ix] == pytest.approx(single.final_loss, rel=1e-12, abs=1e-300)
    assert s.x[0] == pytest.approx(1e-3) and s.x[-1] == pytest.approx(0.1)
    assert s.x[1] / s.x[0] == pytest.approx(s.x[2] / s.x[1])  # a log axis


def test_refine_box_shrinks_around_the_best_and_stays_in_range():
    s = sweep.run("rosenbrock", "adam", "lr", "beta1", (1e-4, 1.0, 0.0, 0.99), n=8, steps=50)
    bx, by, _ = s.best()
    box = sweep.refine_box(s)
    assert box[0] <= bx <= box[1] and box[2] <= by <= box[3]
    assert np.log10(box[1] / box[0]) <= np.log10(1.0 / 1e-4) / 4 + 1e-9
    assert box[3] - box[2] <= 0.99 / 4 + 1e-9


def test_random_search_samples_inside_the_box():
    s = sweep.run("bowl", "sgd" if len(sweep.sweepable("sgd")) > 1 else "adam", "lr", "beta1", (1e-3, 0.1, 0.5, 0.9), n=4, steps=20, start=(1, 1), random=True)
    assert s.x.shape == (16,) and np.all((s.x >= 1e-3) & (s.x <= 0.1)) and np.all((s.y >= 0.5) & (s.y <= 0.9))


def test_a_dragged_box_on_the_heatmap_becomes_the_next_grid():
    from ui import sweep_view

    s = sweep.run("rosenbrock", "adam", "lr", "beta1", (1e-4, 1.0, 0.0, 0.99), n=8, steps=20)
    setup = ("rosenbrock", "adam", "lr", "beta1", False)
    state = {sweep_view.CHART: {"selection": {"box": [{"x": [-3.0, -1.0], "y": [0.2, 0.6]}], "points": []}}}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sweep_view.st, "session_state", state)
        sweep_view.refine_to_selection(setup, s)
    (got_setup, box) = state["sw_history"][-1]
    assert got_setup == setup
    # lr is on a log axis: the box's -3 .. -1 is 1e-3 .. 1e-1.
    assert box == pytest.approx((1e-3, 1e-1, 0.2, 0.6))
