"""Hand a figure dict to Streamlit without Plotly's validation pass.

``st.plotly_chart`` turns a dict into a ``plotly.graph_objects.Figure`` to
validate it, which takes about half a second for an animated figure with 60
frames: most of a slider move's budget. A Figure instance is trusted and only
``to_dict()``-ed, so we hand over a Figure whose ``to_dict`` returns the dict we
built. Our figure builders are tested on their own for valid Plotly JSON.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st


class PrebuiltFigure(go.Figure):
    def __init__(self, spec: dict):  # noqa: D401 - deliberately skips Figure.__init__
        object.__setattr__(self, "_spec", spec)

    def to_dict(self) -> dict:
        return self._spec


CONFIG = {"displaylogo": False, "scrollZoom": True, "toImageButtonOptions": {"format": "png", "scale": 2}}


def show(spec: dict, key: str, on_select=None, selection_mode="points"):
    """Draw ``spec``; with ``on_select`` (a callback or "rerun"), clicks on points report them."""
    kwargs = {"on_select": on_select, "selection_mode": selection_mode} if on_select else {}
    return st.plotly_chart(PrebuiltFigure(spec), key=key, theme=None, config=CONFIG, width="stretch", **kwargs)
