"""The Playground's state layer: what the user set, settled before anything is drawn.

The values come from the opening link (once per session), the session, and the
hyperparameter panel's report (its callback runs before the rerun); callbacks that
change them (a new surface, a click on the contour, an example function) live here
too. ``ui/compute.py`` turns settled values into runs and figures, ``ui/views.py``
and the widgets in ``ui/controls.py`` draw them.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np
import streamlit as st

import landscapes
import optimizers
from landscapes.catalog import CATALOG

from . import hyper_panel
from . import settings as S

START_LIMITS = S.START_RANGE  # what the start's number inputs accept
OVERLAYS = ("field", "eigen", "taylor")  # the paths view's switches, in display order


def lang() -> str:
    return st.session_state.get("lang", "en")


# Choice widgets with translated labels are synced with the URL here rather
# than by bind="query-params": a bound choice is written to the URL as its
# *label*, and a link must say landscape=rosenbrock in every language.


def from_link(key: str, valid, multi: bool = False) -> None:
    """On a session's first run, seed ``key`` from the opening link when every value is valid."""
    seeded = st.session_state.setdefault(S.SEEDED_KEY, set())
    if key in seeded:
        return
    seeded.add(key)
    values = st.query_params.get_all(key)
    if values and all(valid(v) for v in values):
        st.session_state[key] = list(dict.fromkeys(values)) if multi else values[-1]


def keep_offered(key: str, options, default) -> None:
    """Before a choice widget is drawn: a value its options do not hold goes back to the last one
    it took (else ``default``), so the page never runs on it.

    Options change on purpose (another surface offers other scalings, another optimizer other
    axes): the value it held is then no longer offered, and falls back silently. A value that
    changed since the last run and is not offered did not come from the list the browser shows
    (a forged widget message, which Streamlit passes on as it came): it is ignored, and the page
    says so."""
    state = st.session_state
    if key not in state:
        return
    value, held = state[key], state.get(S.held_key(key))
    many = isinstance(value, list)
    offered = all(v in options for v in value) if many else value in options
    if offered:
        return
    if held is not None and value != held:
        note_widget_refused(key)
    if many:
        state[key] = [v for v in (held or []) if v in options] or list(default)
    else:
        state[key] = held if held in options else default


def take_offered(key: str, value) -> None:
    """After a choice widget is drawn: remember the value it took (``keep_offered`` falls back to it)."""
    st.session_state[S.held_key(key)] = value


def note_widget_refused(key: str) -> None:
    """Name ``key`` in this run's notice: its control received a value it does not offer."""
    bad = st.session_state.setdefault(S.WIDGET_NOTICE_KEY, [])
    if key not in bad:
        bad.append(key)


def to_link(key: str, value, default) -> None:
    """Mirror ``value`` into the URL; a default leaves the link short."""
    if value == default:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get_all(key) != (value if isinstance(value, list) else [value]):
        st.query_params[key] = value


def clamp_step(key: str, last: int) -> int | None:
    """Keep a step slider's value within a run that got shorter (fewer steps, another surface),
    before the slider is drawn: Streamlit would otherwise put it back to 0. Returns the value
    the slider will have (None before it has one)."""
    value = st.session_state.get(key)
    if not isinstance(value, (int, float)):
        return None
    if value > last:
        st.session_state[key] = int(last)
    return int(min(value, last))


@dataclass(frozen=True)
class Scenario:
    """Everything the Playground's controls decide, as plain values (cache keys)."""

    landscape: str
    params: tuple[tuple[str, float], ...]
    optimizers: tuple[str, ...]
    hyper: dict[str, tuple[tuple[str, object], ...]]
    start: tuple[float, float]
    steps: int
    schedule: S.ScheduleSetting  # (name, warm-up, options of schedules.make): S.schedule_setting
    noise: float
    seed: int
    average: str
    expression: str = ""  # the typed function, when landscape == "custom"
    scaling: str = ""  # a data surface's input scaling ("" on a formula surface)
    batch_size: int | None = None  # a data surface's mini-batch size (None: the full batch)

    @property
    def key(self) -> tuple:
        """Everything above that decides what is shown, as one hashable value (a cache key): the
        seed only when the runs draw from it."""
        seed = self.seed if optimizers.seed_matters(self.noise, self.batch_size) else 0
        return (
            self.surface, self.optimizers, tuple(sorted(self.hyper.items())), self.start, self.steps, self.schedule,
            self.noise, seed, self.average, self.batch_size,
        )  # fmt: skip

    @property
    def surface(self) -> tuple[str, tuple[tuple[str, float], ...], str, str]:
        """The cache key of the surface: (name, parameters, typed text, input scaling)."""
        return (self.landscape, self.params, self.expression, self.scaling)


