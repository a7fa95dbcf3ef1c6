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
    # The next rerun (a control moved) keeps the page working and the notice up.
    at.slider(key="steps").set_value(150).run()
    assert_working(at, "playground", [key])
    assert at.slider(key="steps").value == 150
