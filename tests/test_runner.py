"""The runner: statuses and messages, divergence, singular Hessians, noise, averaging,
batches against single runs, input validation, and property tests over random settings."""

from __future__ import annotations

import math
import warnings

from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import landscapes
import optimizers
from reference import assert_same_run as _same_run
from reference import bowl_grad, rosen_f, rosen_grad
from optimizers import fused, rules, runner, schedules

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

ROSEN = landscapes.get("rosenbrock")
BOWL = landscapes.get("bowl", condition=10.0, angle=0.0)  # f = (x^2 + 10 y^2) / 2, g = (x, 10 y)
MONKEY = landscapes.get("monkey_saddle")
PLATEAU = landscapes.get("plateau")
UNDAMPED = {"damping": 0.0, "max_step": math.inf}  # the classic Newton step


def _bowl_grad(x, y):
    return bowl_grad(x, y, 10.0, 0.0)


def test_each_run_of_a_batch_reports_its_own_ending():
    # SGD on the bowl from (1, 0): y stays 0 and x_t = (1 - lr)^t, |g| = |x_t|.
    #   lr 0.5: |g| = 0.5^t < 1e-3 first at t = 10 -> converged at step 10;
    #   lr 0.1: 0.9^10 = 0.349 after all 10 steps -> max_steps;
    #   lr 100: |x_t| = 99^t, 99^6 < 1e12 < 99^7 -> diverged at step 7, six steps kept.
    batch = optimizers.run_batch(BOWL, "sgd", (1.0, 0.0), 10, tol=1e-3, lr=np.array([0.5, 0.1, 100.0]))
    assert list(batch.status) == ["converged", "max_steps", "diverged"]
    assert [batch.trajectory(i).steps for i in range(3)] == [10, 10, 6]
    assert batch.message(0) == "Converged at step 10: the gradient norm fell below 0.001."
    assert batch.message(1) == "Ran all 10 steps; the gradient norm is still 0.349."
    assert batch.message(2).startswith("Diverged at step 7:") and "smaller learning rate" in batch.message(2)
    # Undamped Newton on Rosenbrock: H(0, 0.005) is singular (see below); from (-1.5, 2) one step is taken.
    newton = optimizers.run_batch(ROSEN, "newton", np.array([(-1.5, 2.0), (0.0, 0.005)]), 1, **UNDAMPED)
    assert list(newton.status) == ["max_steps", "singular_hessian"]
    assert newton.message(1).startswith("Stopped at step 0:") and "Hessian is singular" in newton.message(1)
    for b in (batch, newton):  # a run cut from the batch keeps its status and message
        for i in range(len(b.status)):
            assert (b.trajectory(i).status, b.trajectory(i).message) == (b.status[i], b.message(i))


# -- trajectory contents ---------------------------------------------------------------


