"""What the controls offer: option grids, suggested values per surface, URL keys. Pure data, no Streamlit.

Every control's key is also its URL query key (Streamlit's ``bind="query-params"``,
or kept in step by ``ui/controls.py``), so this module is the list of what a shared
link can say. Fixed by the issue: ``landscape``, ``optimizers`` (repeated), ``steps``.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

import lessons
import optimizers
import sweep
import landscapes.catalog as surfaces
from landscapes.catalog import CATALOG, TYPED_HINTS

# The typed-function surface: its name in the landscape list, the text box's
# default and length limit (the parser checks the length on the server too),
# and examples a student can click.
CUSTOM = "custom"
DEFAULT_EXPRESSION = "a*x^2 + b*y^2"
MAX_EXPRESSION = 200
EXAMPLES = [
    "(1-x)^2 + 100*(y-x^2)^2",
    "(x^2+y-11)^2 + (x+y^2-7)^2",
    "-20*exp(-0.2*sqrt(0.5*(x^2+y^2))) - exp(0.5*(cos(2*pi*x)+cos(2*pi*y))) + e + 20",
    "sin(x)*cos(y)",
    "abs(x) + abs(y)",
    "x^2 - y^2",
    "log(1 + x^2 + 10*y^2)",
]


# Session-state keys the app keeps for itself (not controls, never in a link), in one place.
SEEDED_KEY = "_seeded_from_link"  # the controls already seeded from the opening link
VIEW_HELD_KEY = "_view_held"  # the view, kept while its switch is not drawn
CYCLE_HELD_KEY = "_cycle_held"  # the cyclical period, kept while its slider is hidden
START_CLICKED_KEY = "_start_clicked"  # a click on the contour set the start (the sidebar must redraw)
START_SHOWN_KEY = "_start_shown"  # False: a click set the start and its inputs, rerun by key, must show it
RACE_DRAWN_KEY = "_race_drawn"  # the page's other controls as they were when a full run last drew the race fragment
PANEL_APPLIED_KEY = "_hyper_panel_applied"  # the number of the hyperparameter panel's last report taken
LINK_NOTICE_KEY = "link_notice"  # the opening link's keys that were not understood
WIDGET_NOTICE_KEY = "_widget_notice"  # controls that received a value they do not offer (this run's notice)
GOOD_EXPRESSION_KEY = "fx_good"  # the last typed function that worked
TYPED_KEYS_KEY = "_typed_keys"  # the typed function's parameter sliders last drawn (their keys)
SWEEP_HISTORY_KEY = "sw_history"  # the Sweep page's refinements


def held_key(key: str) -> str:
    """Where a choice's last value taken is kept (what a value it does not offer falls back to)."""
    return f"_held_{key}"


def custom_key(parameter: str) -> str:
    return f"c_{parameter}"

# What a prepared link can hide (?hide=hyper&hide=training): control groups and
# the CSS selectors of their elements (Streamlit gives a keyed element the
# class st-key-<key>). Hidden controls still exist, so their values and URL
# binding stay intact.
HIDE_GROUPS: dict[str, tuple[str, ...]] = {
    "landscape": (".st-key-landscape", "[class*='st-key-p_']", ".st-key-data_group"),
    "optimizers": (".st-key-optimizers",),
    "steps": (".st-key-steps",),
    "start": (".st-key-start_group",),
    "hyper": (".st-key-hyper_group",),
    "training": (".st-key-training_group",),
    "overlays": (".st-key-overlay_group",),
    "readouts": (".st-key-readouts_group",),
    "language": (".st-key-lang",),
    # The controls: the sidebar, and the hyperparameters above the chart (once in the sidebar too).
    "sidebar": ("[data-testid='stSidebar']", "[data-testid='stSidebarCollapsedControl']", "[data-testid='stExpandSidebarButton']", ".st-key-hyper_group"),
}


