"""Caching split by purpose: compiled surfaces, contour grids, runs and schedules, each its own memo.

Every value here is built once per process and shared by every session, and
nobody mutates it (arrays, frozen dataclasses, compiled functions). Keys are
plain strings, numbers and tuples: sympy objects are not hashed.

Why not ``st.cache_resource`` / ``st.cache_data``: a rerun of the Playground
looks these up about ten times, and Streamlit hashes each call's arguments
with its own hasher (about a millisecond a lookup, profiled) and
``st.cache_data`` unpickles a copy on every hit. With 30 students moving a
slider at once that was a noticeable share of the server's only core. A
dictionary keyed by the (hashable) arguments costs microseconds. As Streamlit's
caches do, :func:`shared` computes each key once even when several sessions
ask for it at the same moment.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict

import numpy as np

import figures
import landscapes
import optimizers

Params = tuple[tuple[str, float], ...]


def read_only(*arrays) -> None:
    """Mark arrays that a shared memo hands to every session as read-only (None is skipped)."""
    for a in arrays:
        if isinstance(a, np.ndarray):
            a.setflags(write=False)


def shared(max_entries: int, key=None):
    """Memoize a function of hashable arguments for the whole process, least recently used out first.

    ``key(*args)``, when given, names the value instead of the arguments (some
    of which may then be unhashable). A value is computed by one thread; others
    asking for the same key wait for it. An exception is not cached (it
    reaches every caller that computed).
    """

    def decorate(fn):
        values: OrderedDict = OrderedDict()
        computing: dict = {}
        lock = threading.Lock()

        @functools.wraps(fn)
        def cached(*call_args):
            args = call_args if key is None else key(*call_args)
            with lock:
                if args in values:
                    values.move_to_end(args)
                    return values[args]
                key_lock = computing.setdefault(args, threading.Lock())
            with key_lock:
                with lock:
                    if args in values:  # computed by another session meanwhile
                        return values[args]
                try:
                    value = fn(*call_args)
                except BaseException:
                    with lock:
                        if computing.get(args) is key_lock:
                            del computing[args]
                    raise
                with lock:  # store and release in one step: no one can start a second computation
                    values[args] = value
                    if computing.get(args) is key_lock:
                        del computing[args]
                    while len(values) > max_entries:
                        values.popitem(last=False)
                return value

        def clear() -> None:
            with lock:
                values.clear()

        cached.clear = clear
        return cached

    return decorate


@shared(max_entries=64)
def surface(name: str, params: Params, expression: str = "", scaling: str = "") -> landscapes.Landscape:
    """A catalog surface, or a typed function (name "custom"), compiled once and shared by every session.

    A typed function goes through the sandboxed parser; its ExpressionError
    reaches the caller (and is not cached here; the parser keeps its own).
    ``scaling`` is a data surface's input scaling ("" for its default, or a formula surface).
    """
    if name == "custom":
        s = landscapes.from_expression(expression, **dict(params))
        with np.errstate(all="ignore"):  # (0, 0) may be outside the domain
            s.f((0.0, 0.0))
            _ = s.critical_points
        return s
    s = landscapes.get(name, scaling=scaling or None, **dict(params)) if landscapes.catalog.is_data(name) else landscapes.get(name, **dict(params))
    s.f((0.0, 0.0))  # compile now, not inside the first run
    _ = s.critical_points
    return s


@shared(max_entries=64)
def contour(name: str, params: Params, expression: str = "", scaling: str = "", n: int = 150) -> figures.Grid:
    return figures.grid(surface(name, params, expression, scaling), n)  # grid() masks points outside the domain


@shared(max_entries=512)
def trajectory(
    key: tuple[str, Params, str],
    optimizer: str,
    hyper: tuple[tuple[str, object], ...],
    start: tuple[float, float],
    steps: int,
    schedule: tuple[str, int, tuple[tuple[str, int], ...]],
    noise: float,
    seed: int,
    average: str,
    batch_size: int | None = None,
) -> optimizers.Trajectory:
    """One run, cached by everything that decides it: moving one optimizer's slider reruns only that one.

    ``schedule`` is (name, warm-up, options) as ``ui.settings.schedule_setting`` makes it;
    ``key`` is ``(name, params, expression[, scaling])`` as ``Scenario.surface``."""
    return optimizers.run(
        surface(*key),
        optimizer,
        start=start,
        steps=steps,
        schedule=make_schedule(schedule),
        noise=noise,
        seed=seed,
        average=None if average == "none" else average,
        **({"batch_size": batch_size} if batch_size is not None else {}),
        **dict(hyper),
    )


def make_schedule(schedule: tuple[str, int, tuple[tuple[str, int], ...]]):
    """The schedule function for (name, warm-up, options) (``ui.settings.schedule_setting``)."""
    name, warmup, options = schedule
    return optimizers.schedules.make(name, warmup_steps=warmup, **dict(options))


@shared(max_entries=64)
def schedule_factors(schedule: tuple[str, int, tuple[tuple[str, int], ...]], steps: int) -> np.ndarray:
    """The schedule's factor at steps 0 .. steps-1 (what the sidebar's small chart shows): the runs' own."""
    return make_schedule(schedule)(np.arange(steps))
