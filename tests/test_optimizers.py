"""Update rules against closed forms and against independent scalar references of torch.optim.

The reference loops below are written from the pseudocode in the torch.optim
documentation (SGD, Adagrad, RMSprop, Adam), one coordinate at a time with the
``math`` module and the hand-written gradients of ``conftest``; they share no
code with ``optimizers``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize

import landscapes
import optimizers
from reference import bowl_grad, rosen_f, rosen_grad, rosen_hess

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

ROSEN = landscapes.get("rosenbrock")
BOWL_COND, BOWL_ANGLE = 10.0, 30.0
BOWL = landscapes.get("bowl", condition=BOWL_COND, angle=BOWL_ANGLE)


def _bowl_grad(x, y):
    return bowl_grad(x, y, BOWL_COND, BOWL_ANGLE)


# -- torch.optim reference implementations (scalar, per coordinate) ----------------


def torch_sgd(grad, x0, steps, lr, momentum=0.0):
    # torch.optim.SGD, dampening 0, nesterov False: b_t = mu b_{t-1} + g_t (b_1 = g_1), x -= lr b_t
    x, buf, path = list(x0), None, [tuple(x0)]
    for _ in range(steps):
        g = grad(*x)
        if momentum:
            buf = list(g) if buf is None else [momentum * b + gi for b, gi in zip(buf, g)]
            g = buf
        x = [xi - lr * gi for xi, gi in zip(x, g)]
        path.append(tuple(x))
    return np.array(path)


def torch_adagrad(grad, x0, steps, lr, eps=1e-10):
    # state_sum += g^2; x -= lr * g / (sqrt(state_sum) + eps)   (lr_decay 0, initial_accumulator 0)
    x, s, path = list(x0), [0.0, 0.0], [tuple(x0)]
    for _ in range(steps):
        g = grad(*x)
        s = [si + gi * gi for si, gi in zip(s, g)]
        x = [xi - lr * gi / (math.sqrt(si) + eps) for xi, gi, si in zip(x, g, s)]
        path.append(tuple(x))
    return np.array(path)


def torch_rmsprop(grad, x0, steps, lr, alpha=0.99, eps=1e-8):
    # v = alpha v + (1 - alpha) g^2; x -= lr * g / (sqrt(v) + eps)   (not centered, no momentum)
    x, v, path = list(x0), [0.0, 0.0], [tuple(x0)]
    for _ in range(steps):
        g = grad(*x)
        v = [alpha * vi + (1 - alpha) * gi * gi for vi, gi in zip(v, g)]
        x = [xi - lr * gi / (math.sqrt(vi) + eps) for xi, gi, vi in zip(x, g, v)]
        path.append(tuple(x))
    return np.array(path)


def torch_adam(grad, x0, steps, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    # m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; bc_i = 1 - b_i^t;
    # denom = sqrt(v) / sqrt(bc2) + eps; x -= (lr / bc1) * m / denom
    x, m, v, path = list(x0), [0.0, 0.0], [0.0, 0.0], [tuple(x0)]
    for t in range(1, steps + 1):
        g = grad(*x)
        m = [beta1 * mi + (1 - beta1) * gi for mi, gi in zip(m, g)]
        v = [beta2 * vi + (1 - beta2) * gi * gi for vi, gi in zip(v, g)]
        bc1, bc2 = 1 - beta1**t, 1 - beta2**t
        x = [xi - (lr / bc1) * mi / (math.sqrt(vi) / math.sqrt(bc2) + eps) for xi, mi, vi in zip(x, m, v)]
        path.append(tuple(x))
    return np.array(path)


TORCH_CASES = [
    ("sgd", torch_sgd, {"lr": 5e-4}, {"lr": 0.05}),
    ("momentum", torch_sgd, {"lr": 2e-4, "momentum": 0.9}, {"lr": 0.02, "momentum": 0.8}),
    ("adagrad", torch_adagrad, {"lr": 0.1}, {"lr": 0.5, "eps": 1e-3}),
    ("rmsprop", torch_rmsprop, {"lr": 0.01}, {"lr": 0.05, "alpha": 0.9, "eps": 1e-6}),
    ("adam", torch_adam, {"lr": 0.05}, {"lr": 0.1, "beta1": 0.5, "beta2": 0.9, "eps": 1e-6}),
]


@pytest.mark.parametrize("name, reference, rosen_hp, bowl_hp", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_matches_torch_reference_step_for_step(name, reference, rosen_hp, bowl_hp):
    steps = 20
    for surface, grad, start, hp in [
        (ROSEN, rosen_grad, (-1.5, 2.0), rosen_hp),
        (BOWL, _bowl_grad, (-3.5, 1.5), bowl_hp),
    ]:
        traj = optimizers.run(surface, name, start=start, steps=steps, tol=0.0, **hp)
        expected = reference(grad, start, steps, **hp)
        assert traj.status == "max_steps" and traj.points.shape == (steps + 1, 2)
        np.testing.assert_allclose(traj.points, expected, rtol=1e-12, atol=1e-13)


def test_torch_reference_loops_are_sane():
    # Guards the references themselves: SGD on the bowl with angle 0 is (1 - lr h)^t.
    path = torch_sgd(lambda x, y: (x, 10 * y), (1.0, 1.0), 3, lr=0.05)
    np.testing.assert_allclose(path[-1], [0.95**3, 0.5**3])
    path = torch_adam(lambda x, y: (x, y), (1.0, -1.0), 1, lr=0.1)
    np.testing.assert_allclose(path[-1], [0.9, -0.9], rtol=1e-7)


# -- closed forms -----------------------------------------------------------------


@pytest.mark.parametrize("k, lr", [(10.0, 0.05), (4.0, 0.2), (50.0, 0.039)])
def test_sgd_on_axis_aligned_quadratic(k, lr):
    # f = (x^2 + k y^2) / 2: x_t = (1 - lr)^t x0, y_t = (1 - lr k)^t y0
    surface = landscapes.get("bowl", condition=k, angle=0.0)
    x0, y0, steps = -3.0, 1.5, 25
    traj = optimizers.run(surface, "sgd", start=(x0, y0), steps=steps, lr=lr, tol=0.0)
    t = np.arange(steps + 1)
    expected = np.stack([(1 - lr) ** t * x0, (1 - lr * k) ** t * y0], axis=-1)
    np.testing.assert_allclose(traj.points, expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(traj.lrs, np.full(steps, lr))
    np.testing.assert_allclose(traj.effective_lr, np.full((steps, 2), lr))


@pytest.mark.parametrize("mu, lr", [(0.9, 0.01), (0.5, 0.1), (0.99, 0.003)])
def test_momentum_linear_recurrence(mu, lr):
    # On f = h z^2 / 2 per coordinate, (z, v) evolves by the 2x2 matrix
    # [[1 - lr h, -lr mu], [h, mu]]:  v' = mu v + h z,  z' = z - lr v'.
    k = 10.0
    surface = landscapes.get("bowl", condition=k, angle=0.0)
    x0, y0, steps = 2.0, -1.0, 30
    traj = optimizers.run(surface, "momentum", start=(x0, y0), steps=steps, lr=lr, momentum=mu, tol=0.0)
    for coord, h, z0 in [(0, 1.0, x0), (1, k, y0)]:
        m = np.array([[1 - lr * h, -lr * mu], [h, mu]])
        states = np.array([np.linalg.matrix_power(m, t) @ [z0, 0.0] for t in range(steps + 1)])
        np.testing.assert_allclose(traj.points[:, coord], states[:, 0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(traj.state["velocity"][:, coord], states[:, 1], rtol=1e-10, atol=1e-12)
        # and a plain hand loop of the PyTorch form, v0 = 0
        z, v = z0, 0.0
        for t in range(steps):
            v = mu * v + h * z
            z = z - lr * v
            assert traj.points[t + 1, coord] == pytest.approx(z, rel=1e-12, abs=1e-14)


def test_momentum_zero_is_sgd():
    for surface, start in [(ROSEN, (-1.5, 2.0)), (BOWL, (-3.5, 1.5))]:
        sgd = optimizers.run(surface, "sgd", start=start, steps=40, lr=1e-3)
        for name in ("momentum", "nesterov"):
            other = optimizers.run(surface, name, start=start, steps=40, lr=1e-3, momentum=0.0)
            np.testing.assert_array_equal(other.points, sgd.points)
            assert other.status == sgd.status


@pytest.mark.parametrize("mu, lr", [(0.9, 2e-4), (0.6, 1e-3)])
def test_nesterov_sutskever_form(mu, lr):
    steps, start = 30, (-1.5, 2.0)
    traj = optimizers.run(ROSEN, "nesterov", start=start, steps=steps, lr=lr, momentum=mu, tol=0.0)
    x, v = list(start), [0.0, 0.0]
    path, ahead, vel = [tuple(x)], [], [tuple(v)]
    for _ in range(steps):
        la = [xi + mu * vi for xi, vi in zip(x, v)]
        g = rosen_grad(*la)
        v = [mu * vi - lr * gi for vi, gi in zip(v, g)]
        x = [xi + vi for xi, vi in zip(x, v)]
        path.append(tuple(x))
        ahead.append(tuple(la))
        vel.append(tuple(v))
    np.testing.assert_allclose(traj.points, path, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(traj.state["velocity"], vel, rtol=1e-10, atol=1e-14)
    # The look-ahead point of step k is recorded in the state after step k.
    np.testing.assert_allclose(traj.state["lookahead"][1:], ahead, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        traj.state["lookahead"][1:], traj.points[:-1] + mu * traj.state["velocity"][:-1], rtol=1e-12, atol=1e-14
    )


def test_nesterov_differs_from_heavy_ball():
    a = optimizers.run(ROSEN, "nesterov", start=(-1.5, 2.0), steps=5, lr=2e-4, momentum=0.9)
    b = optimizers.run(ROSEN, "momentum", start=(-1.5, 2.0), steps=5, lr=2e-4, momentum=0.9)
    assert not np.allclose(a.points[2:], b.points[2:], rtol=1e-9, atol=0)


UNDAMPED = {"damping": 0.0, "max_step": math.inf}  # the classic Newton step


@pytest.mark.parametrize("cond, angle, start", [(10.0, 0.0, (3.0, -2.5)), (20.0, 35.0, (3.0, -2.5)), (100.0, -80.0, (-1.0, 2.9))])
def test_newton_solves_a_quadratic_in_one_step(cond, angle, start):
    surface = landscapes.get("bowl", condition=cond, angle=angle)
    traj = optimizers.run(surface, "newton", start=start, steps=10, **UNDAMPED)
    np.testing.assert_allclose(traj.points[1], [0.0, 0.0], atol=1e-12)
    assert traj.status == "converged"
    assert traj.steps == 1


def test_newton_damped_step_and_step_on_rosenbrock():
    surface = landscapes.get("bowl", condition=20.0, angle=35.0)
    traj = optimizers.run(surface, "newton", start=(3.0, -2.5), steps=3, lr=0.5, tol=0.0, **UNDAMPED)
    np.testing.assert_allclose(traj.points, [[3.0, -2.5], [1.5, -1.25], [0.75, -0.625], [0.375, -0.3125]], rtol=1e-12)
    # One Newton step on Rosenbrock from (-1.5, 2): p - H^-1 g with the hand Hessian.
    x, y = -1.5, 2.0
    h, g = rosen_hess(x, y), np.array(rosen_grad(x, y))
    det = h[0, 0] * h[1, 1] - h[0, 1] ** 2
    expected = np.array([x, y]) - np.array([h[1, 1] * g[0] - h[0, 1] * g[1], h[0, 0] * g[1] - h[0, 1] * g[0]]) / det
    traj = optimizers.run(ROSEN, "newton", start=(x, y), steps=1, **UNDAMPED)
    np.testing.assert_allclose(traj.points[1], expected, rtol=1e-12)


def test_newton_is_attracted_by_a_saddle_and_saddle_free_newton_is_not():
    saddle = landscapes.get("saddle")  # f = x^2 - y^2, H = diag(2, -2)
    newton = optimizers.run(saddle, "newton", start=(1.0, 0.5), steps=5, **UNDAMPED)
    np.testing.assert_allclose(newton.points[1], [0.0, 0.0], atol=1e-15)
    assert newton.status == "converged"
    # |H| = 2 I, so the step is -g / 2 = (-x, +y): y doubles, away from the saddle.
    sfn = optimizers.run(saddle, "saddle_free_newton", start=(1.0, 0.5), steps=3, tol=0.0, **UNDAMPED)
    np.testing.assert_allclose(sfn.points, [[1.0, 0.5], [0.0, 1.0], [0.0, 2.0], [0.0, 4.0]], atol=1e-15)
    assert np.all(np.diff(sfn.losses) < 0)


def test_adam_first_step_is_lr_per_coordinate():
    # g at (2, -1) on (x^2 + 10 y^2)/2 is (2, -10): bias-corrected first step = -lr * sign(g) * |g|/(|g| + eps)
    surface = landscapes.get("bowl", condition=10.0, angle=0.0)
    for lr, b1, b2 in [(0.01, 0.9, 0.999), (0.3, 0.5, 0.9), (1e-3, 0.0, 0.99)]:
        traj = optimizers.run(surface, "adam", start=(2.0, -1.0), steps=1, lr=lr, beta1=b1, beta2=b2)
        np.testing.assert_allclose(traj.updates[0], [-lr, lr], rtol=1e-8)
        # exactly, with eps: m_hat = g, sqrt(v_hat) = |g|
        exact = [-lr * 2.0 / (2.0 + 1e-8), lr * 10.0 / (10.0 + 1e-8)]
        # (updates are differences of points near 2: allow the rounding of x0 + step)
        np.testing.assert_allclose(traj.updates[0], exact, rtol=1e-13, atol=2e-15)


def test_adam_first_step_without_bias_correction():
    surface = landscapes.get("bowl", condition=10.0, angle=0.0)
    for lr, b1, b2 in [(0.01, 0.9, 0.999), (0.3, 0.8, 0.99), (0.05, 0.5, 0.9)]:
        ratio = (1 - b1) / math.sqrt(1 - b2)  # 3.1623 for the defaults
        traj = optimizers.run(
            surface, "adam", start=(2.0, -1.0), steps=1, lr=lr, beta1=b1, beta2=b2, bias_correction=False
        )
        np.testing.assert_allclose(traj.updates[0], [-ratio * lr, ratio * lr], rtol=1e-6)
        # exactly, with eps: m = (1 - b1) g, sqrt(v) = sqrt(1 - b2) |g|
        exact = [lr * (1 - b1) * g / (math.sqrt(1 - b2) * abs(g) + 1e-8) for g in (-2.0, 10.0)]
        np.testing.assert_allclose(traj.updates[0], exact, rtol=1e-13, atol=2e-15)
    assert (1 - 0.9) / math.sqrt(1 - 0.999) == pytest.approx(3.16, abs=0.01)


def test_adam_state_and_effective_lr():
    traj = optimizers.run(BOWL, "adam", start=(-3.5, 1.5), steps=6, lr=0.05, tol=0.0)
    m, v = np.zeros(2), np.zeros(2)
    for t in range(1, 7):
        g = np.array(_bowl_grad(*traj.points[t - 1]))
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        np.testing.assert_allclose(traj.state["exp_avg"][t], m, rtol=1e-12)
        np.testing.assert_allclose(traj.state["exp_avg_sq"][t], v, rtol=1e-12)
        assert float(np.squeeze(traj.state["count"][t])) == t
        eff = (0.05 / (1 - 0.9**t)) / (np.sqrt(v) / math.sqrt(1 - 0.999**t) + 1e-8)
        np.testing.assert_allclose(traj.effective_lr[t - 1], eff, rtol=1e-10)
        np.testing.assert_allclose(traj.updates[t - 1], -eff * m, rtol=1e-9)


def test_adagrad_steps_only_shrink():
    surface = landscapes.get("plateau")
    traj = optimizers.run(surface, "adagrad", start=(12.0, 2.0), steps=50, lr=0.1)
    eff = traj.effective_lr
    assert np.all(np.diff(eff, axis=0) <= 0)
    s = np.cumsum(traj.gradients[:-1] ** 2, axis=0)
    np.testing.assert_allclose(eff, 0.1 / (np.sqrt(s) + 1e-10), rtol=1e-12)


# -- L-BFGS -------------------------------------------------------------------------


def test_lbfgs_reaches_scipy_minimum_on_rosenbrock():
    res = scipy.optimize.minimize(scipy.optimize.rosen, [-1.2, 1.0], jac=scipy.optimize.rosen_der, method="L-BFGS-B")
    assert res.success
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-4)
    traj = optimizers.run(ROSEN, "lbfgs", start=(-1.2, 1.0), steps=500)
    assert traj.status == "converged"
    np.testing.assert_allclose(traj.final_point, [1.0, 1.0], atol=1e-5)
    np.testing.assert_allclose(traj.final_point, res.x, atol=1e-4)
    assert traj.final_loss == pytest.approx(rosen_f(*traj.final_point), abs=1e-15)
    assert traj.final_loss < 1e-10
    assert np.linalg.norm(rosen_grad(*traj.final_point)) < 1e-6


def test_lbfgs_accepted_steps_satisfy_armijo():
    c1 = 1e-4
    traj = optimizers.run(ROSEN, "lbfgs", start=(-1.5, 2.0), steps=200)
    assert traj.status == "converged"
    for k in range(traj.steps):
        g = np.array(rosen_grad(*traj.points[k]))
        s = traj.points[k + 1] - traj.points[k]
        assert rosen_f(*traj.points[k + 1]) <= rosen_f(*traj.points[k]) + c1 * (g @ s) + 1e-12
        assert g @ s < 0  # every accepted step goes downhill


def test_lbfgs_first_step_is_unit_steepest_descent():
    # No curvature pairs yet: d = -g / max(|g|, 1), and alpha = lr satisfies Armijo on the bowl here.
    surface = landscapes.get("bowl", condition=1.0, angle=0.0)  # f = |p|^2 / 2, g = p
    traj = optimizers.run(surface, "lbfgs", start=(0.3, 0.4), steps=1)  # |g| = 0.5 < 1
    np.testing.assert_allclose(traj.points[1], [0.0, 0.0], atol=1e-15)
    traj = optimizers.run(surface, "lbfgs", start=(3.0, 4.0), steps=1, tol=0.0)  # |g| = 5
    np.testing.assert_allclose(traj.points[1], [3.0 - 0.6, 4.0 - 0.8], rtol=1e-14)


def test_lbfgs_solves_a_quadratic_quickly():
    traj = optimizers.run(BOWL, "lbfgs", start=(-3.5, 1.5), steps=50, tol=1e-9)
    assert traj.status == "converged"
    assert traj.steps <= 15
    np.testing.assert_allclose(traj.final_point, [0.0, 0.0], atol=1e-8)


# -- hyperparameter validation ---------------------------------------------------------


@pytest.mark.parametrize(
    "name, hp, text",
    [
        ("sgd", {"lr": 0.0}, "Invalid lr: 0 (allowed range (0, 1000])"),
        ("sgd", {"lr": -0.1}, "Invalid lr: -0.1 (allowed range (0, 1000])"),
        ("adam", {"lr": float("nan")}, "Invalid lr"),
        ("sgd", {"lr": 1001.0}, "Invalid lr: 1001"),
        ("momentum", {"momentum": 1.0}, "Invalid momentum: 1 (allowed range [0, 1))"),
        ("nesterov", {"momentum": 1.5}, "Invalid momentum: 1.5 (allowed range [0, 1))"),
        ("momentum", {"momentum": -0.1}, "Invalid momentum: -0.1"),
        ("adam", {"beta1": 1.0}, "Invalid beta1: 1 (allowed range [0, 1))"),
        ("adam", {"beta2": -0.1}, "Invalid beta2: -0.1 (allowed range [0, 1))"),
        ("adam", {"eps": 0.0}, "Invalid eps: 0 (allowed range (0, 1])"),
        ("adagrad", {"eps": 0.0}, "Invalid eps: 0 (allowed range (0, 1])"),
        ("rmsprop", {"alpha": 1.5}, "Invalid alpha: 1.5 (allowed range [0, 1))"),
        ("rmsprop", {"eps": -1e-8}, "Invalid eps"),
        ("lbfgs", {"memory": 0}, "Invalid memory: 0 (allowed range: whole numbers in [1, 50])"),
        ("lbfgs", {"memory": 51}, "Invalid memory: 51"),
        ("newton", {"lr": 0.0}, "Invalid lr: 0"),
    ],
)
def test_invalid_hyperparameters_raise_naming_parameter_and_range(name, hp, text):
    with pytest.raises(ValueError) as info:
        optimizers.make(name, **hp)
    assert text in str(info.value)
    with pytest.raises(ValueError) as info:
        optimizers.run(BOWL, name, start=(1.0, 1.0), steps=2, **hp)
    assert text in str(info.value)


def test_invalid_hyperparameter_in_a_grid_is_reported():
    with pytest.raises(ValueError, match=r"Invalid beta1: 1 \(allowed range \[0, 1\)\)"):
        optimizers.run_batch(BOWL, "adam", (1.0, 1.0), 2, beta1=np.array([0.5, 0.9, 1.0]))


def test_unknown_hyperparameters_and_optimizers_raise():
    with pytest.raises(ValueError, match=r"Unknown hyperparameter\(s\) for adam: beta3 \(allowed: .*beta1"):
        optimizers.make("adam", beta3=0.5)
    with pytest.raises(ValueError, match=r"Unknown hyperparameter\(s\) for sgd: momentum"):
        optimizers.run(BOWL, "sgd", start=(1.0, 1.0), steps=2, momentum=0.9)
    with pytest.raises(ValueError, match="Unknown optimizer 'adamw'"):
        optimizers.make("adamw")
    with pytest.raises(ValueError, match="Unknown optimizer 'adamw'"):
        optimizers.run(BOWL, "adamw", start=(1.0, 1.0), steps=2)
    with pytest.raises(ValueError, match="Unknown optimizer"):
        optimizers.defaults("adamw")


def test_valid_edge_values_are_accepted():
    optimizers.make("sgd", lr=1000.0)
    optimizers.make("momentum", momentum=0.0)
    optimizers.make("adam", beta1=0.0, beta2=0.0, eps=1.0)
    optimizers.make("lbfgs", memory=1)
    optimizers.make("lbfgs", memory=50)


def test_names_and_defaults():
    assert set(optimizers.names()) == {
        "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton", "saddle_free_newton", "lbfgs",
    }
    assert optimizers.defaults("adam")["beta1"] == 0.9
    assert optimizers.defaults("adam")["beta2"] == 0.999
    assert optimizers.defaults("adagrad")["eps"] == 1e-10
    assert optimizers.defaults("rmsprop")["alpha"] == 0.99


@pytest.mark.parametrize("name", optimizers.names())
def test_every_advertised_hyperparameter_can_be_passed_at_its_default(name):
    # defaults(name) is what a UI builds its controls from: passing each value
    # explicitly must give exactly the run that omitting it gives.
    surface = landscapes.get("monkey_saddle") if "newton" in name else ROSEN
    start = (0.5, 0.1) if "newton" in name else (-1.2, 1.0)
    plain = optimizers.run(surface, name, start=start, steps=60)
    explicit = optimizers.run(surface, name, start=start, steps=60, **optimizers.defaults(name))
    assert explicit.status == plain.status
    np.testing.assert_array_equal(explicit.points, plain.points)


@pytest.mark.parametrize("hp", ["backtrack", "max_halvings", "c1", "tol"])
def test_fixed_internals_are_not_hyperparameters(hp):
    # The line search and Newton's singularity threshold are fixed and
    # documented; only lr and memory are L-BFGS's choices, lr, damping and the step cap Newton's.
    assert optimizers.defaults("lbfgs") == {"lr": 1.0, "memory": 10}
    assert optimizers.defaults("newton") == {"lr": 1.0, "damping": 1e-3, "max_step": 10.0}
    name = "newton" if hp == "tol" else "lbfgs"
    with pytest.raises(ValueError, match=hp if hp != "tol" else "tol"):
        optimizers.make(name, **{hp: 0.1})


def test_newton_singularity_threshold_is_relative_and_tiny():
    # On the flat valley at x = 14 (width 4), fxx = (2/16)(1 - 2*196/16) exp(-196/16)
    # ~ -1.4e-5: small, but far above 1e-10 * max(1, |fyy| = 1), so not singular.
    fxx = (2 / 16) * (1 - 2 * 196 / 16) * math.exp(-196 / 16)
    assert 1e-10 < abs(fxx) < 1e-3
    plateau = landscapes.get("plateau")
    traj = optimizers.run(plateau, "newton", start=(14.0, 1.0), steps=1, tol=0.0, **UNDAMPED)
    assert traj.status != "singular_hessian" and traj.steps == 1


def test_newton_damping_shifts_the_curvatures_by_lambda():
    # bowl kappa=10, angle 0: H = diag(1, 10), g at (3, -2.5) = (3, -25).
    # (H + lam I)^-1 g = (3 / (1 + lam), -25 / (10 + lam)); saddle-free the same (H > 0).
    surface = landscapes.get("bowl", condition=10.0, angle=0.0)
    for lam in (1e-3, 0.5, 4.0):
        for name in ("newton", "saddle_free_newton"):
            traj = optimizers.run(surface, name, start=(3.0, -2.5), steps=1, damping=lam, max_step=math.inf, tol=0.0)
            np.testing.assert_allclose(traj.points[1], [3.0 - 3.0 / (1 + lam), -2.5 + 25.0 / (10 + lam)], rtol=1e-12)
    # On the saddle x^2 - y^2 (H = diag(2, -2)): Newton uses H + lam I = diag(2 + lam, lam - 2),
    # saddle-free |H| + lam I = diag(2 + lam, 2 + lam). g at (1, 0.5) = (2, -1).
    saddle = landscapes.get("saddle")
    lam = 0.5
    n = optimizers.run(saddle, "newton", start=(1.0, 0.5), steps=1, damping=lam, max_step=math.inf, tol=0.0)
    np.testing.assert_allclose(n.points[1], [1 - 2 / 2.5, 0.5 + 1 / (lam - 2)], rtol=1e-12)
    f = optimizers.run(saddle, "saddle_free_newton", start=(1.0, 0.5), steps=1, damping=lam, max_step=math.inf, tol=0.0)
    np.testing.assert_allclose(f.points[1], [1 - 2 / 2.5, 0.5 + 1 / 2.5], rtol=1e-12)


def test_newton_step_is_capped_at_max_step():
    # Undamped, the bowl jump from (3, -2.5) has length sqrt(3^2 + 2.5^2) = 3.905; a cap of 1
    # keeps its direction and makes it 1 long, and the state says it was capped.
    surface = landscapes.get("bowl", condition=10.0, angle=0.0)
    traj = optimizers.run(surface, "newton", start=(3.0, -2.5), steps=1, damping=0.0, max_step=1.0, tol=0.0)
    norm = math.hypot(3.0, 2.5)
    np.testing.assert_allclose(traj.updates[0], [-3.0 / norm, 2.5 / norm], rtol=1e-12)
    assert bool(traj.state["capped"][1]) and not bool(traj.state["capped"][0])


def test_damped_capped_newton_stays_near_where_the_undamped_one_flies_off():
    # Issue 13 point 11: near det H = 0 the undamped step is millions of units long.
    # Rosenbrock's det H = 80000 (y - x^2) + 400 ... vanishes on y = x^2 + 1/200.
    x = 0.3
    start = (x, x * x + 0.005 + 1e-9)
    wild = optimizers.run(ROSEN, "newton", start=start, steps=1, tol=0.0, **UNDAMPED)
    assert np.linalg.norm(wild.updates[0]) > 1e4
    tame = optimizers.run(ROSEN, "newton", start=start, steps=1, tol=0.0)  # defaults
    assert np.linalg.norm(tame.updates[0]) <= 10.0 + 1e-12
    for name in ("newton", "saddle_free_newton"):
        with pytest.raises(ValueError, match="max_step"):
            optimizers.make(name, max_step=0.0)
        with pytest.raises(ValueError, match="damping"):
            optimizers.make(name, damping=-1.0)
