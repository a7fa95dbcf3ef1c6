"""Learning-rate schedules: factors against hand values, and the runner's recorded learning rates."""

from __future__ import annotations

import math

import numpy as np
import pytest

import landscapes
import optimizers
from reference import bowl_grad
from optimizers import schedules

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def _factors(schedule, n):
    return np.asarray(schedule(np.arange(n)), dtype=float)


def test_names():
    assert set(schedules.names()) == {"constant", "step", "exponential", "inverse_time", "cosine", "cyclical"}


def test_constant():
    np.testing.assert_array_equal(_factors(schedules.make("constant"), 5), np.ones(5))
    np.testing.assert_array_equal(_factors(schedules.make(), 3), np.ones(3))


def test_step_decay():
    f = _factors(schedules.make("step", every=3, gamma=0.5), 10)
    np.testing.assert_array_equal(f, [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125])
    f = _factors(schedules.make("step", every=1, gamma=0.1), 4)
    np.testing.assert_allclose(f, [1, 0.1, 0.01, 0.001], rtol=1e-15)


def test_exponential():
    f = _factors(schedules.make("exponential", gamma=0.9), 5)
    np.testing.assert_allclose(f, [1, 0.9, 0.81, 0.729, 0.6561], rtol=1e-15)


def test_inverse_time():
    f = _factors(schedules.make("inverse_time", decay=0.5), 5)
    np.testing.assert_allclose(f, [1, 1 / 1.5, 1 / 2, 1 / 2.5, 1 / 3], rtol=1e-15)
    np.testing.assert_array_equal(_factors(schedules.make("inverse_time", decay=0.0), 3), [1, 1, 1])


def test_cosine_endpoints_and_midpoint():
    f = _factors(schedules.make("cosine", period=10, floor=0.0), 14)
    assert f[0] == 1.0
    assert f[5] == pytest.approx(0.5, abs=1e-15)
    assert f[10] == pytest.approx(0.0, abs=1e-15)
    np.testing.assert_allclose(f[10:], 0.0, atol=1e-15)  # held after the period
    assert np.all(np.diff(f[:11]) < 0)
    g = _factors(schedules.make("cosine", period=4, floor=0.2), 6)
    # 0.2 + 0.8 * (1 + cos(pi t / 4)) / 2
    expected = [0.2 + 0.8 * 0.5 * (1 + math.cos(math.pi * min(t, 4) / 4)) for t in range(6)]
    np.testing.assert_allclose(g, expected, rtol=1e-14)
    assert g[4] == pytest.approx(0.2) and g[5] == pytest.approx(0.2)
    assert g[2] == pytest.approx(0.6)


def test_triangular_cyclical():
    f = _factors(schedules.make("cyclical", period=8, floor=0.2), 17)
    # floor at the start of each cycle, peak 1 at its middle, linear in between
    expected = [0.2, 0.4, 0.6, 0.8, 1.0, 0.8, 0.6, 0.4] * 2 + [0.2]
    np.testing.assert_allclose(f, expected, rtol=1e-14)
    assert list(np.flatnonzero(np.isclose(f, 1.0))) == [4, 12]
    assert list(np.flatnonzero(np.isclose(f, 0.2))) == [0, 8, 16]
    h = _factors(schedules.make("cyclical", period=4, floor=0.0), 5)
    np.testing.assert_allclose(h, [0.0, 0.5, 1.0, 0.5, 0.0], atol=1e-15)


def test_linear_warmup():
    f = _factors(schedules.make("constant", warmup_steps=4), 7)
    np.testing.assert_allclose(f, [0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0], rtol=1e-15)
    g = _factors(schedules.make("exponential", warmup_steps=2, gamma=0.5), 4)
    np.testing.assert_allclose(g, [0.5 * 1, 1 * 0.5, 0.25, 0.125], rtol=1e-15)
    # warmup_steps=0 means no warm-up
    np.testing.assert_array_equal(_factors(schedules.make("step", warmup_steps=0, every=2, gamma=0.5), 3), [1, 1, 0.5])