# The learning rates the controls offer (declared with the optimizers; named here for the tests and benchmarks).
LR_OPTIONS: list[float] = list(optimizers.declaration("lr").options)
NOISE_OPTIONS = [0.0, 0.01, 0.03, 0.1, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0]
AVERAGE_OPTIONS = ["none", "polyak", "ema"]
STEPS_RANGE = (5, 3000)
START_RANGE = (-1e3, 1e3)  # what the start's number inputs accept
WARMUP_RANGE, WARMUP_STEP = (0, 500), 10
SEED_RANGE = (0, 10_000)
CUSTOM_PARAMETER_RANGE, CUSTOM_PARAMETER_STEP = (-10.0, 10.0), 0.1  # a typed function's parameter sliders
# The data surfaces' run settings (URL keys ``scaling`` and ``batch_size``): the input scaling,
# and the mini-batch size, "full" or one of the declared sizes below the training size.
SCALING_KEY = "scaling"
BATCH_KEY = "batch_size"
FULL_BATCH = "full"
SCALING_OPTIONS = ("raw", "centered", "standardized")


def batch_options(surface: str) -> list:
    """The batch sizes the control offers on ``surface``: "full", then the declared sizes below its training size."""
    if not surfaces.is_data(surface):
        return [FULL_BATCH]
    n = surfaces.get(surface).data.n_train
    return [FULL_BATCH] + [int(m) for m in optimizers.declaration("batch_size").options if m < n]


def batch_size_value(choice) -> int | None:
    """The control's value as optimizers.run's ``batch_size``: None for the full batch."""
    return None if choice in (None, FULL_BATCH) else int(choice)


def scaling_options(surface: str) -> list[str]:
    """The input scalings ``surface`` offers (its default first); [] on a formula surface."""
    return list(surfaces.scalings(surface))


def default_scaling(surface: str) -> str | None:
    options = scaling_options(surface)
    return options[0] if options else None

VIEWS = ("paths", "surface", "inside", "formulas")  # the Playground's views of the runs, as named in a link
DEFAULT_LANDSCAPE = "bowl"  # the Playground's surface when a link names none


def landscape_options() -> list[str]:
    """The surfaces the Playground's list offers: the catalog's, then the typed function."""
    return list(CATALOG) + [CUSTOM]

# The Sweep page's controls (URL keys sw_*): its search modes, the grid's side and the steps of each run.
SWEEP_MODES = ("grid", "random")
SWEEP_N_RANGE, SWEEP_N_STEP, SWEEP_N_DEFAULT = (8, 64), 8, 64
SWEEP_STEPS_RANGE, SWEEP_STEPS_STEP, SWEEP_STEPS_DEFAULT = (50, 2000), 50, 500
# A map of starts (both axes the start's coordinates): a second optimizer's map beside it
# (sw_vs, NO_COMPARISON for none), and success over seeds from one start (sw_sx, sw_sy).
NO_COMPARISON = "none"
SWEEP_SEEDS_RANGE, SWEEP_SEEDS_STEP, SWEEP_SEEDS_DEFAULT = (10, 1000), 10, 200
# The cyclical schedule's period in steps: the slider's range and step, and its value when a link says none.
CYCLE_RANGE = (10, 1000)
CYCLE_STEP = 10
DEFAULT_CYCLE = 100

def hyper_names(optimizer: str) -> tuple[str, ...]:
    """``optimizer``'s hyperparameter controls, in display order (its declaration's order)."""
    return tuple(hp.name for hp in optimizers.hyperparameters(optimizer))


# A run's schedule as the Playground holds it (``Scenario.schedule``, part of a cache key):
# (name, warm-up steps, the options of optimizers.schedules.make as sorted pairs).
ScheduleSetting = tuple[str, int, tuple[tuple[str, int], ...]]


def schedule_options(name: str, steps: int, warmup: int, cycle: int = DEFAULT_CYCLE) -> dict[str, int]:
    """The options of ``optimizers.schedules.make`` for the Playground's schedule controls: the one
    place where the controls become a schedule (the runs, the sidebar's chart and the Formulas view
    all go through here).

    Cosine anneals over the run's steps after the warm-up: period ``max(1, steps - warmup)``, so
    the rate has come down to (nearly) its floor 0 at the last step whatever the number of steps.
    Cyclical repeats every ``cycle`` steps. The others keep their factories' defaults, which their
    labels (``sched.*`` in the catalogs) state.
    """
    if name == "cosine":
        return {"period": max(1, int(steps) - int(warmup))}
    if name == "cyclical":
        return {"period": int(cycle)}
    return {}


def schedule_setting(name: str, steps: int, warmup: int, cycle: int = DEFAULT_CYCLE) -> ScheduleSetting:
    """The schedule of a run of ``steps`` steps as one hashable value: (name, warm-up, options)."""
    return (name, int(warmup), tuple(sorted(schedule_options(name, steps, warmup, cycle).items())))


