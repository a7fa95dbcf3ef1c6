"""Every optimizer's hyperparameters, declared once.

A :class:`Hyperparameter` says everything there is to know about one setting:
its default, the range the update rule accepts, its scale, the values a control
offers, whether a sweep may put it on an axis (and over which range), and the
catalog key of its label. The factories validate with it; the Playground's
controls, their link keys and link checks, the hyperparameter panel, the sweep's
axes and the formulas view all derive from :data:`DECLARED`. Adding a
hyperparameter to an optimizer is one entry there (and its use in the rule).

Each optimizer also declares what its recorded state fields mean
(:data:`STATE`), so nothing downstream has to guess from a field's name.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np


class Hyperparameter(NamedTuple):
    name: str
    default: object
    low: float  # the range the update rule accepts
    high: float
    low_open: bool = False
    high_open: bool = False
    scale: str = "linear"  # "log", "linear", "int" (whole numbers) or "switch" (on/off)
    options: tuple | None = None  # the values a control offers, in order (None: a switch)
    snap: bool = False  # a link value between the options is taken at the nearest one (else refused)
    sweep: tuple[float, float] | None = None  # the range of a sweep's axis; None: not sweepable
    label: str = ""  # catalog key of the control's label
    symbol: str = ""  # its symbol in the update rules (LaTeX), as the formulas view writes it

    def at(self, default) -> Hyperparameter:
        """The same hyperparameter with another default (each optimizer picks its own)."""
        return self._replace(default=default)

    def check(self, value):
        """``value`` (a number or an array of them) if the rule accepts it, else ValueError naming the range.

        Returns a plain float for a single value: arithmetic on a 0-d array costs as much as
        on a whole array, and the single-run path does thousands of scalar steps.
        """
        if self.scale == "switch":
            return bool(value)
        if self.scale == "int":
            if isinstance(value, bool) or not (isinstance(value, (int, np.integer)) and self.low <= value <= self.high):
                raise ValueError(f"Invalid {self.name}: {value} (allowed range: whole numbers in [{self.low:g}, {self.high:g}])")
            return int(value)
        if type(value) in (float, int):  # one plain number (a run's setting): no array needed
            return self._check_number(float(value))
        v = np.asarray(value, dtype=np.float64)
        finite = np.isfinite(v) | ((v == np.inf) & (self.high == np.inf))
        ok = finite & (v > self.low if self.low_open else v >= self.low) & (v < self.high if self.high_open else v <= self.high)
        if not np.all(ok):
            bad = v[~ok].flat[0] if v.ndim else v
            interval = f"{'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"
            raise ValueError(f"Invalid {self.name}: {float(bad):g} (allowed range {interval})")
        return float(v) if v.ndim == 0 else v

    def _check_number(self, v: float) -> float:
        """:meth:`check` of one float, by the same comparisons on the float itself."""
        finite = math.isfinite(v) or (v == math.inf and self.high == math.inf)
        above = v > self.low if self.low_open else v >= self.low
        below = v < self.high if self.high_open else v <= self.high
        if not (finite and above and below):
            interval = f"{'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"
            raise ValueError(f"Invalid {self.name}: {v:g} (allowed range {interval})")
        return v

    def nearest(self, value):
        """The option a control holds for ``value``: the nearest one (on a log scale for a log
        hyperparameter), 0 exactly where 0 is offered, the largest for infinity, a bool for a switch."""
        if self.options is None:
            return bool(value)
        value = float(value)
        options = tuple(float(o) for o in self.options)
        if value == math.inf:
            picked = max(options)
        elif value == 0 and 0.0 in options:
            picked = 0.0
        else:
            picked = _nearest(options, value, log=self.scale == "log")
        return int(picked) if self.scale == "int" else picked


@functools.lru_cache(maxsize=4096)  # the pages snap every control's value on every rerun
def _nearest(options: tuple[float, ...], value: float, log: bool) -> float:
    arr = np.asarray(options, dtype=float)
    positive = arr[arr > 0]
    if log and value > 0 and positive.size:
        return float(positive[np.argmin(np.abs(np.log(positive) - np.log(value)))])
    if value > 0 and np.all(arr > 0):  # a positive grid is spaced by ratios
        return float(arr[np.argmin(np.abs(np.log(arr) - np.log(value)))])
    return float(arr[np.argmin(np.abs(arr - value))])


def _grid(mantissas, exponents) -> tuple[float, ...]:
    return tuple(float(f"{m}e{e}") for e in exponents for m in mantissas)


# The kinds of hyperparameter, each with its range, control and sweep axis; an optimizer
# takes them with its own default (``LR.at(0.001)``).
LR = Hyperparameter(
    "lr", 0.01, 0.0, 1e3, low_open=True, scale="log",
    # Round numbers a teacher can say aloud, on a log scale.
    options=_grid((1, 1.5, 2, 3, 5, 7), range(-5, 1)) + (10.0,), sweep=(1e-5, 1.0), label="hp.lr", symbol=r"\eta",
)  # fmt: skip
_FRACTIONS = tuple(round(i / 100, 2) for i in range(100))  # 0, 0.01, ..., 0.99
MOMENTUM = Hyperparameter("momentum", 0.9, 0.0, 1.0, high_open=True, options=_FRACTIONS, snap=True, sweep=(0.0, 0.99), label="hp.momentum", symbol=r"\mu")
BETA1 = Hyperparameter("beta1", 0.9, 0.0, 1.0, high_open=True, options=_FRACTIONS, snap=True, sweep=(0.0, 0.99), label="hp.beta1", symbol=r"\beta_1")
BETA2 = Hyperparameter("beta2", 0.999, 0.0, 1.0, high_open=True, options=(0.9, 0.95, 0.99, 0.995, 0.999, 0.9999), sweep=(0.9, 0.9999), label="hp.beta2", symbol=r"\beta_2")
ALPHA = Hyperparameter("alpha", 0.99, 0.0, 1.0, high_open=True, options=(0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999), sweep=(0.5, 0.999), label="hp.alpha", symbol=r"\alpha")
EPS = Hyperparameter("eps", 1e-8, 0.0, 1.0, low_open=True, scale="log", options=(1e-10, 1e-8, 1e-6, 1e-4, 1e-2), sweep=(1e-10, 1e-2), label="hp.eps", symbol=r"\epsilon")
BIAS_CORRECTION = Hyperparameter("bias_correction", True, 0, 1, scale="switch", label="hp.bias_correction")
MEMORY = Hyperparameter("memory", 10, 1, 50, scale="int", options=tuple(range(1, 21)), snap=True, label="hp.memory", symbol="m")
# The Newton methods' damping lambda (0: undamped) and step cap R. The controls offer no
# "no cap" (the panel's values travel as JSON, which has no infinity; 1000 is beyond every window).
DAMPING = Hyperparameter("damping", 1e-3, 0.0, 1e6, scale="log", options=(0.0, 1e-4, 1e-3, 1e-2, 0.1, 1.0), label="hp.damping", symbol=r"\lambda")
MAX_STEP = Hyperparameter("max_step", 10.0, 0.0, math.inf, low_open=True, scale="log", options=(0.1, 0.3, 1.0, 3.0, 10.0, 100.0, 1000.0), label="hp.max_step", symbol="R")

# A run setting of the data surfaces, not an optimizer's: the mini-batch size (None, the
# default, is the full batch). Its upper end is the surface's training size, which the runner
# checks (optimizers.runner.check_batch_size) and a sweep's axis stops at.
BATCH_SIZE = Hyperparameter(
    "batch_size", None, 1, math.inf, scale="log", options=(1, 2, 4, 8, 16, 32, 64, 128),
    sweep=(1, math.inf), label="hp.batch_size", symbol="m",
)  # fmt: skip
RUN_SETTINGS: dict[str, Hyperparameter] = {"batch_size": BATCH_SIZE}

# Each optimizer's hyperparameters, in the order the controls show them, with its defaults.
DECLARED: dict[str, tuple[Hyperparameter, ...]] = {
    "sgd": (LR.at(0.01),),
    "momentum": (LR.at(0.01), MOMENTUM.at(0.9)),
    "nesterov": (LR.at(0.01), MOMENTUM.at(0.9)),
    "adagrad": (LR.at(0.1), EPS.at(1e-10)),
    "rmsprop": (LR.at(0.01), ALPHA.at(0.99), EPS.at(1e-8)),
    "adam": (LR.at(0.001), BETA1.at(0.9), BETA2.at(0.999), EPS.at(1e-8), BIAS_CORRECTION.at(True)),
    "newton": (LR.at(1.0), DAMPING.at(1e-3), MAX_STEP.at(10.0)),
    "saddle_free_newton": (LR.at(1.0), DAMPING.at(1e-3), MAX_STEP.at(10.0)),
    "lbfgs": (LR.at(1.0), MEMORY.at(10)),
}

# What each recorded state field holds (catalog keys ``state.<meaning>``).
STATE: dict[str, dict[str, str]] = {
    "sgd": {},
    "momentum": {"velocity": "velocity"},
    "nesterov": {"velocity": "displacement", "lookahead": "lookahead_point", "lookahead_grad": "lookahead_gradient"},
    "adagrad": {"sum_sq": "squared_gradient_sum"},
    "rmsprop": {"mean_sq": "squared_gradient_average"},
    "adam": {"count": "step_count", "exp_avg": "first_moment", "exp_avg_sq": "second_moment"},
    "newton": {"singular": "singular", "eigenvalues": "hessian_eigenvalues", "capped": "capped"},
    "saddle_free_newton": {"singular": "singular", "eigenvalues": "hessian_eigenvalues", "capped": "capped"},
    "lbfgs": {"count": "pairs_stored", "step_length": "step_length"},
}


def hyperparameters(name: str) -> tuple[Hyperparameter, ...]:
    """Optimizer ``name``'s hyperparameters, in the order the controls show them."""
    try:
        return DECLARED[name]
    except KeyError:
        raise ValueError(f"Unknown optimizer {name!r}; choose one of: {', '.join(DECLARED)}") from None


def declaration(hyperparameter: str) -> Hyperparameter:
    """The declaration of a hyperparameter or run setting by name (one name means one kind for every optimizer)."""
    if hyperparameter in RUN_SETTINGS:
        return RUN_SETTINGS[hyperparameter]
    for declared in DECLARED.values():
        for hp in declared:
            if hp.name == hyperparameter:
                return hp
    raise ValueError(f"Unknown hyperparameter {hyperparameter!r}")
