"""Shared, hand-written reference formulas for the core-engine tests.

Nothing here calls the code under test: these are the closed forms the tests
compare the sympy-compiled landscapes and the optimizers against.
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np

# `pytest` (not only `python -m pytest`) run from anywhere should import the packages.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


# -- Rosenbrock: f = (a - x)^2 + b (y - x^2)^2 ---------------------------------


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
