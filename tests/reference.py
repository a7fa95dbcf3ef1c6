"""Hand-written reference functions for the tests: closed forms typed from the formulas, not from the code under test."""

from __future__ import annotations

import math

import numpy as np


def rosen_f(x: float, y: float, a: float = 1.0, b: float = 100.0) -> float:
    return (a - x) ** 2 + b * (y - x * x) ** 2


def rosen_grad(x: float, y: float, a: float = 1.0, b: float = 100.0) -> tuple[float, float]:
    return (-2.0 * (a - x) - 4.0 * b * x * (y - x * x), 2.0 * b * (y - x * x))


def rosen_hess(x: float, y: float, a: float = 1.0, b: float = 100.0) -> np.ndarray:
    return np.array(
        [
            [2.0 - 4.0 * b * (y - x * x) + 8.0 * b * x * x, -4.0 * b * x],
            [-4.0 * b * x, 2.0 * b],
        ]
    )


# -- Rotated bowl: f = (u^2 + c v^2) / 2, (u, v) = R(angle) (x, y) -------------


def _rot(angle_deg: float) -> tuple[float, float]:
    t = math.radians(angle_deg)
    return math.cos(t), math.sin(t)


def bowl_f(x: float, y: float, condition: float = 10.0, angle: float = 0.0) -> float:
    c, s = _rot(angle)
    u, v = c * x + s * y, -s * x + c * y
    return 0.5 * (u * u + condition * v * v)


def bowl_grad(x: float, y: float, condition: float = 10.0, angle: float = 0.0) -> tuple[float, float]:
    c, s = _rot(angle)
    u, v = c * x + s * y, -s * x + c * y
    return (c * u - s * condition * v, s * u + c * condition * v)


def bowl_hess(condition: float = 10.0, angle: float = 0.0) -> np.ndarray:
    c, s = _rot(angle)
    r = np.array([[c, s], [-s, c]])
    return r.T @ np.diag([1.0, condition]) @ r


def assert_same_run(a, b) -> None:
    """Two runs (``optimizers.Trajectory``) alike in every field, bit for bit."""
    assert a.result == b.result
    for name in ("points", "losses", "gradients", "lrs", "updates", "effective_lr", "averaged", "batches", "test_losses"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            np.testing.assert_array_equal(x, y, err_msg=name)
    assert a.state.keys() == b.state.keys()
    for k in a.state:
        np.testing.assert_array_equal(a.state[k], b.state[k], err_msg=k)
