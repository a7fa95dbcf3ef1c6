"""What the controls offer: option grids, suggested values per surface, URL keys. Pure data, no Streamlit.

Every control's key is also its URL query key (Streamlit's ``bind="query-params"``,
or kept in step by ``ui/controls.py``), so this module is the list of what a shared
link can say. Fixed by the issue: ``landscape``, ``optimizers`` (repeated), ``steps``.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

import optimizers
from landscapes.catalog import CATALOG

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


def custom_key(parameter: str) -> str:
    return f"c_{parameter}"

# What a prepared link can hide (?hide=hyper&hide=training): control groups and
# the CSS selectors of their elements (Streamlit gives a keyed element the
# class st-key-<key>). Hidden controls still exist, so their values and URL
# binding stay intact.
HIDE_GROUPS: dict[str, tuple[str, ...]] = {
    "landscape": (".st-key-landscape", "[class*='st-key-p_']"),
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


def _grid(mantissas, exponents) -> list[float]:
    return [float(f"{m}e{e}") for e in exponents for m in mantissas]


# Learning rates on a log scale with round numbers a teacher can say aloud.
LR_OPTIONS: list[float] = _grid((1, 1.5, 2, 3, 5, 7), range(-5, 1)) + [10.0]
BETA2_OPTIONS = [0.9, 0.95, 0.99, 0.995, 0.999, 0.9999]
ALPHA_OPTIONS = [0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999]
EPS_OPTIONS = [1e-10, 1e-8, 1e-6, 1e-4, 1e-2]
# The Newton methods' damping lambda (0: undamped) and step cap R (no "no cap": the
# panel's values travel as JSON, which has no infinity; 1000 is beyond every window).
DAMPING_OPTIONS = [0.0, 1e-4, 1e-3, 1e-2, 0.1, 1.0]
MAX_STEP_OPTIONS = [0.1, 0.3, 1.0, 3.0, 10.0, 100.0, 1000.0]
NOISE_OPTIONS = [0.0, 0.01, 0.03, 0.1, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0]
AVERAGE_OPTIONS = ["none", "polyak", "ema"]
STEPS_RANGE = (5, 3000)
VIEWS = ("paths", "surface", "inside", "formulas")  # the Playground's views of the runs, as named in a link
# The cyclical schedule's period in steps: the slider's range and step, and its value when a link says none.
CYCLE_RANGE = (10, 1000)
CYCLE_STEP = 10
DEFAULT_CYCLE = 100

# Hyperparameter controls per optimizer, in display order.
HYPERPARAMETERS: dict[str, tuple[str, ...]] = {
    "sgd": ("lr",),
    "momentum": ("lr", "momentum"),
    "nesterov": ("lr", "momentum"),
    "adagrad": ("lr", "eps"),
    "rmsprop": ("lr", "alpha", "eps"),
    "adam": ("lr", "beta1", "beta2", "eps", "bias_correction"),
    "newton": ("lr", "damping", "max_step"),
    "saddle_free_newton": ("lr", "damping", "max_step"),
    "lbfgs": ("lr", "memory"),
}

CUSTOM_LR_KEY = "custom"  # typed functions get moderate rates: nothing is known about them

# Learning rates that show each surface's lesson; the rest follow the defaults.
SUGGESTED_LR: dict[str, dict[str, float]] = {
    "bowl": {"sgd": 0.15, "momentum": 0.015, "nesterov": 0.015, "adagrad": 0.7, "rmsprop": 0.07, "adam": 0.2},
    "saddle": {"sgd": 0.05, "momentum": 0.02, "nesterov": 0.02, "adagrad": 0.3, "rmsprop": 0.03, "adam": 0.05},
    "rosenbrock": {"sgd": 0.0005, "momentum": 0.0003, "nesterov": 0.0003, "adagrad": 0.3, "rmsprop": 0.005, "adam": 0.03},
    "monkey_saddle": {"sgd": 0.05, "momentum": 0.02, "nesterov": 0.02, "adagrad": 0.1, "rmsprop": 0.02, "adam": 0.05},
    "beale": {"sgd": 0.001, "momentum": 0.0005, "nesterov": 0.0005, "adagrad": 0.3, "rmsprop": 0.01, "adam": 0.03},
    "himmelblau": {"sgd": 0.01, "momentum": 0.003, "nesterov": 0.003, "adagrad": 0.5, "rmsprop": 0.03, "adam": 0.1},
    "rastrigin": {"sgd": 0.003, "momentum": 0.001, "nesterov": 0.001, "adagrad": 0.3, "rmsprop": 0.02, "adam": 0.05},
    "six_hump_camel": {"sgd": 0.01, "momentum": 0.005, "nesterov": 0.005, "adagrad": 0.2, "rmsprop": 0.01, "adam": 0.03},
    "plateau": {"sgd": 0.5, "momentum": 0.1, "nesterov": 0.1, "adagrad": 0.5, "rmsprop": 0.05, "adam": 0.1},
    CUSTOM_LR_KEY: {"sgd": 0.05, "momentum": 0.02, "nesterov": 0.02, "adagrad": 0.3, "rmsprop": 0.02, "adam": 0.05},
    "cliff_valley": {"sgd": 0.3, "momentum": 0.1, "nesterov": 0.1, "adagrad": 1.0, "rmsprop": 0.1, "adam": 0.1},
}


# Other settings that differ from the optimizer's own default on a surface.
SUGGESTED_OTHER: dict[str, dict[str, dict[str, float]]] = {
    # kappa = 10: mu = 0.8 damps the cross-valley swing within a few steps.
    "bowl": {"momentum": {"momentum": 0.8}, "nesterov": {"momentum": 0.8}},
    # A short memory, so the wall's gradients are forgotten on the valley floor.
    "cliff_valley": {"rmsprop": {"alpha": 0.9}},
}


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


def nearest(options: list[float], value: float) -> float:
    """The option closest to ``value`` on a log scale (for positive options) or linearly."""
    arr = np.asarray(options, dtype=float)
    if value > 0 and np.all(arr > 0):
        return float(arr[np.argmin(np.abs(np.log(arr) - np.log(value)))])
    return float(arr[np.argmin(np.abs(arr - value))])


def default_hyperparameter(optimizer: str, name: str, surface: str):
    """The value a control starts at for ``optimizer``'s ``name`` on ``surface``: one the control offers."""
    if name == "lr":
        suggested = SUGGESTED_LR.get(surface, {}).get(optimizer)
        value = suggested if suggested is not None else optimizers.defaults(optimizer)["lr"]
    else:
        value = SUGGESTED_OTHER.get(surface, {}).get(optimizer, {}).get(name, optimizers.defaults(optimizer)[name])
    return hyper_value(name, value)


