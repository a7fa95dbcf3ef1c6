"""What the controls offer: option grids, suggested values per surface, URL keys. Pure data, no Streamlit.

Every control's key is also its URL query key (``bind="query-params"``), so
this module is the list of what a shared link can say. Fixed by the issue:
``landscape``, ``optimizers`` (repeated), ``steps``.
"""

from __future__ import annotations

import numpy as np

import optimizers
from landscapes.catalog import CATALOG

FIRST_ORDER = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")


def _grid(mantissas, exponents) -> list[float]:
    return [float(f"{m}e{e}") for e in exponents for m in mantissas]


# Learning rates on a log scale with round numbers a teacher can say aloud.
LR_OPTIONS: list[float] = _grid((1, 1.5, 2, 3, 5, 7), range(-5, 1)) + [10.0]
BETA2_OPTIONS = [0.9, 0.95, 0.99, 0.995, 0.999, 0.9999]
ALPHA_OPTIONS = [0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999]
EPS_OPTIONS = [1e-10, 1e-8, 1e-6, 1e-4, 1e-2]
NOISE_OPTIONS = [0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
AVERAGE_OPTIONS = ["none", "polyak", "ema"]
STEPS_RANGE = (5, 3000)

# Hyperparameter controls per optimizer, in display order.
HYPERPARAMETERS: dict[str, tuple[str, ...]] = {
    "sgd": ("lr",),
    "momentum": ("lr", "momentum"),
    "nesterov": ("lr", "momentum"),
    "adagrad": ("lr", "eps"),
    "rmsprop": ("lr", "alpha", "eps"),
    "adam": ("lr", "beta1", "beta2", "eps", "bias_correction"),
    "newton": ("lr",),
    "saddle_free_newton": ("lr",),
    "lbfgs": ("lr", "memory"),
}

# Learning rates that show each surface's lesson; the rest follow the defaults.
SUGGESTED_LR: dict[str, dict[str, float]] = {
    "bowl": {"sgd": 0.15, "momentum": 0.03, "nesterov": 0.03, "adagrad": 0.7, "rmsprop": 0.07, "adam": 0.2},
    "saddle": {"sgd": 0.05, "momentum": 0.02, "nesterov": 0.02, "adagrad": 0.3, "rmsprop": 0.03, "adam": 0.05},
    "rosenbrock": {"sgd": 0.0005, "momentum": 0.0003, "nesterov": 0.0003, "adagrad": 0.3, "rmsprop": 0.005, "adam": 0.03},
    "monkey_saddle": {"sgd": 0.05, "momentum": 0.02, "nesterov": 0.02, "adagrad": 0.1, "rmsprop": 0.02, "adam": 0.05},
    "beale": {"sgd": 0.001, "momentum": 0.0005, "nesterov": 0.0005, "adagrad": 0.3, "rmsprop": 0.01, "adam": 0.03},
    "himmelblau": {"sgd": 0.01, "momentum": 0.003, "nesterov": 0.003, "adagrad": 0.5, "rmsprop": 0.03, "adam": 0.1},
    "rastrigin": {"sgd": 0.003, "momentum": 0.001, "nesterov": 0.001, "adagrad": 0.3, "rmsprop": 0.02, "adam": 0.05},
    "six_hump_camel": {"sgd": 0.01, "momentum": 0.005, "nesterov": 0.005, "adagrad": 0.2, "rmsprop": 0.01, "adam": 0.03},
    "plateau": {"sgd": 0.5, "momentum": 0.1, "nesterov": 0.1, "adagrad": 0.5, "rmsprop": 0.05, "adam": 0.1},
}


def nearest(options: list[float], value: float) -> float:
    """The option closest to ``value`` on a log scale (for positive options) or linearly."""
    arr = np.asarray(options, dtype=float)
    if value > 0 and np.all(arr > 0):
        return float(arr[np.argmin(np.abs(np.log(arr) - np.log(value)))])
    return float(arr[np.argmin(np.abs(arr - value))])


def default_hyperparameter(optimizer: str, name: str, surface: str):
    """The value a control starts at for ``optimizer``'s ``name`` on ``surface``."""
    if name == "lr":
        suggested = SUGGESTED_LR.get(surface, {}).get(optimizer)
        value = suggested if suggested is not None else optimizers.defaults(optimizer)["lr"]
        return nearest(LR_OPTIONS, value)
    return optimizers.defaults(optimizer)[name]


def hyper_key(optimizer: str, name: str) -> str:
    return f"{optimizer}_{name}"


def param_key(name: str) -> str:
    return f"p_{name}"


def default_start(surface: str) -> tuple[float, float]:
    return tuple(CATALOG[surface].hints.get("start", (0.0, 0.0)))  # type: ignore[return-value]


def default_steps(surface: str) -> int:
    return int(CATALOG[surface].hints.get("steps", 100))
