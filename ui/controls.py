"""The widgets the pages draw (part of the draw layer). Every control has a key, and that key is its URL query key.

What they hold is settled in ``ui/state.py`` (re-exported here for the pages).
"""

from __future__ import annotations

import functools

import streamlit as st

import figures
import landscapes
import optimizers
from landscapes.catalog import CATALOG
from i18n import LANGUAGES, t

from . import hyper_panel, numerics
from . import settings as S
from .state import (  # noqa: F401 - settle_* and the rest are the pages' entry points too
    OVERLAYS,
    START,
    START_LIMITS,
    Scenario,
    clamp_step,
    from_link,
    hyper_changed,
    hyper_links,
    keep_offered,
    lang,
    note_link_refused,
    presenting,
    reset_for_scaling,
    reset_for_surface,
    reset_start_for_custom,
    rerun_runs,
    rerun_schedule,
    rerun_steps,
    set_start_from_click,
    show_clicked_start,
    settled_hyperparameters,
    settled_paths_view,
    settled_view,
    start_was_clicked,
    take_offered,
    to_link,
    use_example,
)

BIND = "query-params"


def choice(label: str, options: list[str], default: str, key: str, format_func, where=st.sidebar, **kwargs) -> str:
    from_link(key, lambda v: v in options)
    keep_offered(key, options, default)
    initial = {} if key in st.session_state else {"index": options.index(default)}
    value = where.selectbox(label, options, format_func=format_func, key=key, **initial, **kwargs)
    take_offered(key, value)
    to_link(key, value, default)
    return value


def view_switch(views: tuple[str, ...] = S.VIEWS) -> str:
    """Which view of the runs is shown: one button group, in the link as ``view=<name>``.

    Not ``st.tabs``: a tab panel re-scans its content for focusable elements
    whenever the chart inside it redraws, about 30 ms of the browser's time on
    every move, and its five blocks are sent again on every move.
    """
    lg = lang()
    from_link("view", lambda v: v in views)
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
    to_link("view", value, views[0])
    return value


def step_slider(key: str, last: int, **kwargs) -> int:
    """A slider over the steps 0..``last``, its value first kept within them (``clamp_step``)."""
    clamp_step(key, last)
    return st.slider(t("pg.inspect", lang()), 0, last, key=key, bind=BIND, **kwargs)


def settled_language() -> str:
    """The language before its switch is drawn: the opening link's, else the session's (a value the
    switch does not offer goes back to the last one it took)."""
    options = list(LANGUAGES)
    from_link("lang", lambda v: v in options)
    keep_offered("lang", options, options[0])
    return lang()


def language_picker() -> str:
    """The shared language switch (in the entry file, so it persists across pages)."""
    options = list(LANGUAGES)
    settled_language()
    initial = {} if "lang" in st.session_state else {"index": 0}
    value = st.sidebar.radio(
        t("sidebar.language", lang()), options, format_func=LANGUAGES.get, key="lang", horizontal=True, **initial
    )
    take_offered("lang", value)
    to_link("lang", value, "en")
    return value


def _initial(key: str, default) -> dict:
    # Pass a default only on first creation: later the value lives in session
    # state (possibly set by a callback), and passing both makes Streamlit warn.
    return {} if key in st.session_state else {"value": default}


def literal(text: str) -> str:
    """``text`` for a Markdown label or alert, shown as typed: every ASCII punctuation mark escaped.

    Pills and alerts render Markdown: ``-20*exp(...)*...`` would lose its ``*`` to emphasis.
    """
    return "".join("\\" + c if c.isascii() and not c.isalnum() and c.isprintable() and c != " " else c for c in text)


