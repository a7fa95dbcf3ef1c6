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
    surface: str, optimizer: str, x: str, y: str, box: tuple, n: int, steps: int, random: bool, scaling: str | None = None, batch: int | None = None,
    fixed: tuple = (),
) -> sweep.Sweep:
    """The grid, shared by every session: its arrays read-only, so none can change them for the others.

    ``scaling`` and ``batch`` (the fixed mini-batch size, None: full batch) apply to a data
    surface; ``fixed``, the settings every run shares as sorted (name, value) pairs (see
    :func:`fixed_settings`); every run shares seed 0 (common random numbers, see :func:`sweep.run`)."""
    result = sweep.run(
        surface, optimizer, x, y, box, n=n, steps=steps, start=S.default_start(surface, scaling), random=random,
        scaling=scaling, batch_size=batch, seed=SEED, fixed=dict(fixed),
    )  # fmt: skip
    cache.read_only(result.x, result.y, result.final_loss, result.status, result.steps, result.basin, result.minima, result.minimum_losses)
    return result


def fixed_settings(optimizer: str, surface: str, scaling: str | None, axes: tuple[str, str], noise: float = 0.0) -> tuple:
    """What every run of a sweep shares, as sorted (name, value) pairs: the hyperparameters not on
    an axis at the surface's teaching values (those the Playground opens with), and the
    gradient ``noise`` when there is any."""
    out = {name: S.default_hyperparameter(optimizer, name, surface, scaling) for name in S.hyper_names(optimizer) if name not in axes}
    if noise:
        out["noise"] = float(noise)
    return tuple(sorted(out.items()))


@cache.shared(max_entries=32)
def cached_seeds(surface: str, optimizer: str, start: tuple, n: int, steps: int, scaling: str | None, batch: int | None, fixed: tuple) -> sweep.Seeds:
    """One start run with seeds 0 .. n-1 (:func:`sweep.seeds`), shared by every session, read-only."""
    settings = dict(fixed)
    noise = settings.pop("noise", 0.0)
    result = sweep.seeds(surface, optimizer, start, n=n, steps=steps, noise=noise, fixed=settings, scaling=scaling, batch_size=batch)
    cache.read_only(result.seeds, result.basin, result.final_loss, result.status, result.minima, result.minimum_losses)
    return result


def grid(
    surface: str, optimizer: str, x: str, y: str, box: tuple, n: int, steps: int, random: bool, scaling: str | None = None, batch: int | None = None,
    fixed: tuple = (),
) -> tuple[sweep.Sweep, float]:
    """The sweep, and the seconds this call took to get it.

    Measured here, around the cache, on every call: the batched runs when the
    grid is new, the cache lookup when it was computed before (Back, a rerun,
    another session). A time stored with the result would report the first
    computation's milliseconds on every later hit as if it were this one."""
    return _timed(cached_grid, surface, optimizer, x, y, box, n, steps, random, scaling, batch, fixed)  # positional: the memo's key


def _timed(f, *args):
    """``f(*args)`` and the seconds the call took (cache lookup included)."""
    t0 = time.perf_counter()
    result = f(*args)
    return result, time.perf_counter() - t0


def full_box(x: str, y: str, surface: str | None = None, scaling: str | None = None) -> tuple[float, float, float, float]:
    return (*sweep.axis_range(x, surface, scaling), *sweep.axis_range(y, surface, scaling))


def history() -> list:
    return st.session_state.setdefault(S.SWEEP_HISTORY_KEY, [])


