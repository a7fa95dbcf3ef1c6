"""The router: shared sidebar, then the page the URL names (``app.py`` runs it)."""

from __future__ import annotations

import gc

import streamlit as st

from i18n import t

from . import controls, numerics, routing, views  # noqa: F401 - views: plotly and the figure code, imported before the freeze below


def tune_garbage_collector() -> None:
    """Keep Python's cycle collector from pausing the server for every session at once.

    Measured with bench/load.py (30 sessions moving a slider together): the
    collector took 1.4 s of the server's CPU in a 15 s run, much of it in full
    collections that walk every object sympy, plotly and Streamlit made at
    import (~130 000, ~120 ms a walk), each stalling every session. Those
    objects live as long as the process: ``gc.freeze()`` moves them out of the
    collector's sight. A rerun allocates tens of thousands of short-lived
    objects (figure dicts, protobufs) that reference counting frees at once,
    so the first generation is collected every 25 000 net allocations rather
    than every 700. Together: 0.35 s instead of 1.4 s, p95 2.05 -> 1.70 s.
    """
    gc.freeze()
    gc.set_threshold(25_000, 10, 10)


tune_garbage_collector()  # once per process: this module is imported once

PAGES = routing.PAGES


def main() -> None:
    st.set_page_config(page_title="Descent Lab", page_icon="⛰️", layout="wide")
    routing.mark_routed()
    lang = controls.settled_language()  # before any widget: the page titles are in it
    pages = [
        st.Page(path, title=t(title, lang), icon=icon, url_path=url, default=(i == 0))
        for i, (path, title, icon, url) in enumerate(PAGES)
    ]
    page = st.navigation(pages)
    # After the navigation has settled the page (a rerun the check asks for stays on it), before any widget.
    controls.check_link()
    controls.language_picker()
    controls.presentation()
    # The page under the app's errstate (ui/numerics.py; a fragment carries its own, for its reruns).
    with numerics.quiet():
        page.run()