def custom_controls(lg: str) -> tuple[str, tuple[tuple[str, float], ...]]:
    """The typed function: text box, examples, parameter sliders, preview, and any error beside the box.

    A function that cannot be used keeps its text in the box (nothing the
    user typed is lost) while the charts keep showing the last one that worked.
    """
    box = st.sidebar.container(key="custom_group")
    text = box.text_input(
        t("pg.custom_fx", lg), max_chars=S.MAX_EXPRESSION, key="fx", bind=BIND, help=t("pg.custom_help", lg),
        on_change=reset_start_for_custom, **_initial("fx", S.DEFAULT_EXPRESSION),
    )
    box.pills(t("pg.custom_examples", lg), S.EXAMPLES, key="fx_example", on_change=use_example, format_func=literal)
    good = st.session_state.get(S.GOOD_EXPRESSION_KEY, S.DEFAULT_EXPRESSION)
    try:
        names = landscapes.parameters(text)
    except landscapes.ExpressionError as err:
        box.error(t("pg.custom_error", lg, message=literal(err.message)), icon="⚠️")
        box.caption(t("pg.custom_fallback", lg, text=literal(good)))
        text, names = good, landscapes.parameters(good)
    params = []
    st.session_state[S.TYPED_KEYS_KEY] = tuple(S.custom_key(p) for p in names)
    for p in names:
        key = S.custom_key(p)
        value = box.slider(p, *S.CUSTOM_PARAMETER_RANGE, step=S.CUSTOM_PARAMETER_STEP, key=key, bind=BIND, **_initial(key, 1.0))
        params.append((p, float(value)))
    params_t = tuple(params)
    try:
        from . import cache

        surface = cache.surface(S.CUSTOM, params_t, text)
    except landscapes.ExpressionError as err:
        # Busy (the server's load, not the function): said in the page's language; try again later.
        box.error(t("pg.custom_busy", lg) if err.transient else t("pg.custom_error", lg, message=literal(err.message)), icon="⚠️")
        if text == good:
            st.stop()  # nothing that works to fall back on (e.g. the checker is busy): the message says why
        box.caption(t("pg.custom_fallback", lg, text=literal(good)))
        return custom_controls_fallback(good)
    st.session_state[S.GOOD_EXPRESSION_KEY] = text
    box.latex("f(x, y) = " + surface.latex)
    return text, params_t


def custom_controls_fallback(text: str) -> tuple[str, tuple[tuple[str, float], ...]]:
    names = landscapes.parameters(text)
    return text, tuple((p, float(st.session_state.get(S.custom_key(p), 1.0))) for p in names)


def surface_controls() -> tuple[str, tuple[tuple[str, float], ...], str]:
    lg = lang()
    catalog = S.landscape_options()
    name = choice(
        t("pg.landscape", lg),
        catalog,
        S.DEFAULT_LANDSCAPE,
        key="landscape",
        format_func=lambda n: t("pg.custom", lg) if n == S.CUSTOM else CATALOG[n].title.get(lg, n),
        on_change=reset_for_surface,
    )
    if name == S.CUSTOM:
        text, params = custom_controls(lg)
        return name, params, text
    params = []
    ranges = landscapes.parameter_ranges(name)
    for p, default in landscapes.parameter_defaults(name).items():
        lo, hi = ranges[p]
        key = S.param_key(p)
        # Nothing else in the sidebar depends on a catalog surface's parameters: the fragment reruns alone.
        value = st.sidebar.slider(
            t(f"param.{p}", lg), float(lo), float(hi), step=(hi - lo) / 200, key=key, bind=BIND, on_change=rerun_runs,
            **_initial(key, float(default)),
        )  # fmt: skip
        params.append((p, float(value)))
    return name, tuple(params), ""


def data_controls(name: str) -> tuple[str, int | None]:
    """A data surface's input scaling and mini-batch size (URL keys ``scaling``, ``batch_size``).

    A link value the surface does not offer (``scaling=raw`` on tanh_unit, ``batch_size=128``
    on iris's 80 training examples) falls back to the default, and the page's notice names it.
    """
    lg = lang()
    scalings, batches = S.scaling_options(name), S.batch_options(name)
    box = st.sidebar.container(key="data_group")
    seeded = st.session_state.setdefault(S.SEEDED_KEY, set())
    for key, offered in ((S.SCALING_KEY, scalings), (S.BATCH_KEY, [str(b) for b in batches])):
        if key in seeded:
            continue
        seeded.add(key)
        text = st.query_params.get(key)
        if text is None:
            continue
        if text in offered:
            st.session_state[key] = text if key == S.SCALING_KEY else (text if text == S.FULL_BATCH else int(text))
        else:  # a value the link may hold, but not on this surface
            note_link_refused(key)
    keep_offered(S.SCALING_KEY, scalings, scalings[0])
    st.session_state.setdefault(S.SCALING_KEY, scalings[0])
    scaling = box.selectbox(
        t("pg.scaling", lg), scalings, key=S.SCALING_KEY, format_func=lambda v: t(f"pg.scaling.{v}", lg),
        help=t("pg.scaling_help", lg), on_change=reset_for_scaling, disabled=len(scalings) < 2,
    )  # fmt: skip
    take_offered(S.SCALING_KEY, scaling)
    if st.session_state.get(S.BATCH_KEY) not in batches:
        st.session_state[S.BATCH_KEY] = S.FULL_BATCH
    n = len(landscapes.get(name).data.x_train)
    batch = box.select_slider(
        t("pg.batch_size", lg), batches, key=S.BATCH_KEY, help=t("pg.batch_help", lg, n=n),
        format_func=lambda v: t("pg.full_batch", lg, n=n) if v == S.FULL_BATCH else str(v),
    )  # fmt: skip
    to_link(S.SCALING_KEY, scaling, scalings[0])
    to_link(S.BATCH_KEY, str(batch), S.FULL_BATCH)
    return scaling, S.batch_size_value(batch)