def label(name: str, lg: str) -> str:
    """A hyperparameter's (or run setting's, or the start's coordinate's) name, from its declaration's label key."""
    if sweep.is_start(name):
        return t(f"sw.axis.{name}", lg)
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
    noise: float = 0.0  # the gradient noise of the seeded runs (formula surfaces; the maps are noise-free)
    vs: str | None = None  # on a map of starts: the optimizer whose map is drawn beside (None: none)
    seeds: int = S.SWEEP_SEEDS_DEFAULT  # on a map of starts: success over this many seeds ...
    seed_start: tuple[float, float] | None = None  # ... from this start

    @property
    def setup(self) -> tuple:
        """What a refinement history belongs to (another setup starts from the full ranges)."""
        return (self.surface, self.optimizer, self.x, self.y, self.random, self.scaling, self.batch)

    @property
    def batch_axis(self) -> bool:
        return sweep.BATCH in (self.x, self.y)

    @property
    def starts(self) -> bool:
        """Whether the axes are the start's two coordinates: a map of starts."""
        return sweep.maps_starts(self.x, self.y)

    def fixed(self, optimizer: str | None = None) -> tuple:
        """What every run of ``optimizer``'s grid shares (default: the chosen optimizer's), :func:`fixed_settings`:
        noise-free, so that where each cell ends is certain."""
        return fixed_settings(optimizer or self.optimizer, self.surface, self.scaling, (self.x, self.y))

    @property
    def compared(self) -> list[str]:
        """The optimizers whose maps are drawn: the chosen one, and the one beside it if any."""
        return [self.optimizer] + ([self.vs] if self.vs else [])

    def seed_settings(self, optimizer: str) -> tuple:
        """What every seeded run of ``optimizer`` shares: all its hyperparameters at their teaching values, and the noise."""
        return fixed_settings(optimizer, self.surface, self.scaling, (), self.noise)


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
    starts = sweep.maps_starts(x, y)
    metric = _choice(t("sw.metric", lg), list(sweep.METRICS), "basin" if starts else "final_loss", "sw_metric", lambda m: t(f"sw.metric.{m}", lg))
    drawn.update(sw_mode=mode, sw_n=n, sw_steps=steps, sw_metric=metric)
    vs, n_seeds, seed_start, noise = None, S.SWEEP_SEEDS_DEFAULT, None, 0.0
    if starts:
        others = [S.NO_COMPARISON] + [o for o in first_order if o != optimizer]
        compared = _choice(t("sw.vs", lg), others, S.NO_COMPARISON, "sw_vs", lambda o: t("sw.vs.none", lg) if o == S.NO_COMPARISON else t(f"opt.{o}", lg))
        vs = None if compared == S.NO_COMPARISON else compared
        n_seeds, seed_start, noise = _seed_controls(lg, surface, scaling)
        drawn.update(sw_vs=compared, sw_seeds=n_seeds, sw_sx=seed_start[0], sw_sy=seed_start[1])
        if not is_data(surface):
            drawn["sw_noise"] = noise
    _check_link(opening, drawn)
    # A control not drawn leaves the link, which stays true to the page. Those bound to the link
    # (sliders, number inputs) may not be deleted by hand: Streamlit clears theirs when the
    # control is gone at the end of the run.
    for key in ("sw_scaling", "sw_batch", "sw_vs"):
        if key not in drawn and key in st.query_params:
            del st.query_params[key]
    return Controls(surface, optimizer, x, y, mode == "random", int(n), int(steps), metric, scaling, batch, float(noise), vs, int(n_seeds), seed_start)


_SEEDED_SURFACE = "_sw_seeded_surface"  # the surface (and scaling) the seeded start belongs to


def _seed_controls(lg: str, surface: str, scaling: str | None) -> tuple[int, tuple[float, float], float]:
    """Success over seeds: how many seeds, from which start (within the window; the surface's
    teaching start by default) and, on a formula surface, with what gradient noise (a data
    surface's randomness is its mini-batches)."""
    st.sidebar.markdown(f"**{t('sw.seeds.title', lg)}**")
    n = st.sidebar.slider(
        t("sw.seeds.n", lg), *S.SWEEP_SEEDS_RANGE, step=S.SWEEP_SEEDS_STEP, key="sw_seeds", bind="query-params",
        **({} if "sw_seeds" in st.session_state else {"value": S.SWEEP_SEEDS_DEFAULT}),
    )  # fmt: skip
    noise = 0.0
    if not is_data(surface):
        noise = st.sidebar.select_slider(
            t("sw.noise", lg), S.NOISE_OPTIONS, key="sw_noise", bind="query-params", help=t("sw.noise_help", lg),
            **({} if "sw_noise" in st.session_state else {"value": 0.0}),
        )  # fmt: skip
    window = sweep.axis_range("x0", surface, scaling), sweep.axis_range("y0", surface, scaling)
    default = S.default_start(surface, scaling)
    # Another surface's start (or one outside the window): back to this surface's.
    moved = st.session_state.get(_SEEDED_SURFACE, (surface, scaling)) != (surface, scaling)
    st.session_state[_SEEDED_SURFACE] = (surface, scaling)
    start = []
    for key, label_key, (lo, hi), d in zip(("sw_sx", "sw_sy"), ("sw.seeds.x", "sw.seeds.y"), window, default):
        if key in st.session_state and (moved or not lo <= float(st.session_state[key]) <= hi):
            st.session_state[key] = float(d)
        start.append(
            st.sidebar.number_input(
                t(label_key, lg), min_value=float(lo), max_value=float(hi), step=0.1, format="%.3f", key=key, bind="query-params",
                **({} if key in st.session_state else {"value": float(d)}),
            )  # fmt: skip
        )
    return int(n), (float(start[0]), float(start[1])), float(noise)


