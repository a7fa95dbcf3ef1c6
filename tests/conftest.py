"""Test set-up: the repository's packages import from any working directory.

The hand-written reference formulas live in tests/reference.py (not here: the
browser tests have a conftest of their own, and two modules both named
``conftest`` would shadow each other when imported by name).
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# Hypothesis keeps an example database and caches under .hypothesis/ in the working
# directory: tests write nothing into the repository, so both go to a temporary folder.
import tempfile  # noqa: E402

from hypothesis import settings  # noqa: E402
from hypothesis.configuration import set_hypothesis_home_dir  # noqa: E402

set_hypothesis_home_dir(tempfile.mkdtemp(prefix="descent-lab-hypothesis-"))
settings.register_profile("no_database", database=None)
settings.load_profile("no_database")


# -- a chart selection, as the browser sends it -------------------------------------------------

import pytest  # noqa: E402
from streamlit.testing.v1.element_tree import ElementTree  # noqa: E402


@pytest.fixture
def chart_selections(monkeypatch) -> dict:
    """Selections the browser holds, by chart id -> JSON text (AppTest tests). Like Streamlit's
    frontend, the browser sends a chart's selection with every rerun while that chart is drawn
    (a new figure is a new chart id, and its old selection is gone)."""
    held: dict[str, str] = {}
    original = ElementTree.get_widget_states

    def with_selections(tree):
        states = original(tree)
        drawn = {c.proto.id for c in tree.get("plotly_chart")}
        for wid, text in held.items():
            if wid in drawn:
                ws = states.widgets.add()
                ws.id = wid
                ws.string_value = text
        return states

    monkeypatch.setattr(ElementTree, "get_widget_states", with_selections)
    return held