def is_scheduled(schedule: ScheduleSetting) -> bool:
    """Whether the learning rate changes from step to step: any schedule but a constant one without warm-up."""
    name, warmup, _ = schedule
    return not (name == "constant" and not warmup)


def surface_hints(surface: str, scaling: str | None = None) -> dict:
    """The teaching values of ``surface`` (of its ``scaling`` on a data surface)."""
    if surface == CUSTOM:
        return TYPED_HINTS
    return surfaces.hints(surface, scaling) if surface in CATALOG else {}


def default_hyperparameter(optimizer: str, name: str, surface: str, scaling: str | None = None):
    """The value a control starts at for ``optimizer``'s ``name`` on ``surface``: the surface's
    teaching value (its catalog hints) or the optimizer's default, as the control holds it."""
    hints = surface_hints(surface, scaling)
    value = hints.get("hyper", {}).get(optimizer, {}).get(name, optimizers.defaults(optimizer)[name])
    return hyper_value(name, value)


def hyperparameter_state(surface: str, chosen: Mapping[str, object] | None = None, scaling: str | None = None) -> dict[str, object]:
    """Every optimizer's hyperparameter controls, by key: ``chosen`` values where given, else the
    surface's defaults, each snapped to a value its control offers."""
    chosen = chosen or {}
    out = {}
    for key, (opt, hp) in hyper_keys().items():
        out[key] = hyper_value(hp, chosen[key]) if key in chosen else default_hyperparameter(opt, hp, surface, scaling)
    return out


def hyper_key(optimizer: str, name: str) -> str:
    return f"{optimizer}_{name}"


def hyper_keys() -> dict[str, tuple[str, str]]:
    """Every hyperparameter control's key (also its URL key) -> (optimizer, hyperparameter)."""
    return {hyper_key(opt, hp): (opt, hp) for opt in optimizers.names() for hp in hyper_names(opt)}


def hyper_options(name: str) -> list | None:
    """The values a hyperparameter's control offers, in order; None for an on/off switch."""
    options = optimizers.declaration(name).options
    return None if options is None else list(options)


def hyper_value(name: str, value):
    """``value`` as the control holds it: the nearest option (an int for a whole number, the
    largest for infinity, 0 exactly where 0 is offered), or a bool for a switch."""
    return optimizers.declaration(name).nearest(value)


def hyper_from_link(name: str, text: str):
    """A link's text for hyperparameter ``name`` as its value, or None if the control cannot take it."""
    if not _hyper_check(name)(text):
        return None
    return text.lower() == "true" if optimizers.declaration(name).scale == "switch" else hyper_value(name, float(text))


def hyper_link_text(value) -> str:
    """How a link spells a hyperparameter's value: true/false, 5, 0.0003, 1e-08."""
    if isinstance(value, bool):
        return str(value).lower()
    return format(value, "g")


def param_key(name: str) -> str:
    return f"p_{name}"


def default_start(surface: str, scaling: str | None = None) -> tuple[float, float]:
    hints = surface_hints(surface, scaling) if surface != CUSTOM else {}
    return tuple(hints.get("start", (1.0, 1.0)))  # type: ignore[return-value]


def default_steps(surface: str, scaling: str | None = None) -> int:
    hints = surface_hints(surface, scaling) if surface != CUSTOM else {}
    return int(hints.get("steps", 200))


# --------------------------------------------------------------------------
# What a link may say, for every key of every page, against the range its
# control declares. The router checks the opening link with these before any
# widget reads it (controls.check_link): what fails is dropped from the link,
# so no widget ever sees it, and the page names the key in its notice.
# --------------------------------------------------------------------------

MULTI_KEYS = ("optimizers", "hide")  # the keys a link may repeat (one value each); any other takes one value


def _number(text: str, lo: float, hi: float, whole: bool = False) -> bool:
    try:
        v = float(text)  # never int(): a 400-digit text is a float too (inf), not a 400-digit integer
    except ValueError:
        return False
    return bool(np.isfinite(v)) and lo <= v <= hi and (not whole or v == int(v))


def _one_of(text: str, options) -> bool:
    try:
        v = float(text)
    except ValueError:
        return text in [str(o) for o in options]
    return any(np.isclose(v, float(o), rtol=1e-9, atol=0) for o in options if not isinstance(o, str))


