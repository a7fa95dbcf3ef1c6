"""Make sure every page runs under the router, even on a fresh server.

Streamlit decides, per server process, whether the app still uses the old
pages/ folder convention: yes while a pages/ folder lies next to the entry file
(ours does: the page files live there) and no page has called ``st.navigation``
yet. Until the first visitor opens the root URL, a shared link straight to
/lessons is run the old way: the page file alone, without the router's sidebar,
link check and NumPy settings. A session whose first run comes in that way
calls ``st.navigation`` itself (its documented effect: automatic discovery of
pages/ is off from then on, for the whole app) and reruns, so the same URL goes
through the router. Public API only; tests/e2e/test_pages_browser.py opens a
fresh server on a page URL to hold this to account.
"""

from __future__ import annotations

import streamlit as st

ROUTED = "_routed"  # session-state flag: the router has run in this session

# The app's pages: (file, title key, icon, URL path); the first is the default. The router
# builds its navigation from them, and so does a page that runs without it.
PAGES = (
    ("pages/playground.py", "nav.playground", "🏔️", "playground"),
    ("pages/lessons.py", "nav.lessons", "🎓", "lessons"),
    ("pages/sweep.py", "nav.sweep", "🔍", "sweep"),
)


def mark_routed() -> None:
    st.session_state[ROUTED] = True


REROUTED = "_rerouted"  # session-state flag: this session already reran to reach the router


def ensure_router() -> None:
    if st.session_state.get(ROUTED) or st.session_state.get(REROUTED):
        return  # routed, or already tried once (a page run as the main script must not loop)
    st.session_state[REROUTED] = True
    # The same pages the router declares; nothing of this run is shown, the rerun replaces it.
    st.navigation([st.Page(path, url_path=url, default=(i == 0)) for i, (path, _, _, url) in enumerate(PAGES)], position="hidden")
    st.rerun()


def switch_to(page: str, query: dict | None = None) -> None:
    """Go to ``page`` with the link ``query`` ({key: text or list of texts}; none: an empty link,
    the page's own controls write theirs).

    ``st.switch_page(page)`` clears the link with a check that refuses once a control of this
    page has bound its value to it (``bind="query-params"``; the Sweep page's sliders do), and
    the binding outlives the run that drew the control. Passing the new page's query
    parameters replaces them without that check."""
    st.switch_page(page, query_params=query or {})
