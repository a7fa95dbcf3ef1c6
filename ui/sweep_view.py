"""The Sweep page's pieces: controls, the cached batched grid, refinement history, and the jump to the Playground."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import streamlit as st

import figures
import optimizers
import sweep
from i18n import t
from landscapes.catalog import CATALOG, is_data

from . import cache
from . import settings as S
from .charts import show
from .controls import choice
from .state import note_link_refused
from .lessons_view import open_in_playground
from .plotly_selection import UNREADABLE

CHART = "sweep_chart"
SEED = 0  # the one seed every run of a sweep shares (common random numbers); the Playground opens with it


@cache.shared(max_entries=64)
def cached_grid(
    surface: str, optimizer: str, x: str, y: str, box: tuple, n: int, steps: int, random: bool, scaling: str | None = None, batch: int | None = None
) -> sweep.Sweep:
    """The grid, shared by every session: its arrays read-only, so none can change them for the others.

    ``scaling`` and ``batch`` (the fixed mini-batch size, None: full batch) apply to a data
    surface; every run shares seed 0 (common random numbers, see :func:`sweep.run`)."""
    result = sweep.run(
        surface, optimizer, x, y, box, n=n, steps=steps, start=S.default_start(surface, scaling), random=random,
        scaling=scaling, batch_size=batch, seed=SEED,
    )  # fmt: skip
    cache.read_only(result.x, result.y, result.final_loss, result.status, result.steps)
    return result


def grid(
    surface: str, optimizer: str, x: str, y: str, box: tuple, n: int, steps: int, random: bool, scaling: str | None = None, batch: int | None = None
) -> tuple[sweep.Sweep, float]:
    """The sweep, and the seconds this call took to get it.

    Measured here, around the cache, on every call: the batched runs when the
    grid is new, the cache lookup when it was computed before (Back, a rerun,
    another session). A time stored with the result would report the first
    computation's milliseconds on every later hit as if it were this one."""
    t0 = time.perf_counter()
    result = cached_grid(surface, optimizer, x, y, box, n, steps, random, scaling, batch)  # positional: the memo's key
    return result, time.perf_counter() - t0


def full_box(x: str, y: str, surface: str | None = None) -> tuple[float, float, float, float]:
    return (*sweep.axis_range(x, surface), *sweep.axis_range(y, surface))


def history() -> list:
    return st.session_state.setdefault(S.SWEEP_HISTORY_KEY, [])


def label(name: str, lg: str) -> str:
    """A hyperparameter's (or run setting's) name, from its declaration's label key."""
    return t(optimizers.declaration(name).label, lg)


def _choice(label_text: str, options: list, default, key: str, format_func):
    # A value whose options changed (another surface or optimizer) goes back to its default: ``choice`` sees to it.
    return choice(label_text, options, default, key, format_func)


@dataclass(frozen=True)
class Controls:
    """What the Sweep's sidebar decided."""

    surface: str
    optimizer: str
    x: str
    y: str
    random: bool
    n: int
    steps: int
    metric: str
    scaling: str | None = None  # a data surface's input scaling
    batch: int | None = None  # the fixed mini-batch size (None: the full batch, or the size is on an axis)

    @property
    def setup(self) -> tuple:
        """What a refinement history belongs to (another setup starts from the full ranges)."""
        return (self.surface, self.optimizer, self.x, self.y, self.random, self.scaling, self.batch)

    @property
    def batch_axis(self) -> bool:
        return sweep.BATCH in (self.x, self.y)