# -- the opening link ---------------------------------------------------------------------
# The router has already dropped every sw_ value no Sweep control could ever take
# (settings.invalid_query_keys). What remains depends on one another (the axes on the optimizer and
# the surface, the scaling and the batch size on the surface), so it is checked after the controls
# are drawn: a key of the opening link whose value no control took (or whose control is not drawn,
# such as sw_batch with the batch size on an axis) joins the page's one notice.
LINK_KEYS = (
    "sw_landscape", "sw_scaling", "sw_optimizer", "sw_x", "sw_y", "sw_batch", "sw_noise", "sw_mode", "sw_n", "sw_steps", "sw_metric",
    "sw_vs", "sw_seeds", "sw_sx", "sw_sy",
)  # fmt: skip
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
    return h[-1] if h else full_box(setup[2], setup[3], setup[0], setup[5])


def history_table() -> str:
    """The refinements so far as a Markdown table, one row per box.

    Not ``st.dataframe``: that makes the server import pandas and pyarrow
    (about 60 MB per process) for a table of a few short rows."""
    rows = [f"| {i + 1} | {b[0]:.3g} – {b[1]:.3g} | {b[2]:.3g} – {b[3]:.3g} |" for i, (_, b) in enumerate(history())]
    return "\n".join(["| | x | y |", "|--:|:--|:--|", *rows])


def refine_to(setup: tuple, box: tuple) -> None:
    history().append((setup, tuple(float(v) for v in box)))


def refine_to_selection(setup: tuple, result: sweep.Sweep, key: str = CHART) -> None:
    """on_select callback: refine into the box the user dragged (runs before the rerun, so one run draws it).

    A box reaching past the searched ranges is cut to them; a selection that cannot be used
    leaves the grid as it is. Either way the page says so (:func:`event_notice`)."""
    try:
        picked = selection_box(st.session_state.get(key), result)
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
    return held if held is not None else sweep.axis_range(name, result.surface or None, result.scaling)


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


def playground_state(c: Controls, start: tuple[float, float], shown: list[str], noise: float = 0.0, batch=None) -> dict:
    """The Playground's state for runs of ``shown`` from ``start`` as the sweep ran them: the
    teaching settings (the Playground's own defaults), a constant rate, ``noise``, seed 0, the
    sweep's steps (within the Playground's range); on a data surface the sweep's scaling and
    ``batch`` (default: the sweep's fixed batch size) at the Playground control's nearest value."""
    state = {
        "landscape": c.surface,
        "optimizers": list(shown),
        "steps": int(min(max(c.steps, S.STEPS_RANGE[0]), S.STEPS_RANGE[1])),
        "x0": float(start[0]),
        "y0": float(start[1]),
        "schedule": "constant",
        "warmup": 0,
        "noise": float(noise),
        "seed": SEED,
        "average": "none",
    }
    if c.scaling is not None:
        state[S.SCALING_KEY] = c.scaling
        state[S.BATCH_KEY] = playground_batch(c.surface, c.batch if batch is None else batch)
    return state


def best_state(c: Controls, xv: float, yv: float) -> dict:
    """The Playground's state for the best cell: its optimizer and the two values (a hyperparameter
    at the Playground control's nearest value); the batch size and the start the cell's own when
    they are axes."""
    values = {c.x: xv, c.y: yv}
    default = S.default_start(c.surface, c.scaling)
    start = tuple(float(values.get(name, d)) for name, d in zip(sweep.START_AXES, default))
    state = playground_state(c, start, [c.optimizer], batch=values.get(sweep.BATCH))
    for name, value in values.items():
        if name != sweep.BATCH and not sweep.is_start(name):
            state[S.hyper_key(c.optimizer, name)] = S.hyper_value(name, value)  # the Playground control's nearest value
    return state


