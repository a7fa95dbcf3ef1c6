"""The hyperparameters panel: every chosen optimizer's controls in one element.

Why not one Streamlit widget per hyperparameter: the browser re-renders every
widget's component tree on each state change of a rerun (a slider is about
fifty React components; Adam alone has five controls), several times per move.
Measured on the benchmark scenario, the widgets cost about a third of a move's
latency in the browser (``bench/bench_browser.py``). Here each control is a
native ``<input>`` inside one component (``ui/assets/hyper_panel.js``), and the
values live in session state under the keys the widgets had (``adam_lr``, ...),
which are also their URL keys (``ui/controls.py`` keeps the link in step).

A change reaches the server as a trigger ``{"key": .., "index": ..}`` (a scale)
or ``{"key": .., "on": ..}`` (a switch); ``reported_change`` turns it into a
key and a value the control offers, or None.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import streamlit as st

from . import settings as S

PANEL_KEY = "hyper_panel"
_ASSETS = Path(__file__).with_name("assets")
_HTML = '<div class="dl-hp"></div>'
_CSS = """
.dl-hp { width: 100%; box-sizing: border-box; display: flex; flex-wrap: wrap; gap: 0.5rem 0.75rem; align-items: flex-start; font-size: 0.875em; }
.dl-hp-group { flex: 0 1 19rem; min-width: 15rem; border: 1px solid rgba(128, 128, 128, 0.35); border-radius: 0.5rem; padding: 0.35rem 0.75rem; }
.dl-hp-group[open] { padding-bottom: 0.5rem; }
.dl-hp-group > summary { cursor: pointer; font-weight: 600; padding: 0.15rem 0; }
.dl-hp-swatch { display: inline-block; width: 0.8em; height: 0.8em; border-radius: 2px; margin-right: 0.4em; vertical-align: -0.05em; }
.dl-hp-row { display: grid; grid-template-columns: minmax(6rem, 40%) 1fr 4.2em; align-items: center; gap: 0.5rem; min-height: 1.9rem; }
.dl-hp-row input[type=range] { width: 100%; margin: 0; accent-color: var(--st-primary-color, #ff4b4b); }
.dl-hp-row input[type=checkbox] { justify-self: start; width: 1.1em; height: 1.1em; margin: 0; accent-color: var(--st-primary-color, #ff4b4b); }
.dl-hp-row output { font-variant-numeric: tabular-nums; text-align: right; }
.dl-hp input:focus-visible, .dl-hp summary:focus-visible { outline: 2px solid var(--st-primary-color, #ff4b4b); outline-offset: 2px; }
"""


@functools.cache
def _component():
    js = (_ASSETS / "hyper_panel.js").read_text(encoding="utf-8")
    return st.components.v2.component("descent_lab.hyper_panel", html=_HTML, css=_CSS, js=js)


def item(key: str, name: str, label: str, value) -> dict:
    """One control of the panel: ``name`` is the hyperparameter (``lr``, ...), ``value`` its current value.

    A scale names its options (``"scale": "lr"``); ``show`` sends each scale's texts once,
    not once per optimizer: the panel goes to the browser again on every move.
    """
    options = S.hyper_options(name)
    if options is None:
        return {"key": key, "label": label, "on": bool(value)}
    return {"key": key, "label": label, "scale": name, "index": options.index(S.hyper_value(name, value))}


def show(groups: list[dict], label: str, on_change) -> None:
    """Draw the panel: ``groups`` of ``{key, title, color, open, items}`` (``item`` makes the items).

    ``on_change`` runs when the viewer changed a control (``reported_change`` says which).
    """
    names = sorted({it["scale"] for g in groups for it in g["items"] if "scale" in it})
    scales = {n: [S.hyper_link_text(o) for o in S.hyper_options(n)] for n in names}
    # JSON bytes, not a dict: Streamlit inspects a dict's values for dataframes, and the first
    # time that imports pandas and pyarrow (about 60 MB per server process, never used here).
    data = json.dumps({"label": label, "scales": scales, "groups": groups}, separators=(",", ":")).encode()
    _component()(key=PANEL_KEY, data=data, on_change_change=on_change, width="stretch")


def reported_change(names: dict[str, str]) -> tuple[str, object] | None:
    """The change the panel reported in this run, as ``(key, value)``; None if there is none or it
    is malformed. ``names`` maps each control's key to its hyperparameter (``"adam_lr": "lr"``)."""
    event = (st.session_state.get(PANEL_KEY) or {}).get("change")
    if not isinstance(event, dict) or event.get("key") not in names:
        return None
    key = event["key"]
    options = S.hyper_options(names[key])
    if options is None:
        on = event.get("on")
        return (key, on) if isinstance(on, bool) else None
    index = event.get("index")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(options):
        return None
    return key, options[index]