def controls(lg: str) -> Controls:
    opening = _opening_link()
    surface = _choice(t("sw.landscape", lg), list(CATALOG), "rosenbrock", "sw_landscape", lambda n: CATALOG[n].title[lg])
    drawn: dict[str, object] = {"sw_landscape": surface}
    scaling = None
    if is_data(surface):
        scalings = S.scaling_options(surface)
        scaling = _choice(t("sw.scaling", lg), scalings, scalings[0], "sw_scaling", lambda s: t(f"sw.scaling.{s}", lg))
        drawn["sw_scaling"] = scaling
    first_order = [o for o in optimizers.names() if len(sweep.sweepable(o, surface)) >= 2]
    optimizer = _choice(t("sw.optimizer", lg), first_order, "adam", "sw_optimizer", lambda n: t(f"opt.{n}", lg))
    axes = sweep.sweepable(optimizer, surface)
    name = lambda n: label(n, lg)  # noqa: E731
    x = _choice(t("sw.x", lg), axes, axes[0], "sw_x", name)
    y = _choice(t("sw.y", lg), axes, axes[1], "sw_y", name)
    drawn.update(sw_optimizer=optimizer, sw_x=x, sw_y=y)
    batch = None
    if is_data(surface) and sweep.BATCH not in (x, y):
        n_train = sweep.training_size(surface)
        options = [str(o) for o in S.batch_options(surface)]  # "full", "1", "2", ...: the link's own spelling
        full = lambda o: t("sw.batch.full", lg, n=n_train) if o == S.FULL_BATCH else o  # noqa: E731
        chosen = _choice(t("sw.batch", lg), options, S.FULL_BATCH, "sw_batch", full)
        batch = S.batch_size_value(chosen)
        drawn["sw_batch"] = chosen
    mode = _choice(t("sw.mode", lg), list(S.SWEEP_MODES), S.SWEEP_MODES[0], "sw_mode", lambda n: t(f"sw.mode.{n}", lg))
    n = st.sidebar.slider(
        t("sw.n", lg), *S.SWEEP_N_RANGE, step=S.SWEEP_N_STEP, key="sw_n", bind="query-params",
        **({} if "sw_n" in st.session_state else {"value": S.SWEEP_N_DEFAULT}),
    )  # fmt: skip
    steps = st.sidebar.slider(
        t("sw.steps", lg), *S.SWEEP_STEPS_RANGE, step=S.SWEEP_STEPS_STEP, key="sw_steps", bind="query-params",
        **({} if "sw_steps" in st.session_state else {"value": S.SWEEP_STEPS_DEFAULT}),
    )  # fmt: skip
    metric = _choice(t("sw.metric", lg), list(sweep.METRICS), "final_loss", "sw_metric", lambda m: t(f"sw.metric.{m}", lg))
    drawn.update(sw_mode=mode, sw_n=n, sw_steps=steps, sw_metric=metric)
    _check_link(opening, drawn)
    for key in ("sw_scaling", "sw_batch"):  # a control not drawn leaves the link, which stays true to the page
        if key not in drawn and key in st.query_params:
            del st.query_params[key]
    return Controls(surface, optimizer, x, y, mode == "random", int(n), int(steps), metric, scaling, batch)


# -- the opening link ---------------------------------------------------------------------
# The router has already dropped every sw_ value no Sweep control could ever take
# (settings.invalid_query_keys). What remains depends on one another (the axes on the optimizer and
# the surface, the scaling and the batch size on the surface), so it is checked after the controls
# are drawn: a key of the opening link whose value no control took (or whose control is not drawn,
# such as sw_batch with the batch size on an axis) joins the page's one notice.
LINK_KEYS = ("sw_landscape", "sw_scaling", "sw_optimizer", "sw_x", "sw_y", "sw_batch", "sw_mode", "sw_n", "sw_steps", "sw_metric")
_OPENING_KEY = "_sw_opening_link"  # the Sweep keys of the link that opened this session's first Sweep page


def _opening_link() -> dict[str, str] | None:
    """The Sweep keys of the opening link, on the session's first Sweep page only (None later)."""
    if _OPENING_KEY in st.session_state:
        return None
    opening = {k: st.query_params.get_all(k)[-1] for k in LINK_KEYS if st.query_params.get_all(k)}
    st.session_state[_OPENING_KEY] = opening
    return opening


def _same(text: str, value) -> bool:
    try:
        return float(text) == float(value)
    except (TypeError, ValueError):
        return text == str(value)


def _check_link(opening: dict[str, str] | None, drawn: dict[str, object]) -> None:
    for key, text in (opening or {}).items():
        if key not in drawn or not _same(text, drawn[key]):
            note_link_refused(key)


def current_box(setup: tuple) -> tuple:
    """The box being searched: the last refinement made for this setup, else the full ranges."""
    h = [b for s, b in history() if s == setup]
    return h[-1] if h else full_box(setup[2], setup[3], setup[0])


def history_table() -> str:
    """The refinements so far as a Markdown table, one row per box.

    Not ``st.dataframe``: that makes the server import pandas and pyarrow
    (about 60 MB per process) for a table of a few short rows."""
    rows = [f"| {i + 1} | {b[0]:.3g} – {b[1]:.3g} | {b[2]:.3g} – {b[3]:.3g} |" for i, (_, b) in enumerate(history())]
    return "\n".join(["| | x | y |", "|--:|:--|:--|", *rows])


def refine_to(setup: tuple, box: tuple) -> None:
    history().append((setup, tuple(float(v) for v in box)))