def _flag(text: str) -> bool:
    return text.lower() in ("true", "false")


def _hyper_check(name: str):
    """What a link may say for hyperparameter ``name``: a flag for a switch; for a control that
    snaps, any number within its options' range; else one of its options."""
    hp = optimizers.declaration(name)
    if hp.scale == "switch":
        return _flag
    if hp.snap:
        return lambda v: _number(v, min(hp.options), max(hp.options), whole=hp.scale == "int")
    return lambda v: _one_of(v, hp.options)


def _surface_parameter(key: str, surface: str):
    """What a link may say for ``p_<name>`` on ``surface``: a number within that parameter's
    slider range; nothing when the surface has no such parameter (the key would be ignored)."""
    ranges = parameter_ranges(surface)
    name = key[len("p_"):]
    if name not in ranges:
        return lambda v: False
    lo, hi = ranges[name]
    return lambda v: _number(v, lo, hi)


def parameter_ranges(surface: str) -> dict[str, tuple[float, float]]:
    """The parameter sliders' ranges of catalog surface ``surface`` ({} for the typed function)."""
    return surfaces.parameter_ranges(surface) if surface in CATALOG else {}


def _sweep_axis(text: str) -> bool:
    """An axis some sweep can have (whether this optimizer on this surface offers it is the Sweep page's check)."""
    return text == sweep.BATCH or text in sweep.START_AXES or any(text in sweep.sweepable(o) for o in optimizers.names())


def _validator(key: str, surface: str = DEFAULT_LANDSCAPE):
    """The check of link key ``key`` (``surface``: the link's surface, for its parameters ``p_*``);
    None for a key that is not ours (e.g. embed=true), which is left alone."""
    batch = lambda v: v == FULL_BATCH or _one_of(v, optimizers.declaration("batch_size").options)  # noqa: E731
    fixed = {
        "landscape": lambda v: v in landscape_options(),
        "fx": lambda v: 0 < len(v) <= MAX_EXPRESSION,  # longer is refused whole, not cut: a cut function is another function
        "optimizers": lambda v: v in optimizers.names(),
        "steps": lambda v: _number(v, *STEPS_RANGE, whole=True),
        "lang": lambda v: v in ("en", "zh"),
        "x0": lambda v: _number(v, *START_RANGE),
        "y0": lambda v: _number(v, *START_RANGE),
        "schedule": lambda v: v in optimizers.schedules.names(),
        "warmup": lambda v: _number(v, *WARMUP_RANGE, whole=True),
        "cycle": lambda v: _number(v, *CYCLE_RANGE, whole=True),
        "noise": lambda v: _one_of(v, NOISE_OPTIONS),
        # Whether the surface offers this scaling / batch size is checked where the surface is known.
        SCALING_KEY: lambda v: v in SCALING_OPTIONS,
        BATCH_KEY: batch,
        "seed": lambda v: _number(v, *SEED_RANGE, whole=True),
        "average": lambda v: v in AVERAGE_OPTIONS,
        "field": _flag,
        "eigen": _flag,
        "taylor": _flag,
        # A step slider takes a number within range at its whole part (Streamlit's int()).
        "inspect": lambda v: _number(v, 0, STEPS_RANGE[1]),
        "inside_step": lambda v: _number(v, 0, STEPS_RANGE[1]),
        "hide": lambda v: v in HIDE_GROUPS,
        "present": _flag,
        "view": lambda v: v in VIEWS,
        # The Lessons page.
        "lesson": lambda v: v in [lesson.key for lesson in lessons.LESSONS],
        # The Sweep page: each value some control of it offers (which ones depend on one another;
        # the page names a value its controls did not take).
        "sw_landscape": lambda v: v in CATALOG,
        "sw_scaling": lambda v: v in SCALING_OPTIONS,
        "sw_optimizer": lambda v: v in optimizers.names(),
        "sw_x": _sweep_axis,
        "sw_y": _sweep_axis,
        "sw_batch": batch,
        "sw_mode": lambda v: v in SWEEP_MODES,
        "sw_n": lambda v: _number(v, *SWEEP_N_RANGE, whole=True),
        "sw_steps": lambda v: _number(v, *SWEEP_STEPS_RANGE, whole=True),
        "sw_metric": lambda v: v in sweep.METRICS,
        "sw_vs": lambda v: v == NO_COMPARISON or v in optimizers.names(),
        "sw_noise": lambda v: _one_of(v, NOISE_OPTIONS),
        "sw_seeds": lambda v: _number(v, *SWEEP_SEEDS_RANGE, whole=True),
        # Within the surface's window: the page checks that (the window depends on the surface).
        "sw_sx": lambda v: _number(v, *START_RANGE),
        "sw_sy": lambda v: _number(v, *START_RANGE),
    }
    if key in fixed:
        return fixed[key]
    if key.startswith("p_"):
        return _surface_parameter(key, surface)
    if key.startswith("c_"):
        return lambda v: _number(v, *CUSTOM_PARAMETER_RANGE)
    keys = hyper_keys()
    if key in keys:
        return _hyper_check(keys[key][1])
    return None  # not ours (e.g. embed=true): leave it alone