# A button or a click on a map asks for the Playground in its callback, which cannot switch
# pages; the state waits here, and the next run opens it before it draws (or computes) anything.
_PENDING_OPEN = "_sw_open_in_playground"


def request_open(state: dict) -> None:
    """Callback: open ``state`` in the Playground at the start of the next run."""
    st.session_state[_PENDING_OPEN] = state


def open_requested() -> None:
    """Open the Playground if a button or a click asked for it (call first: the page is not drawn)."""
    state = st.session_state.pop(_PENDING_OPEN, None)
    if state is None:
        return
    if S.SCALING_KEY in state:  # also set here, so the Playground gets them whatever open_in_playground copies
        st.session_state[S.SCALING_KEY], st.session_state[S.BATCH_KEY] = state[S.SCALING_KEY], state[S.BATCH_KEY]
        st.session_state.setdefault(S.SEEDED_KEY, set()).update({S.SCALING_KEY, S.BATCH_KEY})
    open_in_playground(state)


# -- a map of starts: basins of attraction, and success over seeds ----------------------------
CHART_VS = "sweep_chart_vs"  # the second optimizer's map
MAP_HEIGHT = {1: 640, 2: 430}  # px, by maps side by side: the legend above, the window wider than tall
SEEDS_CHART = "sweep_seeds_chart"


def _outcome_name(code: int, global_minima: list[int], lg: str) -> str:
    if code >= 0:
        return t("sw.basin.global" if code in global_minima else "sw.basin.minimum", lg, k=code + 1)
    return t(f"sw.basin.outcome.{code}", lg)


def basin_labels(result, lg: str) -> dict:
    """The basin map's words (:func:`figures.basin_figure`): axis titles, one legend entry per
    outcome with its share of the runs, and each outcome's hover text."""
    glob = result.global_minima()
    reached = [s for s in result.shares() if s.count]
    if len(reached) > figures.LEGEND_MAX:  # the legend shows the most reached first (minima before the other outcomes)
        reached.sort(key=lambda s: (s.code < 0, -s.count, s.code))
    outcome = [(s.code, t("sw.basin.legend", lg, name=_outcome_name(s.code, glob, lg), share=100 * s.share)) for s in reached]
    hover = {code: t(f"sw.basin.hover.{code}", lg, steps="{steps}") for code in sweep.OUTCOMES}
    for k, (mx, my) in enumerate(np.asarray(result.minima)):
        hover[k] = t("sw.basin.hover.minimum", lg, k=k + 1, x=mx, y=my, steps="{steps}")
    return {
        "x": figures.axis_title(label(result.x_name, lg), result.x_log),
        "y": figures.axis_title(label(result.y_name, lg), result.y_log),
        "outcome": outcome,
        "hover": hover,
        "minimum": t("sw.basin.star", lg),
        "more": t("sw.basin.more", lg),
    }


def _levels(result: sweep.Sweep):
    """The surface's level lines under a map of starts (the Playground's shared contour grid), else None."""
    if not result.starts_swept:
        return None
    params = tuple(sorted(CATALOG[result.surface].defaults.items()))
    return cache.contour(result.surface, params, "", result.scaling or "")


def basin_map(result: sweep.Sweep, lg: str, c: Controls, setup: tuple, key: str = CHART, height: int = 600) -> None:
    """Draw where each run ended, with the seeded runs' start marked; a click on a cell of a map
    of starts opens it in the Playground, a box (the toolbar's Box Select) refines into it."""
    mark = (*c.seed_start, t("sw.seeds.start", lg)) if c.starts and c.seed_start else None
    show(
        figures.basin_figure(result, basin_labels(result, lg), _levels(result), height=height, mark=mark),
        key,
        on_select=lambda: pick_or_refine(c, setup, result, key),
        selection_mode=("box", "points"),
    )


