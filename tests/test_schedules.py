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


def test_cosine_reaches_the_floor_at_the_period_and_holds_it():
    for period, floor in [(1, 0.0), (5, 0.25), (7, 0.0), (60, 0.1)]:
        f = _factors(schedules.make("cosine", period=period, floor=floor), 3 * period + 2)
        assert f[0] == 1.0
        assert f[period] == pytest.approx(floor, abs=1e-15)
        # held: torch's CosineAnnealingLR would climb back to 1 at 2 * period
        np.testing.assert_allclose(f[period:], floor, atol=1e-15)
        # and before it, torch's closed form eta_min + (1 - eta_min) (1 + cos(pi t / T)) / 2
        t = np.arange(period + 1)
        np.testing.assert_allclose(f[: period + 1], floor + (1 - floor) * (1 + np.cos(np.pi * t / period)) / 2, rtol=1e-14, atol=1e-15)


def _cyclic_lr_triangular(t, base_lr, max_lr, step_size_up):
    """torch.optim.lr_scheduler.CyclicLR.get_lr for mode="triangular", step_size_down=None, written out."""
    total = 2 * step_size_up
    ratio = step_size_up / total
    cycle = math.floor(1 + t / total)
    x = 1.0 + t / total - cycle
    scale = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
    return base_lr + (max_lr - base_lr) * scale


@pytest.mark.parametrize("period, floor", [(8, 0.2), (7, 0.1), (1, 0.3), (2, 0.0), (101, 0.0), (6, 1.0)])
def test_cyclical_matches_torch_cyclic_lr_triangular(period, floor):
    n = 3 * period + 5
    f = _factors(schedules.make("cyclical", period=period, floor=floor), n)
    expected = [_cyclic_lr_triangular(t, floor, 1.0, period / 2) for t in range(n)]
    np.testing.assert_allclose(f, expected, rtol=1e-13, atol=1e-14)


def test_cyclical_odd_period_peaks_between_steps():
    # period 5: the peak 1 falls at t = 2.5, between two steps; the steps see 0, 0.4, 0.8, 0.8, 0.4, then 0 again
    f = _factors(schedules.make("cyclical", period=5, floor=0.0), 6)
    np.testing.assert_allclose(f, [0.0, 0.4, 0.8, 0.8, 0.4, 0.0], atol=1e-15)


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
    # the ramp (t+1)/2 for t < 2, then 0.5 ** (t - 2): the decay starts when the warm-up ends
    g = _factors(schedules.make("exponential", warmup_steps=2, gamma=0.5), 5)
    np.testing.assert_allclose(g, [0.5, 1.0, 1.0, 0.5, 0.25], rtol=1e-15)
    # warmup_steps=0 means no warm-up
    np.testing.assert_array_equal(_factors(schedules.make("step", warmup_steps=0, every=2, gamma=0.5), 3), [1, 1, 0.5])


def test_warmup_delays_the_schedule_instead_of_multiplying_it():
    # torch's SequentialLR([LinearLR(1/10 -> 1 over 9 steps), StepLR(5, 0.5)], milestones=[10])
    f = _factors(schedules.make("step", warmup_steps=10, every=5, gamma=0.5), 21)
    expected = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0] + [1.0] * 5 + [0.5] * 5 + [0.25]
    np.testing.assert_allclose(f, expected, rtol=1e-15)
    assert f[10] == 1.0  # multiplying the ramp with the step decay gave 0.25 here
    assert f[15] == 0.5


def test_warmup_of_one_step_is_one_full_step_then_the_schedule():
    f = _factors(schedules.make("exponential", warmup_steps=1, gamma=0.5), 4)
    np.testing.assert_array_equal(f, [1.0, 1.0, 0.5, 0.25])


