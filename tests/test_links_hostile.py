"""Hostile links and forged widget values, through Streamlit's AppTest (issue 16, points 1, 2, 5).

AppTest runs the app the way the server does, URL binding included: a link's values reach
the bound widgets through Streamlit's own ``bind="query-params"`` seeding (the crash of
``?seed=inf`` reproduces here with the same traceback as in the browser;
tests/e2e/test_links_browser.py opens the same links in Chromium).

What is asserted is what a visitor sees: no exception, the chart drawn, and one notice that
names every key that was reset, before and after the next rerun.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = {"playground": None, "lessons": "pages/lessons.py", "sweep": "pages/sweep.py"}


def open_page(page: str, query: dict) -> AppTest:
    """A fresh session opened on ``page`` by a link holding ``query`` (a list: a repeated key)."""
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in query.items():
        at.query_params[k] = v
    if PAGES[page]:
        at.switch_page(PAGES[page])
    return at.run()


def notices(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def named(at: AppTest) -> set[str]:
    """The keys the page's notices name (the list after the colon, in English or Chinese)."""
    keys = set()
    for text in notices(at):
        if ":" in text or "：" in text:
            tail = re.split(r"[:：]", text)[-1]
            keys |= {k.strip(" .。") for k in re.split(r"[,，、]", tail) if k.strip(" .。")}
    return keys


def chart_drawn(at: AppTest, page: str) -> bool:
    """The page's main chart is there: the Playground's path chart (both layers, with data), a
    lesson's contour or the Sweep's heatmap."""
    if page == "playground":
        layers = [json.loads(c.proto.bytes) for c in at.get("bidi_component") if c.proto.component_name == "descent_lab.live_chart"]
        roles = {p.get("role") for p in layers if p.get("name") == "path_chart" and p["figure"]["data"]}
        return roles == {"back", "front"}
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return bool(specs) and all(s["data"] for s in specs)


def assert_working(at: AppTest, page: str, keys=()) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert chart_drawn(at, page), f"no chart on the {page}"
    missing = set(keys) - named(at)
    assert not missing, f"not named: {sorted(missing)}; notices: {notices(at)}"


# -- the links of the issue that crashed the Playground ---------------------------------------

NINES = "9" * 400
CRASH_LINKS = [
    ("seed", "inf"),
    ("seed", "-inf"),
    ("seed", "1e309"),
    ("seed", NINES),
    ("seed", "nan"),
    ("steps", "9" * 140),
    ("adam_beta1", "9" * 100),
    ("x0", "1e309"),
    ("warmup", "-inf"),
]


@pytest.mark.parametrize("key, value", CRASH_LINKS, ids=[f"{k}={v[:8]}" for k, v in CRASH_LINKS])
def test_each_crash_link_opens_the_playground_with_a_notice_naming_its_key(key, value):
    at = open_page("playground", {"optimizers": ["sgd", "adam"], key: value})
    assert_working(at, "playground", [key])
    # The control holds its default, in the panel as in the sidebar.
    defaults = {"seed": 0, "steps": 60, "x0": -3.5, "warmup": 0}  # the bowl's teaching start and steps
    if key in defaults:
        assert at.session_state[key] == defaults[key]
    # The next rerun (a control moved) keeps the page working and the notice up. The steps rerun
    # the race fragment alone (ui/state.rerun_steps), and AppTest then holds only what the fragment
    # drew; the browser keeps the rest of the page, which a full run draws again here.
    at.slider(key="steps").set_value(150).run()
    assert not at.exception and chart_drawn(at, "playground")
    at.run()
    assert_working(at, "playground", [key])
    assert at.slider(key="steps").value == 150


# -- values within the generic checks but not what the page can use (issue point 5) ----------

DEFAULT_FUNCTION = "a*x^2 + b*y^2"  # the typed-function box's text when a link gives none