def refine_to_selection(setup: tuple, result: sweep.Sweep) -> None:
    """on_select callback: refine into the box the user dragged (runs before the rerun, so one run draws it).

    A box reaching past the searched ranges is cut to them; a selection that cannot be used
    leaves the grid as it is. Either way the page says so (:func:`event_notice`)."""
    try:
        picked = selection_box(st.session_state.get(CHART), result)
    except UnusableSelection as refused:
        _note_event(setup, reason=refused.reason)
        return
    if picked is None:  # nothing selected (one cell clicked, a selection cleared)
        return
    box, cut = picked
    if box != result.box:
        refine_to(setup, box)
    _note_event(setup, cut=[(name, *searched_range(result, name)) for name in cut])  # nothing cut: no notice


def back() -> None:
    if history():
        history().pop()


def reset() -> None:
    history().clear()


# -- the heatmap's selection ----------------------------------------------------------------
# A selection comes from the browser: the box dragged on the heatmap, in axis units (log10 of a
# log-scale hyperparameter), or the lattice points inside it. Nothing in it is trusted. A drag
# reaches past the heatmap's edge (the cells stand half a cell beyond the range), beyond what a
# hyperparameter allows (beta1 = 1.004); a forged message holds anything (NaN, strings, 1e308,
# an exponent of 400, wrong shapes; text that is not JSON arrives marked UNREADABLE, see
# ui/plotly_selection.py). A box is cut to the searched ranges in axis units, before 10^u is
# taken (10^400 is no float).
_EVENT_KEY = "_sw_event_notice"  # what became of the last selection, and the grid it concerns


class UnusableSelection(ValueError):
    """A selection that cannot become a box; ``reason`` is why (a ``sw.event.reason.*`` key)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def searched_range(result: sweep.Sweep, name: str) -> tuple[float, float]:
    """The widest range a sweep searches over ``name`` (``sweep.axis_range``, from the declarations)."""
    held = result.x_range if name == result.x_name else result.y_range
    return held if held is not None else sweep.axis_range(name, result.surface or None)


def _numbers(values, count: int | None = None) -> list[float]:
    """``values`` as finite floats: a list (of ``count`` entries) of JSON numbers, nothing else."""
    if not isinstance(values, (list, tuple)) or (count is not None and len(values) != count):
        raise UnusableSelection("unreadable")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise UnusableSelection("not_numbers")
    try:
        out = [float(v) for v in values]
    except OverflowError:  # a JSON integer of hundreds of digits
        raise UnusableSelection("not_numbers") from None
    if not all(math.isfinite(v) for v in out):
        raise UnusableSelection("not_numbers")
    return out


def selection_corners(event) -> tuple[list[float], list[float]] | None:
    """The x and y values (axis units) a heatmap event spans: the dragged box's corners, else the
    selected points; None when nothing is selected. Raises UnusableSelection for anything else."""
    if event is None:
        return None
    if not isinstance(event, Mapping) or event.get(UNREADABLE):
        raise UnusableSelection("unreadable")
    selection = event.get("selection")
    if selection is None:
        return None
    if not isinstance(selection, Mapping):
        raise UnusableSelection("unreadable")
    boxes, points = selection.get("box") or [], selection.get("points") or []
    if not isinstance(boxes, list) or not isinstance(points, list):
        raise UnusableSelection("unreadable")
    if boxes:
        box = boxes[0]
        if not isinstance(box, Mapping):
            raise UnusableSelection("unreadable")
        return _numbers(box.get("x"), 2), _numbers(box.get("y"), 2)
    if len(points) < 2:  # one cell clicked: nothing to refine into
        return None
    if not all(isinstance(p, Mapping) for p in points):
        raise UnusableSelection("unreadable")
    return _numbers([p.get("x") for p in points]), _numbers([p.get("y") for p in points])


def _axis_span(values: list[float], name: str, log: bool, widest: tuple[float, float]) -> tuple[float, float, bool]:
    """(lo, hi) on ``name``'s own scale of ``values`` (axis units), cut to ``widest``; and whether it was cut."""
    a, b = widest
    to = math.log10 if log else float
    lo, hi = min(values), max(values)
    cut = lo < to(a) or hi > to(b)
    lo, hi = max(lo, to(a)), min(hi, to(b))  # in axis units: an exponent of 400 is cut to log10(b) first
    if not lo < hi:
        raise UnusableSelection("outside" if cut else "empty")
    back = (lambda u: 10.0**u) if log else (lambda u: u)
    lo, hi = min(max(back(lo), a), b), min(max(back(hi), a), b)  # 10^log10(a) can miss a by a rounding
    if sweep.is_whole(name):  # the batch size: whole-number ends, rounded outward (still within [a, b]: whole ends)
        lo, hi = float(math.floor(lo + 1e-9)), float(math.ceil(hi - 1e-9))
    if not lo < hi:
        raise UnusableSelection("empty")
    return lo, hi, cut


