r"""Each optimizer's update rule in LaTeX, exactly as :mod:`optimizers.rules` computes it
with the given hyperparameters, and the gradient the rules see. Pure: no Streamlit.

Conventions shared by every rule and by :mod:`optimizers.schedules`: ``t`` counts the
updates from 0 (:math:`x_0` is the start), :math:`g_t` is the gradient seen at step ``t``,
and under a schedule the rate of step ``t`` is :math:`\eta_t` (``schedules.describe``
gives it from the base rate :math:`\eta`). Adam is written in the same 0-based form: its
bias corrections divide by :math:`1-\beta^{t+1}`, the paper's :math:`1-\beta^t` with ``t``
counted from 1.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, Mapping

from . import rules
from .declarations import declaration
from .runner import defaults

def number(x) -> str:
    r"""``x`` in LaTeX: formatted with ``:g``; an exponent as a power of ten (``1e-08`` ->
    ``10^{-8}``, ``2.5e-05`` -> ``2.5\times10^{-5}``); infinity as ``\infty``."""
    x = float(x)
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    s = f"{x:g}"
    if "e" not in s:
        return s
    mantissa, exponent = s.split("e")
    power = f"10^{{{int(exponent)}}}"
    return power if mantissa == "1" else rf"{mantissa}\times{power}"


def settings(name: str, hyper: Mapping[str, object] | Iterable[tuple[str, object]] = ()) -> dict[str, object]:
    """``hyper`` (a mapping or (name, value) pairs) completed by optimizer ``name``'s defaults
    for the keys it lacks; an unknown optimizer or hyperparameter raises ValueError."""
    values = defaults(name)
    given = dict(hyper)
    unknown = set(given) - set(values)
    if unknown:
        raise ValueError(f"Unknown hyperparameter(s) for {name}: {', '.join(sorted(unknown))}")
    values.update(given)
    return values


def update_rule(
    name: str,
    hyper: Mapping[str, object] | Iterable[tuple[str, object]] = (),
    scheduled: bool = False,
    noisy: bool = False,
) -> str:
    r"""Optimizer ``name``'s update rule in LaTeX as it runs with ``hyper`` (missing keys: the
    optimizer's defaults), followed by a line of the values used (:math:`\eta = 0.03,\ \mu = 0.9`).

    ``scheduled``: the rate varies by step, written :math:`\eta_t`. ``noisy``: every step sees
    a sample :math:`f_t` of the loss (see :func:`gradient_rule`), which the rules that evaluate
    the loss or a gradient away from :math:`x_t` (Nesterov's look-ahead, L-BFGS's line search)
    then name. The form follows the settings: Adam without bias correction has no hats, a
    Newton method with :math:`\lambda = 0` inverts the plain Hessian, and a step cap
    :math:`R = \infty` is no cap.
    """
    h = settings(name, hyper)
    eta = r"\eta_t" if scheduled else r"\eta"
    f = "f_t" if noisy else "f"
    lines, values = _RULES[name](h, eta, f)
    shown = ",\\quad ".join(f"{symbol} = {value}" for symbol, value in values)
    return r"\begin{gathered} " + r" \\ ".join([*lines, shown]) + r" \end{gathered}"


def gradient_rule(noise: float = 0.0, batch_size: int | None = None) -> str:
    r"""What :math:`g_t` is: the gradient at :math:`x_t`, or with gradient noise ``noise`` =
    :math:`\sigma` > 0 the gradient of the step's sample of the loss (the runner's model:
    :math:`f_t(x) = f(x) + \sigma\,\xi_t^\top x`, :math:`\xi_t \sim \mathcal N(0, I)`), or on
    a data surface with mini-batches of ``batch_size`` examples the mean gradient over the step's batch."""
    if batch_size:
        return (
            r"g_t = \nabla f_t(x_t),\quad f_t(x) = \frac{1}{m}\sum_{i \in B_t} \ell_i(x),\quad H(x_t) = \nabla^2 f_t(x_t),\quad "
            rf"|B_t| = m = {int(batch_size)}"
        )
    if not noise:
        return r"g_t = \nabla f(x_t)"
    return (
        r"g_t = \nabla f_t(x_t) = \nabla f(x_t) + \sigma\,\xi_t,\quad f_t(x) = f(x) + \sigma\,\xi_t^\top x,\quad "
        rf"\xi_t \sim \mathcal{{N}}(0, I),\quad \sigma = {number(noise)}"
    )


Rule = Callable[[dict, str, str], tuple[list[str], list[tuple[str, str]]]]


def _values(h: dict, *keys: str) -> list[tuple[str, str]]:
    return [(declaration(k).symbol, number(h[k])) for k in keys]


def _sgd(h, eta, f):
    return [rf"x_{{t+1}} = x_t - {eta}\, g_t"], _values(h, "lr")


def _momentum(h, eta, f):
    rule = rf"v_{{t+1}} = \mu\, v_t + g_t,\quad x_{{t+1}} = x_t - {eta}\, v_{{t+1}},\quad v_0 = 0"
    return [rule], _values(h, "lr", "momentum")


