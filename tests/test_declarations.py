"""Each optimizer's hyperparameters are declared once, and everything else follows the declaration."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import optimizers
import sweep
from optimizers import declarations, rules
from optimizers.runner import OPTIMIZERS
from ui import settings as S


@pytest.mark.parametrize("name", optimizers.names())
def test_the_factory_takes_exactly_the_declared_hyperparameters_with_their_defaults(name):
    signature = {k: p.default for k, p in inspect.signature(OPTIMIZERS[name]).parameters.items()}
    assert signature == {hp.name: hp.default for hp in optimizers.hyperparameters(name)}


@pytest.mark.parametrize("name", optimizers.names())
def test_the_factory_refuses_what_the_declaration_refuses(name):
    for hp in optimizers.hyperparameters(name):
        if hp.scale == "switch":
            continue
        outside = hp.low - 1 if not hp.low_open else hp.low
        with pytest.raises(ValueError, match=f"Invalid {hp.name}"):
            optimizers.make(name, **{hp.name: int(outside) if hp.scale == "int" else outside})
        if hp.scale != "int":
            with pytest.raises(ValueError, match=f"Invalid {hp.name}"):
                optimizers.make(name, **{hp.name: math.nan})


def test_a_factory_steps_with_the_rate_it_was_built_with():
    # Adam's first step, bias-corrected, is lr per coordinate (g = (2, -10) on the bowl at (2, -1)):
    # built with lr=5 it steps 5, built with lr=1e-3 it steps 1e-3; the runner passes only the
    # schedule's factor (1 here).
    g = np.array([[2.0, -10.0]])
    for lr in (5.0, 1e-3):
        opt = rules.adam(lr=lr)
        step, _ = opt.update(g, opt.init(np.array([[2.0, -1.0]])), np.array([[2.0, -1.0]]), 1.0, None)
        np.testing.assert_allclose(step, [[-lr, lr]], rtol=1e-8)
    # A schedule's factor scales it: SGD built with lr 0.5, factor 0.1, g = (2, -10): step (-0.1, 0.5).
    opt = rules.sgd(lr=0.5)
    step, _ = opt.update(g, opt.init(g), g, 0.1, None)
    np.testing.assert_allclose(step, [[-0.1, 0.5]])


def test_adding_a_hyperparameter_is_one_declaration(monkeypatch):
    # A weight decay for SGD, declared and nothing else: it reaches the Playground's
    # controls, its link key and the link's check, the panel's options and the sweep.
    decay = declarations.Hyperparameter(
        "weight_decay", 0.0, 0.0, 1.0, options=(0.0, 0.001, 0.01, 0.1), sweep=(0.0, 0.1), label="hp.weight_decay"
    )
    monkeypatch.setitem(declarations.DECLARED, "sgd", (*declarations.DECLARED["sgd"], decay))

    assert S.hyper_names("sgd") == ("lr", "weight_decay")  # its control, after lr
    assert S.hyper_keys()["sgd_weight_decay"] == ("sgd", "weight_decay")  # its link key
    assert S.invalid_query_keys({"sgd_weight_decay": ["0.01"]}) == []  # its link check
    assert S.invalid_query_keys({"sgd_weight_decay": ["0.5"]}) == ["sgd_weight_decay"]
    assert S.hyper_from_link("weight_decay", "0.01") == 0.01
    assert S.hyper_options("weight_decay") == [0.0, 0.001, 0.01, 0.1]  # the panel's choices
    assert S.default_hyperparameter("sgd", "weight_decay", "bowl") == 0.0
    assert S.hyperparameter_state("bowl")["sgd_weight_decay"] == 0.0
    assert optimizers.defaults("sgd") == {"lr": 0.01, "weight_decay": 0.0}
    assert sweep.sweepable("sgd") == ["lr", "weight_decay"]  # and the sweep's axis
    assert sweep.axis_range("weight_decay") == (0.0, 0.1) and not sweep.is_log("weight_decay")
    np.testing.assert_allclose(sweep.axis("weight_decay", 0.0, 0.1, 3), [0.0, 0.05, 0.1])


def test_the_sweep_axes_and_scales_are_the_declared_ones():
    # Written out by hand: which of each optimizer's hyperparameters a sweep offers.
    assert sweep.sweepable("adam") == ["lr", "beta1", "beta2", "eps"]
    assert sweep.sweepable("lbfgs") == ["lr"] and sweep.sweepable("newton") == ["lr"]
    assert sweep.is_log("lr") and sweep.is_log("eps") and not sweep.is_log("beta1")
    assert sweep.axis_range("lr") == (1e-5, 1.0)
    s = sweep.run("bowl", "adam", "lr", "beta1", (1e-3, 0.1, 0.5, 0.9), n=3, steps=5, start=(1.0, 1.0))
    assert (s.x_log, s.y_log) == (True, False)
    np.testing.assert_allclose(s.x, [1e-3, 1e-2, 1e-1])


def test_controls_snap_to_their_options():
    assert S.hyper_value("lr", 0.04) == 0.05  # nearest on a log scale: |log 0.04/0.05| < |log 0.04/0.03|
    assert S.hyper_value("momentum", 0.904) == 0.9
    assert S.hyper_value("damping", 0.0) == 0.0 and S.hyper_value("damping", 4e-4) == 1e-3
    assert S.hyper_value("max_step", math.inf) == 1000.0
    assert S.hyper_value("memory", 7.4) == 7 and isinstance(S.hyper_value("memory", 7.4), int)
    assert S.hyper_value("bias_correction", 0) is False


def test_every_state_field_is_declared_with_its_meaning():
    bowl = __import__("landscapes").get("bowl")
    for name in optimizers.names():
        t = optimizers.run(bowl, name, start=(1.0, 1.0), steps=2)
        assert set(t.state) <= set(optimizers.STATE[name]), name


def test_a_sweep_reports_success_through_the_status_table():
    # SGD on the bowl from (1, 0) with tol 1e-3: lr 0.5 converges (0.5^t < 1e-3 at t = 10),
    # lr 3.5 diverges (x grows by |1 - 3.5| = 2.5 a step: past 1e12 within 50 steps).
    b = optimizers.run_batch(__import__("landscapes").get("bowl"), "sgd", (1.0, 0.0), 50, lr=np.array([0.5, 3.5]), tol=1e-3)
    s = sweep.Sweep("lr", "momentum", np.array([0.5, 3.5]), np.array([0.0]), b.final_losses[None, :], b.status[None, :], b.stop_steps[None, :])
    assert s.success.tolist() == [[True, False]]
    assert list(b.status) == ["converged", "diverged"]


def test_the_inside_view_plots_what_the_declared_state_means(monkeypatch):
    # Momentum declares its velocity: the view plots the rate and the velocity (gradient units).
    from figures.curves import inside_quantities

    bowl = __import__("landscapes").get("bowl")
    t = optimizers.run(bowl, "momentum", start=(1.0, 1.0), steps=3)
    assert [(panel, label) for panel, label, _ in inside_quantities("momentum", t, {})] == [("rate", "rate_momentum"), ("first", "velocity")]
    # Declared as nothing the view knows, the velocity is not plotted: the declaration decides.
    monkeypatch.setitem(declarations.STATE, "momentum", {"velocity": "something_else"})
    assert [label for _, label, _ in inside_quantities("momentum", t, {})] == ["rate_momentum"]