def clicked_point(event, result: sweep.Sweep) -> tuple[float, float] | None:
    """The one cell a click on a map of starts chose, as a start (x0, y0); None for anything else
    a selection can be (a box, several points, nothing). Raises UnusableSelection for a click
    that is not a finite point of the searched window."""
    if not result.starts_swept or not isinstance(event, Mapping) or event.get(UNREADABLE):
        return None
    selection = event.get("selection")
    if not isinstance(selection, Mapping) or selection.get("box") or not isinstance(selection.get("points"), list):
        return None
    points = selection["points"]
    if len(points) != 1:
        return None
    point = points[0]
    if not isinstance(point, Mapping):
        raise UnusableSelection("unreadable")
    x, y = _numbers([point.get("x"), point.get("y")], 2)
    if not (_within(x, searched_range(result, result.x_name)) and _within(y, searched_range(result, result.y_name))):
        raise UnusableSelection("outside")
    # The browser reports the cell's centre as drawn (float32): the run's own start is the nearest one.
    if result.random:
        i = int(np.argmin(np.hypot(result.x - x, result.y - y)))
        x, y = float(result.x[i]), float(result.y[i])
    else:
        x, y = float(result.x[np.argmin(np.abs(result.x - x))]), float(result.y[np.argmin(np.abs(result.y - y))])
    values = {result.x_name: x, result.y_name: y}
    return values["x0"], values["y0"]


def _within(value: float, bounds: tuple[float, float], slack: float = 1e-6) -> bool:
    lo, hi = bounds
    return lo - slack * (hi - lo) <= value <= hi + slack * (hi - lo)


def pick_or_refine(c: Controls, setup: tuple, result: sweep.Sweep, key: str = CHART) -> None:
    """on_select callback of a basin map: one cell clicked on a map of starts opens that start in
    the Playground, with the optimizers of the maps; a box zooms into it (:func:`refine_to_selection`)."""
    try:
        start = clicked_point(st.session_state.get(key), result)
    except UnusableSelection as refused:
        _note_event(setup, reason=refused.reason)
        return
    if start is not None:
        request_open(playground_state(c, start, c.compared))
        return
    refine_to_selection(setup, result, key)


def fixed_caption(c: Controls, optimizer: str, lg: str) -> str:
    """What every run of ``optimizer``'s grid shares, in words: the settings and start coordinates off the axes."""
    def value(v) -> str:
        return t("sw.on" if v else "sw.off", lg) if isinstance(v, bool) else f"{v:g}"

    shared = list(c.fixed(optimizer))
    shared += [(name, v) for name, v in zip(sweep.START_AXES, S.default_start(c.surface, c.scaling)) if name not in (c.x, c.y)]
    settings = ", ".join(f"{label(name, lg)} = {value(v)}" for name, v in shared) or t("sw.fixed.none", lg)
    return t("sw.fixed", lg, opt=t(f"opt.{optimizer}", lg), settings=settings)


def seeds_result(c: Controls, optimizer: str) -> tuple[sweep.Seeds, float]:
    """``optimizer`` run from the seeded start with seeds 0 .. n-1, and the seconds this call took (see :func:`grid`)."""
    return _timed(cached_seeds, c.surface, optimizer, c.seed_start, c.seeds, c.steps, c.scaling, c.batch, c.seed_settings(optimizer))


def seeds_chart(results: list[sweep.Seeds], lg: str) -> None:
    """The share of seeds ending at each minimum (and each other outcome) that some optimizer's
    seeds reached, per optimizer, with 95% intervals."""
    glob = results[0].global_minima()
    counts = [{s.code: s for s in r.shares()} for r in results]
    codes = [s.code for s in results[0].shares() if any(c.get(s.code) and c[s.code].count for c in counts)]
    for c in counts[1:]:
        codes += [code for code, s in c.items() if s.count and code not in codes]
    bars = []
    for r, by_code in zip(results, counts):
        rows = [by_code.get(code, sweep.Share(code, 0, r.n)) for code in codes]
        bars.append({
            "optimizer": r.optimizer, "name": t(f"opt.{r.optimizer}", lg),
            "share": [100 * s.share for s in rows], "low": [100 * s.interval[0] for s in rows], "high": [100 * s.interval[1] for s in rows],
        })  # fmt: skip
    labels = {"outcomes": [_outcome_name(code, glob, lg) for code in codes], "axis": t("sw.seeds.axis", lg), "ci": t("sw.seeds.ci", lg)}
    show(figures.seeds_figure(bars, labels), SEEDS_CHART)


