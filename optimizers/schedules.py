r"""Learning-rate schedules: the factor the base learning rate is multiplied by at step t.

A schedule is a pure function of the step index ``t`` (an integer array, or a scalar)
returning the factor, so ``lr_t = lr * schedule(t)``. ``make(name, warmup_steps=0,
**options)`` builds one from plain values, as the URL and the widgets hold them, and
``describe`` gives the same schedule as a LaTeX formula for :math:`\eta_t`.

Conventions, and how they map onto ``torch.optim.lr_scheduler``:

* ``t`` counts the updates from 0, and ``lr_0 = lr * schedule(0)`` is the rate of the
  first update. In torch that is the rate in effect for the first ``optimizer.step()``:
  the usual loop ``optimizer.step(); scheduler.step()`` uses, at its (t+1)-th update, the
  rate after ``t`` calls of ``scheduler.step()``. Each factory's docstring names the
  torch scheduler that gives the same rates with ``lr`` as the optimizer's ``lr``.
* A warm-up of ``W`` steps *delays* the schedule: the rate climbs linearly over the first
  ``W`` updates, then the inner schedule starts at its own step 0. That is torch's
  ``SequentialLR([LinearLR(...), inner], milestones=[W])`` (see ``warmup``), not a
  product of the ramp with the schedule.
* Cosine annealing reaches its floor at ``t = period`` and then holds it (as optax's
  ``cosine_decay_schedule``); torch's ``CosineAnnealingLR`` keeps cycling (see ``cosine``).

All the equivalences were checked numerically against torch 2.13 (float64 factors,
differences below 1e-14 of lr).
"""

from __future__ import annotations

import inspect
from typing import Callable

import numpy as np

Schedule = Callable[[np.ndarray], np.ndarray]


def _t(t) -> np.ndarray:
    return np.asarray(t, dtype=np.float64)


def constant() -> Schedule:
    r""":math:`\eta_t = \eta`.

    torch: no scheduler (or ``LambdaLR(opt, lambda t: 1.0)``)."""
    return lambda t: np.ones_like(_t(t))


def step_decay(every: int = 100, gamma: float = 0.5) -> Schedule:
    r"""Multiply by ``gamma`` every ``every`` steps: :math:`\eta_t = \eta\,\gamma^{\lfloor t / every \rfloor}`.

    torch: ``StepLR(opt, step_size=every, gamma=gamma)``."""
    _positive_int("every", every)
    _unit("gamma", gamma)
    return lambda t: gamma ** np.floor(_t(t) / every)


def exponential(gamma: float = 0.99) -> Schedule:
    r"""Multiply by ``gamma`` every step: :math:`\eta_t = \eta\,\gamma^t`.

    torch: ``ExponentialLR(opt, gamma=gamma)``."""
    _unit("gamma", gamma)
    return lambda t: gamma ** _t(t)


def inverse_time(decay: float = 0.01) -> Schedule:
    r"""1/t decay with rate ``k = decay``: :math:`\eta_t = \eta / (1 + k\,t)`.

    torch: ``LambdaLR(opt, lambda t: 1 / (1 + k * t))`` (torch has no named one); Keras:
    ``InverseTimeDecay(lr, decay_steps=1, decay_rate=k)``."""
    if not (np.isfinite(decay) and 0 <= decay <= 100):
        raise ValueError(f"Invalid decay: {decay} (allowed range [0, 100])")
    return lambda t: 1.0 / (1.0 + decay * _t(t))


def cosine(period: int = 1000, floor: float = 0.0) -> Schedule:
    r"""Cosine annealing from 1 to ``floor`` over ``period`` steps, then the floor held.

    With :math:`T` = ``period`` and :math:`f` = ``floor``:
    :math:`\eta_t = \eta\,\bigl(f + (1-f)\,\tfrac12(1 + \cos(\pi \min(t, T)/T))\bigr)`,
    so :math:`\eta_0 = \eta`, :math:`\eta_T = f\,\eta`, and :math:`\eta_t = f\,\eta` for all
    :math:`t \ge T`.

    torch: equal to ``CosineAnnealingLR(opt, T_max=period, eta_min=floor * lr)`` for
    ``t <= period`` only. After that torch's rate rises again (its closed form is the same
    cosine without the ``min``, a cycle of ``2 * period``: back to ``lr`` at ``t = 2 * period``);
    here it stays at the floor. Holding is what ``optax.cosine_decay_schedule(lr,
    decay_steps=period, alpha=floor)`` does.
    """
    _positive_int("period", period)
    _unit("floor", floor, closed=True)
    return lambda t: floor + (1 - floor) * 0.5 * (1 + np.cos(np.pi * np.minimum(_t(t), period) / period))


def cyclical(period: int = 100, floor: float = 0.1) -> Schedule:
    r"""Triangular cyclical rate (Smith, 2017): from ``floor`` up to 1 and back every ``period`` steps.

    With :math:`P` = ``period`` and :math:`f` = ``floor``:
    :math:`\eta_t = \eta\,\bigl(f + (1-f)\,(1 - |2\,(t \bmod P)/P - 1|)\bigr)`: the floor at
    :math:`t = 0, P, 2P, \dots`, the peak 1 at :math:`t = P/2 + kP` (a step index only when
    :math:`P` is even), linear in between.

    torch: ``CyclicLR(opt, base_lr=floor * lr, max_lr=lr, step_size_up=period / 2,
    mode="triangular", cycle_momentum=False)`` (torch cycles the momentum too unless told not to),
    for even and odd periods alike (torch takes the half-step ``step_size_up`` as a float).
    """
    _positive_int("period", period)
    _unit("floor", floor, closed=True)

    def schedule(t):
        phase = (_t(t) % period) / period  # 0 -> 1 within a cycle
        return floor + (1 - floor) * (1 - np.abs(2 * phase - 1))

    return schedule


