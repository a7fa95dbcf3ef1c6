"""Caching split by purpose: compiled surfaces are shared resources, derived arrays are data.

Keys are plain strings, numbers and tuples: sympy objects are not hashable by
Streamlit, and lambdified functions cannot be pickled by ``st.cache_data``.
"""

from __future__ import annotations

import streamlit as st

import figures
import landscapes
import optimizers

Params = tuple[tuple[str, float], ...]


@st.cache_resource(max_entries=64, show_spinner=False)
def surface(name: str, params: Params) -> landscapes.Landscape:
    """A catalog surface, compiled once and shared by every session."""
    s = landscapes.get(name, **dict(params))
    s.f((0.0, 0.0))  # compile now, not inside the first run
    _ = s.critical_points
    return s


@st.cache_data(max_entries=64, show_spinner=False)
def contour(name: str, params: Params, n: int = 150) -> figures.Grid:
    return figures.grid(surface(name, params), n)


@st.cache_data(max_entries=512, show_spinner=False)
def trajectory(
    name: str,
    params: Params,
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
        surface(name, params),
        optimizer,
        start=start,
        steps=steps,
        schedule=optimizers.schedules.make(sched_name, warmup_steps=warmup),
        noise=noise,
        seed=seed,
        average=None if average == "none" else average,
        **dict(hyper),
    )