def run_controls(surface: str, start: tuple[float, float], scaling: str | None = None) -> tuple[tuple[str, ...], int, tuple[float, float]]:
    lg = lang()
    names = optimizers.names()
    default = ["sgd", "momentum"]
    from_link("optimizers", lambda v: v in names, multi=True)
    keep_offered("optimizers", names, default)
    initial = {} if "optimizers" in st.session_state else {"default": default}
    chosen = st.sidebar.multiselect(
        t("pg.optimizers", lg),
        names,
        format_func=lambda n: t(f"opt.{n}", lg),
        key="optimizers",
        help=t("pg.optimizers_help", lg),
        **initial,
    )
    take_offered("optimizers", chosen)
    to_link("optimizers", chosen, default)
    steps = st.sidebar.slider(
        t("pg.steps", lg), *S.STEPS_RANGE, step=5, key="steps", bind=BIND, on_change=rerun_steps,
        **_initial("steps", S.default_steps(surface, scaling)),
    )  # fmt: skip
    with st.sidebar:
        start_inputs(start, lg)
    return tuple(chosen), int(steps), (float(st.session_state["x0"]), float(st.session_state["y0"]))


@numerics.fragment(key=START)
def start_inputs(start: tuple[float, float], lg: str) -> None:
    """The start's two inputs (``start``: the surface's default, their first value), a fragment of
    their own: a click on the chart sets them and reruns them with the race
    (``state.set_start_from_click``), not the rest of the sidebar. A typed start changes only the
    runs: the race reruns alone."""
    show_clicked_start()
    sx, sy = start
    group = st.container(key="start_group")
    group.caption(t("pg.start", lg) + " · " + t("pg.start_help", lg))
    c1, c2 = group.columns(2)
    c1.number_input(
        t("pg.start_x", lg), *START_LIMITS, step=0.1, format="%.3f", key="x0", bind=BIND, on_change=rerun_runs, **_initial("x0", float(sx))
    )
    c2.number_input(
        t("pg.start_y", lg), *START_LIMITS, step=0.1, format="%.3f", key="y0", bind=BIND, on_change=rerun_runs, **_initial("y0", float(sy))
    )


def hyper_group():
    """Where the hyperparameters go (``hide=hyper`` hides it). A page may make it early and fill it later."""
    return st.container(key="hyper_group")


def hyper_controls(sc: Scenario, group=None) -> None:
    """Draw the chosen optimizers' hyperparameters (``sc.hyper``, settled) in one panel
    (``ui/hyper_panel.py``) in ``group`` (made here when None)."""
    hyper = tuple((opt, sc.hyper[opt]) for opt in sc.optimizers)
    panel = _hyper_panel(hyper, lang(), presenting(), hyper_panel.applied())
    with group if group is not None else hyper_group():
        hyper_panel.show(panel, hyper_changed)


@functools.lru_cache(maxsize=256)  # the same panel for every move that leaves it as it is
def _hyper_panel(hyper: tuple[tuple[str, tuple[tuple[str, object], ...]], ...], lg: str, projector: bool, applied: int) -> bytes:
    groups = tuple(
        {
            "key": opt,
            "name": t(f"opt.{opt}", lg),
            "title": f"{t(f'opt.{opt}', lg)} · {t('pg.hyper', lg)}",
            "color": figures.style(opt)["color"],
            # Open for one or two optimizers, except on a projector, where the chart needs the room.
            "open": len(hyper) <= 2 and not projector,
            "items": [hyper_panel.item(S.hyper_key(opt, hp), hp, t(f"hp.{hp}", lg), v) for hp, v in values],
        }
        for opt, values in hyper
    )
    return hyper_panel.data(groups, t("pg.hyper", lg), applied)


