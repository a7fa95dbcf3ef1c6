"""Widgets shared by the pages. Every control has a key, and that key is its URL query key."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import streamlit as st

import figures
import landscapes
import optimizers
from landscapes.catalog import CATALOG
from i18n import LANGUAGES, t

from . import hyper_panel
from . import settings as S

BIND = "query-params"
START_LIMITS = (-1e3, 1e3)  # what the start's number inputs accept
OVERLAYS = ("field", "eigen", "taylor")  # the paths view's switches, in display order


def lang() -> str:
    return st.session_state.get("lang", "en")


# Choice widgets with translated labels are synced with the URL here rather
# than by bind="query-params": a bound choice is written to the URL as its
# *label*, and a link must say landscape=rosenbrock in every language.


def _from_link(key: str, valid, multi: bool = False) -> None:
    """On a session's first run, seed ``key`` from the opening link when every value is valid."""
    seeded = st.session_state.setdefault(S.SEEDED_KEY, set())
    if key in seeded:
        return
    seeded.add(key)
    values = st.query_params.get_all(key)
    if values and all(valid(v) for v in values):
        st.session_state[key] = list(dict.fromkeys(values)) if multi else values[-1]


def _to_link(key: str, value, default) -> None:
    """Mirror ``value`` into the URL; a default leaves the link short."""
    if value == default:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get_all(key) != (value if isinstance(value, list) else [value]):
        st.query_params[key] = value


def choice(label: str, options: list[str], default: str, key: str, format_func, where=st.sidebar, **kwargs) -> str:
    _from_link(key, lambda v: v in options)
    initial = {} if key in st.session_state else {"index": options.index(default)}
    value = where.selectbox(label, options, format_func=format_func, key=key, **initial, **kwargs)
    _to_link(key, value, default)
    return value


def view_switch(views: tuple[str, ...] = S.VIEWS) -> str:
    """Which view of the runs is shown: one button group, in the link as ``view=<name>``.

    Not ``st.tabs``: a tab panel re-scans its content for focusable elements
    whenever the chart inside it redraws, about 30 ms of the browser's time on
    every move, and its five blocks are sent again on every move.
    """
    lg = lang()
    _from_link("view", lambda v: v in views)
    # A copy outlives the switch: Streamlit drops a widget's value while it is not drawn
    # (no optimizer chosen, say), and the view should come back as it was.
    held = st.session_state.get(S.VIEW_HELD_KEY, views[0])
    initial = {} if "view" in st.session_state else {"default": held}
    value = st.segmented_control(
        t("pg.view", lg), views, format_func=lambda v: t(f"pg.view.{v}", lg), key="view", required=True,
        label_visibility="collapsed", **initial,
    )  # fmt: skip
    value = value if value in views else views[0]
    st.session_state[S.VIEW_HELD_KEY] = value
    _to_link("view", value, views[0])
    return value


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


def step_slider(key: str, last: int, **kwargs) -> int:
    """A slider over the steps 0..``last``, its value first kept within them (``clamp_step``)."""
    clamp_step(key, last)
    return st.slider(t("pg.inspect", lang()), 0, last, key=key, bind=BIND, **kwargs)


def language_picker() -> str:
    """The shared language switch (in the entry file, so it persists across pages)."""
    options = list(LANGUAGES)
    _from_link("lang", lambda v: v in options)
    initial = {} if "lang" in st.session_state else {"index": 0}
    value = st.sidebar.radio(
        t("sidebar.language", lang()), options, format_func=LANGUAGES.get, key="lang", horizontal=True, **initial
    )
    _to_link("lang", value, "en")
    return value


def _initial(key: str, default) -> dict:
    # Pass a default only on first creation: later the value lives in session
    # state (possibly set by a callback), and passing both makes Streamlit warn.
    return {} if key in st.session_state else {"value": default}


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

    @property
    def key(self) -> tuple:
        """Everything above as one hashable value (a cache key)."""
        return (self.surface, self.optimizers, tuple(sorted(self.hyper.items())), self.start, self.steps, self.schedule, self.noise, self.seed, self.average)

    @property
    def surface(self) -> tuple[str, tuple[tuple[str, float], ...], str]:
        """The cache key of the surface: (name, parameters, typed text)."""
        return (self.landscape, self.params, self.expression)


