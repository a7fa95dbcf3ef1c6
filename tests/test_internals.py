"""What the app takes from Streamlit and Plotly beyond their documented calls, each held here.

Issue 14: private internals must not carry load. The app (everything outside ``bench/`` and
``tests/``) names none of Streamlit's (its ``streamlit.runtime`` and ``streamlit.web``
modules, ``PagesManager``, its hashed static files, ``$$STREAMLIT_INTERNAL`` ids). What it
does rely on, through public calls, is checked below so that an upgrade which changes it
fails here, by name, rather than somewhere in a page:

- ``ui/charts.py``: ``st.plotly_chart`` sends a ``go.Figure``'s ``to_dict()`` as it is;
- ``ui/live_chart.py``: ``components.v1.declare_component(name, path=...)`` serves the plotly
  package's ``plotly.min.js`` under ``component/<module>.<name>/`` (the browser side of that
  is tests/e2e/test_playground_browser.py, ``..._plotly_package_s_own_plotly_js``);
- ``ui/routing.py``: a deep link on a fresh server goes through the router
  (tests/e2e/test_pages_browser.py, ``test_a_fresh_server_serves_a_deep_link_through_the_router``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import plotly
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]

PRIVATE = {
    "streamlit.runtime": re.compile(r"streamlit\.runtime"),
    "streamlit.web": re.compile(r"streamlit\.web"),
    "PagesManager": re.compile(r"PagesManager"),
    "Streamlit's hashed static files": re.compile(r"static/static|PlotlyChart\.[\w*]+\.js"),
    "$$STREAMLIT_INTERNAL ids": re.compile(r"STREAMLIT_INTERNAL"),
    "AppTest internals": re.compile(r"\bat\._(tree|run)\b"),
}


def _app_files() -> list[Path]:
    skip = {"bench", "tests", ".git", ".ci", "docs", "node_modules"}
    return sorted(
        p
        for p in ROOT.rglob("*")
        if p.suffix in {".py", ".js"} and p.is_file() and not (set(p.relative_to(ROOT).parts[:-1]) & skip) and ".venv" not in p.parts
    )


def test_the_app_names_no_private_streamlit_internals():
    found = {}
    for path in _app_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        hits = [name for name, pattern in PRIVATE.items() if pattern.search(text)]
        if hits:
            found[str(path.relative_to(ROOT))] = hits
    assert not found, f"private Streamlit internals in the app (issue 14): {found}"


def test_plotly_chart_sends_a_figure_s_to_dict_as_it_is():
    """ui/charts.py hands over a Figure whose to_dict is the dict we built, skipping Plotly's
    validation pass (half a second for an animated figure). If Streamlit stops trusting a
    Figure's to_dict, charts get slow or lose what only the dict holds."""

    def script():
        import streamlit as st

        from ui import charts

        spec = {
            "data": [{"type": "scatter", "x": [0, 1], "y": [1, 0], "name": "probe", "meta": {"kept": "as is"}}],
            "layout": {"title": {"text": "probe"}, "meta": {"a_key_only_our_dict_has": 1}},
        }
        st.session_state["sent_spec"] = spec
        charts.show(spec, key="probe_chart")

    import sys

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    at = AppTest.from_function(script, default_timeout=30).run()
    assert not at.exception, at.exception
    sent = json.loads(at.get("plotly_chart")[0].proto.spec)
    want = at.session_state["sent_spec"]
    assert sent["data"] == want["data"] and sent["layout"] == want["layout"], (
        "st.plotly_chart no longer sends a Figure's to_dict() as it is (ui/charts.py, PrebuiltFigure): "
        f"{json.dumps(sent)[:500]}"
    )


def test_the_live_chart_serves_the_plotly_package_s_plotly_js():
    """ui/live_chart.py: the URL the browser is given names the folder Streamlit serves, and
    that folder holds the plotly.js the plotly package ships (the version the chart is tested with)."""
    import sys

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from ui import live_chart

    served = live_chart.serve_plotly()  # outside a script run: declared, not registered
    assert Path(served.abspath) == live_chart.PLOTLY_DIR
    assert live_chart.plotly_url() == f"/component/{served.name}/{live_chart.PLOTLY_FILE}", (
        "components.v1.declare_component names components differently now: "
        f"{served.name!r}, and the live chart asks for {live_chart.plotly_url()!r}"
    )
    head = (live_chart.PLOTLY_DIR / live_chart.PLOTLY_FILE).read_text(encoding="utf-8")[:200]
    version = re.search(r"plotly\.js v(\d+)\.(\d+)\.(\d+)", head)
    assert version, f"no plotly.min.js with a version banner in plotly {plotly.__version__}'s package_data"
    assert int(version.group(1)) == 4, f"the live chart is tested with plotly.js 4.x, plotly {plotly.__version__} ships {version.group(0)}"


@pytest.mark.parametrize("path", ["ui/routing.py", "ui/live_chart.py", "ui/charts.py", "ui/assets/live_chart.js"])
def test_the_former_internals_stay_out(path):
    """The four places issue 14 named, by what they used to use."""
    text = (ROOT / path).read_text(encoding="utf-8")
    for gone in ("PagesManager", "uses_pages_directory", "PlotlyChart", "window.Plotly.", "object.__setattr__", "plotly_chunk"):
        assert gone not in text, f"{path} uses {gone} again"


def test_tests_drive_apptest_through_its_public_api():
    """No test reaches into AppTest's private tree or run method."""
    pattern = re.compile(r"\bat\._(tree|run)\b|AppTest\._")
    offenders = [
        f"{p.relative_to(ROOT)}:{i}"
        for p in sorted((ROOT / "tests").rglob("*.py"))
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line) and "pattern = re.compile" not in line
    ]
    assert offenders == []