@pytest.mark.parametrize(
    "query, key",
    [
        ({"landscape": "bowl", "p_condition": "500"}, "p_condition"),  # the slider: 1..100
        ({"landscape": "rosenbrock", "p_b": "1000"}, "p_b"),  # 1..200
        ({"landscape": "plateau", "p_width": "0"}, "p_width"),  # 1..8
        ({"landscape": "bowl", "p_b": "50"}, "p_b"),  # the bowl has no b: not used, so named
        ({"landscape": "custom", "fx": "x^2 + " * 40 + "y^2"}, "fx"),  # 244 characters
        ({"landscape": "custom", "fx": ""}, "fx"),
        ({"seed": ["3", "4"]}, "seed"),  # one control, two values
        ({"lang": "xx"}, "lang"),
    ],
)
def test_a_value_the_control_cannot_take_is_named_and_reset(query, key):
    at = open_page("playground", {"optimizers": ["sgd"], **query})
    assert_working(at, "playground", [key])
    sliders = {("bowl", "p_condition"): 10.0, ("rosenbrock", "p_b"): 100.0, ("plateau", "p_width"): 4.0}
    if (query.get("landscape"), key) in sliders:
        # The slider holds the surface's own default, not a clipped or out-of-range value.
        assert at.slider(key=key).value == sliders[query["landscape"], key]
    if key == "fx":
        # Refused whole, not cut to 200 characters: the box holds the default function, as the notice says.
        assert at.text_input(key="fx").value == DEFAULT_FUNCTION
    if key == "seed":
        assert at.session_state["seed"] == 0


def test_values_within_the_sliders_are_taken_without_a_notice():
    at = open_page("playground", {"landscape": "rosenbrock", "optimizers": ["sgd"], "p_b": "150", "p_a": "-1", "seed": ["7", "7"], "fx": "x" * 0 + "x^2"})
    assert_working(at, "playground")
    assert not notices(at), notices(at)
    assert at.slider(key="p_b").value == 150.0 and at.slider(key="p_a").value == -1.0 and at.session_state["seed"] == 7


def test_the_notice_is_in_chinese_on_a_chinese_page():
    at = open_page("playground", {"lang": "zh", "seed": "inf", "p_condition": "500"})
    assert_working(at, "playground", ["seed", "p_condition"])
    (text,) = notices(at)
    assert "链接" in text and "已恢复为默认值" in text


@pytest.mark.parametrize(
    "page, query, keys",
    [
        ("lessons", {"lesson": "bogus"}, ["lesson"]),
        ("lessons", {"lesson": ""}, ["lesson"]),
        ("lessons", {"lesson": ["zigzag", "newton"]}, ["lesson"]),
        ("sweep", {"sw_landscape": "nope", "sw_optimizer": "zzz", "sw_x": "1e309", "sw_y": "", "sw_mode": "bogus"}, ["sw_landscape", "sw_optimizer", "sw_x", "sw_y", "sw_mode"]),
        ("sweep", {"sw_n": NINES, "sw_steps": "-inf", "sw_metric": "nan", "sw_scaling": "x" * 10_000, "sw_batch": "7"}, ["sw_n", "sw_steps", "sw_metric", "sw_scaling", "sw_batch"]),
        ("sweep", {"sw_n": ["8", "abc"], "sw_steps": "50"}, ["sw_n"]),
        # Values some Sweep control takes, but not with the others of this link: named all the same.
        ("sweep", {"sw_landscape": "bowl", "sw_y": "batch_size", "sw_scaling": "raw", "sw_n": "8", "sw_steps": "50"}, ["sw_y", "sw_scaling"]),
    ],
)
def test_junk_in_the_lessons_and_sweep_keys_is_named(page, query, keys):
    at = open_page(page, query)
    assert_working(at, page, keys)
    assert len(notices(at)) == 1, notices(at)  # one notice for the page
    at.run()  # the next rerun
    assert_working(at, page, keys)


# -- a forged widget value (issue point 2: landscape=bogus into reset_for_surface) -----------