def _reset_for_surface() -> None:
    """A new surface: its own start, steps, parameters and suggested learning rates."""
    name = st.session_state["landscape"]
    if name == S.CUSTOM:
        _reset_start_for_custom()
        st.session_state["steps"] = 200
    else:
        x0, y0 = S.default_start(name)
        st.session_state["x0"], st.session_state["y0"] = float(x0), float(y0)
        st.session_state["steps"] = S.default_steps(name)
        for p, v in landscapes.parameter_defaults(name).items():
            st.session_state[S.param_key(p)] = float(v)
    st.session_state.update(S.hyperparameter_state(name))


def _reset_start_for_custom() -> None:
    """Start where the typed function (with its current parameters) is defined."""
    text = st.session_state.get("fx", S.DEFAULT_EXPRESSION)
    try:
        names = landscapes.parameters(text)
        values = {p: float(st.session_state.get(S.custom_key(p), 1.0)) for p in names}
        start = landscapes.from_expression(text, **values).hints["start"]
    except landscapes.ExpressionError:
        return  # the box will say what is wrong; the start stays as it was
    st.session_state["x0"], st.session_state["y0"] = round(float(start[0]), 3), round(float(start[1]), 3)


def _use_example() -> None:
    example = st.session_state.get("fx_example")
    if example:
        st.session_state["fx"] = example
        _reset_start_for_custom()
    st.session_state["fx_example"] = None


def custom_controls(lg: str) -> tuple[str, tuple[tuple[str, float], ...]]:
    """The typed function: text box, examples, parameter sliders, preview, and any error beside the box.

    A function that cannot be used keeps its text in the box (nothing the
    user typed is lost) while the charts keep showing the last one that worked.
    """
    box = st.sidebar.container(key="custom_group")
    text = box.text_input(
        t("pg.custom_fx", lg), max_chars=S.MAX_EXPRESSION, key="fx", bind=BIND, help=t("pg.custom_help", lg),
        on_change=_reset_start_for_custom, **_initial("fx", S.DEFAULT_EXPRESSION),
    )
    box.pills(t("pg.custom_examples", lg), S.EXAMPLES, key="fx_example", on_change=_use_example)
    good = st.session_state.get(S.GOOD_EXPRESSION_KEY, S.DEFAULT_EXPRESSION)
    try:
        names = landscapes.parameters(text)
    except landscapes.ExpressionError as err:
        box.error(t("pg.custom_error", lg, message=err.message), icon="⚠️")
        box.caption(t("pg.custom_fallback", lg, text=good))
        text, names = good, landscapes.parameters(good)
    params = []
    for p in names:
        key = S.custom_key(p)
        value = box.slider(p, -10.0, 10.0, step=0.1, key=key, bind=BIND, **_initial(key, 1.0))
        params.append((p, float(value)))
    params_t = tuple(params)
    try:
        from . import cache

        surface = cache.surface(S.CUSTOM, params_t, text)
    except landscapes.ExpressionError as err:
        box.error(t("pg.custom_error", lg, message=err.message), icon="⚠️")
        if text == good:
            st.stop()  # nothing that works to fall back on (e.g. the checker is busy): the message says why
        box.caption(t("pg.custom_fallback", lg, text=good))
        return custom_controls_fallback(good)
    st.session_state[S.GOOD_EXPRESSION_KEY] = text
    box.latex("f(x, y) = " + surface.latex)
    return text, params_t


def custom_controls_fallback(text: str) -> tuple[str, tuple[tuple[str, float], ...]]:
    names = landscapes.parameters(text)
    return text, tuple((p, float(st.session_state.get(S.custom_key(p), 1.0))) for p in names)


def surface_controls() -> tuple[str, tuple[tuple[str, float], ...], str]:
    lg = lang()
    catalog = landscapes.names() + [S.CUSTOM]
    name = choice(
        t("pg.landscape", lg),
        catalog,
        "bowl",
        key="landscape",
        format_func=lambda n: t("pg.custom", lg) if n == S.CUSTOM else CATALOG[n].title.get(lg, n),
        on_change=_reset_for_surface,
    )
    if name == S.CUSTOM:
        text, params = custom_controls(lg)
        return name, params, text
    params = []
    ranges = landscapes.parameter_ranges(name)
    for p, default in landscapes.parameter_defaults(name).items():
        lo, hi = ranges[p]
        key = S.param_key(p)
        value = st.sidebar.slider(
            t(f"param.{p}", lg), float(lo), float(hi), step=(hi - lo) / 200, key=key, bind=BIND, **_initial(key, float(default))
        )
        params.append((p, float(value)))
    return name, tuple(params), ""