def hidden_css(groups) -> str:
    """CSS that hides the chosen control groups (unknown names are ignored)."""
    selectors = [sel for g in groups if g in HIDE_GROUPS for sel in HIDE_GROUPS[g]]
    return ", ".join(selectors) + " { display: none !important; }" if selectors else ""


# The Playground's chart before the hyperparameter panel, and the chart's options after both.
CHART_FIRST_CSS = """[data-testid='stLayoutWrapper']:has(> .st-key-hyper_group) { order: 1; }
[data-testid='stLayoutWrapper']:has(.st-key-dl_layers_path_chart) ~ [data-testid='stLayoutWrapper'] { order: 2; }
"""
# Every page, on a phone: a touch screen shows Plotly's toolbar without a hover, over the
# chart's legend (there a screenshot stands in for its camera button). On the Playground the
# chart comes first, as in presenter mode: the six groups of hyperparameters above it would
# fill the first screen. Only the order on screen; the page's order stays that of a desktop.
PHONE_CSS = "@media (max-width: 640px) {\n.js-plotly-plot .modebar-container { display: none; }\n" + CHART_FIRST_CSS + "}\n"

# Presenter mode: text for the back of a room (1.3rem: 20.8 px), and on the Playground's paths
# view the path chart right under the page's top (the browser fits the chart itself to the
# window's height, ui/assets/live_chart.js): no page title there, and the hyperparameters
# just below the chart, then its other options, instead of above it (the page draws them in
# that order in presenter mode; the flex order keeps the options after the panel).
PRESENTER_CSS = """
.stApp { font-size: 1.3rem; }
.stApp h1 { font-size: 2.5rem; }
.stApp [data-testid='stMarkdownContainer'] p, .stApp .dl-status, .stApp .dl-readouts { font-size: 1.3rem; }
.stApp .dl-cursor { font-size: 1.3rem; }
.stApp [data-testid='stCaptionContainer'], .stApp [data-testid='stCaptionContainer'] p, .stApp [data-testid='stMultiSelectTagsContainer'] span { font-size: 1.25rem; }
.stApp .dl-status .dl-hint { font-size: 1.25rem !important; }
[data-testid='stMainBlockContainer'] { padding-top: 4rem; }
[data-testid='stMainBlockContainer']:has(.st-key-path_chart) .stElementContainer:has(> [data-testid='stHeading'] h1) { display: none; }
""" + CHART_FIRST_CSS


def valid_link_value(key: str, text: str | None) -> bool:
    """Whether a link's ``text`` for ``key`` is one its control can take (None: the link says nothing)."""
    check = _validator(key)
    return text is not None and check is not None and bool(check(text))


def link_surface(query: Mapping[str, list[str]]) -> str:
    """The Playground surface a link opens: its ``landscape`` when the list offers it, else the default."""
    values = query.get("landscape") or []
    return values[-1] if len(set(values)) == 1 and values[-1] in landscape_options() else DEFAULT_LANDSCAPE


def invalid_query_keys(query: Mapping[str, list[str]]) -> list[str]:
    """The keys of a link whose values the controls cannot take, in link order: a value out of
    its control's range (a surface parameter: out of the link's surface's slider), and a key
    that takes one value given several different ones."""
    surface = link_surface(query)
    bad = []
    for key, values in query.items():
        check = _validator(key, surface)
        if check is None:
            continue
        if not values or not all(check(v) for v in values) or (key not in MULTI_KEYS and len(set(values)) > 1):
            bad.append(key)
    return bad
