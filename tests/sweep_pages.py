"""Opening the Sweep page in AppTest from a link (shared by the Sweep page's test modules)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def sweep_page(query: dict, lang: str = "en") -> AppTest:
    """The Sweep page opened from a link holding ``query``, in ``lang``; it must draw without an exception."""
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in {"lang": lang, **query}.items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/sweep.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at