def training_controls(on_data: bool = False) -> tuple[tuple[str, int, int], float, int, str]:
    """The training expander: ((schedule, warm-up, cyclical period), noise, seed, averaging).

    On a data surface the gradient noise is real (mini-batches, chosen beside the surface):
    no simulated noise is offered, and the seed is the shuffling's.

    The cyclical period's slider is shown only for the cyclical schedule, and its value is kept
    while it is hidden. A link without ``cycle`` gets ``S.DEFAULT_CYCLE`` (100 steps, the period
    before the control existed).
    """
    lg = lang()
    title = t("pg.schedule", lg) + " · " + (t("pg.seed_batches", lg) if on_data else t("pg.noise", lg))
    with st.sidebar.container(key="training_group").expander(title):
        schedule = choice(
            t("pg.schedule", lg), optimizers.schedules.names(), "constant", "schedule", lambda n: t(f"sched.{n}", lg), where=st,
            on_change=rerun_schedule,
        )  # fmt: skip
        warmup = st.slider(
            t("pg.warmup", lg), *S.WARMUP_RANGE, step=S.WARMUP_STEP, key="warmup", bind=BIND, on_change=rerun_schedule, **_initial("warmup", 0)
        )
        cycle = st.session_state.get(S.CYCLE_HELD_KEY, S.DEFAULT_CYCLE)
        if schedule == "cyclical":
            cycle = st.slider(
                t("pg.cycle", lg), *S.CYCLE_RANGE, step=S.CYCLE_STEP, key="cycle", bind=BIND, on_change=rerun_schedule, **_initial("cycle", cycle)
            )
            st.session_state[S.CYCLE_HELD_KEY] = cycle
        noise = 0.0
        if not on_data:
            noise = st.select_slider(t("pg.noise", lg), S.NOISE_OPTIONS, key="noise", bind=BIND, on_change=rerun_runs, **_initial("noise", 0.0))
        seed_label = t("pg.seed_batches" if on_data else "pg.seed", lg)
        seed = st.number_input(seed_label, *S.SEED_RANGE, step=1, key="seed", bind=BIND, on_change=rerun_runs, **_initial("seed", 0))
        average = choice(
            t("pg.average", lg), S.AVERAGE_OPTIONS, "none", "average", lambda n: t(f"pg.average.{n}", lg), where=st, on_change=rerun_runs
        )
    return (schedule, int(warmup), int(cycle)), float(noise), int(seed), average


def scenario() -> Scenario:
    """The sidebar's controls, hyperparameters still empty (``settled_hyperparameters`` adds them)."""
    name, params, expression = surface_controls()
    on_data = landscapes.catalog.is_data(name)
    scaling, batch_size = data_controls(name) if on_data else ("", None)
    if name == S.CUSTOM:
        from . import cache

        default_start = tuple(cache.surface(name, params, expression).hints["start"])
    else:
        default_start = S.default_start(name, scaling or None)
    chosen, steps, start = run_controls(name, default_start, scaling or None)
    (sched, warmup, cycle), noise, seed, average = training_controls(on_data)
    schedule = S.schedule_setting(sched, steps, warmup, cycle)
    return Scenario(name, params, chosen, {}, start, steps, schedule, noise, seed, average, expression, scaling, batch_size)




def presentation() -> bool:
    """Presenter mode and hidden controls, both from the link; returns whether presenter mode is on."""
    present = st.sidebar.toggle(
        t("sidebar.present", lang()), key="present", bind=BIND, help=t("sidebar.present_help", lang()), **_initial("present", False)
    )
    css = S.PHONE_CSS + S.hidden_css(st.query_params.get_all("hide"))
    if present:
        css += S.PRESENTER_CSS
    st.html(f"<style>{css}</style>")
    return bool(present)


def check_link() -> None:
    """Once per session, before any widget: drop every value of the opening link that its control
    cannot take (``S.invalid_query_keys``), and keep the keys for the page's notice.

    Call it after ``st.navigation`` (the page is settled then, so the rerun stays on it).
    Dropping is not enough within the run that sees the link: a widget with
    ``bind="query-params"`` seeds itself from the URL the session opened with, not from
    ``st.query_params`` as it stands, and Streamlit's seeding can raise on a value it was
    never meant to see (``?seed=inf``: ``int(inf)`` in number_input's deserializer). So the
    run starts over once (``st.rerun``), from the URL as it now stands: no widget ever reads a
    value the check refused. tests/test_links_hostile.py fails, with that traceback, if a
    Streamlit release seeds from anything else.
    """
    if S.LINK_NOTICE_KEY in st.session_state:
        return
    query = {k: st.query_params.get_all(k) for k in st.query_params}
    bad = S.invalid_query_keys(query)
    st.session_state[S.LINK_NOTICE_KEY] = list(bad)
    if bad:
        for key in bad:
            del st.query_params[key]
        st.rerun()


def link_notice(where=None) -> None:
    """The page's one notice (in ``where``, a placeholder the page made where it should sit): the
    link's keys that were reset (this session's opening link: the router's check, and what the
    page's own controls could not take), and the controls that received a value they do not offer
    in this run. Call it after the page's controls are drawn."""
    lg = lang()
    texts = []
    bad = st.session_state.get(S.LINK_NOTICE_KEY) or []
    if bad:
        texts.append(t("notice.bad_url", lg, keys=", ".join(bad)))
    forged = st.session_state.pop(S.WIDGET_NOTICE_KEY, None)
    if forged:
        texts.append(t("notice.bad_widget", lg, keys=", ".join(forged)))
    if texts:
        (where or st).warning(" ".join(texts), icon="⚠️")
