"""The hyperparameters panel: every chosen optimizer's controls in one element.

Why not one Streamlit widget per hyperparameter: the browser re-renders every
widget's component tree on each state change of a rerun (a slider is about
fifty React components; Adam alone has five controls), several times per move,
and a key press reached the server only after the slider and the sidebar had
re-rendered. Measured on the benchmark scenario (``bench/bench_browser.py``): each
large React commit of a move went from about 950 components to 600, and a move
from key press to chart drawn got about 50 ms faster. Here each control is a
native ``<input>`` inside one component (``ui/assets/hyper_panel.js``), and the
values live in session state under the keys the widgets had (``adam_lr``, ...),
which are also their URL keys (``ui/controls.py`` keeps the link in step).

A report reaches the server as a trigger ``{"seq": n, "changes": {key: index or
true/false}}``: every change the server has not confirmed yet (Streamlit may
replace a queued report with a newer one), numbered. ``reported_changes`` turns it
into values the controls offer; the panel is told the number of the last report
taken (``applied``), and until then keeps the viewer's values on screen.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import streamlit as st

from . import settings as S

PANEL_KEY = "hyper_panel"
COMPONENT_NAME = "descent_lab.hyper_panel"
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
    return st.components.v2.component(COMPONENT_NAME, html=_HTML, css=_CSS, js=js)


def item(key: str, name: str, label: str, value) -> dict:
    """One control of the panel: ``name`` is the hyperparameter (``lr``, ...), ``value`` its current value.

    A scale names its options (``"scale": "lr"``); ``show`` sends each scale's texts once,
    not once per optimizer: the panel goes to the browser again on every move.
    """
    options = S.hyper_options(name)
    if options is None:
        return {"key": key, "label": label, "on": bool(value)}
    return {"key": key, "label": label, "scale": name, "index": options.index(S.hyper_value(name, value))}


def data(groups: tuple[dict, ...], label: str, applied: int) -> bytes:
    """The panel as sent: ``groups`` of ``{key, name, title, color, open, items}`` (``item``
    makes the items), ``applied`` the number of the last report taken. No Streamlit here."""
    scales = _scale_texts(tuple(sorted({it["scale"] for g in groups for it in g["items"] if "scale" in it})))
    # JSON bytes, not a dict: Streamlit inspects a dict's values for dataframes, and the first
    # time that imports pandas and pyarrow (about 60 MB per server process, never used here).
    return json.dumps({"label": label, "applied": applied, "scales": scales, "groups": list(groups)}, separators=(",", ":")).encode()


@functools.lru_cache(maxsize=64)
def _scale_texts(names: tuple[str, ...]) -> dict[str, list[str]]:
    """Each scale's options as the panel shows them: the same for every move (a fresh list per
    move took half of a learning-rate move's panel)."""
    return {n: [S.hyper_link_text(o) for o in S.hyper_options(n)] for n in names}


def show(panel: bytes, on_change) -> None:
    """Draw the panel made by :func:`data`. ``on_change`` runs when the viewer changed a control
    (``reported_changes`` says which)."""
    _component()(key=PANEL_KEY, data=panel, on_change_change=on_change, width="stretch")


def applied() -> int:
    """The number of the panel's last report taken (0 before any)."""
    return st.session_state.get(S.PANEL_APPLIED_KEY, 0)


def reported_changes() -> list[tuple[str, object]] | None:
    """The changes the panel reported in this run, as ``[(key, value), ...]``, and the report's
    number kept as ``applied``; None (and nothing kept) if there is no report or any part of it
    is malformed (a key that is no hyperparameter's, a value its control does not offer)."""
    event = (st.session_state.get(PANEL_KEY) or {}).get("change")
    if not isinstance(event, dict):
        return None
    seq, changes = event.get("seq"), event.get("changes")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0 or not isinstance(changes, dict) or not changes:
        return None
    out = []
    for key, raw in changes.items():
        value = _value(S.hyper_keys().get(key, (None, None))[1], raw) if isinstance(key, str) else None
        if value is None:
            return None
        out.append((key, value))
    st.session_state[S.PANEL_APPLIED_KEY] = seq
    return out


def _value(name: str | None, raw):
    """The value a control of hyperparameter ``name`` reported as ``raw`` (an index, or on/off), or None."""
    if name is None:
        return None
    options = S.hyper_options(name)
    if options is None:
        return raw if isinstance(raw, bool) else None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw < len(options):
        return None
    return options[raw]
