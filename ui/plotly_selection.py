"""A chart selection that Streamlit cannot parse reads as empty, marked UNREADABLE.

The app's one use of a Streamlit internal (issue 14 allows one module, guarded by a test:
tests/test_events_hostile.py, ``test_the_one_streamlit_internal_is_still_in_place``).

Why: Streamlit parses a ``st.plotly_chart`` selection (JSON text from the browser) before any
line of the app runs, in the callbacks' pass and again when the chart is drawn. Text that is
not JSON, or JSON of another shape, raises there ("This app has encountered an error"), and
on every later rerun too, since the browser sends the same text again: the page is gone until
a reload, and no app code can catch it. Streamlit's own ``st.components.v2`` state already
reads undecodable text as empty; its plotly selection does not. Wrapped here (its
``PlotlyChartSelectionSerde.deserialize``, once per process), such text reads as an empty
selection with ``UNREADABLE: True``, which the page reports and ignores
(``ui/sweep_view.py``). A selection Streamlit can parse passes through untouched.
"""

from __future__ import annotations

try:  # an upgrade that moves it must not take the app down: the guard test says so instead
    from streamlit.elements.plotly_chart import PlotlyChartSelectionSerde as _Serde
except ImportError:  # pragma: no cover - only after a Streamlit upgrade
    _Serde = None

UNREADABLE = "unreadable"


def _tolerant(deserialize):
    def read(self, ui_value):
        try:
            return deserialize(self, ui_value)
        except Exception:  # whatever forged text makes json.loads or Streamlit's wrapping raise
            empty = deserialize(self, None)
            return type(empty)({**empty, UNREADABLE: True})

    read.tolerant = True
    return read


def install() -> None:
    """Wrap Streamlit's plotly selection parser (once: a second call finds it wrapped)."""
    if _Serde is not None and callable(getattr(_Serde, "deserialize", None)) and not installed():
        _Serde.deserialize = _tolerant(_Serde.deserialize)


def installed() -> bool:
    """Whether the wrapper is in place (the guard test asks)."""
    return bool(getattr(getattr(_Serde, "deserialize", None), "tolerant", False))


install()  # at import: before any session's selection is parsed