def test_trajectory_fields_against_hand_values():
    start, steps, lr = (-1.5, 2.0), 15, 5e-4
    traj = optimizers.run(ROSEN, "momentum", start=start, steps=steps, lr=lr, momentum=0.9)
    assert traj.optimizer == "momentum"
    assert traj.hyperparameters == {"lr": lr, "momentum": 0.9}
    assert traj.steps == steps
    assert traj.points.shape == (steps + 1, 2) and traj.losses.shape == (steps + 1,)
    assert traj.gradients.shape == (steps + 1, 2) and traj.lrs.shape == (steps,)
    assert traj.updates.shape == (steps, 2) and traj.effective_lr.shape == (steps, 2)
    np.testing.assert_array_equal(traj.points[0], start)
    for k, (x, y) in enumerate(traj.points):
        assert traj.losses[k] == pytest.approx(rosen_f(x, y), rel=1e-13)
        np.testing.assert_allclose(traj.gradients[k], rosen_grad(x, y), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(traj.updates, np.diff(traj.points, axis=0), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(traj.lrs, np.full(steps, lr))
    np.testing.assert_array_equal(traj.state["velocity"][0], [0.0, 0.0])
    assert traj.state["velocity"].shape == (steps + 1, 2)
    np.testing.assert_array_equal(traj.final_point, traj.points[-1])
    assert traj.final_loss == traj.losses[-1]
    assert traj.status == "max_steps"
    assert traj.message.startswith(f"Ran all {steps} steps")
    gnorm = math.hypot(*rosen_grad(*traj.points[-1]))
    assert f"{gnorm:.3g}" in traj.message


def test_newton_effective_lr_is_update_over_gradient():
    traj = optimizers.run(ROSEN, "newton", start=(-1.5, 2.0), steps=3, tol=0.0)
    np.testing.assert_allclose(traj.effective_lr, -traj.updates / traj.gradients[:-1], rtol=1e-12)


def test_converged_status_and_message():
    traj = optimizers.run(BOWL, "newton", start=(3.0, -2.0), steps=20, **UNDAMPED)
    assert traj.status == "converged"
    assert traj.steps == 1
    assert traj.message.startswith("Converged at step 1:") and "1e-06" in traj.message
    traj = optimizers.run(BOWL, "sgd", start=(0.0, 0.0), steps=20)
    assert traj.status == "converged" and traj.steps == 0
    assert traj.points.shape == (1, 2) and traj.lrs.shape == (0,) and traj.updates.shape == (0, 2)


def test_convergence_tolerance():
    # SGD lr 0.5 on the bowl: x_t = 0.5^t * 1, y stays 0 -> |g| = 0.5^t < tol first at t = 11 for 1e-3.
    traj = optimizers.run(BOWL, "sgd", start=(1.0, 0.0), steps=100, lr=0.5, tol=1e-3)
    assert traj.status == "converged" and traj.steps == 10
    assert 0.5**traj.steps < 1e-3 <= 0.5 ** (traj.steps - 1)
    assert optimizers.run(BOWL, "sgd", start=(1.0, 0.0), steps=100, lr=0.5, tol=1e-6).steps == 20


def test_converged_on_the_last_step():
    # |g| = 0.5^t: below 1e-3 first at t = 10, exactly the number of steps.
    traj = optimizers.run(BOWL, "sgd", start=(1.0, 0.0), steps=10, lr=0.5, tol=1e-3)
    assert traj.steps == 10 and traj.status == "converged"
    traj = optimizers.run(BOWL, "sgd", start=(1.0, 0.0), steps=9, lr=0.5, tol=1e-3)
    assert traj.steps == 9 and traj.status == "max_steps"


# -- divergence and singular Hessians ---------------------------------------------------------


def test_sgd_diverges_on_rosenbrock_without_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        traj = optimizers.run(ROSEN, "sgd", start=(-1.5, 2.0), steps=1000, lr=0.01)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert traj.status == "diverged"
    assert traj.steps < 1000
    assert np.all(np.isfinite(traj.points)) and np.all(np.isfinite(traj.losses))
    assert np.all(np.isfinite(traj.gradients)) and np.all(np.isfinite(traj.updates))
    assert "smaller learning rate" in traj.message
    assert f"step {traj.steps + 1}" in traj.message  # the step that blew up
    # The kept points follow the plain SGD recurrence with the hand gradient.
    x = [-1.5, 2.0]
    for k in range(traj.steps):
        g = rosen_grad(*x)
        x = [x[0] - 0.01 * g[0], x[1] - 0.01 * g[1]]
        np.testing.assert_allclose(traj.points[k + 1], x, rtol=1e-9)
    # and the next one is what made it stop: non-finite or astronomically far
    g = rosen_grad(*x)
    nxt = [x[0] - 0.01 * g[0], x[1] - 0.01 * g[1]]
    assert not (max(abs(nxt[0]), abs(nxt[1])) < 1e12 and math.isfinite(rosen_f(*nxt)))


@pytest.mark.parametrize("name", optimizers.names())
def test_huge_learning_rates_never_warn_or_return_non_finite_points(name):
    for surface, start in [(ROSEN, (-1.5, 2.0)), (landscapes.get("beale"), (4.0, 4.0)), (MONKEY, (1.0, 1.0))]:
        traj = optimizers.run(surface, name, start=start, steps=200, lr=1000.0)
        assert traj.status in optimizers.STATUSES
        assert np.all(np.isfinite(traj.points)) and np.all(np.isfinite(traj.losses))


def test_batch_with_some_runs_diverging():
    batch = optimizers.run_batch(ROSEN, "sgd", (-1.5, 2.0), 50, lr=np.array([0.01, 1e-4]))
    assert list(batch.status) == ["diverged", "max_steps"]
    bad = batch.trajectory(0)
    assert bad.status == "diverged" and bad.steps < 50
    np.testing.assert_array_equal(batch.final_points[0], bad.points[-1])
    assert np.all(np.isfinite(batch.final_points)) and np.all(np.isfinite(batch.final_losses))
    good = batch.trajectory(1)
    assert good.steps == 50
    np.testing.assert_array_equal(good.points, optimizers.run(ROSEN, "sgd", start=(-1.5, 2.0), steps=50, lr=1e-4).points)


@pytest.mark.parametrize("name", ["newton", "saddle_free_newton"])
def test_singular_hessian_on_rosenbrock(name):
    # H(0, y) = diag(2 - 400 y, 200): singular at y = 1/200, where g = (0, 1) != 0.
    traj = optimizers.run(ROSEN, name, start=(0.0, 0.005), steps=10, **UNDAMPED)
    assert traj.status == "singular_hessian"
    assert traj.steps == 0
    np.testing.assert_array_equal(traj.points, [[0.0, 0.005]])
    assert "Hessian is singular" in traj.message
    # Damped (the default), the same start takes a finite step no longer than the cap.
    damped = optimizers.run(ROSEN, name, start=(0.0, 0.005), steps=1, tol=0.0)
    assert damped.status == "max_steps" and 0 < np.linalg.norm(damped.updates[0]) <= 10.0


@pytest.mark.parametrize("name", ["newton", "saddle_free_newton"])
def test_singular_hessian_on_the_flat_valley(name):
    # fxx = (2/w^2)(1 - 2x^2/w^2) exp(-x^2/w^2) vanishes at x = w / sqrt(2); fyy = 1.
    w = 4.0
    traj = optimizers.run(PLATEAU, name, start=(w / math.sqrt(2), 1.0), steps=10, **UNDAMPED)
    assert traj.status == "singular_hessian" and traj.steps == 0


def test_newton_halves_toward_the_monkey_saddle_then_meets_a_singular_hessian():
    # f = x^3 - 3xy^2 is homogeneous of degree 3, so a Newton step maps p to p / 2.
    traj = optimizers.run(MONKEY, "newton", start=(0.5, 0.1), steps=100, **UNDAMPED)
    expected = np.array([[0.5, 0.1]]) / 2.0 ** np.arange(traj.steps + 1)[:, None]
    np.testing.assert_allclose(traj.points, expected, rtol=1e-12)
    assert traj.status == "converged"  # |g| = 3 |p|^2 < 1e-6
    assert 3 * 0.26 / 4**traj.steps < 1e-6 <= 3 * 0.26 / 4 ** (traj.steps - 1)
    # With convergence switched off, the eigenvalues +-6|p| fall below 1e-10 and the run stops.
    traj = optimizers.run(MONKEY, "newton", start=(0.5, 0.1), steps=100, tol=0.0, **UNDAMPED)
    assert traj.status == "singular_hessian"
    p = traj.points[-1]
    assert 6 * math.hypot(*p) <= 1e-10 < 6 * math.hypot(*traj.points[-2])
    assert np.all(np.isfinite(traj.points))


# -- noise -------------------------------------------------------------------------


def test_noise_is_reproducible_with_a_seed():
    kw = dict(start=(-3.0, 1.5), steps=30, lr=0.05, noise=0.5)
    a = optimizers.run(BOWL, "sgd", seed=7, **kw)
    b = optimizers.run(BOWL, "sgd", seed=7, **kw)
    c = optimizers.run(BOWL, "sgd", seed=8, **kw)
    np.testing.assert_array_equal(a.points, b.points)
    assert not np.allclose(a.points[1:], c.points[1:])
    exact = optimizers.run(BOWL, "sgd", start=(-3.0, 1.5), steps=30, lr=0.05)
    assert not np.allclose(a.points[1:], exact.points[1:])


@pytest.mark.parametrize("name", optimizers.names())
def test_zero_noise_equals_exact(name):
    kw = dict(start=(-1.5, 2.0), steps=20)
    exact = optimizers.run(ROSEN, name, **kw)
    for seed in (0, 123, None):
        zero = optimizers.run(ROSEN, name, noise=0.0, seed=seed, **kw)
        np.testing.assert_array_equal(zero.points, exact.points)
        assert zero.status == exact.status


def test_recorded_gradients_are_exact_under_noise_and_noise_has_the_right_size():
    sigma, lr, steps = 0.3, 0.01, 2000
    traj = optimizers.run(BOWL, "sgd", start=(-3.0, 1.5), steps=steps, lr=lr, noise=sigma, seed=1, tol=0.0)
    hand = np.array([_bowl_grad(x, y) for x, y in traj.points])
    np.testing.assert_allclose(traj.gradients, hand, rtol=1e-12, atol=1e-15)
    # what SGD actually used: -(x_{k+1} - x_k) / lr = g_k + noise
    seen = -np.diff(traj.points, axis=0) / lr
    noise = seen - hand[:-1]
    assert abs(noise.mean()) < 4 * sigma / math.sqrt(noise.size)
    assert noise.std() == pytest.approx(sigma, rel=0.05)
    assert abs(np.corrcoef(noise[:, 0], noise[:, 1])[0, 1]) < 0.1


def test_noise_follows_the_seed_in_a_batch_as_in_run():
    # The rule: a run's noise is fixed by its seed alone. Runs of a batch that share a
    # seed share the sequence; a seed per run gives each its own, equal to run()'s.
    starts = np.array([[-3.0, 1.5], [-3.0, 1.5], [-3.0, 1.5]])
    shared = optimizers.run_batch(BOWL, "sgd", starts, 10, lr=0.05, noise=0.5, seed=3)
    single = optimizers.run(BOWL, "sgd", start=(-3.0, 1.5), steps=10, lr=0.05, noise=0.5, seed=3)
    for i in range(3):
        np.testing.assert_array_equal(shared.trajectory(i).points, single.points)
    own = optimizers.run_batch(BOWL, "sgd", starts, 10, lr=0.05, noise=0.5, seed=np.array([3, 4, 5]))
    for i, seed in enumerate((3, 4, 5)):
        alone = optimizers.run(BOWL, "sgd", start=(-3.0, 1.5), steps=10, lr=0.05, noise=0.5, seed=seed)
        np.testing.assert_allclose(own.trajectory(i).points, alone.points, rtol=1e-15, atol=1e-15)
    assert not np.allclose(own.trajectory(0).points[1:], own.trajectory(1).points[1:])


def test_every_optimizer_sees_the_seeds_draws_at_each_step():
    # Step k's noise is draw pair (2k, 2k+1) of default_rng(seed), whatever the rule:
    # SGD's seen gradient is -(x_{k+1} - x_k) / lr; Nesterov's, recorded in its state,
    # minus the exact gradient at its look-ahead point, is the same noise.
    sigma, lr, steps, seed = 0.7, 0.01, 6, 11
    xi = sigma * np.random.default_rng(seed).standard_normal((steps, 2))
    sgd = optimizers.run(BOWL, "sgd", start=(-3.0, 1.5), steps=steps, lr=lr, noise=sigma, seed=seed, tol=0.0)
    np.testing.assert_allclose(-sgd.updates / lr - sgd.gradients[:-1], xi, atol=1e-9)
    nes = optimizers.run(BOWL, "nesterov", start=(-3.0, 1.5), steps=steps, lr=lr, noise=sigma, seed=seed, tol=0.0)
    look = nes.state["lookahead"][1:]
    exact = np.stack([look[:, 0], 10.0 * look[:, 1]], axis=-1)  # bowl kappa = 10: grad = (x, 10 y)
    np.testing.assert_allclose(nes.state["lookahead_grad"][1:] - exact, xi, atol=1e-9)


# -- averaging -----------------------------------------------------------------------


def test_polyak_average_is_the_running_mean():
    traj = optimizers.run(BOWL, "momentum", start=(-3.0, 1.5), steps=40, lr=0.02, average="polyak")
    assert traj.averaged.shape == traj.points.shape
    total = np.zeros(2)
    for k, p in enumerate(traj.points):
        total = total + p
        np.testing.assert_allclose(traj.averaged[k], total / (k + 1), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("decay", [0.9, 0.5])
def test_ema_average_follows_its_recurrence(decay):
    traj = optimizers.run(BOWL, "adam", start=(-3.0, 1.5), steps=40, lr=0.1, average="ema", ema_decay=decay)
    avg = traj.points[0].copy()
    np.testing.assert_array_equal(traj.averaged[0], avg)
    for k in range(1, len(traj.points)):
        avg = decay * avg + (1 - decay) * traj.points[k]
        np.testing.assert_allclose(traj.averaged[k], avg, rtol=1e-12, atol=1e-15)


def test_no_average_by_default_and_unknown_average_rejected():
    assert optimizers.run(BOWL, "sgd", start=(1.0, 1.0), steps=3).averaged is None
    with pytest.raises(ValueError, match="average"):
        optimizers.run(BOWL, "sgd", start=(1.0, 1.0), steps=3, average="median")
    with pytest.raises(ValueError, match="ema_decay"):
        optimizers.run(BOWL, "sgd", start=(1.0, 1.0), steps=3, average="ema", ema_decay=1.0)


@pytest.mark.parametrize("average", ["polyak", "ema"])
def test_averages_of_runs_that_stop_at_different_steps(average):
    # |g| = (1 - lr)^t: lr 0.5 converges at t = 10, lr 0.2 at t = 31, lr 0.01 not within 100 steps.
    lrs = np.array([0.5, 0.2, 0.01])
    batch = optimizers.run_batch(BOWL, "sgd", (1.0, 0.0), 100, tol=1e-3, lr=lrs, average=average, ema_decay=0.8)
    assert list(batch.status) == ["converged", "converged", "max_steps"]
    assert list(batch.stop_steps) == [10, 31, 100]
    for i in range(3):
        traj = batch.trajectory(i)
        assert traj.averaged.shape == traj.points.shape
        avg = traj.points[0].copy()
        for k, p in enumerate(traj.points):
            if average == "polyak":
                expected = traj.points[: k + 1].mean(axis=0)
            else:
                avg = avg if k == 0 else 0.8 * avg + 0.2 * p
                expected = avg
            np.testing.assert_allclose(traj.averaged[k], expected, rtol=1e-12, atol=1e-15)


# -- batches against single runs ------------------------------------------------------------


def test_adam_grid_over_lr_beta1_and_starts_matches_single_runs():
    starts = np.array([[-1.5, 2.0], [0.5, -0.5]]).reshape(2, 1, 1, 2)
    lrs = np.array([0.003, 0.01, 0.05]).reshape(3, 1)
    beta1s = np.array([0.0, 0.5, 0.9, 0.95])
    steps = 60
    batch = optimizers.run_batch(ROSEN, "adam", starts, steps, lr=lrs, beta1=beta1s)
    finals = optimizers.run_batch(ROSEN, "adam", starts, steps, lr=lrs, beta1=beta1s, history=False)
    assert batch.shape == (2, 3, 4) and batch.final_points.shape == (2, 3, 4, 2)
    assert batch.status.shape == (2, 3, 4)
    assert batch.hyperparameters["lr"].shape == (2, 3, 4)
    assert finals.history is None
    with pytest.raises(ValueError, match="history=False"):
        finals.trajectory((0, 0, 0))
    np.testing.assert_array_equal(finals.final_points, batch.final_points)
    np.testing.assert_array_equal(finals.final_losses, batch.final_losses)
    np.testing.assert_array_equal(finals.status, batch.status)
    for s in range(2):
        for i, lr in enumerate(lrs[:, 0]):
            for j, b1 in enumerate(beta1s):
                single = optimizers.run(ROSEN, "adam", start=starts[s, 0, 0], steps=steps, lr=lr, beta1=b1)
                traj = batch.trajectory((s, i, j))
                assert traj.hyperparameters == {"lr": lr, "beta1": b1}
                for field in ("points", "losses", "gradients", "lrs", "updates", "effective_lr"):
                    np.testing.assert_array_equal(getattr(traj, field), getattr(single, field), err_msg=field)
                assert traj.state.keys() == single.state.keys()
                for k in traj.state:
                    np.testing.assert_array_equal(traj.state[k], single.state[k], err_msg=k)
                assert traj.status == single.status == batch.status[s, i, j]
                assert traj.message == single.message
                np.testing.assert_array_equal(batch.final_points[s, i, j], single.final_point)
                assert batch.final_losses[s, i, j] == single.final_loss


@pytest.mark.parametrize("name", optimizers.names())
def test_every_optimizer_batched_equals_single(name):
    lr = {"newton": [1.0, 0.5], "saddle_free_newton": [1.0, 0.5], "lbfgs": [1.0, 0.5]}.get(name, [1e-4, 5e-4])
    starts = np.array([[-1.5, 2.0], [-1.2, 1.0], [0.5, 0.1]])[:, None, :]
    lrs = np.array(lr)[None, :]
    batch = optimizers.run_batch(ROSEN, name, starts, 40, lr=lrs)
    finals = optimizers.run_batch(ROSEN, name, starts, 40, lr=lrs, history=False)
    assert batch.shape == (3, 2)
    for i in range(3):
        for j in range(2):
            single = optimizers.run(ROSEN, name, start=starts[i, 0], steps=40, lr=lrs[0, j])
            traj = batch.trajectory((i, j))
            np.testing.assert_array_equal(traj.points, single.points)
            assert traj.status == single.status
            np.testing.assert_array_equal(finals.final_points[i, j], single.final_point)
            assert finals.status[i, j] == single.status


def _batched_loop_only(monkeypatch):
    # The runner steps a lone run of an elementwise rule on floats; without
    # that path it takes the batched loop, the reference the float path must match.
    monkeypatch.setattr(runner, "_single_loop", lambda *args: None)


ELEMENTWISE = [
    ("sgd", {}),
    ("momentum", {"momentum": 0.8}),
    ("nesterov", {"momentum": 0.7}),
    ("adagrad", {"eps": 1e-8}),
    ("rmsprop", {"alpha": 0.9}),
    ("adam", {}),
    ("adam", {"beta1": 0.8, "beta2": 0.99, "bias_correction": False}),
]


@pytest.mark.parametrize("surface", ["rosenbrock", "rastrigin", "six_hump_camel", "beale", "cliff_valley"])
@pytest.mark.parametrize("name, hyper", ELEMENTWISE, ids=[f"{n}{'-' + '-'.join(h) if h else ''}" for n, h in ELEMENTWISE])
def test_single_run_path_is_bit_identical_to_the_batched_loop(monkeypatch, surface, name, hyper):
    land = landscapes.get(surface)
    start = land.hints.get("start", (0.3, -0.4))
    cases = [
        dict(lr=1e-3),
        dict(lr=0.05, noise=0.5, seed=3, average="polyak"),
        dict(lr=3.0),  # diverges on most of these surfaces
        dict(lr=0.02, schedule=schedules.make("cosine", warmup_steps=10), average="ema"),
    ]
    batched = runner._loop
    # The float path must carry these runs to their end: a fallback would compare the batched loop with itself.
    monkeypatch.setattr(runner, "_loop", lambda *args: pytest.fail("the float path gave way to the batched loop"))
    fast = [optimizers.run(land, name, start=start, steps=200, **hyper, **c) for c in cases]
    monkeypatch.setattr(runner, "_loop", batched)
    _batched_loop_only(monkeypatch)
    for c, a in zip(cases, fast):
        b = optimizers.run(land, name, start=start, steps=200, **hyper, **c)
        for field in ("points", "losses", "gradients", "lrs", "updates", "effective_lr", "averaged"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=f"{field} {c}")
        assert a.state.keys() == b.state.keys()
        for k in a.state:
            np.testing.assert_array_equal(a.state[k], b.state[k], err_msg=k)
        assert (a.status, a.message) == (b.status, b.message)


def test_lone_runs_of_elementwise_rules_take_the_float_path(monkeypatch):
    calls = []
    original = runner._single_loop
    monkeypatch.setattr(runner, "_single_loop", lambda *args: calls.append(args[1]) or original(*args))
    optimizers.run(ROSEN, "adam", start=(-1.5, 2.0), steps=5, lr=0.01)
    optimizers.run_batch(ROSEN, "adam", np.zeros((2, 2)), 5, lr=0.01)  # a batch: arrays
    optimizers.run(ROSEN, "newton", start=(-1.5, 2.0), steps=5, lr=1.0)  # not elementwise
    assert len(calls) == 1 and calls[0].opt.elementwise


class _Carry(NamedTuple):
    total: np.ndarray
    before: np.ndarray


def test_a_generated_loop_keeps_a_field_that_reads_another_field_s_old_value():
    # b_new = a_old while a_new = a_old + g: committed one by one, b would read the new a.
    # By hand, on f = x^2 + y^2 from (1, 2), steps of -0.1 g: g = (2, 4), then (1.6, 3.2).
    opt = rules.Optimizer(
        lambda x: _Carry(np.zeros_like(x), np.ones_like(x)),
        lambda g, s, x, factor, oracle: (-0.1 * factor * g, _Carry(s.total + g, s.total)),
        elementwise=True,
    )
    made = fused.loop(opt, _Carry, ("total", "before"), frozenset(), False, runner._STATUS_NAMES)
    assert made is not None
    vag = lambda x, y: (x * x + y * y, 2 * x, 2 * y)  # noqa: E731
    *_, rows = made.run(vag, None, (), 1.0, 2.0, [1.0, 1.0], None, 2, 0.0, 1e24, [(0.0, 1.0), (0.0, 1.0)])
    # Each row: x, y, f, g, then total (x, y), then before (x, y).
    assert rows[1][5:] == pytest.approx((2.0, 4.0, 0.0, 0.0))
    assert rows[2][5:] == pytest.approx((3.6, 7.2, 2.0, 4.0))
    assert rows[2][:2] == pytest.approx((0.64, 1.28))


LONE_RUNS = [
    ("rosenbrock", "adam", dict(lr=0.02, beta1=0.8, bias_correction=False)),
    ("rosenbrock", "momentum", dict(lr=np.float64(3e-4), noise=0.5, seed=7, average="polyak")),
    ("rastrigin", "rmsprop", dict(lr=0.01, schedule=schedules.make("cosine", warmup_steps=10), average="ema", ema_decay=0.8)),
    ("beale", "sgd", dict(lr=3.0)),  # diverges
    ("faithful", "nesterov", dict(lr=0.05)),  # a data surface: test losses too
]


@pytest.mark.parametrize("surface, name, options", LONE_RUNS, ids=[f"{s}-{n}" for s, n, _ in LONE_RUNS])
def test_a_lone_run_is_the_run_a_batch_of_one_gives_without_building_the_batch(monkeypatch, surface, name, options):
    land = landscapes.get(surface)
    start = np.array(land.hints.get("start", (0.3, -0.4)), dtype=float)
    batched = runner.run_batch(land, name, start, 150, **options).trajectory()
    monkeypatch.setattr(runner, "run_batch", lambda *a, **k: pytest.fail("a lone run of an elementwise rule built a batch"))
    alone = optimizers.run(land, name, start=start, steps=150, **options)
    assert alone.result == batched.result and alone.status in ("max_steps", "converged", "diverged")
    assert alone.hyperparameters == batched.hyperparameters
    assert all(type(alone.hyperparameters[k]) is type(batched.hyperparameters[k]) for k in options if k in alone.hyperparameters)
    for field in ("points", "losses", "gradients", "lrs", "updates", "effective_lr", "averaged", "test_losses", "batches"):
        a, b = getattr(alone, field), getattr(batched, field)
        assert (a is None) == (b is None), field
        if a is not None:
            np.testing.assert_array_equal(a, b, err_msg=field)
            assert a.shape == b.shape, field
    assert alone.state.keys() == batched.state.keys()
    for k in alone.state:
        np.testing.assert_array_equal(alone.state[k], batched.state[k], err_msg=k)


def test_a_lone_run_checks_its_options_as_a_batch_does():
    for bad, words in [
        (dict(lr=-1.0), "lr"),
        (dict(lr=0.01, noise=-1.0), "noise"),
        (dict(lr=0.01, seed=-2), "seed"),
        (dict(lr=0.01, average="median"), "average"),
        (dict(lr=0.01, speed=2), "Unknown hyperparameter"),
        (dict(lr=0.01, steps=0), "steps"),
    ]:
        steps = bad.pop("steps", 10)
        with pytest.raises(ValueError, match=words) as alone:
            optimizers.run(ROSEN, "adam", start=(0.5, 0.5), steps=steps, **bad)
        with pytest.raises(ValueError) as batched:
            runner.run_batch(ROSEN, "adam", np.array([0.5, 0.5]), steps, **bad)
        assert str(alone.value) == str(batched.value)
    # A start that is not a number is said first, as a batch says it, whatever else is wrong.
    for also in ({}, {"seed": -1}):
        with pytest.raises(ValueError, match="Invalid start"):
            optimizers.run(ROSEN, "adam", start=(np.nan, 0.5), steps=10, lr=0.01, **also)


@pytest.mark.parametrize("noise", [False, True], ids=["exact", "noisy"])
@pytest.mark.parametrize("name, hyper", ELEMENTWISE, ids=[f"{n}{'-' + '-'.join(h) if h else ''}" for n, h in ELEMENTWISE])
def test_every_elementwise_rule_runs_as_a_generated_float_loop(name, hyper, noise):
    # Without a loop the float path gives way to the batched one, and the bit-identity test
    # above would compare the batched loop with itself.
    settings = {**optimizers.defaults(name), **hyper, "lr": 0.0123}
    traced = runner._traced(name, tuple(sorted(settings.items())), noise)
    assert traced.loop is not None
    # The setting's numbers are the loop's arguments, not part of its source.
    assert "0.0123" not in traced.loop.source and 0.0123 in traced.loop.constants


@pytest.mark.parametrize("surface", ["rosenbrock", "rastrigin", "beale"])
def test_a_catalog_surface_is_inlined_into_the_loop_and_a_typed_function_is_only_called(surface):
    # The bit-identity test above runs the inlined loops (catalog surfaces); this says they are.
    settings = tuple(sorted({**optimizers.defaults("nesterov"), "lr": 0.001}.items()))
    land = landscapes.get(surface)
    inlined = runner._traced("nesterov", settings, False, land.inlinable_functions()).loop.source
    assert "vag(y0" not in inlined and "grad_at(q0" not in inlined  # the step's f and gradient, and the look-ahead's
    typed = landscapes.from_expression("(1 - x)^2 + 100*(y - x^2)^2")
    assert typed.inlinable_functions() is None  # its code came from the sandbox worker: called, never compiled here
    called = runner._traced("nesterov", settings, False, typed.inlinable_functions()).loop.source
    assert "vag(y0, y1, *args)" in called and "grad_at(q0, q1, *args)" in called
    a = optimizers.run(landscapes.get("rosenbrock"), "nesterov", start=(-1.5, 2.0), steps=300, lr=0.001)
    b = optimizers.run(typed, "nesterov", start=(-1.5, 2.0), steps=300, lr=0.001)
    np.testing.assert_allclose(a.points, b.points, rtol=1e-12)  # the same function, inlined or called


@pytest.mark.parametrize("surface", ["faithful", "iris", "tanh_unit"])
def test_a_data_surface_runs_on_the_float_path_with_its_own_functions(surface):
    land = landscapes.get(surface)
    assert land.inlinable_functions() is None  # its f and gradient are NumPy over the data, not generated code
    tr = optimizers.run(land, "adam", start=land.hints.get("start", (0.1, 0.1)), steps=20, lr=0.01)
    assert tr.steps == 20 and np.all(np.isfinite(tr.losses))


def test_a_function_of_another_shape_is_called_not_inlined():
    from optimizers import fused

    def branchy(x, y):
        if x > 0:
            return [x * x + y * y, 2 * x, 2 * y]
        return [y * y - x, -1.0, 2 * y]

    def plain(x, y, a):
        x0 = a * x
        return [x0 * x + y * y, 2 * x0, 2 * y]

    assert fused._inlined(branchy, ("y0", "y1"), ("loss_new", "f0", "f1"), "_v") is None
    assert fused._inlined(len, ("y0", "y1"), ("loss_new", "f0", "f1"), "_v") is None  # no Python source
    lines, needed, n_params = fused._inlined(plain, ("y0", "y1"), ("loss_new", "f0", "f1"), "_v")
    assert lines == ("_vx0 = _a0 * y0", "loss_new, f0, f1 = _vx0 * y0 + y1 * y1, 2 * _vx0, 2 * y1")
    assert needed == () and n_params == 1


def test_a_rule_that_compares_or_raises_to_a_power_gets_no_generated_loop():
    from optimizers import fused, rules

    class State(NamedTuple):
        v: float

    def init(params):
        return State(np.zeros_like(params))

    def clipped(grad, state, params, factor, oracle):  # a comparison decides the step
        return -factor * (grad if grad < 1.0 else 1.0), state

    def powered(grad, state, params, factor, oracle):  # a float's ** is C's pow, an array's is not
        return -factor * grad**3, State(state.v + grad)

    def plain(grad, state, params, factor, oracle):
        return -factor * grad, State(0.5 * state.v + grad)

    def loop_of(update):
        return fused.loop(rules.Optimizer(init, update, elementwise=True), State, ("v",), frozenset(), False, runner._STATUS_NAMES)

    assert loop_of(clipped) is None and loop_of(powered) is None
    assert loop_of(plain) is not None  # the same scaffolding, traceable


def test_a_division_by_zero_on_floats_falls_back_to_the_batched_loop(monkeypatch):
    # 1/x at x = 0: a float division raises where an array gives inf (the loss is undefined at the start).
    surface = landscapes.from_expression("1/x + y^2")
    fast = optimizers.run(surface, "sgd", start=(0.0, 1.0), steps=10, lr=0.1)
    assert fast.status == "undefined_start" and fast.steps == 0
    _batched_loop_only(monkeypatch)
    slow = optimizers.run(surface, "sgd", start=(0.0, 1.0), steps=10, lr=0.1)
    assert (slow.status, slow.steps) == (fast.status, fast.steps)


def test_bias_correction_flag_in_a_batch():
    batch = optimizers.run_batch(BOWL, "adam", np.array([[2.0, -1.0], [1.0, 1.0]]), 1, lr=0.01, bias_correction=False)
    # first step (1 - b1) / sqrt(1 - b2) * lr = 0.0316... per coordinate
    np.testing.assert_allclose(np.abs(batch.trajectory(0).updates[0]), 0.1 / math.sqrt(0.001) * 0.01, rtol=1e-6)


def test_single_start_batch_has_scalar_status():
    batch = optimizers.run_batch(ROSEN, "sgd", (-1.5, 2.0), 100, lr=0.01)
    assert batch.shape == ()
    assert batch.final_points.shape == (2,)
    assert batch.status == "diverged"
    assert batch.trajectory().status == "diverged"


# -- input validation -------------------------------------------------------------------


@pytest.mark.parametrize("steps", [0, -5, 2.5, 100_001])
def test_invalid_steps(steps):
    with pytest.raises(ValueError, match="Invalid steps"):
        optimizers.run(BOWL, "sgd", start=(1.0, 1.0), steps=steps)


def test_invalid_starts_and_noise():
    with pytest.raises(ValueError, match="start"):
        optimizers.run(BOWL, "sgd", start=(1.0, 1.0, 1.0), steps=3)
    with pytest.raises(ValueError, match="start"):
        optimizers.run(BOWL, "sgd", start=(float("nan"), 1.0), steps=3)
    with pytest.raises(ValueError, match="start"):
        optimizers.run_batch(BOWL, "sgd", np.zeros((4, 3)), 3)
    with pytest.raises(ValueError, match="start"):
        optimizers.run_batch(BOWL, "sgd", np.array([[0.0, np.inf]]), 3)
    with pytest.raises(ValueError, match="Invalid noise"):
        optimizers.run(BOWL, "sgd", start=(1.0, 1.0), steps=3, noise=-0.1)


def test_run_wants_single_numbers():
    with pytest.raises(ValueError, match="lr must be a single number"):
        optimizers.run(BOWL, "sgd", start=(1.0, 1.0), steps=3, lr=np.array([0.1, 0.2]))


# -- properties --------------------------------------------------------------------------

PROPERTY_SURFACES = ["rosenbrock", "beale", "monkey_saddle", "himmelblau", "rastrigin", "saddle"]
_unit = st.floats(0.0, 0.999)
HYPERPARAMETERS = {
    "sgd": {},
    "momentum": {"momentum": _unit},
    "nesterov": {"momentum": _unit},
    "adagrad": {"eps": st.floats(1e-12, 1.0)},
    "rmsprop": {"alpha": _unit, "eps": st.floats(1e-12, 1.0)},
    "adam": {"beta1": _unit, "beta2": st.floats(0.0, 0.9999), "eps": st.floats(1e-12, 1.0), "bias_correction": st.booleans()},
    "newton": {},
    "saddle_free_newton": {},
    "lbfgs": {"memory": st.integers(1, 50)},
}
SCHEDULE_CHOICES = [
    None,
    schedules.make("step", every=5, gamma=0.5),
    schedules.make("cosine", period=10, floor=0.0),
    schedules.make("cyclical", period=6, floor=0.1, warmup_steps=3),
]


@st.composite
def _settings(draw, name):
    hp = {k: draw(s) for k, s in HYPERPARAMETERS[name].items()}
    hp["lr"] = 10.0 ** draw(st.floats(-4.0, 3.0))
    return hp


@pytest.mark.parametrize("name", optimizers.names())
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_random_runs_never_raise_and_stay_finite(name, data):
    surface = landscapes.get(data.draw(st.sampled_from(PROPERTY_SURFACES), label="surface"))
    start = data.draw(st.tuples(st.floats(-5, 5), st.floats(-5, 5)), label="start")
    hp = data.draw(_settings(name), label="hyperparameters")
    options = dict(
        noise=data.draw(st.sampled_from([0.0, 0.1, 3.0]), label="noise"),
        seed=data.draw(st.integers(0, 2**32 - 1), label="seed"),
        schedule=data.draw(st.sampled_from(SCHEDULE_CHOICES), label="schedule"),
        average=data.draw(st.sampled_from([None, "polyak", "ema"]), label="average"),
    )
    steps = 25
    traj = optimizers.run(surface, name, start=start, steps=steps, **options, **hp)
    assert traj.status in optimizers.STATUSES
    assert isinstance(traj.message, str) and traj.message
    assert 1 <= len(traj.points) <= steps + 1
    assert np.all(np.isfinite(traj.points))
    assert np.all(np.isfinite(traj.losses)) and np.all(np.isfinite(traj.gradients))
    assert traj.lrs.shape == (traj.steps,) and np.all(traj.lrs >= 0)  # cosine reaches 0
    if traj.status in ("diverged", "singular_hessian"):
        assert traj.steps < steps
    if traj.status == "max_steps":
        assert traj.steps == steps
    if options["average"] is not None:
        assert traj.averaged.shape == traj.points.shape and np.all(np.isfinite(traj.averaged))


@settings(max_examples=30, deadline=None)
@given(
    name=st.sampled_from(optimizers.names()),
    surface=st.sampled_from(PROPERTY_SURFACES),
    starts=st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5)), min_size=1, max_size=6),
    log_lrs=st.lists(st.floats(-4.0, 3.0), min_size=2, max_size=2),
)
def test_random_batches_stay_finite(name, surface, starts, log_lrs):
    lrs = 10.0 ** np.array(log_lrs)
    batch = optimizers.run_batch(
        landscapes.get(surface), name, np.array(starts)[:, None, :], 20, lr=lrs[None, :], history=False
    )
    assert batch.shape == (len(starts), 2)
    assert np.all(np.isfinite(batch.final_points)) and np.all(np.isfinite(batch.final_losses))
    assert set(np.unique(batch.status)) <= set(optimizers.STATUSES)


