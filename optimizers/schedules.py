"""Learning-rate schedules: the factor the base learning rate is multiplied by at step t.

A schedule is a pure function of the step index ``t`` (0, 1, 2, ...; an integer
array) returning the factor, so ``lr_t = lr * schedule(t)``. ``make(name,
**options)`` builds one from plain values, as the URL and the widgets hold them.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

Schedule = Callable[[np.ndarray], np.ndarray]


def _t(t) -> np.ndarray:
    return np.asarray(t, dtype=np.float64)


def constant() -> Schedule:
    r""":math:`\eta_t = \eta`."""
    return lambda t: np.ones_like(_t(t))


def step_decay(every: int = 100, gamma: float = 0.5) -> Schedule:
    r"""Multiply by ``gamma`` every ``every`` steps: :math:`\eta_t = \eta\,\gamma^{\lfloor t / every \rfloor}`."""
    _positive_int("every", every)
    _unit("gamma", gamma)
    return lambda t: gamma ** np.floor(_t(t) / every)


def exponential(gamma: float = 0.99) -> Schedule:
    r""":math:`\eta_t = \eta\,\gamma^t`."""
    _unit("gamma", gamma)
    return lambda t: gamma ** _t(t)


def inverse_time(decay: float = 0.01) -> Schedule:
    r"""1/t decay: :math:`\eta_t = \eta / (1 + k\,t)`."""
    if not (np.isfinite(decay) and 0 <= decay <= 100):
        raise ValueError(f"Invalid decay: {decay} (allowed range [0, 100])")
    return lambda t: 1.0 / (1.0 + decay * _t(t))


def cosine(period: int = 1000, floor: float = 0.0) -> Schedule:
    r"""Cosine annealing from 1 to ``floor`` over ``period`` steps, then held:
    :math:`\eta_t = \eta\,(f + (1-f)\,\tfrac12(1 + \cos(\pi \min(t, T)/T)))`."""
    _positive_int("period", period)
    _unit("floor", floor, closed=True)
    return lambda t: floor + (1 - floor) * 0.5 * (1 + np.cos(np.pi * np.minimum(_t(t), period) / period))


def cyclical(period: int = 100, floor: float = 0.1) -> Schedule:
    r"""Triangular cyclical rate (Smith, 2017): from ``floor`` up to 1 and back every ``period`` steps."""
    _positive_int("period", period)
    _unit("floor", floor, closed=True)

    def schedule(t):
        phase = (_t(t) % period) / period  # 0 -> 1 within a cycle
        return floor + (1 - floor) * (1 - np.abs(2 * phase - 1))

    return schedule


def warmup(inner: Schedule, steps: int = 50) -> Schedule:
    r"""Linear warm-up in front of ``inner``: :math:`(t+1)/W` times ``inner(t)`` for the first W steps."""
    _positive_int("steps", steps)
    return lambda t: np.minimum((_t(t) + 1) / steps, 1.0) * inner(t)


SCHEDULES: dict[str, Callable[..., Schedule]] = {
    "constant": constant,
    "step": step_decay,
    "exponential": exponential,
    "inverse_time": inverse_time,
    "cosine": cosine,
    "cyclical": cyclical,
}


def names() -> list[str]:
    return list(SCHEDULES)


def make(name: str = "constant", warmup_steps: int = 0, **options) -> Schedule:
    """The schedule ``name`` with its options, with a linear warm-up in front when ``warmup_steps`` > 0."""
    try:
        factory = SCHEDULES[name]
    except KeyError:
        raise ValueError(f"Unknown schedule {name!r}; choose one of: {', '.join(SCHEDULES)}") from None
    schedule = factory(**options)
    return warmup(schedule, warmup_steps) if warmup_steps else schedule


def _positive_int(name: str, value) -> None:
    if not (float(value) == int(value) and 1 <= int(value) <= 1_000_000):
        raise ValueError(f"Invalid {name}: {value} (allowed range: whole numbers in [1, 1000000])")


def _unit(name: str, value, closed: bool = False) -> None:
    ok = np.isfinite(value) and (0 <= value <= 1 if closed else 0 < value <= 1)
    if not ok:
        raise ValueError(f"Invalid {name}: {value} (allowed range {'[' if closed else '('}0, 1])")