def run_controls(surface: str, start: tuple[float, float]) -> tuple[tuple[str, ...], int, tuple[float, float]]:
    lg = lang()
    names = optimizers.names()
    default = ["sgd", "momentum"]
    _from_link("optimizers", lambda v: v in names, multi=True)
    initial = {} if "optimizers" in st.session_state else {"default": default}
    chosen = st.sidebar.multiselect(
        t("pg.optimizers", lg),
        names,
        format_func=lambda n: t(f"opt.{n}", lg),
        key="optimizers",
        help=t("pg.optimizers_help", lg),
        **initial,
    )
    _to_link("optimizers", chosen, default)
    steps = st.sidebar.slider(
        t("pg.steps", lg), *S.STEPS_RANGE, step=5, key="steps", bind=BIND, **_initial("steps", S.default_steps(surface))
    )
    sx, sy = start
    group = st.sidebar.container(key="start_group")
    group.caption(t("pg.start", lg) + " · " + t("pg.start_help", lg))
    c1, c2 = group.columns(2)
    x0 = c1.number_input(t("pg.start_x", lg), *START_LIMITS, step=0.1, format="%.3f", key="x0", bind=BIND, **_initial("x0", float(sx)))
    y0 = c2.number_input(t("pg.start_y", lg), *START_LIMITS, step=0.1, format="%.3f", key="y0", bind=BIND, **_initial("y0", float(sy)))
    return tuple(chosen), int(steps), (float(x0), float(y0))


def hyper_group():
    """Where the hyperparameters go (``hide=hyper`` hides it). A page may make it early and fill it later."""
    return st.container(key="hyper_group")


def settled_hyperparameters(base: Scenario) -> Scenario:
    """``base`` (the sidebar's choices) completed by each chosen optimizer's hyperparameters as
    they stand now, before their panel is drawn, and mirrored into the link.

    The values live in session state under their keys (``adam_lr``, ...): a link
    seeds them, a new surface resets them, the panel's report changes them (its
    callback runs before this rerun does).
    """
    hyper = {opt: tuple((hp, _held_hyper(opt, hp, base.landscape)) for hp in S.hyper_names(opt)) for opt in base.optimizers}
    hyper_links(hyper, base.landscape)
    return dataclasses.replace(base, hyper=hyper)


def hyper_controls(sc: Scenario, group=None) -> None:
    """Draw the chosen optimizers' hyperparameters (``sc.hyper``, settled) in one panel
    (``ui/hyper_panel.py``) in ``group`` (made here when None)."""
    lg = lang()
    chosen = sc.optimizers
    groups = []
    for opt in chosen:
        values = sc.hyper[opt]
        groups.append(
            {
                "key": opt,
                "name": t(f"opt.{opt}", lg),
                "title": f"{t(f'opt.{opt}', lg)} · {t('pg.hyper', lg)}",
                "color": figures.style(opt)["color"],
                # Open for one or two optimizers, except on a projector, where the chart needs the room.
                "open": len(chosen) <= 2 and not presenting(),
                "items": [hyper_panel.item(S.hyper_key(opt, hp), hp, t(f"hp.{hp}", lg), v) for hp, v in values],
            }
        )
    with group if group is not None else hyper_group():
        hyper_panel.show(groups, t("pg.hyper", lg), _hyper_changed)


def _held_hyper(opt: str, hp: str, surface: str):
    """A hyperparameter's value: the opening link's once per session, else the one held, else the surface's default."""
    key = S.hyper_key(opt, hp)
    seeded = st.session_state.setdefault(S.SEEDED_KEY, set())
    if key not in seeded:
        seeded.add(key)
        values = [S.hyper_from_link(hp, text) for text in st.query_params.get_all(key)]
        if values and all(v is not None for v in values):  # as for every other key: all or nothing
            st.session_state[key] = values[-1]
    if key not in st.session_state:
        st.session_state[key] = S.default_hyperparameter(opt, hp, surface)
    return st.session_state[key]


def hyper_links(hyper: dict[str, tuple[tuple[str, object], ...]], surface: str) -> None:
    """Mirror the chosen optimizers' hyperparameters (``Scenario.hyper``) into the link, and
    take every other optimizer's out of it."""
    for key, (opt, hp) in S.hyper_keys().items():
        _hyper_to_link(key, dict(hyper.get(opt, ())).get(hp), surface)