def test_lbfgs_line_search_compares_the_steps_own_noisy_sample():
    # Issue 13 point 1: with noise, the line search must see the noisy loss too. Step 0 of
    # L-BFGS from (-1.2, 1) on Rosenbrock, sigma 30, seed 8: d = -g / max(|g|, 1) with the
    # sample's gradient g; alpha is the first of 1, 1/2, ... with Armijo on the sample's loss
    # f(x) + xi.x. The exact f would accept 1/4, the sample accepts 1/2.
    sigma, seed = 30.0, 8
    x0 = np.array([-1.2, 1.0])
    xi = sigma * np.random.default_rng(seed).standard_normal(2)
    g = np.array(rosen_grad(*x0)) + xi
    d = -g / max(np.linalg.norm(g), 1.0)

    def first_accepted(f):
        return next(a for a in 0.5 ** np.arange(30) if f(x0 + a * d) <= f(x0) + 1e-4 * a * (g @ d))

    sample = first_accepted(lambda p: rosen_f(*p) + xi @ p)
    exact = first_accepted(lambda p: rosen_f(*p))
    assert (sample, exact) == (0.5, 0.25)
    traj = optimizers.run(ROSEN, "lbfgs", start=tuple(x0), steps=1, noise=sigma, seed=seed, tol=0.0)
    assert traj.state["step_length"][1] == sample
    np.testing.assert_allclose(traj.updates[0], sample * d, rtol=1e-12)