def reset_for_surface() -> None:
    """A new surface: its own start, steps, parameters and suggested learning rates."""
    name = st.session_state["landscape"]
    if name not in S.landscape_options():
        return  # not a surface (a forged message): the list puts the last one back and the page says so
    if name == S.CUSTOM:
        reset_start_for_custom()
        st.session_state["steps"] = 200
    else:
        x0, y0 = S.default_start(name)
        st.session_state["x0"], st.session_state["y0"] = float(x0), float(y0)
        st.session_state["steps"] = S.default_steps(name)
        for p, v in landscapes.parameter_defaults(name).items():
            st.session_state[S.param_key(p)] = float(v)
    scaling = S.default_scaling(name)
    if scaling is not None:
        st.session_state[S.SCALING_KEY] = scaling
        st.session_state[S.BATCH_KEY] = S.FULL_BATCH
    st.session_state.update(S.hyperparameter_state(name, scaling=scaling))


def reset_for_scaling() -> None:
    """A new input scaling of a data surface: another parameterization, so its own start, steps and rates."""
    name, scaling = st.session_state["landscape"], st.session_state.get(S.SCALING_KEY)
    if name not in S.landscape_options() or scaling not in S.scaling_options(name):
        return  # a scaling this surface does not offer (a forged message): the control falls back before it is drawn
    x0, y0 = S.default_start(name, scaling)
    st.session_state["x0"], st.session_state["y0"] = float(x0), float(y0)
    st.session_state["steps"] = S.default_steps(name, scaling)
    st.session_state.update(S.hyperparameter_state(name, scaling=scaling))


def note_link_refused(key: str) -> bool:
    """Add ``key`` to the opening link's keys that could not be used (the page's notice lists them);
    False if it was there already (the notice on screen names it)."""
    bad = st.session_state.setdefault(S.LINK_NOTICE_KEY, [])
    if key in bad:
        return False
    bad.append(key)
    return True


def reset_start_for_custom() -> None:
    """Start where the typed function (with its current parameters) is defined."""
    text = st.session_state.get("fx", S.DEFAULT_EXPRESSION)
    try:
        names = landscapes.parameters(text)
        values = {p: float(st.session_state.get(S.custom_key(p), 1.0)) for p in names}
        start = landscapes.from_expression(text, **values).hints["start"]
    except landscapes.ExpressionError:
        return  # the box will say what is wrong; the start stays as it was
    st.session_state["x0"], st.session_state["y0"] = round(float(start[0]), 3), round(float(start[1]), 3)


def use_example() -> None:
    example = st.session_state.get("fx_example")
    if example:
        st.session_state["fx"] = example
        reset_start_for_custom()
    st.session_state["fx_example"] = None


def settled_hyperparameters(base: Scenario) -> Scenario:
    """``base`` (the sidebar's choices) completed by each chosen optimizer's hyperparameters as
    they stand now, before their panel is drawn, and mirrored into the link.

    The values live in session state under their keys (``adam_lr``, ...): a link
    seeds them, a new surface resets them, the panel's report changes them (its
    callback runs before this rerun does).
    """
    scaling = base.scaling or None
    hyper = {opt: tuple((hp, _held_hyper(opt, hp, base.landscape, scaling)) for hp in S.hyper_names(opt)) for opt in base.optimizers}
    hyper_links(hyper, base.landscape, scaling)
    return dataclasses.replace(base, hyper=hyper)


def _held_hyper(opt: str, hp: str, surface: str, scaling: str | None = None):
    """A hyperparameter's value: the opening link's once per session, else the one held, else the surface's default."""
    key = S.hyper_key(opt, hp)
    seeded = st.session_state.setdefault(S.SEEDED_KEY, set())
    if key not in seeded:
        seeded.add(key)
        values = [S.hyper_from_link(hp, text) for text in st.query_params.get_all(key)]
        if values and all(v is not None for v in values):  # as for every other key: all or nothing
            st.session_state[key] = values[-1]
    if key not in st.session_state:
        st.session_state[key] = S.default_hyperparameter(opt, hp, surface, scaling)
    return st.session_state[key]


def hyper_links(hyper: dict[str, tuple[tuple[str, object], ...]], surface: str, scaling: str | None = None) -> None:
    """Mirror the chosen optimizers' hyperparameters (``Scenario.hyper``) into the link, and
    take every other optimizer's out of it; a surface's default leaves its key out."""
    keys = S.hyper_keys()
    defaults = _default_link_texts(tuple(keys.items()), surface, scaling)
    in_link = set(st.query_params.keys())  # read once: most keys are neither set nor in the link
    chosen = {opt: dict(values) for opt, values in hyper.items()}
    for key, (opt, hp) in keys.items():
        value = chosen.get(opt, {}).get(hp)
        text = defaults[key] if value is None else S.hyper_link_text(value)
        if text != defaults[key] or key in in_link:
            to_link(key, text, defaults[key])


