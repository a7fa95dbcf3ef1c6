"""Stage 3: :func:`from_expression`, the public entry point, in the calling (server) process.

Validates the text (:mod:`~landscapes.expression.validate`), has a worker
process build and test it (:mod:`~landscapes.expression.pool`), caches the
worker's :class:`~landscapes.expression.reply.Analysis` per (text, window)
with the functions made from its generated code (verdicts about the function
too; never an answer caused by load, ``ExpressionError.transient``), and
builds the :class:`~landscapes.core.Landscape` from the worker's sympy
expression (a pickled sympy object, never text) and those functions, with
numeric hints from a trial grid. Nothing here compiles the expression: the
NumPy functions come from the code the worker generated
(:mod:`~landscapes.expression.generated`), in milliseconds.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import replace

import numpy as np

from typing import NamedTuple

from ..core import Compiled, Landscape, Window
from . import generated, limits
from .errors import ExpressionError, refusal
from .pool import run_job
from .reply import Analysis
from .validate import validate
from .window import check_window, trial_grid

_cache: "OrderedDict[tuple, Future]" = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 512
# Also bounded by bytes (issue 16): a heavy function's entry holds ~0.1-0.3 MB (its LaTeX, its
# generated code and the functions made from it); estimated by _built_bytes, finished entries only.
_CACHE_BYTES = 24 * 2**20
_sizes: dict[tuple, int] = {}  # key -> estimated bytes of a finished entry


class _Built(NamedTuple):
    """The worker's analysis and the functions made from its code, shared by every parameter value."""

    analysis: Analysis
    compiled: Compiled


def _compile_in_sandbox(text: str, window: Window) -> _Built:
    """Build and test the expression in the sandbox worker; cached per (text, window), verdicts too.

    An error that is ``transient`` (busy, a worker starved of CPU or killed:
    the server's state) is raised to every caller waiting for it, then forgotten.
    """
    key = (text, window)
    with _cache_lock:
        future = _cache.get(key)
        owner = future is None
        if owner:
            future = _cache[key] = Future()
            future.set_running_or_notify_cancel()
            while len(_cache) > _CACHE_SIZE:
                _sizes.pop(_cache.popitem(last=False)[0], None)
        else:
            _cache.move_to_end(key)
    if not owner:
        # Computed, or being computed for another session: wait without holding the GIL.
        return future.result(timeout=120)
    try:
        built = _run_worker(text, window)
    except ExpressionError as err:
        if err.transient:
            with _cache_lock:
                if _cache.get(key) is future:
                    del _cache[key]
                    _sizes.pop(key, None)
        future.set_exception(err)
        raise
    except BaseException:  # never leave waiters hanging
        with _cache_lock:
            if _cache.get(key) is future:
                del _cache[key]
        future.set_exception(refusal("busy"))
        raise
    future.set_result(built)
    _hold(key, future, _built_bytes(built))
    return built


def _built_bytes(built: _Built) -> int:
    """An estimate of what a finished entry holds (measured: 13 KB for x^2+3*y^2, 90-310 KB for
    products of tan factors and nested compositions): its LaTeX, and its code ~30 bytes a character
    once defined."""
    code = built.analysis.code
    chars = sum(len(c) for c in (code.f, code.grad, code.hess, code.value_and_grad))
    return 16 * 1024 + sum(len(v) for v in built.analysis.latex.values()) + 30 * chars


def _hold(key: tuple, future: Future, n: int) -> None:
    """Count a finished entry's bytes; drop the least recently used finished entries beyond _CACHE_BYTES."""
    with _cache_lock:
        if _cache.get(key) is not future:
            return
        _sizes[key] = n
        held = sum(_sizes.values())
        for old in [k for k in _cache if k in _sizes and k != key]:
            if held <= _CACHE_BYTES:
                break
            held -= _sizes.pop(old)
            del _cache[old]


def _run_worker(text: str, window: Window) -> _Built:
    reply = run_job(text, window, limits.TIME_LIMIT, limits.WALL_LIMIT)
    if reply.status == "error":
        raise reply.expression_error()
    analysis = reply.analysis
    # The worker made these functions from the same code and tested them; here they are only
    # checked against the printer's grammar and defined (generated.py says why that is safe).
    return _Built(analysis, generated.compiled(analysis.code, tuple(sorted(analysis.params)), analysis.expr))