def test_lbfgs_takes_one_gradient_per_step_and_pairs_it_with_the_last_step():
    # Without noise, the stored pair after two steps is s = x1 - x0, y = g(x1) - g(x0):
    # the same curvature pair as before, only stored when the next gradient arrives.
    traj = optimizers.run(ROSEN, "lbfgs", start=(-1.2, 1.0), steps=2, tol=0.0)
    assert list(traj.state["count"]) == [0, 0, 1]


def test_run_takes_one_seed_and_bad_seeds_are_refused_clearly():
    with pytest.raises(ValueError, match="seed must be a single number"):
        optimizers.run(BOWL, "sgd", start=(1.0, 1.0), steps=3, noise=1.0, seed=[1, 2])
    for bad in (-1, 1.5, float("nan"), 1 + 0j, "7", True):
        with pytest.raises(ValueError, match="Invalid seed"):
            optimizers.run(BOWL, "sgd", start=(1.0, 1.0), steps=3, noise=1.0, seed=bad)


def test_one_result_record_reports_how_a_run_ended():
    # SGD lr 0.5 on the bowl from (1, 0): |g| = 0.5^t < 1e-3 first at t = 10 (by hand).
    ok = optimizers.run(BOWL, "sgd", start=(1.0, 0.0), steps=100, lr=0.5, tol=1e-3).result
    assert (ok.status, ok.success, ok.steps, ok.at_step, ok.grad_evals, ok.hessian_evals) == ("converged", True, 10, 10, 10, 0)
    assert ok.message == "Converged at step 10: the gradient norm fell below 0.001."
    # SGD lr 0.25 on the bowl's steep axis (curvature 10): y_{t+1} = -1.5 y_t blows up; the
    # message names the step that blew up, one after the last step taken.
    bad = optimizers.run(BOWL, "sgd", start=(0.0, 1.0), steps=200, lr=0.25).result
    assert bad.status == "diverged" and not bad.success and bad.at_step == bad.steps + 1
    assert bad.message.startswith(f"Diverged at step {bad.at_step}:")
    # Newton takes one gradient and one Hessian per step.
    newton = optimizers.run(ROSEN, "newton", start=(-1.2, 1.0), steps=3, tol=0.0).result
    assert (newton.steps, newton.grad_evals, newton.hessian_evals, newton.success) == (3, 3, 3, False)
    # A batch reports through the same record, run by run.
    batch = optimizers.run_batch(BOWL, "sgd", np.array([[1.0, 0.0], [0.0, 1.0]]), 200, lr=np.array([0.5, 0.25]), tol=1e-3)
    assert batch.result(0) == ok and batch.result(1) == bad
    assert list(batch.success) == [True, False]
    assert [s.code for s in optimizers.STATUS_TABLE] == list(range(len(optimizers.STATUS_TABLE)))