@functools.lru_cache(maxsize=256)  # the same on every move of a surface
def _default_link_texts(keys: tuple[tuple[str, tuple[str, str]], ...], surface: str, scaling: str | None) -> dict[str, str]:
    """How the link spells each hyperparameter's default on ``surface`` (``keys``: ``S.hyper_keys()``'s items)."""
    return {key: S.hyper_link_text(S.default_hyperparameter(opt, hp, surface, scaling)) for key, (opt, hp) in keys}


def hyper_changed() -> None:
    """The panel's on_change: keep the values it reported (a malformed report changes nothing)."""
    for key, value in hyper_panel.reported_changes() or ():
        st.session_state[key] = value


def settled_view(views: tuple[str, ...] = S.VIEWS) -> str:
    """The view the switch will show: the opening link's, else the one held (its switch is drawn later)."""
    from_link("view", lambda v: v in views)
    value = st.session_state.get("view", st.session_state.get(S.VIEW_HELD_KEY, views[0]))
    return value if value in views else views[0]


def settled_paths_view(last: int) -> tuple[dict[str, bool], int]:
    """The paths view's overlay switches and inspected step, settled before their widgets are
    drawn: the session's values, else the opening link's, else the defaults; the step kept
    within 0..``last``. Written into session state, so the widgets show exactly these."""
    state = st.session_state
    for key in OVERLAYS:
        if key not in state:
            text = st.query_params.get(key)
            state[key] = S.valid_link_value(key, text) and text.lower() == "true"
    if not isinstance(state.get("inspect"), int):
        text = st.query_params.get("inspect")
        # As the bound slider reads a link: a number within range, its whole part.
        state["inspect"] = int(float(text)) if S.valid_link_value("inspect", text) else 0
    state["inspect"] = min(max(int(state["inspect"]), 0), int(last))
    return {k: bool(state[k]) for k in OVERLAYS}, state["inspect"]


def set_start_from_click(chart_key: str) -> None:
    """on_click callback of the path chart: the clicked point becomes the start.

    The chart reports only clicks on the contour's plot area (not on the loss
    panel, not the end of a drag), as ``{"x": .., "y": ..}``.
    """
    click = (st.session_state.get(chart_key) or {}).get("click")
    try:
        x, y = float(click["x"]), float(click["y"])
    except (TypeError, KeyError, ValueError):
        return
    if np.isfinite(x) and np.isfinite(y):
        # Within the start inputs' range (a click on a far zoomed-out view can lie outside).
        lo, hi = START_LIMITS
        st.session_state["x0"] = round(min(max(x, lo), hi), 3)
        st.session_state["y0"] = round(min(max(y, lo), hi), 3)
        if _fragment_is_current():
            st.session_state[S.START_SHOWN_KEY] = False
            st.rerun([RACE, START])  # the runs and the start's inputs, not the rest of the sidebar
        st.session_state[S.START_CLICKED_KEY] = True  # else the race, which reruns, has the page redrawn


RACE = "race"  # the Playground's fragment: hyperparameters, runs and views
SCHEDULE = "schedule_plot"  # the sidebar's fragment: the learning-rate schedule's plot
START = "start_inputs"  # the sidebar's fragment: the start's two inputs


# The controls outside the race fragment that decide what it draws, but for the run-only ones
# (steps, start, schedule, warm-up, cyclical period, noise, seed, averaging, a catalog surface's
# parameters), which it reads itself.
_PAGE_KEYS = ("landscape", "fx", S.SCALING_KEY, S.BATCH_KEY, "optimizers", "lang", "present")


def _page_settings() -> tuple:
    ss = st.session_state
    # The typed function's parameters by the keys of their sliders (listing the session's keys
    # would read every widget's value).
    typed = tuple((k, repr(ss[k])) for k in ss.get(S.TYPED_KEYS_KEY, ()) if k in ss)
    # The cyclical schedule alone shows a control of its own (its period): a change to or from it
    # redraws the sidebar.
    cyclical = ss.get("schedule") == "cyclical"
    return tuple(repr(ss.get(k)) for k in _PAGE_KEYS) + (cyclical,) + tuple(typed)


def race_drawn() -> None:
    """Call when a full run has drawn the race fragment to its end: a run-only control may then
    rerun it alone, while the page's other controls stay as they are now."""
    st.session_state[S.RACE_DRAWN_KEY] = _page_settings()


def race_undrawn() -> None:
    """Call when a full run starts drawing the page: until it has drawn the fragment, a move reruns the page."""
    st.session_state.pop(S.RACE_DRAWN_KEY, None)


