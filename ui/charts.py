"""Hand a figure dict to Streamlit without Plotly's validation pass.

``st.plotly_chart`` turns a dict into a ``plotly.graph_objects.Figure`` to
validate it, which takes about half a second for an animated figure with 60
frames: most of a slider move's budget. A Figure instance is trusted and only
``to_dict()``-ed, so we hand over a Figure (an empty one, built through its
public constructor: under a millisecond) whose ``to_dict`` returns the dict we
built. Our figure builders are tested on their own for valid Plotly JSON;
tests/test_internals.py checks that ``st.plotly_chart`` still sends that dict
as it is.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st


class PrebuiltFigure(go.Figure):
    """An empty Figure that reports ``spec`` as its content."""

    def __init__(self, spec: dict):
        super().__init__()
        self._prebuilt_spec = spec  # a Figure takes only its properties and underscored names

    def to_dict(self) -> dict:
        return self._prebuilt_spec


CONFIG = {"displaylogo": False, "scrollZoom": True, "toImageButtonOptions": {"format": "png", "scale": 2}}


def show(spec: dict, key: str, on_select=None, selection_mode="points"):
    """Draw ``spec``; with ``on_select`` (a callback or "rerun"), clicks on points report them."""
    kwargs = {"on_select": on_select, "selection_mode": selection_mode} if on_select else {}
    return st.plotly_chart(PrebuiltFigure(spec), key=key, theme=None, config=CONFIG, width="stretch", **kwargs)
