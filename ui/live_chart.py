"""A Plotly chart that stays mounted across reruns: the Playground's path chart.

``st.plotly_chart`` remounts a chart whenever its figure changes and Plotly then
draws it twice, surface and all: 3.3x the latency of a bare one-contour page per
slider move (issue 3's bar is 1.5x). This component keeps one element under a
fixed key, draws the surface once in a back layer and, per move, redraws only
the front layer: ``Plotly.animate`` when only points moved, else ``Plotly.react``
(``ui/assets/live_chart.js``).

Plotly itself is the chart's own instance of the ``plotly.min.js`` the ``plotly``
package ships (``plotly/package_data``), served from the installed package by
Streamlit's public component file serving (``components.v1.declare_component``
with a ``path``): nothing copied into the repository, and nothing of
Streamlit's own bundle (hashed file names, ``window.Plotly``) relied on. The
speed-up in ``live_chart.js`` patches that instance only, never the Plotly of
Streamlit's charts.

``gif_button`` is the Export panel's "Download GIF": the browser makes the GIF from
the chart's own frames (``ui/assets/gif_export.js``, with the vendored ``gifenc``),
loading that code from this folder only when the button is pressed.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import plotly
import streamlit as st
import streamlit.components.v1 as components_v1

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


COMPONENT_NAME = "descent_lab.live_chart"


@functools.cache
def _component():
    js = (_ASSETS / "live_chart.js").read_text(encoding="utf-8")
    # Not style-isolated: Plotly styles its modebar and hover labels from the page's head.
    return st.components.v2.component(COMPONENT_NAME, html=_HTML, css=_CSS, js=js, isolate_styles=False)


# The plotly package's own plotly.js; the folder also holds its templates and datasets (public data).
PLOTLY_DIR = Path(plotly.__file__).parent / "package_data"
PLOTLY_FILE = "plotly.min.js"
_PLOTLY_SERVED = "plotly_js"  # the name the folder is served under (Streamlit prefixes this module's)


@functools.cache  # once per process, from the first script run that mounts the chart
def serve_plotly():
    """Have Streamlit serve ``PLOTLY_DIR`` (it registers only within a script run: call it from one)."""
    return components_v1.declare_component(_PLOTLY_SERVED, path=str(PLOTLY_DIR))


def _served_url(served: str, file: str) -> str:
    """Where the browser finds ``file`` of a folder served as ``served``: an absolute path on this
    server, under its base URL path."""
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    parts = [base, "component", f"{__name__}.{served}", file]
    return "/" + "/".join(p for p in parts if p)


@functools.cache
def plotly_url() -> str:
    """Where the browser finds ``plotly.min.js``."""
    return _served_url(_PLOTLY_SERVED, PLOTLY_FILE)


# This module's assets folder, served the same way: gif_export.js and its vendored encoder.
_ASSETS_SERVED = "assets"
GIF_MODULE = "gif_export.js"


@functools.cache
def serve_assets():
    """Have Streamlit serve ``ui/assets`` (public code only; from within a script run)."""
    return components_v1.declare_component(_ASSETS_SERVED, path=str(_ASSETS))


@functools.cache
def gif_module_url() -> str:
    """Where the browser finds ``gif_export.js``."""
    return _served_url(_ASSETS_SERVED, GIF_MODULE)


_GIF_HTML = '<div class="dl-gif"><button type="button"></button><div role="status" aria-live="polite"></div></div>'
_GIF_CSS = """
.dl-gif button { font: inherit; padding: 0.25rem 0.75rem; min-height: 2.5rem; border-radius: 0.5rem; cursor: pointer;
  border: 1px solid rgba(49, 51, 63, 0.2); background: transparent; color: inherit; }