def test_scalar_step_index():
    assert float(schedules.make("exponential", gamma=0.5)(3)) == 0.125
    assert float(schedules.make("step", every=2, gamma=0.5)(np.int64(5))) == 0.25


@pytest.mark.parametrize(
    "name, options, word",
    [
        ("step", {"every": 0}, "every"),
        ("step", {"every": 2.5}, "every"),
        ("step", {"gamma": 0.0}, "gamma"),
        ("step", {"gamma": 1.5}, "gamma"),
        ("exponential", {"gamma": -0.5}, "gamma"),
        ("exponential", {"gamma": float("nan")}, "gamma"),
        ("inverse_time", {"decay": -1.0}, "decay"),
        ("cosine", {"period": 0}, "period"),
        ("cosine", {"floor": 1.5}, "floor"),
        ("cyclical", {"floor": -0.1}, "floor"),
        ("constant", {"warmup_steps": -3}, "steps"),
    ],
)
def test_invalid_options_raise_naming_the_option(name, options, word):
    with pytest.raises(ValueError, match=rf"Invalid {word}.*allowed range"):
        schedules.make(name, **options)


def test_unknown_schedule_and_option():
    with pytest.raises(ValueError, match="Unknown schedule 'linear'"):
        schedules.make("linear")
    with pytest.raises(TypeError):
        schedules.make("step", period=3)


# -- the runner uses lr * factor -----------------------------------------------------------


SCHEDULE_CASES = [
    ("step", {"every": 3, "gamma": 0.5}, lambda t: 0.5 ** (t // 3)),
    ("exponential", {"gamma": 0.9}, lambda t: 0.9**t),
    ("inverse_time", {"decay": 0.25}, lambda t: 1 / (1 + 0.25 * t)),
    ("cosine", {"period": 8, "floor": 0.1}, lambda t: 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(t, 8) / 8))),
    ("cyclical", {"period": 6, "floor": 0.25}, lambda t: 0.25 + 0.75 * (1 - abs(2 * (t % 6) / 6 - 1))),
]


@pytest.mark.parametrize("name, options, factor", SCHEDULE_CASES, ids=[c[0] for c in SCHEDULE_CASES])
@pytest.mark.parametrize("warmup", [0, 4])
def test_runner_records_lr_times_factor_and_follows_it(name, options, factor, warmup):
    lr, steps, cond = 0.05, 12, 10.0
    surface = landscapes.get("bowl", condition=cond, angle=0.0)
    schedule = schedules.make(name, warmup_steps=warmup, **options)
    traj = optimizers.run(surface, "sgd", start=(-3.0, 1.5), steps=steps, lr=lr, schedule=schedule, tol=0.0)
    ramp = [min((t + 1) / warmup, 1.0) if warmup else 1.0 for t in range(steps)]
    expected = np.array([lr * factor(t) * ramp[t] for t in range(steps)])
    np.testing.assert_allclose(traj.lrs, expected, rtol=1e-14)
    # and the path is x_{t+1} = x_t - lr_t * g_t
    x = [-3.0, 1.5]
    for t in range(steps):
        g = bowl_grad(*x, cond, 0.0)
        x = [x[0] - expected[t] * g[0], x[1] - expected[t] * g[1]]
        np.testing.assert_allclose(traj.points[t + 1], x, rtol=1e-12)


def test_schedule_applies_to_adaptive_optimizers_and_batches():
    surface = landscapes.get("rosenbrock")
    schedule = schedules.make("step", every=2, gamma=0.5)
    lrs = np.array([0.01, 0.02, 0.04])
    batch = optimizers.run_batch(surface, "adam", (-1.5, 2.0), 6, schedule=schedule, lr=lrs)
    for i, lr in enumerate(lrs):
        traj = batch.trajectory(i)
        np.testing.assert_allclose(traj.lrs, lr * np.array([1, 1, 0.5, 0.5, 0.25, 0.25]), rtol=1e-15)