def _fragment_is_current() -> bool:
    """Whether the fragment Streamlit holds was drawn by a full run with the page's controls as they
    are now. Not when no optimizer was chosen (no fragment to rerun), nor when a full run was cut
    short by this move (a new surface, say, not yet drawn): the move then reruns the page."""
    return st.session_state.get(S.RACE_DRAWN_KEY) == _page_settings()


def rerun_runs() -> None:
    """on_change of a sidebar control that changes only what the race fragment shows (the start
    typed, noise, seed, averaging, a catalog surface's parameters): rerun that fragment alone
    (``st.rerun(RACE)``, Streamlit's keyed fragment rerun), not the sidebar, which already shows
    the value the user set. The fragment reads the new value with :func:`current_runs`. The page
    reruns instead when the fragment is not current (:func:`_fragment_is_current`)."""
    if _fragment_is_current():
        st.rerun(RACE)


def rerun_steps() -> None:
    """on_change of the steps slider: the fragment alone (:func:`rerun_runs`), with the sidebar's
    schedule plot when it plots one (it spans the steps)."""
    if _fragment_is_current():
        st.rerun([RACE, SCHEDULE] if S.is_scheduled(current_schedule(st.session_state.get("steps", 0))) else RACE)


def rerun_schedule() -> None:
    """on_change of the schedule, its warm-up and its cyclical period: the race fragment and the
    sidebar's schedule plot (``st.rerun([RACE, SCHEDULE])``), not the rest of the sidebar. A change
    to or from the cyclical schedule shows or hides its period's slider: the page reruns then."""
    ss = st.session_state
    if ss.get("schedule") not in optimizers.schedules.names():
        return  # a value the control does not offer: the page reruns, and its notice says so
    if ss.get("schedule") == "cyclical" and "cycle" in ss:
        ss[S.CYCLE_HELD_KEY] = ss["cycle"]  # kept while the slider is hidden (controls.training_controls)
    if _fragment_is_current():
        st.rerun([RACE, SCHEDULE])


def current_schedule(steps: int, base: S.ScheduleSetting | None = None) -> S.ScheduleSetting:
    """The schedule the controls set now, for a run of ``steps`` (``S.schedule_setting``); a value
    session state does not hold is ``base``'s (the last full run's)."""
    ss = st.session_state
    held, warmup, _ = base or ("constant", 0, ())
    name = ss.get("schedule", held)
    name = name if name in optimizers.schedules.names() else held
    warmup = int(ss.get("warmup", warmup))
    return S.schedule_setting(name, int(steps), warmup, ss.get(S.CYCLE_HELD_KEY, S.DEFAULT_CYCLE))


def current_runs(base: Scenario) -> Scenario:
    """``base`` with the run-only controls (steps, start, schedule, warm-up, cyclical period,
    noise, seed, averaging, a catalog surface's parameters) as session state holds them now. A
    keyed rerun of the fragment (:func:`rerun_runs`, :func:`rerun_schedule`) calls it with the
    ``base`` of the last full run; what it then draws is what a full run with the same values
    draws (tests/test_app.py)."""
    ss = st.session_state
    steps = int(ss.get("steps", base.steps))
    start = (float(ss.get("x0", base.start[0])), float(ss.get("y0", base.start[1])))
    noise = base.noise if landscapes.catalog.is_data(base.landscape) else float(ss.get("noise", base.noise))  # no noise control on data
    seed = int(ss.get("seed", base.seed))
    average = ss.get("average", base.average)
    average = average if average in S.AVERAGE_OPTIONS else base.average
    schedule = current_schedule(steps, base.schedule)
    params = base.params
    if base.landscape in CATALOG:  # a typed function's parameters redraw the page (its formula in the sidebar)
        params = tuple((p, float(ss.get(S.param_key(p), v))) for p, v in base.params)
    now = dataclasses.replace(base, params=params, steps=steps, start=start, noise=noise, seed=seed, average=average, schedule=schedule)
    # The two of them not bound to the URL by their widgets.
    to_link("average", average, "none")
    to_link("schedule", schedule[0], "constant")
    return now


def show_clicked_start() -> None:
    """Have the start's inputs show a clicked start. A keyed rerun of two fragments runs them one
    after the other, and by the second run Streamlit no longer counts the callback's write as a new
    value: the inputs would keep showing the old start (and send it back with the next move).
    Writing the value again from the inputs' own run makes it new there."""
    ss = st.session_state
    if ss.get(S.START_SHOWN_KEY, True) is False:
        ss[S.START_SHOWN_KEY] = True
        for key in ("x0", "y0"):
            if key in ss:
                ss[key] = ss[key]


def start_was_clicked() -> bool:
    """Whether a click set the start since the last call (the start's inputs then need a full rerun)."""
    return bool(st.session_state.pop(S.START_CLICKED_KEY, False))


def presenting() -> bool:
    """Whether presenter mode is on (larger text and lines for a projector)."""
    return bool(st.session_state.get("present", False))
