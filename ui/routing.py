"""Make sure every page runs under the router in app.py, even on a fresh server.

Streamlit keeps, per server process, a flag saying whether the app still uses
the old pages/ folder convention. It starts True because our page files live in
pages/, and only a call to st.navigation (in app.py) clears it. Until the first
visitor opens the root URL, a shared link straight to /playground or /lessons
is therefore run the old way: the page file alone, without app.py's sidebar,
link check and NumPy settings. A page that finds itself run that way clears
the flag and reruns, so the same URL goes through app.py. (The flag is
internal to Streamlit; tests/e2e/test_pages_browser.py opens a fresh server on
a page URL to hold this to account.)
"""

from __future__ import annotations

import streamlit as st


def ensure_router() -> None:
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
