"""The Sweep on the data surfaces: the mini-batch size as a (log, whole-number) axis, a fixed
batch size, the input scaling, and the page in both languages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import landscapes
import optimizers
import sweep
from sweep_pages import sweep_page

APP = str(Path(__file__).resolve().parents[1] / "app.py")
START = (-1.0, 1.5)  # faithful, standardized: its teaching start


def test_a_batch_size_axis_gives_each_cell_its_single_runs_final_loss():
    s = sweep.run("faithful", "adam", "lr", "batch_size", (1e-3, 0.3, 1, 218), n=5, steps=60, start=START)
    assert s.calls == len(s.y) and s.final_loss.shape == (len(s.y), len(s.x))
    faithful = landscapes.get("faithful")
    for iy, m in enumerate(s.y):
        for ix, lr in enumerate(s.x):
            single = optimizers.run(faithful, "adam", start=START, steps=60, lr=float(lr), batch_size=int(m), seed=0)
            assert s.final_loss[iy, ix] == pytest.approx(single.final_loss, rel=1e-12, abs=1e-300), (lr, m)
            assert s.status[iy, ix] == single.status


def test_the_batch_size_on_the_horizontal_axis_and_in_random_search_match_single_runs_too():
    faithful = landscapes.get("faithful", scaling="centered")
    start = landscapes.catalog.hints("faithful", "centered")["start"]
    s = sweep.run("faithful", "sgd", "batch_size", "lr", (1, 218, 1e-4, 1e-2), n=4, steps=40, start=start, scaling="centered", seed=3)
    for iy, lr in enumerate(s.y):
        for ix, m in enumerate(s.x):
            single = optimizers.run(faithful, "sgd", start=start, steps=40, lr=float(lr), batch_size=int(m), seed=3)
            assert s.final_loss[iy, ix] == pytest.approx(single.final_loss, rel=1e-12, abs=1e-300)
    r = sweep.run("faithful", "sgd", "lr", "batch_size", (1e-4, 1e-2, 1, 218), n=4, steps=40, start=start, scaling="centered", random=True)
    assert r.final_loss.shape == (16,) and r.calls == len(np.unique(r.y)) <= 4
    assert set(r.y.tolist()) <= set(sweep.axis("batch_size", 1, 218, 4).tolist())  # no more calls than the grid's
    for k in (0, 7, 15):
        single = optimizers.run(faithful, "sgd", start=start, steps=40, lr=float(r.x[k]), batch_size=int(r.y[k]), seed=0)
        assert r.final_loss[k] == pytest.approx(single.final_loss, rel=1e-12, abs=1e-300)


def test_a_fixed_batch_size_and_scaling_apply_to_the_whole_grid():
    iris = landscapes.get("iris", scaling="raw")
    s = sweep.run("iris", "momentum", "lr", "momentum", (1e-3, 0.1, 0.0, 0.9), n=3, steps=30, start=(0.0, 0.0), scaling="raw", batch_size=16)
    assert (s.scaling, s.batch_size, s.calls) == ("raw", 16, 1)
    for iy, mu in enumerate(s.y):
        for ix, lr in enumerate(s.x):
            single = optimizers.run(iris, "momentum", start=(0.0, 0.0), steps=30, lr=float(lr), momentum=float(mu), batch_size=16, seed=0)
            assert s.final_loss[iy, ix] == pytest.approx(single.final_loss, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("surface, n_train", [("faithful", 218), ("iris", 80), ("tanh_unit", 218)])
def test_the_batch_size_axis_is_whole_numbers_log_spaced_within_the_training_size(surface, n_train):
    assert sweep.training_size(surface) == n_train
    assert sweep.axis_range("batch_size", surface) == (1.0, float(n_train))
    assert "batch_size" in sweep.sweepable("sgd", surface) and sweep.is_log("batch_size") and sweep.is_whole("batch_size")
    for n in (8, 16, 64):
        values = sweep.axis("batch_size", 1, n_train, n)
        assert np.all(values == np.round(values)) and values[0] == 1 and values[-1] == n_train
        assert np.all(np.diff(values) > 0) and len(values) <= n  # sorted, no repeats
        # Log-spaced: each value is the rounded log-spaced point it stands for.
        np.testing.assert_array_equal(values, np.unique(np.rint(np.logspace(0, np.log10(n_train), n))))
        ratios = values[1:] / values[:-1]
        assert ratios[-1] == pytest.approx((n_train) ** (1 / (n - 1)), rel=0.1)  # the large end: one ratio
    inner = sweep.axis("batch_size", 5.3, 40.7, 8)  # a refined box: whole numbers inside it
    assert inner[0] == 6 and inner[-1] == 40 and np.all(inner == np.round(inner))
    assert sweep.axis("batch_size", 2.3, 2.7, 8).tolist() == [2.0] or sweep.axis("batch_size", 2.3, 2.7, 8).tolist() == [3.0]


def test_refining_a_batch_size_axis_keeps_whole_number_ends_within_the_training_size():
    s = sweep.run("faithful", "sgd", "lr", "batch_size", (1e-3, 0.5, 1, 218), n=8, steps=30, start=START)
    _, _, y_lo, y_hi = sweep.refine_box(s)
    assert 1 <= y_lo < y_hi <= 218 and y_lo == int(y_lo) and y_hi == int(y_hi)
    wide = sweep.run("faithful", "sgd", "lr", "batch_size", (1e-3, 0.5, 0.2, 5000), n=4, steps=10, start=START)
    assert wide.box[2:] == (1.0, 218.0)  # a dragged box beyond the training set stops at it


def test_a_batch_size_axis_is_refused_on_a_formula_surface_with_a_clear_message():
    assert "batch_size" not in sweep.sweepable("adam", "bowl") and "batch_size" not in sweep.sweepable("adam")
    with pytest.raises(ValueError, match="only on a data surface.*not bowl"):
        sweep.run("bowl", "adam", "lr", "batch_size", (1e-3, 0.1, 1, 64), n=4, steps=10, start=(1.0, 1.0))
    with pytest.raises(ValueError, match="only on a data surface"):
        sweep.axis_range("batch_size")
    with pytest.raises(ValueError, match="leave the fixed batch_size out"):
        sweep.run("faithful", "adam", "lr", "batch_size", (1e-3, 0.1, 1, 64), n=4, steps=10, start=START, batch_size=8)


def test_the_playground_gets_the_nearest_batch_size_its_control_offers():
    from ui import sweep_view

    assert sweep_view.playground_batch("faithful", None) == "full"
    assert sweep_view.playground_batch("faithful", 218) == "full"
    assert sweep_view.playground_batch("faithful", 200) == "full"  # nearer 218 than 128 on a log scale
    assert sweep_view.playground_batch("faithful", 40) == 32 and sweep_view.playground_batch("faithful", 47) == 64 and sweep_view.playground_batch("faithful", 1) == 1
    assert sweep_view.playground_batch("iris", 80) == "full" and sweep_view.playground_batch("iris", 60) == 64


# -- the page -------------------------------------------------------------------------------


def heatmap(at: AppTest) -> dict:
    (spec,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return spec


@pytest.mark.parametrize("lang, words", [("en", "batch size"), ("zh", "批大小")])
def test_the_sweep_page_on_faithful_with_a_batch_size_axis(lang, words):
    at = sweep_page({"sw_landscape": "faithful", "sw_optimizer": "sgd", "sw_y": "batch_size", "sw_n": "8", "sw_steps": "50"}, lang)
    assert at.selectbox(key="sw_scaling").value == "standardized"
    assert at.selectbox(key="sw_y").value == "batch_size"
    assert not [s for s in at.selectbox if s.key == "sw_batch"], "no fixed batch size while it is on an axis"
    assert not at.warning, [w.value for w in at.warning]
    spec = heatmap(at)
    assert words in spec["layout"]["yaxis"]["title"]["text"]
    captions = " ".join(c.value for c in at.caption)
    assert "(0)" in captions or "（0）" in captions  # the one shared seed is stated
    at.button(key="sw_refine").click().run()
    assert not at.exception, at.exception
    (_, box) = at.session_state["sw_history"][-1]
    assert box[2] == int(box[2]) and box[3] == int(box[3]) and 1 <= box[2] < box[3] <= 218
    at.button(key="sw_open").click().run()
    assert not at.exception, at.exception
    assert at.session_state["landscape"] == "faithful" and at.session_state["scaling"] == "standardized"
    batch = at.session_state["batch_size"]
    assert batch == "full" or batch in (1, 2, 4, 8, 16, 32, 64, 128)


def test_the_sweep_page_with_a_fixed_batch_size_and_a_scaling_from_the_link():
    at = sweep_page({"sw_landscape": "iris", "sw_scaling": "raw", "sw_batch": "16", "sw_n": "8", "sw_steps": "50"})
    assert at.selectbox(key="sw_scaling").value == "raw" and at.selectbox(key="sw_batch").value == "16"
    assert not at.warning, [w.value for w in at.warning]
    assert "64 runs" in at.info[0].value
    at.button(key="sw_open").click().run()
    assert not at.exception, at.exception
    assert (at.session_state["scaling"], at.session_state["batch_size"]) == ("raw", 16)


def test_bad_sweep_link_values_fall_back_with_a_notice():
    at = sweep_page({"sw_landscape": "faithful", "sw_scaling": "sideways", "sw_batch": "7", "sw_n": "8", "sw_steps": "50"})
    assert at.selectbox(key="sw_scaling").value == "standardized" and at.selectbox(key="sw_batch").value == "full"
    (notice,) = at.warning
    assert "sw_scaling" in notice.value and "sw_batch" in notice.value and "sw_landscape" not in notice.value
    # A batch-size axis on a formula surface is not offered: the axis falls back, and the notice says so.
    at = sweep_page({"sw_landscape": "bowl", "sw_y": "batch_size", "sw_n": "8", "sw_steps": "50"})
    assert at.selectbox(key="sw_y").value == "beta1"
    assert "sw_y" in at.warning[0].value


def test_switching_to_a_formula_surface_drops_a_batch_size_axis():
    at = sweep_page({"sw_landscape": "tanh_unit", "sw_optimizer": "sgd", "sw_n": "8", "sw_steps": "50"})
    assert at.selectbox(key="sw_y").value == "batch_size"  # SGD's second axis there
    assert at.selectbox(key="sw_scaling").options == ["standardized"] or len(at.selectbox(key="sw_scaling").options) == 1
    at.selectbox(key="sw_landscape").set_value("bowl").run()
    assert not at.exception, at.exception
    # SGD stays (its learning rate and the start's coordinates are its axes there); the batch-size axis does not.
    assert at.selectbox(key="sw_optimizer").value == "sgd"
    assert at.selectbox(key="sw_y").value == "x0" and "batch_size" not in at.selectbox(key="sw_y").options


def test_a_fixed_batch_size_leaves_the_link_when_the_batch_size_goes_on_an_axis():
    at = sweep_page({"sw_landscape": "faithful", "sw_batch": "16", "sw_n": "8", "sw_steps": "50"})
    assert at.selectbox(key="sw_y").value == "beta1" and at.selectbox(key="sw_batch").value == "16"
    at.selectbox(key="sw_y").set_value("batch_size").run()
    assert not at.exception, at.exception
    assert "sw_batch" not in at.query_params  # a shared link says only what the page uses