def hyperparameter_state(surface: str, chosen: Mapping[str, object] | None = None) -> dict[str, object]:
    """Every optimizer's hyperparameter controls, by key: ``chosen`` values where given, else the surface's defaults.

    Learning rates snap to the nearest option the lr slider offers.
    """
    chosen = chosen or {}
    out = {}
    for opt, names in HYPERPARAMETERS.items():
        for hp in names:
            key = hyper_key(opt, hp)
            value = chosen.get(key, default_hyperparameter(opt, hp, surface))
            out[key] = nearest(LR_OPTIONS, value) if hp == "lr" else value
    return out


def hyper_key(optimizer: str, name: str) -> str:
    return f"{optimizer}_{name}"


# Every hyperparameter control's key (also its URL key) -> (optimizer, hyperparameter).
HYPER_KEYS: dict[str, tuple[str, str]] = {hyper_key(opt, hp): (opt, hp) for opt, hps in HYPERPARAMETERS.items() for hp in hps}


FRACTION_OPTIONS = [round(i / 100, 2) for i in range(100)]  # momentum and beta1: 0, 0.01, ..., 0.99
MEMORY_OPTIONS = list(range(1, 21))  # L-BFGS: the last 1..20 steps


def hyper_options(name: str) -> list | None:
    """The values a hyperparameter's control offers, in order; None for an on/off switch."""
    if name == "bias_correction":
        return None
    return {
        "lr": LR_OPTIONS,
        "momentum": FRACTION_OPTIONS,
        "beta1": FRACTION_OPTIONS,
        "beta2": BETA2_OPTIONS,
        "alpha": ALPHA_OPTIONS,
        "eps": EPS_OPTIONS,
        "memory": MEMORY_OPTIONS,
        "damping": DAMPING_OPTIONS,
        "max_step": MAX_STEP_OPTIONS,
    }[name]


def hyper_value(name: str, value):
    """``value`` as the control holds it: the nearest option (an int for the memory), or a bool."""
    options = hyper_options(name)
    if options is None:
        return bool(value)
    value = float(value)
    if name == "memory":
        return int(nearest(options, value))
    if value == np.inf:  # "no cap" (the core's max_step=inf): the largest the control offers
        return float(max(options))
    if name == "damping" and value > 0:  # 0 is exactly "undamped"; a positive damping snaps on a log scale
        return nearest([o for o in options if o > 0], value)
    return nearest(options, value)


