"""Descent Lab: the router. Shared sidebar (language), then the page the URL names."""

import numpy as np
import streamlit as st

from i18n import t
from ui import controls

st.set_page_config(page_title="Descent Lab", page_icon="⛰️", layout="wide")

controls.check_link()
lang = controls.language_picker()
controls.presentation()
pages = [
    st.Page("pages/playground.py", title=t("nav.playground", lang), icon="🏔️", url_path="playground", default=True),
    st.Page("pages/lessons.py", title=t("nav.lessons", lang), icon="🎓", url_path="lessons"),
    st.Page("pages/sweep.py", title=t("nav.sweep", lang), icon="🔍", url_path="sweep"),
]
# Overflow, log(0) and the like are reported in words (a run's status, a
# domain notice), so NumPy's own warnings never reach the log or the visitor.
with np.errstate(all="ignore"):
    st.navigation(pages).run()