# -- A run's prefix is the shorter run ---------------------------------------------------------

# Rosenbrock's teaching values (the catalog's hints): the defaults' learning rates diverge there.
ROSEN_TEACHING = landscapes.catalog.CATALOG["rosenbrock"].hints["hyper"]
PREFIX_CASES = [
    (ROSEN, opt, (-1.5, 2.0), kw)
    for opt in optimizers.names()
    for kw in ({}, {"noise": 0.5, "seed": 3, "average": "polyak"}, {"schedule": schedules.step_decay(every=7), "average": "ema"})
]


@pytest.mark.parametrize("surface, opt, start, kw", PREFIX_CASES)
def test_a_runs_prefix_is_the_run_of_that_many_steps(surface, opt, start, kw):
    # Each expected run is made on its own, at its own length: the prefix must equal it bit for bit.
    kw = {"tol": 0.0, **ROSEN_TEACHING.get(opt, {}), **kw}
    if opt in ("newton", "saddle_free_newton", "lbfgs"):
        kw.pop("noise", None), kw.pop("seed", None)  # second-order rules: no simulated noise
    long = optimizers.run(surface, opt, start=start, steps=40, **kw)
    assert long.steps == 40 and long.status == "max_steps"
    for m in (1, 17, 39, 40):
        _same_run(long.prefix(m), optimizers.run(surface, opt, start=start, steps=m, **kw))