def selection_box(event, result: sweep.Sweep) -> tuple[tuple[float, float, float, float], list[str]] | None:
    """The box spanned by a heatmap ``event`` on the hyperparameters' own scale, cut to the searched
    ranges, and the names of the axes it was cut on; None when nothing is selected. Raises
    UnusableSelection for a selection that cannot be used."""
    corners = selection_corners(event)
    if corners is None:
        return None
    spans = [
        _axis_span(values, name, log, searched_range(result, name))
        for values, name, log in zip(corners, (result.x_name, result.y_name), (result.x_log, result.y_log))
    ]
    (x_lo, x_hi, x_cut), (y_lo, y_hi, y_cut) = spans
    cut = [name for name, was in ((result.x_name, x_cut), (result.y_name, y_cut)) if was]
    return (x_lo, x_hi, y_lo, y_hi), cut


def _note_event(setup: tuple, cut: list | None = None, reason: str | None = None) -> None:
    """Keep what became of a selection, for the grid now current: the axes it was ``cut`` on
    ([(name, lo, hi)]) or the ``reason`` it was refused (neither: nothing to say)."""
    st.session_state[_EVENT_KEY] = {"setup": setup, "box": tuple(current_box(setup)), "cut": cut or [], "reason": reason}


def event_notice(lg: str, setup: tuple, box: tuple) -> None:
    """Say what became of the last selection on the heatmap, while the grid it concerns is shown."""
    notice = st.session_state.get(_EVENT_KEY)
    if not notice or notice["setup"] != setup or notice["box"] != tuple(box):
        return  # another grid is shown (refined, back, reset, other settings): it no longer applies
    if notice["reason"]:
        st.warning(t("sw.event.ignored", lg, reason=t(f"sw.event.reason.{notice['reason']}", lg)), icon="⚠️")
    elif notice["cut"]:
        ranges = ", ".join(t("sw.event.range", lg, name=label(name, lg), lo=lo, hi=hi) for name, lo, hi in notice["cut"])
        st.warning(t("sw.event.clamped", lg, ranges=ranges), icon="✂️")


def heatmap(result: sweep.Sweep, metric: str, lg: str, setup: tuple) -> None:
    labels = {
        "metric": t(f"sw.metric.{metric}", lg),
        "best": t("sw.best", lg),
        "x": figures.axis_title(label(result.x_name, lg), result.x_log),
        "y": figures.axis_title(label(result.y_name, lg), result.y_log),
        "log_metric": metric == "final_loss",
    }
    show(
        figures.sweep_figure(result, result.metric(metric), labels),
        CHART,
        on_select=lambda: refine_to_selection(setup, result),
        selection_mode=("box", "points"),
    )


def playground_batch(surface: str, size: float | None):
    """The Playground's batch-size control value nearest to ``size``: "full" for the full batch
    (or the training size), else the nearest offered size on a log scale (the full batch
    counting as the training size)."""
    if size is None:
        return S.FULL_BATCH
    n_train = sweep.training_size(surface)
    options = [o for o in S.batch_options(surface) if o != S.FULL_BATCH]
    values = np.array(options + [n_train], dtype=float)
    picked = int(np.argmin(np.abs(np.log(values) - np.log(float(size)))))
    return S.FULL_BATCH if picked == len(options) else int(options[picked])


def open_best(c: Controls, xv: float, yv: float) -> None:
    """Open the best cell in the Playground: its optimizer and the two values (each at the Playground
    control's nearest value); on a data surface also the scaling and the batch size, the cell's own
    when the batch size is an axis, else the sweep's fixed one."""
    sx, sy = S.default_start(c.surface, c.scaling)
    state = {
        "landscape": c.surface,
        "optimizers": [c.optimizer],
        "steps": int(min(max(c.steps, S.STEPS_RANGE[0]), S.STEPS_RANGE[1])),
        "x0": float(sx),
        "y0": float(sy),
        "schedule": "constant",
        "warmup": 0,
        "noise": 0.0,
        "seed": SEED,
        "average": "none",
    }
    batch = c.batch
    for name, value in ((c.x, xv), (c.y, yv)):
        if name == sweep.BATCH:
            batch = value
        else:
            state[S.hyper_key(c.optimizer, name)] = S.hyper_value(name, value)  # the Playground control's nearest value
    if c.scaling is not None:
        state[S.SCALING_KEY] = c.scaling
        state[S.BATCH_KEY] = playground_batch(c.surface, batch)
        # Also set here, so the Playground gets them whatever open_in_playground copies.
        st.session_state[S.SCALING_KEY], st.session_state[S.BATCH_KEY] = state[S.SCALING_KEY], state[S.BATCH_KEY]
        st.session_state.setdefault(S.SEEDED_KEY, set()).update({S.SCALING_KEY, S.BATCH_KEY})
    open_in_playground(state)
