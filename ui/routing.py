"""Make sure every page runs under the router, even on a fresh server.

Streamlit keeps, per server process, a flag saying whether the app still uses
the old pages/ folder convention. It starts True because our page files live in
pages/, and only a call to st.navigation (in the router) clears it. Until the
first visitor opens the root URL, a shared link straight to /lessons is run the
old way: the page file alone, without the router's sidebar, link check and
NumPy settings. A session whose first run comes in that way clears the flag and
reruns, so the same URL goes through the router. The flag is internal to
Streamlit; tests/e2e/test_pages_browser.py opens a fresh server on a page URL
to hold this to account.
"""

from __future__ import annotations

import streamlit as st

ROUTED = "_routed"  # session-state flag: the router has run in this session


def mark_routed() -> None:
    st.session_state[ROUTED] = True


def ensure_router() -> None:
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory and not st.session_state.get(ROUTED):
        PagesManager.uses_pages_directory = False
        st.rerun()
