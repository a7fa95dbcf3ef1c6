"""Caching split by purpose: compiled surfaces are shared resources, derived arrays are data.

Keys are plain strings, numbers and tuples: sympy objects are not hashable by
Streamlit, and lambdified functions cannot be pickled by ``st.cache_data``.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

import figures
import landscapes
import optimizers

Params = tuple[tuple[str, float], ...]


@st.cache_resource(max_entries=64, show_spinner=False)
def surface(name: str, params: Params, expression: str = "") -> landscapes.Landscape:
    """A catalog surface, or a typed function (name "custom"), compiled once and shared by every session.

    A typed function goes through the sandboxed parser; its ExpressionError
    reaches the caller (and is not cached here; the parser keeps its own).
    """
    if name == "custom":
        s = landscapes.from_expression(expression, **dict(params))
        with np.errstate(all="ignore"):  # (0, 0) may be outside the domain
            s.f((0.0, 0.0))
            _ = s.critical_points
        return s
    s = landscapes.get(name, **dict(params))
    s.f((0.0, 0.0))  # compile now, not inside the first run
    _ = s.critical_points
    return s


@st.cache_data(max_entries=64, show_spinner=False)
def contour(name: str, params: Params, expression: str = "", n: int = 150) -> figures.Grid:
    return figures.grid(surface(name, params, expression), n)  # grid() masks points outside the domain


# A resource, not data: sessions share the same immutable Trajectory instead
# of each unpickling its own copy on every rerun (nobody mutates it).
@st.cache_resource(max_entries=512, show_spinner=False)
def trajectory(
    key: tuple[str, Params, str],
    optimizer: str,
    hyper: tuple[tuple[str, object], ...],
    start: tuple[float, float],
    steps: int,
    schedule: tuple[str, int],
    noise: float,
    seed: int,
    average: str,
) -> optimizers.Trajectory:
    """One run, cached by everything that decides it: moving one optimizer's slider reruns only that one."""
    sched_name, warmup = schedule
    return optimizers.run(
        surface(*key),
        optimizer,
        start=start,
        steps=steps,
        schedule=optimizers.schedules.make(sched_name, warmup_steps=warmup),
        noise=noise,
        seed=seed,
        average=None if average == "none" else average,
        **dict(hyper),
    )