def warmup(inner: Schedule, steps: int = 50) -> Schedule:
    r"""A linear warm-up of ``W = steps`` steps, then ``inner`` started from its own step 0.

    :math:`\text{factor}(t) = (t+1)/W` for :math:`t < W` and :math:`\text{inner}(t - W)` for
    :math:`t \ge W`. The ramp reaches 1 at :math:`t = W - 1`; whatever ``inner`` does (its
    decay, its period) is shifted by ``W`` steps, so a cosine of period ``T`` reaches its
    floor at :math:`t = W + T`.

    torch: ``SequentialLR(opt, [LinearLR(opt, start_factor=1/W, end_factor=1,
    total_iters=W-1), inner], milestones=[W])``, the same rate at every step, including
    :math:`t = W` (torch restarts ``inner`` there with ``inner.step(0)``, its step 0). For
    ``W = 1`` the "ramp" is a single step at the full rate, and ``inner`` starts at ``t = 1``.
    """
    _positive_int("steps", steps)
    W = int(steps)

    def schedule(t):
        t = _t(t)
        # inner never sees a negative step (gamma ** -t could overflow); np.where picks the ramp there
        return np.where(t < W, (t + 1) / W, inner(np.maximum(t - W, 0.0)))

    return schedule


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
    """The schedule ``name`` with its options, delayed behind a linear warm-up when ``warmup_steps`` > 0 (see ``warmup``)."""
    try:
        factory = SCHEDULES[name]
    except KeyError:
        raise ValueError(f"Unknown schedule {name!r}; choose one of: {', '.join(SCHEDULES)}") from None
    schedule = factory(**options)
    return warmup(schedule, warmup_steps) if warmup_steps else schedule


# -- the formula, for the Formulas view ----------------------------------------------------


def describe(name: str = "constant", warmup_steps: int = 0, **options) -> str:
    r"""A LaTeX formula for :math:`\eta_t` under ``make(name, warmup_steps, **options)``.

    The options' values are substituted (formatted with ``:g``; one that ``:g`` writes with
    an exponent appears as :math:`a\times10^{b}`), the factories' defaults for the ones not
    given. Raises as ``make`` does for an unknown name or an invalid option.
    """
    make(name, warmup_steps, **options)  # validation only: same errors as make
    values = {k: p.default for k, p in inspect.signature(SCHEDULES[name]).parameters.items()}
    values.update(options)
    if not warmup_steps:
        return r"\eta_t = " + _formula(name, "t", values)
    W = int(warmup_steps)
    ramp = r"\eta" if W == 1 else rf"\eta\,\frac{{t+1}}{{{W}}}"
    return (
        rf"\eta_t = \begin{{cases}} {ramp} & t < {W} \\ "
        rf"{_formula(name, f't-{W}', values)} & t \ge {W}\end{{cases}}"
    )


def _formula(name: str, t: str, o: dict) -> str:
    """The right-hand side for schedule ``name`` with the step written as ``t`` (``"t"`` or ``"t-W"``)."""
    grouped = t if t == "t" else f"({t})"
    if name == "constant":
        return r"\eta"
    if name == "step":
        return rf"\eta\,{_num(o['gamma'], base=True)}^{{\lfloor {grouped}/{_num(o['every'])} \rfloor}}"
    if name == "exponential":
        return rf"\eta\,{_num(o['gamma'], base=True)}^{{\,{t}}}"
    if name == "inverse_time":
        return rf"\frac{{\eta}}{{1 + {_num(o['decay'])}\,{grouped}}}"
    if name == "cosine":
        T, f = o["period"], o["floor"]
        wave = rf"\tfrac12\left(1+\cos\frac{{\pi \min({t},{_num(T)})}}{{{_num(T)}}}\right)"
        return _around_floor(f, wave)
    if name == "cyclical":
        P, f = o["period"], o["floor"]
        wave = rf"\left(1 - \left|\frac{{2\,({grouped} \bmod {_num(P)})}}{{{_num(P)}}} - 1\right|\right)"
        return _around_floor(f, wave)
    raise ValueError(f"Unknown schedule {name!r}")  # unreachable after make()


def _around_floor(floor: float, wave: str) -> str:
    r"""``\eta (f + (1-f) wave)``, written without the terms that vanish."""
    if floor == 0:
        return rf"\eta\,{wave}"
    if floor == 1:
        return r"\eta"
    return rf"\eta\left({_num(floor)} + {_num(1 - floor)}\,{wave}\right)"


def _num(x, base: bool = False) -> str:
    """``x`` formatted with ``:g``; an exponent form as LaTeX, in parentheses when it is raised to a power."""
    s = f"{x:g}"
    if "e" not in s:
        return s
    mantissa, exponent = s.split("e")
    s = rf"{mantissa}\times10^{{{int(exponent)}}}"
    return rf"\left({s}\right)" if base else s


def _positive_int(name: str, value) -> None:
    if not (float(value) == int(value) and 1 <= int(value) <= 1_000_000):
        raise ValueError(f"Invalid {name}: {value} (allowed range: whole numbers in [1, 1000000])")


def _unit(name: str, value, closed: bool = False) -> None:
    ok = np.isfinite(value) and (0 <= value <= 1 if closed else 0 < value <= 1)
    if not ok:
        raise ValueError(f"Invalid {name}: {value} (allowed range {'[' if closed else '('}0, 1])")