def from_expression(text: str, /, *, window=None, **params: float) -> Landscape:
    """The :class:`~landscapes.core.Landscape` of a function the user typed, or :class:`ExpressionError`.

    ``text`` is a formula in ``x`` and ``y`` (see :mod:`landscapes.expression`
    for what may be typed). Every other name of letters is a parameter with default 1.0;
    pass values by keyword (``from_expression("a*x^2 + b*y^2", a=2, b=3)``).
    ``window`` is the view ((x_min, x_max), (y_min, y_max)), by default
    ((-3, 3), (-3, 3)).

    The returned surface computes f, its gradient and Hessian like any catalog
    surface. Where f is undefined (``log`` or ``sqrt`` of a negative number,
    a division by zero) ``f`` returns nan (or +-inf); the surface's ``hints``
    then have ``domain_warning`` True, and always:

    * ``domain_warning``: f is not a finite number somewhere on a 41 x 41 grid over the window
    * ``finite_fraction``: the share of that grid where f is finite
    * ``start``: a suggested start point where f and its gradient are finite
    * ``steps``: a suggested number of steps (200)
    * ``gradient_latex``, ``hessian_latex``: LaTeX of the derivatives, printed
      (not simplified) in the sandbox worker. Use these rather than the
      surface's ``gradient_latex`` / ``hessian_latex`` properties, which run
      ``sympy.simplify`` in the calling process, with no time limit.

    ``hints`` describe the parameter values given here: after ``with_params``
    call ``from_expression`` again with the new values (a cache hit: about a
    millisecond) to refresh them. Evaluating f where it is undefined makes
    NumPy warn (RuntimeWarning) unless called under ``np.errstate``.

    Refused (ExpressionError with a message for the student): anything that is
    not the whitelisted syntax, any bound exceeded, an unknown or wrongly
    passed parameter, a function that is complex-valued, undefined on almost
    all of the window, or that overflows the float range there (e.g.
    exp(exp(exp(exp(exp(x)))))), and anything the sandbox worker cannot finish
    within ``limits.TIME_LIMIT`` seconds of its CPU time and its memory limit
    (verdicts, cached). When the server is too loaded to tell (no free worker,
    the wall-clock cap ``limits.WALL_LIMIT`` reached with the CPU budget
    unspent, a worker killed from outside), ExpressionError is ``transient``:
    "the server is busy", not cached, and the same text may pass a moment later.
    """
    parsed = validate(text)
    window = check_window(window)
    unknown = sorted(set(params) - set(parsed.parameters))
    if unknown:
        found = ", ".join(parsed.parameters) or "none"
        raise ExpressionError(
            f"Parameter(s) {', '.join(unknown)} do not appear in the expression (its parameters: {found})."
        )
    values: dict[str, float] = {}
    for name in parsed.parameters:
        try:
            v = float(params.get(name, 1.0))
        except (TypeError, ValueError):
            raise ExpressionError(f"Parameter {name} must be a number.") from None
        if not math.isfinite(v):
            raise ExpressionError(f"Parameter {name} must be a finite number.")
        values[name] = v
    built = _compile_in_sandbox(parsed.text, window)
    landscape = Landscape(
        name="custom",
        expr=built.analysis.expr,
        params=values,
        window=window,
        description={
            "en": f"Your function: f(x, y) = {parsed.text}",
            "zh": f"你输入的函数：f(x, y) = {parsed.text}",
        },
        title={"en": "Custom", "zh": "自定义"},
        prebuilt=built.compiled,  # the worker's code: nothing is compiled in this process
    )
    try:
        hints, log_colors = _numeric_hints(landscape)
    except Exception as err:  # the worker evaluated the same functions: not expected
        raise refusal("not_compiled", why=type(err).__name__) from None
    hints.update(built.analysis.latex)
    return replace(landscape, hints=hints, log_colors=log_colors)


def _numeric_hints(landscape) -> tuple[dict, bool]:
    """Domain flag, suggested start and log-color choice from f on a grid over the window."""
    (x0, x1), (y0, y1) = landscape.window
    with np.errstate(all="ignore"):
        v = landscape.f(trial_grid(landscape.window)).ravel()
        finite = np.isfinite(v)
        fraction = float(finite.mean())
        start = ((x0 + x1) / 2, (y0 + y1) / 2)
        for fx, fy in ((0.8, 0.75), (0.2, 0.8), (0.75, 0.2), (0.25, 0.25), (0.6, 0.9), (0.9, 0.4)):
            p = np.array([x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)])
            value, grad = landscape.value_and_grad(p)
            if np.isfinite(value) and np.all(np.isfinite(grad)) and np.any(grad != 0):
                start = (round(float(p[0]), 6), round(float(p[1]), 6))
                break
        log_colors = False
        if finite.sum() >= 10:
            w = v[finite]
            low, mid, high = float(w.min()), float(np.median(w)), float(w.max())
            log_colors = bool(low >= 0 and mid > low and (high - low) > 5 * (mid - low))
    # "typed": the surface came from user text, so nothing may run unbounded
    # sympy work on it in this process (no exact critical-point search).
    hints = {"domain_warning": fraction < 1.0, "finite_fraction": fraction, "start": start, "steps": 200, "typed": True}
    return hints, log_colors


def clear_cache() -> None:
    """Forget every cached result (for tests)."""
    with _cache_lock:
        _cache.clear()
        _sizes.clear()