def test_warmup_delays_the_cosine_floor_and_the_cycle():
    f = _factors(schedules.make("cosine", warmup_steps=3, period=4, floor=0.0), 10)
    # ramp 1/3, 2/3, 1; then 0.5 (1 + cos(pi min(t-3, 4) / 4))
    c = math.cos(math.pi / 4)
    np.testing.assert_allclose(f, [1 / 3, 2 / 3, 1.0, 1.0, 0.5 * (1 + c), 0.5, 0.5 * (1 - c), 0, 0, 0], rtol=1e-14, atol=1e-15)
    g = _factors(schedules.make("cyclical", warmup_steps=2, period=4, floor=0.0), 8)
    np.testing.assert_allclose(g, [0.5, 1.0, 0.0, 0.5, 1.0, 0.5, 0.0, 0.5], atol=1e-15)


def test_warmup_with_a_fast_decay_raises_no_warning_for_the_steps_before_it():
    # the inner schedule must not be evaluated at negative steps (1e-5 ** -500 overflows)
    f = _factors(schedules.make("exponential", warmup_steps=500, gamma=1e-5), 502)
    assert f[499] == 1.0 and f[500] == 1.0 and f[501] == pytest.approx(1e-5, rel=1e-12)


def test_scalar_step_index():
    assert float(schedules.make("exponential", gamma=0.5)(3)) == 0.125
    assert float(schedules.make("step", every=2, gamma=0.5)(np.int64(5))) == 0.25
    assert float(schedules.make("exponential", warmup_steps=2, gamma=0.5)(3)) == 0.5
    assert float(schedules.make("exponential", warmup_steps=2, gamma=0.5)(0)) == 0.5


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


# -- describe(): the formula the Formulas view shows -----------------------------------------


def test_describe_examples():
    assert schedules.describe("constant") == r"\eta_t = \eta"
    assert schedules.describe("cosine", period=60, floor=0.0) == (
        r"\eta_t = \eta\,\tfrac12\left(1+\cos\frac{\pi \min(t,60)}{60}\right)"
    )
    assert schedules.describe("exponential", warmup_steps=10, gamma=0.99) == (
        r"\eta_t = \begin{cases} \eta\,\frac{t+1}{10} & t < 10 \\ \eta\,0.99^{\,t-10} & t \ge 10\end{cases}"
    )