def test_a_prefix_on_mini_batches_draws_the_same_batches():
    data = landscapes.get("faithful")
    long = optimizers.run(data, "adam", (-1.0, 1.5), 60, batch_size=16, seed=7, lr=0.05, tol=0.0)
    for m in (5, 18, 59):  # within the first epoch, at its edge, past it (17 batches of 16 per epoch)
        _same_run(long.prefix(m), optimizers.run(data, "adam", (-1.0, 1.5), m, batch_size=16, seed=7, lr=0.05, tol=0.0))


def test_a_run_that_stopped_early_is_its_own_longer_prefix_and_cannot_say_at_its_stop():
    # SGD on the bowl from (1, 0), lr 0.5: converged at step 10 (see the first test of this file).
    converged = optimizers.run(BOWL, "sgd", (1.0, 0.0), 30, tol=1e-3, lr=0.5)
    assert converged.status == "converged" and converged.steps == 10
    _same_run(converged.prefix(25), optimizers.run(BOWL, "sgd", (1.0, 0.0), 25, tol=1e-3, lr=0.5))
    _same_run(converged.prefix(9), optimizers.run(BOWL, "sgd", (1.0, 0.0), 9, tol=1e-3, lr=0.5))
    assert converged.prefix(10) is None  # stopped exactly there: the rule decides, not the prefix
    # lr 100 diverges at step 7 with six steps kept.
    diverged = optimizers.run(BOWL, "sgd", (1.0, 0.0), 30, tol=1e-3, lr=100.0)
    assert diverged.status == "diverged" and diverged.steps == 6
    _same_run(diverged.prefix(7), optimizers.run(BOWL, "sgd", (1.0, 0.0), 7, tol=1e-3, lr=100.0))
    _same_run(diverged.prefix(5), optimizers.run(BOWL, "sgd", (1.0, 0.0), 5, tol=1e-3, lr=100.0))
    assert diverged.prefix(6) is None
    assert optimizers.run(BOWL, "sgd", (1.0, 0.0), 8, lr=0.1).prefix(9) is None  # ran all its steps: cannot extend


@pytest.mark.parametrize("average, decay", [("polyak", 0.9), ("ema", 0.9), ("ema", 0.5)])
@pytest.mark.parametrize("opt", ["adam", "nesterov", "lbfgs"])
def test_averaging_after_the_run_is_the_averaging_of_the_run(opt, average, decay):
    kw = {"tol": 1e-6, **ROSEN_TEACHING.get(opt, {})}
    plain = optimizers.run(ROSEN, opt, start=(-1.5, 2.0), steps=300, **kw)
    expected = optimizers.run(ROSEN, opt, start=(-1.5, 2.0), steps=300, average=average, ema_decay=decay, **kw)
    _same_run(plain.with_average(average, decay), expected)
    _same_run(expected.with_average(None), plain)


@pytest.mark.parametrize("opt", optimizers.names())
def test_without_noise_or_batches_the_seed_changes_nothing(opt):
    # What lets the app keep one run for every seed when there is no noise (ui/cache.trajectory).
    kw = ROSEN_TEACHING.get(opt, {})
    _same_run(optimizers.run(ROSEN, opt, (-1.5, 2.0), 200, seed=1, **kw), optimizers.run(ROSEN, opt, (-1.5, 2.0), 200, seed=9876, **kw))