def percent(share: float) -> str:
    """A share (0 .. 1) as a percentage in whole numbers, unless that would read 0% or 100% while it is neither (1 of 200: 0.5%)."""
    whole = f"{100 * share:.0f}"
    return f"{100 * share:.1f}" if whole in ("0", "100") and 0 < share < 1 else whole


def timing(seconds: float, lg: str) -> str:
    """How long getting a result took, in words: a result another session (or an earlier run) computed came from the cache."""
    return t("sw.cached", lg) if seconds < CACHE_HIT_S else t("sw.ms", lg, ms=seconds * 1e3)


CACHE_HIT_S = 0.002  # faster than any grid or seeded run computes: the shared cache answered


def basins_section(c: Controls, lg: str, setup: tuple, box: tuple) -> None:
    """The basin map of each compared optimizer over the same grid, with the share of runs reaching a global minimum."""
    st.subheader(t("sw.basin.title" if c.starts else "sw.basin.title_settings", lg))
    st.caption(t("sw.basin.intro" if c.starts else "sw.basin.intro_settings", lg, steps=c.steps, tol=sweep.BASIN_TOL))
    event_notice(lg, setup, box)
    shown = c.compared
    for column, optimizer, key in zip(st.columns(len(shown)), shown, (CHART, CHART_VS)):
        result, seconds = grid(c.surface, optimizer, c.x, c.y, box, c.n, c.steps, c.random, c.scaling, c.batch, c.fixed(optimizer))
        reached, name = result.reached_global(), t(f"opt.{optimizer}", lg)
        with column:
            st.markdown(f"**{name}**")
            basin_map(result, lg, c, setup, key, height=MAP_HEIGHT[len(shown)])
            if not len(result.minima):
                st.caption(t("sw.basin.no_minimum", lg, opt=name, time=timing(seconds, lg)))
            else:
                words = "sw.basin.shares" if c.starts else "sw.basin.shares_runs"
                st.caption(t(words, lg, opt=name, share=100 * reached.share, n=reached.total, time=timing(seconds, lg)))
            st.caption(fixed_caption(c, optimizer, lg))
    if c.scaling is not None and c.batch is not None:
        st.caption(t("sw.basin.minibatch", lg, batch=c.batch))
    st.caption(t("sw.basin.click", lg) if c.starts else t("sw.basin.box", lg))


def seeds_section(c: Controls, lg: str) -> None:
    """Success over seeds from one start: a bar per outcome and optimizer, in words, and the spread of final losses."""
    st.subheader(t("sw.seeds.title", lg))
    if c.scaling is not None:
        st.caption(t("sw.seeds.intro_batch", lg, n=c.seeds, batch=c.batch or sweep.training_size(c.surface), steps=c.steps))
        if c.batch is None:
            st.info(t("sw.seeds.no_batch", lg))
    else:
        st.caption(t("sw.seeds.intro", lg, n=c.seeds, steps=c.steps, noise=c.noise))
        if not c.noise:
            st.info(t("sw.seeds.no_noise", lg))
    results, seconds = zip(*(seeds_result(c, optimizer) for optimizer in c.compared))
    seeds_chart(list(results), lg)
    for r in results:
        reached = r.reached_global()
        lo, hi = reached.interval
        name = t(f"opt.{r.optimizer}", lg)
        if len(r.minima):
            st.markdown(t("sw.seeds.sentence", lg, opt=name, share=percent(reached.share), n=r.n, lo=percent(lo), hi=percent(hi)))
        else:
            st.markdown(t("sw.seeds.no_minimum", lg, opt=name, n=r.n))
        p5, p50, p95 = r.loss_spread()
        if p50 == p50:  # not every seed diverged
            st.caption(t("sw.seeds.spread", lg, opt=name, p5=p5, p50=p50, p95=p95))
    st.caption(t("sw.seeds.timing", lg, runs=sum(r.n for r in results), time=timing(sum(seconds), lg)))
    st.button(t("sw.seeds.open", lg), key="sw_seeds_open", on_click=request_open, args=(playground_state(c, c.seed_start, c.compared, c.noise),))