.dl-gif button:hover:not(:disabled) { border-color: #ff4b4b; color: #ff4b4b; }
.dl-gif button:disabled { cursor: progress; opacity: 0.7; }
.dl-gif [role=status] { font-size: 0.875rem; min-height: 1.25rem; padding-top: 0.25rem; }
.dl-gif [role=status].dl-gif-error { color: #b3261e; }
"""


@functools.cache
def _gif_component():
    js = (_ASSETS / "gif_button.js").read_text(encoding="utf-8")
    return st.components.v2.component("descent_lab.gif_button", html=_GIF_HTML, css=_GIF_CSS, js=js, isolate_styles=False)


def gif_button(chart: str, texts: dict[str, str], key: str = "export_gif", name: str = "descent-lab.gif"):
    """A button that downloads chart ``chart``'s animation (a ``live_chart`` key) as the GIF ``name``.

    Made in the browser from the chart's own frames, at the chart's size (at most
    ``MAX_WIDTH`` px wide, in ``gif_export.js``). ``texts``: ``label`` (the
    button), ``progress`` (shown while it encodes, with ``{percent}``) and
    ``error`` (starts the message if it fails).
    """
    serve_assets()
    data = {"chart": chart, "name": name, "module_url": gif_module_url(), **{k: texts[k] for k in ("label", "progress", "error")}}
    return _gif_component()(key=key, data=data, width="content")


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
    common = {"name": key, "plotly_url": plotly_url()}
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
    return encode(front), _encoded_once({**common, "role": "back", "figure": layers["back"]})


def live_chart(front: bytes, back: bytes, key: str, on_click=None):
    """Mount the chart whose ``payloads`` are ``front`` and ``back``.

    Two elements in one container: ``dl_back_<key>`` (the back layer, the same
    bytes while the surface is the same, so Streamlit sends it once) and
    ``key`` (the front). A reported click runs ``on_click`` with
    ``st.session_state[key]["click"]`` holding the point ``{"x": .., "y": ..}``.
    """
    component = _component()
    serve_plotly()
    with st.container(key=f"dl_layers_{key}"):
        # The front comes first in the page (it is the one that takes keyboard focus); the
        # back is placed under it by CSS.
        result = component(key=key, data=front, width="stretch", on_click_change=on_click or (lambda: None))
        component(key=f"dl_back_{key}", data=back, width="stretch")
    return result


_ENCODED: OrderedDict[tuple, bytes] = OrderedDict()  # the last back layers encoded, by content
_ENCODED_MOST = 8  # a few surfaces at once; each ~0.15 MB of bytes and as much of key
_ENCODED_LOCK = threading.Lock()


def _encoded_once(payload: dict) -> bytes:
    """``encode(payload)``, made once for the same content: the back layer (the surface) stays
    the same on every move until the surface changes, and is the larger of the two."""
    try:
        key = _content(payload)
    except TypeError:  # something only ``encode`` knows how to write: no memo
        return encode(payload)
    with _ENCODED_LOCK:
        if key in _ENCODED:
            _ENCODED.move_to_end(key)
            return _ENCODED[key]
    data = encode(payload)
    with _ENCODED_LOCK:
        _ENCODED[key] = data
        while len(_ENCODED) > _ENCODED_MOST:
            _ENCODED.popitem(last=False)
    return data


def _content(value):
    """A JSON-like ``value`` as a hashable key equal only for values that encode the same: every
    number with its type and repr (``1``, ``1.0``, ``True``, ``-0.0`` and ``0.0`` differ)."""
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, dict):
        if not all(type(k) is str for k in value):  # JSON writes 1, True and 1.0 as three keys
            raise TypeError("a key that is not a string")
        return ("{", tuple((k, _content(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("[", tuple(_content(v) for v in value))
    if isinstance(value, (bool, int, float)):
        return (type(value).__name__, repr(value))
    raise TypeError(type(value).__name__)


def encode(payload: dict) -> bytes:
    """Figure JSON as UTF-8 bytes; NumPy arrays and scalars as plain lists and numbers."""
    return json.dumps(payload, default=_plain, separators=(",", ":"), allow_nan=False).encode()


def _plain(value):
    if isinstance(value, np.ndarray):
        return np.where(np.isfinite(value), value, None).tolist() if value.dtype.kind == "f" else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {type(value).__name__}")