def _hyper_to_link(key: str, value, surface: str) -> None:
    """Mirror one hyperparameter into the link; None (its optimizer is not chosen) or its surface's default leaves it out."""
    opt, hp = S.hyper_keys()[key]
    default = S.hyper_link_text(S.default_hyperparameter(opt, hp, surface))
    _to_link(key, default if value is None else S.hyper_link_text(value), default)


def _hyper_changed() -> None:
    """The panel's on_change: keep the values it reported (a malformed report changes nothing)."""
    for key, value in hyper_panel.reported_changes() or ():
        st.session_state[key] = value


def settled_view(views: tuple[str, ...] = S.VIEWS) -> str:
    """The view the switch will show: the opening link's, else the one held (its switch is drawn later)."""
    _from_link("view", lambda v: v in views)
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


def training_controls() -> tuple[tuple[str, int, int], float, int, str]:
    """The training expander: ((schedule, warm-up, cyclical period), noise, seed, averaging).

    The cyclical period's slider is shown only for the cyclical schedule, and its value is kept
    while it is hidden. A link without ``cycle`` gets ``S.DEFAULT_CYCLE`` (100 steps, the period
    before the control existed).
    """
    lg = lang()
    with st.sidebar.container(key="training_group").expander(t("pg.schedule", lg) + " · " + t("pg.noise", lg)):
        schedule = choice(
            t("pg.schedule", lg), optimizers.schedules.names(), "constant", "schedule", lambda n: t(f"sched.{n}", lg), where=st
        )
        warmup = st.slider(t("pg.warmup", lg), 0, 500, step=10, key="warmup", bind=BIND, **_initial("warmup", 0))
        cycle = st.session_state.get(S.CYCLE_HELD_KEY, S.DEFAULT_CYCLE)
        if schedule == "cyclical":
            cycle = st.slider(
                t("pg.cycle", lg), *S.CYCLE_RANGE, step=S.CYCLE_STEP, key="cycle", bind=BIND, **_initial("cycle", cycle)
            )
            st.session_state[S.CYCLE_HELD_KEY] = cycle
        noise = st.select_slider(t("pg.noise", lg), S.NOISE_OPTIONS, key="noise", bind=BIND, **_initial("noise", 0.0))
        seed = st.number_input(t("pg.seed", lg), 0, 10_000, step=1, key="seed", bind=BIND, **_initial("seed", 0))
        average = choice(t("pg.average", lg), S.AVERAGE_OPTIONS, "none", "average", lambda n: t(f"pg.average.{n}", lg), where=st)
    return (schedule, int(warmup), int(cycle)), float(noise), int(seed), average


def scenario() -> Scenario:
    """The sidebar's controls, hyperparameters still empty (``settled_hyperparameters`` adds them)."""
    name, params, expression = surface_controls()
    if name == S.CUSTOM:
        from . import cache

        default_start = tuple(cache.surface(name, params, expression).hints["start"])
    else:
        default_start = S.default_start(name)
    chosen, steps, start = run_controls(name, default_start)
    (sched, warmup, cycle), noise, seed, average = training_controls()
    schedule = S.schedule_setting(sched, steps, warmup, cycle)
    return Scenario(name, params, chosen, {}, start, steps, schedule, noise, seed, average, expression)




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
        st.session_state[S.START_CLICKED_KEY] = True


def start_was_clicked() -> bool:
    """Whether a click set the start since the last call (the start's inputs then need a full rerun)."""
    return bool(st.session_state.pop(S.START_CLICKED_KEY, False))


def presenting() -> bool:
    """Whether presenter mode is on (larger text and lines for a projector)."""
    return bool(st.session_state.get("present", False))


def presentation() -> bool:
    """Presenter mode and hidden controls, both from the link; returns whether presenter mode is on."""
    present = st.sidebar.toggle(
        t("sidebar.present", lang()), key="present", bind=BIND, help=t("sidebar.present_help", lang()), **_initial("present", False)
    )
    css = S.hidden_css(st.query_params.get_all("hide"))
    if present:
        css += S.PRESENTER_CSS
    if css:
        st.html(f"<style>{css}</style>")
    return bool(present)


def check_link() -> None:
    """Once per session: say which settings of the opening link were not understood."""
    if S.LINK_NOTICE_KEY not in st.session_state:
        query = {k: st.query_params.get_all(k) for k in st.query_params}
        st.session_state[S.LINK_NOTICE_KEY] = S.invalid_query_keys(query)
    bad = st.session_state[S.LINK_NOTICE_KEY]
    if bad:
        st.warning(t("notice.bad_url", lang(), keys=", ".join(bad)), icon="⚠️")
