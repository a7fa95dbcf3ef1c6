"""A Plotly chart that stays mounted across reruns: the Playground's path chart.

``st.plotly_chart`` remounts a chart whenever its figure changes and Plotly then
draws it twice, surface and all: 3.3x the latency of a bare one-contour page per
slider move (issue 3's bar is 1.5x). This component keeps one element under a
fixed key, draws the surface once in a back layer and, per move, redraws only
the front layer: ``Plotly.animate`` when only points moved, else ``Plotly.react``
(``ui/assets/live_chart.js``).

Plotly itself is the copy Streamlit ships (its lazily loaded chart bundle):
nothing extra to download, the same version as every other chart on the page.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import streamlit as st

import figures

from .charts import CONFIG

_ASSETS = Path(__file__).with_name("assets")
_HTML = (
    '<div class="dl-root"><div class="dl-layer"></div>'
    '<div class="dl-cursor" aria-hidden="true"></div><div class="dl-error" role="alert"></div></div>'
)
# The back layer's element lies under the front's, in their shared container.
_CSS = """
[class*="st-key-dl_layers_"] { position: relative; }
[class*="st-key-dl_layers_"] > .stElementContainer { position: relative; z-index: 1; }
[class*="st-key-dl_layers_"] > [class*="st-key-dl_back_"] { position: absolute; z-index: 0; top: 0; left: 0; right: 0; pointer-events: none; }
.dl-root { position: relative; width: 100%; }
.dl-layer { width: 100%; }
.dl-cursor { display: none; position: absolute; z-index: 2; pointer-events: none; padding: 0 0.3em;
  font: 0.8rem monospace; color: #222; background: rgba(255, 255, 255, 0.75); border-radius: 3px; }
.dl-cursor.on { display: block; }
.dl-error { display: none; padding: 0.5em; color: #b3261e; }
.dl-error.on { display: block; }
"""


@functools.cache
def _component():
    js = (_ASSETS / "live_chart.js").read_text(encoding="utf-8")
    # Not style-isolated: Plotly styles its modebar and hover labels from the page's head.
    return st.components.v2.component("descent_lab.live_chart", html=_HTML, css=_CSS, js=js, isolate_styles=False)


@functools.cache
def plotly_bundle() -> str | None:
    """Streamlit's own Plotly bundle, as a URL relative to its other scripts (None if not found)."""
    static = Path(st.__file__).parent / "static" / "static" / "js"
    found = sorted(static.glob("PlotlyChart.*.js"))
    return f"static/js/{found[0].name}" if found else None


def payloads(
    spec: dict, key: str, back_traces: int, clickable: bool = False, png_name: str = "chart.png", texts: dict[str, str] | None = None
) -> tuple[bytes, bytes]:
    """The data of the chart's two elements as sent, ``(front, back)``: ``spec`` with its first
    ``back_traces`` traces as a static back layer.

    No Streamlit here: a caller can build them once for every session showing
    the same figure. ``clickable``: the browser reports clicks on the x/y plot
    area (on a grid of about 200 steps across the window; a corner readout
    shows the point as the mouse moves). ``texts``: ``label`` names the chart
    for screen readers (the front layer takes keyboard focus), ``png_title`` is
    the camera button's tooltip, ``error_text`` starts the message shown if the
    browser cannot draw.
    """
    layers = figures.layered(spec, back_traces)
    common = {"name": key, "plotly_chunk": plotly_bundle()}
    front = {
        **common,
        "role": "front",
        "figure": layers["front"],
        "config": CONFIG,
        "clickable": clickable,
        "png_name": png_name,
        **{k: (texts or {}).get(k, "") for k in ("label", "png_title", "error_text")},
    }
    # Bytes go to the browser as they are; a dict would be JSON-encoded without NumPy support.
    return encode(front), encode({**common, "role": "back", "figure": layers["back"]})


def live_chart(front: bytes, back: bytes, key: str, on_click=None):
    """Mount the chart whose ``payloads`` are ``front`` and ``back``.

    Two elements in one container: ``dl_back_<key>`` (the back layer, the same
    bytes while the surface is the same, so Streamlit sends it once) and
    ``key`` (the front). A reported click runs ``on_click`` with
    ``st.session_state[key]["click"]`` holding the point ``{"x": .., "y": ..}``.
    """
    component = _component()
    with st.container(key=f"dl_layers_{key}"):
        # The front comes first in the page (it is the one that takes keyboard focus); the
        # back is placed under it by CSS.
        result = component(key=key, data=front, width="stretch", on_click_change=on_click or (lambda: None))
        component(key=f"dl_back_{key}", data=back, width="stretch")
    return result


def encode(payload: dict) -> bytes:
    """Figure JSON as UTF-8 bytes; NumPy arrays and scalars as plain lists and numbers."""
    return json.dumps(payload, default=_plain, separators=(",", ":"), allow_nan=False).encode()


def _plain(value):
    if isinstance(value, np.ndarray):
        return np.where(np.isfinite(value), value, None).tolist() if value.dtype.kind == "f" else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {type(value).__name__}")
