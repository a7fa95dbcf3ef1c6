"""The Sweep page's pieces: controls, the cached batched grid, refinement history, and the jump to the Playground."""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

import figures
import optimizers
import sweep
from i18n import t
from landscapes.catalog import CATALOG

from . import cache
from . import settings as S
from .charts import show
from .controls import choice
from .lessons_view import open_in_playground

CHART = "sweep_chart"


@cache.shared(max_entries=64)
def cached_grid(surface: str, optimizer: str, x: str, y: str, box: tuple, n: int, steps: int, random: bool) -> sweep.Sweep:
    """The grid, shared by every session: its arrays read-only, so none can change them for the others."""
    result = sweep.run(surface, optimizer, x, y, box, n=n, steps=steps, start=S.default_start(surface), random=random)
    cache.read_only(result.x, result.y, result.final_loss, result.status, result.steps)
    return result


def grid(surface: str, optimizer: str, x: str, y: str, box: tuple, n: int, steps: int, random: bool) -> tuple[sweep.Sweep, float]:
    """The sweep, and the seconds this call took to get it.

    Measured here, around the cache, on every call: the batched runs when the
    grid is new, the cache lookup when it was computed before (Back, a rerun,
    another session). A time stored with the result would report the first
    computation's milliseconds on every later hit as if it were this one."""
    t0 = time.perf_counter()
    result = cached_grid(surface, optimizer, x, y, box, n, steps, random)
    return result, time.perf_counter() - t0


def full_box(x: str, y: str) -> tuple[float, float, float, float]:
    return (*sweep.axis_range(x), *sweep.axis_range(y))


def history() -> list:
    return st.session_state.setdefault(S.SWEEP_HISTORY_KEY, [])


def controls(lg: str):
    surface = choice(t("sw.landscape", lg), list(CATALOG), "rosenbrock", "sw_landscape", lambda n: CATALOG[n].title[lg])
    first_order = [o for o in optimizers.names() if len(sweep.sweepable(o)) >= 2]
    optimizer = choice(t("sw.optimizer", lg), first_order, "adam", "sw_optimizer", lambda n: t(f"opt.{n}", lg))
    axes = sweep.sweepable(optimizer)
    label = lambda n: t(f"hp.{n}", lg)  # noqa: E731
    x = choice(t("sw.x", lg), axes, axes[0], "sw_x", label)
    y = choice(t("sw.y", lg), axes, axes[1], "sw_y", label)
    mode = choice(t("sw.mode", lg), ["grid", "random"], "grid", "sw_mode", lambda n: t(f"sw.mode.{n}", lg))
    n = st.sidebar.slider(t("sw.n", lg), 8, 64, step=8, key="sw_n", bind="query-params", **({} if "sw_n" in st.session_state else {"value": 64}))
    steps = st.sidebar.slider(t("sw.steps", lg), 50, 2000, step=50, key="sw_steps", bind="query-params", **({} if "sw_steps" in st.session_state else {"value": 500}))
    metric = choice(t("sw.metric", lg), list(sweep.METRICS), "final_loss", "sw_metric", lambda m: t(f"sw.metric.{m}", lg))
    return surface, optimizer, x, y, mode == "random", int(n), int(steps), metric


def current_box(setup: tuple) -> tuple:
    """The box being searched: the last refinement made for this setup, else the full ranges."""
    h = [b for s, b in history() if s == setup]
    return h[-1] if h else full_box(*setup[2:4])


def history_table() -> str:
    """The refinements so far as a Markdown table, one row per box.

    Not ``st.dataframe``: that makes the server import pandas and pyarrow
    (about 60 MB per process) for a table of a few short rows."""
    rows = [f"| {i + 1} | {b[0]:.3g} – {b[1]:.3g} | {b[2]:.3g} – {b[3]:.3g} |" for i, (_, b) in enumerate(history())]
    return "\n".join(["| | x | y |", "|--:|:--|:--|", *rows])


def refine_to(setup: tuple, box: tuple) -> None:
    history().append((setup, tuple(float(v) for v in box)))


def refine_to_selection(setup: tuple, result: sweep.Sweep) -> None:
    """on_select callback: refine into the box the user dragged (runs before the rerun, so one run draws it)."""
    box = selection_box(result)
    if box is not None and box != result.box:
        refine_to(setup, box)


def back() -> None:
    if history():
        history().pop()


def reset() -> None:
    history().clear()


def selection_box(result: sweep.Sweep) -> tuple | None:
    """The box spanned by the cells the user selected on the heatmap, on the hyperparameters' own scale."""
    event = st.session_state.get(CHART) or {}
    selection = event.get("selection") or {}
    boxes = selection.get("box") or []
    if boxes and len(boxes[0].get("x", [])) == 2 and len(boxes[0].get("y", [])) == 2:
        xs = np.array(boxes[0]["x"], dtype=float)  # the dragged box itself, in axis units
        ys = np.array(boxes[0]["y"], dtype=float)
    else:
        points = selection.get("points") or []
        if len(points) < 2:
            return None
        xs = np.array([p["x"] for p in points], dtype=float)
        ys = np.array([p["y"] for p in points], dtype=float)
    back = lambda log, v: 10**v if log else v  # noqa: E731
    return (back(result.x_log, xs.min()), back(result.x_log, xs.max()), back(result.y_log, ys.min()), back(result.y_log, ys.max()))


def heatmap(result: sweep.Sweep, metric: str, lg: str, setup: tuple) -> None:
    labels = {
        "metric": t(f"sw.metric.{metric}", lg),
        "best": t("sw.best", lg),
        "x": figures.axis_title(t(f"hp.{result.x_name}", lg), result.x_log),
        "y": figures.axis_title(t(f"hp.{result.y_name}", lg), result.y_log),
        "log_metric": metric == "final_loss",
    }
    show(
        figures.sweep_figure(result, result.metric(metric), labels),
        CHART,
        on_select=lambda: refine_to_selection(setup, result),
        selection_mode=("box", "points"),
    )


def open_best(surface: str, optimizer: str, x: str, xv: float, y: str, yv: float, steps: int) -> None:
    sx, sy = S.default_start(surface)
    state = {
        "landscape": surface,
        "optimizers": [optimizer],
        "steps": int(min(max(steps, S.STEPS_RANGE[0]), S.STEPS_RANGE[1])),
        "x0": float(sx),
        "y0": float(sy),
        "schedule": "constant",
        "warmup": 0,
        "noise": 0.0,
        "seed": 0,
        "average": "none",
    }
    for name, value in ((x, xv), (y, yv)):
        state[S.hyper_key(optimizer, name)] = S.hyper_value(name, value)  # the Playground control's nearest value
    open_in_playground(state)