# (name, warmup, options, the formula describe() must give, the same formula as Python, written by hand)
DESCRIBED = [
    ("constant", 0, {}, r"\eta_t = \eta", lambda t: 1.0),
    ("constant", 4, {}, r"\eta_t = \begin{cases} \eta\,\frac{t+1}{4} & t < 4 \\ \eta & t \ge 4\end{cases}",
     lambda t: (t + 1) / 4 if t < 4 else 1.0),
    ("step", 0, {"every": 5, "gamma": 0.5}, r"\eta_t = \eta\,0.5^{\lfloor t/5 \rfloor}", lambda t: 0.5 ** (t // 5)),
    ("step", 10, {"every": 5, "gamma": 0.5},
     r"\eta_t = \begin{cases} \eta\,\frac{t+1}{10} & t < 10 \\ \eta\,0.5^{\lfloor (t-10)/5 \rfloor} & t \ge 10\end{cases}",
     lambda t: (t + 1) / 10 if t < 10 else 0.5 ** ((t - 10) // 5)),
    ("exponential", 0, {"gamma": 0.9}, r"\eta_t = \eta\,0.9^{\,t}", lambda t: 0.9**t),
    ("exponential", 10, {"gamma": 0.99},
     r"\eta_t = \begin{cases} \eta\,\frac{t+1}{10} & t < 10 \\ \eta\,0.99^{\,t-10} & t \ge 10\end{cases}",
     lambda t: (t + 1) / 10 if t < 10 else 0.99 ** (t - 10)),
    ("exponential", 1, {"gamma": 0.5}, r"\eta_t = \begin{cases} \eta & t < 1 \\ \eta\,0.5^{\,t-1} & t \ge 1\end{cases}",
     lambda t: 1.0 if t < 1 else 0.5 ** (t - 1)),
    ("inverse_time", 0, {"decay": 0.25}, r"\eta_t = \frac{\eta}{1 + 0.25\,t}", lambda t: 1 / (1 + 0.25 * t)),
    ("inverse_time", 3, {"decay": 0.01},
     r"\eta_t = \begin{cases} \eta\,\frac{t+1}{3} & t < 3 \\ \frac{\eta}{1 + 0.01\,(t-3)} & t \ge 3\end{cases}",
     lambda t: (t + 1) / 3 if t < 3 else 1 / (1 + 0.01 * (t - 3))),
    ("cosine", 0, {"period": 60, "floor": 0.0}, r"\eta_t = \eta\,\tfrac12\left(1+\cos\frac{\pi \min(t,60)}{60}\right)",
     lambda t: 0.5 * (1 + math.cos(math.pi * min(t, 60) / 60))),
    ("cosine", 20, {"period": 100, "floor": 0.3},
     r"\eta_t = \begin{cases} \eta\,\frac{t+1}{20} & t < 20 \\ "
     r"\eta\left(0.3 + 0.7\,\tfrac12\left(1+\cos\frac{\pi \min(t-20,100)}{100}\right)\right) & t \ge 20\end{cases}",
     lambda t: (t + 1) / 20 if t < 20 else 0.3 + 0.7 * 0.5 * (1 + math.cos(math.pi * min(t - 20, 100) / 100))),
    ("cyclical", 0, {"period": 7, "floor": 0.1},
     r"\eta_t = \eta\left(0.1 + 0.9\,\left(1 - \left|\frac{2\,(t \bmod 7)}{7} - 1\right|\right)\right)",
     lambda t: 0.1 + 0.9 * (1 - abs(2 * (t % 7) / 7 - 1))),
    ("cyclical", 5, {"period": 8, "floor": 0.0},
     r"\eta_t = \begin{cases} \eta\,\frac{t+1}{5} & t < 5 \\ \eta\,\left(1 - \left|\frac{2\,((t-5) \bmod 8)}{8} - 1\right|\right) & t \ge 5\end{cases}",
     lambda t: (t + 1) / 5 if t < 5 else 1 - abs(2 * ((t - 5) % 8) / 8 - 1)),
]


@pytest.mark.parametrize("name, warmup, options, latex, by_hand", DESCRIBED, ids=[f"{c[0]}-w{c[1]}" for c in DESCRIBED])
def test_describe_gives_the_formula_make_computes(name, warmup, options, latex, by_hand):
    assert schedules.describe(name, warmup_steps=warmup, **options) == latex
    n = 250
    f = _factors(schedules.make(name, warmup_steps=warmup, **options), n)
    np.testing.assert_allclose(f, [by_hand(t) for t in range(n)], rtol=1e-13, atol=1e-15)


def test_describe_uses_the_defaults_and_formats_numbers_with_g():
    assert schedules.describe("step") == r"\eta_t = \eta\,0.5^{\lfloor t/100 \rfloor}"
    assert schedules.describe("exponential", gamma=0.123456789) == r"\eta_t = \eta\,0.123457^{\,t}"
    assert schedules.describe("cosine", period=10.0, floor=0.0) == r"\eta_t = \eta\,\tfrac12\left(1+\cos\frac{\pi \min(t,10)}{10}\right)"
    # :g's exponent form, written as LaTeX
    assert schedules.describe("exponential", gamma=1e-5) == r"\eta_t = \eta\,\left(1\times10^{-5}\right)^{\,t}"
    # floor 1: the factor is 1 throughout
    assert schedules.describe("cosine", period=10, floor=1.0) == r"\eta_t = \eta"


def test_describe_rejects_what_make_rejects():
    with pytest.raises(ValueError, match="Unknown schedule 'linear'"):
        schedules.describe("linear")
    with pytest.raises(ValueError, match="Invalid period"):
        schedules.describe("cosine", period=0)
    with pytest.raises(ValueError, match="Invalid steps"):
        schedules.describe("constant", warmup_steps=-3)
    with pytest.raises(TypeError):
        schedules.describe("step", period=3)


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
    # the warm-up ramp (t+1)/W, then the schedule from its own step 0
    expected = np.array([lr * ((t + 1) / warmup if t < warmup else factor(t - warmup)) for t in range(steps)])
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