def _nesterov(h, eta, f):
    rule = rf"v_{{t+1}} = \mu\, v_t - {eta}\, \nabla {f}(x_t + \mu\, v_t),\quad x_{{t+1}} = x_t + v_{{t+1}},\quad v_0 = 0"
    return [rule], _values(h, "lr", "momentum")


def _adagrad(h, eta, f):
    rule = rf"s_{{t+1}} = s_t + g_t^2,\quad x_{{t+1}} = x_t - {eta}\, \frac{{g_t}}{{\sqrt{{s_{{t+1}}}} + \epsilon}},\quad s_0 = 0"
    return [rule], _values(h, "lr", "eps")


def _rmsprop(h, eta, f):
    rule = (
        rf"s_{{t+1}} = \alpha\, s_t + (1-\alpha)\, g_t^2,\quad "
        rf"x_{{t+1}} = x_t - {eta}\, \frac{{g_t}}{{\sqrt{{s_{{t+1}}}} + \epsilon}},\quad s_0 = 0"
    )
    return [rule], _values(h, "lr", "alpha", "eps")


def _adam(h, eta, f):
    moments = (
        r"m_{t+1} = \beta_1 m_t + (1-\beta_1)\, g_t,\quad v_{t+1} = \beta_2 v_t + (1-\beta_2)\, g_t^2,\quad m_0 = v_0 = 0"
    )
    if h["bias_correction"]:
        step = (
            r"\hat m_{t+1} = \frac{m_{t+1}}{1-\beta_1^{t+1}},\quad \hat v_{t+1} = \frac{v_{t+1}}{1-\beta_2^{t+1}},\quad "
            rf"x_{{t+1}} = x_t - {eta}\, \frac{{\hat m_{{t+1}}}}{{\sqrt{{\hat v_{{t+1}}}} + \epsilon}}"
        )
    else:
        step = rf"x_{{t+1}} = x_t - {eta}\, \frac{{m_{{t+1}}}}{{\sqrt{{v_{{t+1}}}} + \epsilon}}"
    return [moments, step], _values(h, "lr", "beta1", "beta2", "eps")


def _newton_rule(saddle_free: bool) -> Rule:
    def rule(h, eta, f):
        damped = float(h["damping"]) != 0
        capped = math.isfinite(float(h["max_step"]))
        curvature = r"V|\Lambda|V^\top" if saddle_free else "H(x_t)"
        if damped:
            inverse = rf"\left({curvature} + \lambda I\right)^{{-1}}"
        else:
            inverse = rf"\left({curvature}\right)^{{-1}}" if saddle_free else r"H(x_t)^{-1}"
        direction = rf"d_t = -{eta}\, {inverse} g_t"
        if saddle_free:
            direction = r"H(x_t) = V \Lambda V^\top,\quad " + direction
        step = (
            r"x_{t+1} = x_t + d_t \min\!\left(1, \frac{R}{\lVert d_t \rVert}\right)" if capped else r"x_{t+1} = x_t + d_t"
        )
        keys = ("lr",) + (("damping",) if damped else ()) + (("max_step",) if capped else ())
        return [rf"{direction},\quad {step}"], _values(h, *keys)

    return rule


def _lbfgs(h, eta, f):
    # M_t: the pairs held at step t (at most m, the newest last); see rules.lbfgs for when a
    # pair is kept and when the memory is cleared.
    c1, shrink, tries = rules.ARMIJO_C1, number(rules.BACKTRACK), rules.MAX_HALVINGS
    direction = (
        r"d_t = \begin{cases} -g_t / \max(1, \lVert g_t \rVert) & M_t = \emptyset \\ "
        r"-H_t\, g_t & M_t \ne \emptyset \end{cases},\quad "
        r"H_t = \mathrm{BFGS}\!\left(\gamma_t I;\ \{(s_i, y_i)\}_{i \in M_t}\right),\quad |M_t| \le m"
    )
    pairs = (
        r"s_i = x_{i+1} - x_i,\quad y_i = g_{i+1} - g_i,\quad "
        r"\gamma_t = \frac{s_k^\top y_k}{y_k^\top y_k},\ k = \max M_t"
    )
    search = (
        rf"x_{{t+1}} = x_t + \alpha_t d_t,\quad \alpha_t = {eta}\, {shrink}^{{j}},\ "
        rf"j = \min\left\{{j \in \{{0, \dots, {tries - 1}\}} : "
        rf"{f}(x_t + {eta}\, {shrink}^{{j}} d_t) \le {f}(x_t) + c_1\, {eta}\, {shrink}^{{j}}\, g_t^\top d_t\right\}}"
    )
    return [direction, pairs, search], _values(h, "lr", "memory") + [("c_1", number(c1))]


_RULES: dict[str, Rule] = {
    "sgd": _sgd,
    "momentum": _momentum,
    "nesterov": _nesterov,
    "adagrad": _adagrad,
    "rmsprop": _rmsprop,
    "adam": _adam,
    "newton": _newton_rule(saddle_free=False),
    "saddle_free_newton": _newton_rule(saddle_free=True),
    "lbfgs": _lbfgs,
}
