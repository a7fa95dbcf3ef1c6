"""The router: shared sidebar, then the page the URL names (``app.py`` runs it)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from i18n import t

from . import controls, routing

PAGES = (
    ("pages/playground.py", "nav.playground", "🏔️", "playground"),
    ("pages/lessons.py", "nav.lessons", "🎓", "lessons"),
    ("pages/sweep.py", "nav.sweep", "🔍", "sweep"),
)


def main() -> None:
    st.set_page_config(page_title="Descent Lab", page_icon="⛰️", layout="wide")
    routing.mark_routed()
    controls.check_link()
    lang = controls.language_picker()
    controls.presentation()
    pages = [
        st.Page(path, title=t(title, lang), icon=icon, url_path=url, default=(i == 0))
        for i, (path, title, icon, url) in enumerate(PAGES)
    ]
    # Overflow, log(0) and the like are reported in words (a run's status, a
    # domain notice), so NumPy's own warnings never reach the log or the visitor.
    with np.errstate(all="ignore"):
        st.navigation(pages).run()