def forge(widget, **fields) -> None:
    """Make ``widget`` send ``fields`` as its value in the next run, as a hand-made websocket
    message would (the browser only sends values its list shows). Streamlit passes a choice
    widget's unknown value on as it came, into its on_change callback and the page.

    AppTest has no public way to send a value a widget does not offer: this replaces the
    widget's ``_widget_state`` (AppTest's serialisation of it) on that one element."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    def state(self) -> WidgetState:
        ws = WidgetState(id=self.id)
        for name, value in fields.items():
            if isinstance(value, list):
                getattr(ws, name).data.extend(value)
            else:
                setattr(ws, name, value)
        return ws

    base = type(widget)
    assert isinstance(getattr(base, "_widget_state", None), property), "AppTest's Widget._widget_state changed: forge() needs updating"
    widget.__class__ = type("Forged" + base.__name__, (base,), {"_widget_state": property(state)})


@pytest.mark.parametrize(
    "page, query, kind, key, fields, kept",
    [
        ("playground", {"landscape": "rosenbrock"}, "selectbox", "landscape", {"string_value": "bogus"}, "rosenbrock"),
        ("playground", {"landscape": "faithful"}, "selectbox", "scaling", {"string_value": "sideways"}, "standardized"),
        ("playground", {"schedule": "cosine"}, "selectbox", "schedule", {"string_value": "../../etc"}, "cosine"),
        ("playground", {"optimizers": ["adam"]}, "multiselect", "optimizers", {"string_array_value": ["adam", "bogus"]}, ["adam"]),
        ("lessons", {"lesson": "newton"}, "selectbox", "lesson", {"string_value": "bogus"}, "newton"),
        ("sweep", {"sw_n": "8", "sw_steps": "50"}, "selectbox", "sw_x", {"string_value": "1e308"}, "lr"),
    ],
)
def test_a_forged_choice_is_ignored_with_a_notice_and_the_page_keeps_working(page, query, kind, key, fields, kept):
    at = open_page(page, query)
    assert_working(at, page)
    forge(getattr(at, kind)(key=key), **fields)
    at.run()
    assert_working(at, page, [key])
    assert at.session_state[key] == kept
    # The next rerun: no error left over, the notice gone (it was about that one message).
    at.run()
    assert_working(at, page)
    assert key not in named(at)
    assert at.session_state[key] == kept


# -- fuzz: every URL key of every page --------------------------------------------------------
#
# The keys, as the README's "Shareable links" table lists them (the hyperparameters from the
# optimizers' public list, the surface parameters from the catalog's). Every value drawn below is
# one no control can take, whatever the key: so every key of a link must come back named, the
# page must work, and no key of the valid context around it may be named.

OPTIMIZERS = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton", "saddle_free_newton", "lbfgs"]


def hyper_link_keys() -> list[str]:
    import optimizers

    return [f"{opt}_{hp.name}" for opt in OPTIMIZERS for hp in optimizers.hyperparameters(opt)]


PLAYGROUND_KEYS = [
    "landscape", "optimizers", "steps", "x0", "y0", "schedule", "warmup", "cycle", "noise", "seed", "average",
    "field", "eigen", "taylor", "inspect", "view", "present", "hide", "lang",
]  # fmt: skip
SWEEP_KEYS = ["sw_landscape", "sw_scaling", "sw_optimizer", "sw_x", "sw_y", "sw_batch", "sw_mode", "sw_n", "sw_steps", "sw_metric"]
ROUTER_KEYS = ["lang", "present", "hide"]  # read on every page

# (page, view, the valid context of the link, the keys made hostile in it)
CONTEXTS = [
    ("playground", "paths", {"landscape": "bowl", "optimizers": OPTIMIZERS, "schedule": "cyclical"},
     [k for k in PLAYGROUND_KEYS if k not in ("landscape", "optimizers", "schedule", "view")] + ["p_condition", "p_angle"] + hyper_link_keys()),
    ("playground", "paths", {}, ["landscape", "optimizers", "schedule", "view"]),
    ("playground", "inside", {"landscape": "faithful", "optimizers": ["sgd", "adam"], "view": "inside"}, ["scaling", "batch_size", "inside_step", "steps", "seed"]),
    ("playground", "paths", {"landscape": "custom"}, ["fx", "c_a", "c_b", "x0", "y0"]),
    ("playground", "paths", {"landscape": "rosenbrock"}, ["p_a", "p_b"]),
    ("playground", "paths", {"landscape": "rastrigin"}, ["p_A"]),
    ("playground", "paths", {"landscape": "plateau"}, ["p_width"]),
    ("playground", "paths", {"landscape": "cliff_valley"}, ["p_wall"]),
    ("lessons", None, {}, ["lesson", *ROUTER_KEYS]),
    ("sweep", None, {}, [*SWEEP_KEYS, *ROUTER_KEYS]),
    ("sweep", None, {"sw_landscape": "iris", "sw_n": "8", "sw_steps": "50"}, ["sw_scaling", "sw_batch", "sw_x", "sw_mode"]),
]  # fmt: skip

KINDS = ("junk", "huge", "nonfinite", "empty", "repeated", "long", "number")


def hostile(kind: str, rng: np.random.Generator, key: str):
    """A value of ``kind`` that no control can take. The typed function's box takes any text of
    1..200 characters: for ``fx`` every kind becomes one beyond that."""
    if key == "fx" and kind in ("junk", "nonfinite", "number"):
        kind = str(rng.choice(["empty", "long", "huge"]))
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if kind == "junk":
        word = "".join(rng.choice(list(letters), size=int(rng.integers(3, 12))))
        return str(rng.choice([word + "%" + str(rng.integers(0, 99)), "0x1F", "1e", "--1", "true;", "\u202e" + word, "<b>" + word, "1,5"]))
    if kind == "huge":
        digits = int(rng.choice([100, 140, 400, 1000]))
        return str(rng.choice(["", "-"])) + "9" * digits
    if kind == "nonfinite":
        return str(rng.choice(["inf", "-inf", "nan", "NaN", "Infinity", "1e309", "-1e309", "+inf"]))
    if kind == "empty":
        return ""
    if kind == "long":  # 10 KB
        return str(rng.choice(["x", "1", "%"])) * 10_240
    if kind == "number":  # beyond every control's range (the widest, the seed's, ends at 10 000)
        return repr(float(rng.choice([-1.0, 1.0]) * 10 ** rng.uniform(5, 300)))
    if kind == "repeated":  # two different values for one key, neither usable
        return [hostile(str(rng.choice(["junk", "huge", "nonfinite", "number"])), rng, key), hostile("empty", rng, key) or "zz"]
    raise ValueError(kind)


def fuzz_links(seed: int = 16):
    """For each context, links in which each hostile key meets each kind of value once (key i
    takes kind i + j in link j), the values drawn from a seeded generator: reproducible."""
    rng = np.random.default_rng(seed)
    for c, (page, view, context, keys) in enumerate(CONTEXTS):
        for j in range(len(KINDS) if len(keys) > 2 else 2):
            link = {key: hostile(KINDS[(i + j + c) % len(KINDS)], rng, key) for i, key in enumerate(keys)}
            yield pytest.param(page, view, context, link, id=f"{page}-{c}-{j}")


def chart_of_view(at: AppTest, page: str, view: str | None) -> bool:
    if view in (None, "paths"):
        return chart_drawn(at, page)
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return bool(specs) and all(s["data"] for s in specs)


@pytest.mark.parametrize("page, view, context, link", list(fuzz_links()))
def test_fuzz_every_key_of_every_page(page, view, context, link):
    at = open_page(page, {**context, **link})
    for run in ("opened", "rerun"):
        assert not at.exception, (run, [e.value for e in at.exception])
        assert chart_of_view(at, page, view), f"{run}: no chart"
        keys = named(at)
        assert set(link) <= keys, f"{run}: not named {sorted(set(link) - keys)}; notices: {notices(at)}"
        assert not set(context) & keys, f"{run}: valid keys named {sorted(set(context) & keys)}"
        assert len(notices(at)) == 1, notices(at)
        at.run()