def hyper_from_link(name: str, text: str):
    """A link's text for hyperparameter ``name`` as its value, or None if the control cannot take it."""
    check = _HYPER_CHECKS[name]
    if not check(text):
        return None
    return text.lower() == "true" if name == "bias_correction" else hyper_value(name, float(text))


def hyper_link_text(value) -> str:
    """How a link spells a hyperparameter's value: true/false, 5, 0.0003, 1e-08."""
    if isinstance(value, bool):
        return str(value).lower()
    return format(value, "g")


def param_key(name: str) -> str:
    return f"p_{name}"


def default_start(surface: str) -> tuple[float, float]:
    hints = CATALOG[surface].hints if surface in CATALOG else {}
    return tuple(hints.get("start", (1.0, 1.0)))  # type: ignore[return-value]


def default_steps(surface: str) -> int:
    hints = CATALOG[surface].hints if surface in CATALOG else {}
    return int(hints.get("steps", 200))


# --------------------------------------------------------------------------
# What a link may say. Streamlit drops a bound value it cannot use; these
# checks let the page say so instead of resetting silently.
# --------------------------------------------------------------------------


def _number(text: str, lo: float, hi: float, whole: bool = False) -> bool:
    try:
        v = float(text)
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


_HYPER_CHECKS = {
    "lr": lambda v: _one_of(v, LR_OPTIONS),
    "momentum": lambda v: _number(v, 0, 0.99),
    "beta1": lambda v: _number(v, 0, 0.99),
    "beta2": lambda v: _one_of(v, BETA2_OPTIONS),
    "alpha": lambda v: _one_of(v, ALPHA_OPTIONS),
    "eps": lambda v: _one_of(v, EPS_OPTIONS),
    "bias_correction": _flag,
    "memory": lambda v: _number(v, 1, 20, whole=True),
    "damping": lambda v: _one_of(v, DAMPING_OPTIONS),
    "max_step": lambda v: _one_of(v, MAX_STEP_OPTIONS),
}


def _validator(key: str):
    fixed = {
        "landscape": lambda v: v in CATALOG or v == CUSTOM,
        "fx": lambda v: 0 < len(v) <= MAX_EXPRESSION,
        "optimizers": lambda v: v in optimizers.names(),
        "steps": lambda v: _number(v, *STEPS_RANGE, whole=True),
        "lang": lambda v: v in ("en", "zh"),
        "x0": lambda v: _number(v, -1e3, 1e3),
        "y0": lambda v: _number(v, -1e3, 1e3),
        "schedule": lambda v: v in optimizers.schedules.names(),
        "warmup": lambda v: _number(v, 0, 500, whole=True),
        "cycle": lambda v: _number(v, *CYCLE_RANGE, whole=True),
        "noise": lambda v: _one_of(v, NOISE_OPTIONS),
        "seed": lambda v: _number(v, 0, 10_000, whole=True),
        "average": lambda v: v in AVERAGE_OPTIONS,
        "field": _flag,
        "eigen": _flag,
        "taylor": _flag,
        "inspect": lambda v: _number(v, 0, STEPS_RANGE[1], whole=True),
        "inside_step": lambda v: _number(v, 0, STEPS_RANGE[1], whole=True),
        "hide": lambda v: v in HIDE_GROUPS,
        "present": _flag,
        "view": lambda v: v in VIEWS,
    }
    if key in fixed:
        return fixed[key]
    if key.startswith("p_"):
        return lambda v: _number(v, -1e3, 1e3)
    if key.startswith("c_"):
        return lambda v: _number(v, -10, 10)
    if key in HYPER_KEYS:
        return _HYPER_CHECKS[HYPER_KEYS[key][1]]
    return None  # not ours (e.g. embed=true): leave it alone


def hidden_css(groups) -> str:
    """CSS that hides the chosen control groups (unknown names are ignored)."""
    selectors = [sel for g in groups if g in HIDE_GROUPS for sel in HIDE_GROUPS[g]]
    return ", ".join(selectors) + " { display: none !important; }" if selectors else ""


PRESENTER_CSS = """
.stApp { font-size: 1.3rem; }
.stApp h1 { font-size: 3rem; }
.stApp [data-testid='stMarkdownContainer'] p, .stApp .dl-status, .stApp .dl-readouts { font-size: 1.3rem; }
.stApp .dl-cursor { font-size: 1.3rem; }
"""


def invalid_query_keys(query: dict[str, list[str]]) -> list[str]:
    """The keys of a link whose values the controls cannot take, in link order."""
    bad = []
    for key, values in query.items():
        check = _validator(key)
        if check is not None and not all(check(v) for v in values):
            bad.append(key)
    return bad
