"""Small charts beside the main one: the learning-rate schedule, the optimizer's insides, a 3-D view."""

from __future__ import annotations

import base64
import json
from html import escape
from typing import Callable

import numpy as np

from optimizers import STATE

from .landscape import Grid, arrows_trace
from .paths import Run, thin
from .style import CONTOUR_SCALE, layout_base, packed, style


def _schedule_points(factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The steps drawn (at most 400, first and last kept) and their factors."""
    idx = thin(len(factors), 400)
    return idx, np.asarray(factors, dtype=float)[idx]


def schedule_svg(factors: np.ndarray, labels: dict[str, str], width: int = 260, height: int = 150) -> str:
    """The schedule's factor at each step as an SVG line chart.

    Plain SVG, not a Plotly chart: on the Playground's main view this is the only
    chart besides the path chart, which brings its own plotly.js, so the page then
    loads and parses one plotly.js instead of two.
    """
    idx, f = _schedule_points(factors)
    top = 1.05 * max(float(f.max()) if len(f) else 1.0, 1e-12)
    left, right, above, below = 36, 8, 8, 30
    w, h = width - left - right, height - above - below
    xs = left + w * idx / max(len(factors) - 1, 1)
    ys = above + h * (1 - f / top)
    points = " ".join(f"{x:.2f},{y:.2f}" for x, y in zip(xs, ys))
    y0, x1, mid = above + h, left + w, above + h / 2
    ticks = "".join(f'<text x="{left - 4}" y="{above + h * (1 - v / top) + 4:.1f}" text-anchor="end">{v:g}</text>' for v in (0.0, 0.5, 1.0) if v <= top)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11" fill="#555555">'
        f'<line x1="{left}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#999999"/><line x1="{left}" y1="{above}" x2="{left}" y2="{y0}" stroke="#999999"/>'
        f"{ticks}"
        f'<text x="{left}" y="{y0 + 14}" text-anchor="middle">0</text><text x="{x1}" y="{y0 + 14}" text-anchor="middle">{len(factors) - 1}</text>'
        f'<text x="{left + w / 2:.1f}" y="{height - 2}" text-anchor="middle">{escape(labels["step"])}</text>'
        f'<text x="10" y="{mid:.1f}" text-anchor="middle" transform="rotate(-90 10 {mid:.1f})">{escape(labels["lr_factor"])}</text>'
        f'<polyline points="{points}" fill="none" stroke="#444444" stroke-width="2"/></svg>'
    )


def schedule_image(factors: np.ndarray, labels: dict[str, str], alt: str) -> str:
    """``schedule_svg`` as an HTML image (a data URI: Streamlit's HTML sanitizer keeps images,
    not inline SVG); ``data-steps`` and ``data-factors`` hold the drawn points' exact values."""
    idx, f = _schedule_points(factors)
    src = base64.b64encode(schedule_svg(factors, labels).encode("utf-8")).decode("ascii")
    return (
        f'<img class="dl-schedule" alt="{escape(alt)}" style="width:100%" '
        f"data-steps='{json.dumps(idx.tolist())}' data-factors='{json.dumps(f.tolist())}' src=\"data:image/svg+xml;base64,{src}\">"
    )


# What "inside the optimizer" plots for each optimizer: (panel, label key, values from the run
# and its hyperparameters). Every value sits at step k, the step from x_k to x_{k+1}: the rate
# of that step and the state it used (the state's row k+1), so at each k
# step = -(rate) x (the quantity the rate is per unit of), coordinate by coordinate.
# Panels, top to bottom: effective rates (log), gradient scales (gradient units, log),
# velocities and first moments (gradient units), Nesterov's velocity (a displacement, units of x).
INSIDE_PANELS = ("rate", "scale", "first", "displacement")
_PANEL_TITLE = {"rate": "effective_lr", "scale": "second", "first": "first", "displacement": "displacement"}
_LOG_PANELS = {"rate", "scale"}


def _after(tr, field: str) -> np.ndarray:
    """A state field after each step (rows 1..n): what step k used."""
    return np.asarray(tr.state[field], dtype=float)[1:]


def _field(optimizer: str, meaning: str) -> str:
    """The state field of ``optimizer`` that holds ``meaning`` (optimizers.STATE, declared with the rules)."""
    return next(f for f, m in STATE[optimizer].items() if m == meaning)


def _bias_correction(tr, hp, optimizer: str, beta: str) -> np.ndarray:
    """1 - beta^t at each step's count t (the field meaning "step_count"), or ones without bias correction."""
    t = _after(tr, _field(optimizer, "step_count"))  # (n, 1)
    return 1 - float(hp[beta]) ** t if hp.get("bias_correction", True) else np.ones_like(t)


def _raw(hp) -> str:
    """The label suffix of a moment used as it is (no bias correction)."""
    return "" if hp.get("bias_correction", True) else "_raw"


# What the view plots for each state meaning the optimizers declare (optimizers.STATE):
# (panel, label key, values), from (run, field, hyperparameters, optimizer).
_QUANTITY: dict[str, Callable] = {
    "velocity": lambda tr, f, hp, opt: ("first", "velocity", _after(tr, f)),
    "displacement": lambda tr, f, hp, opt: ("displacement", "nesterov_v", _after(tr, f)),
    "squared_gradient_sum": lambda tr, f, hp, opt: ("scale", "sum_sq", np.sqrt(_after(tr, f))),
    "squared_gradient_average": lambda tr, f, hp, opt: ("scale", "mean_sq", np.sqrt(_after(tr, f))),
    # Adam's moments, bias-corrected as the rule uses them (m hat, sqrt(v hat)).
    "first_moment": lambda tr, f, hp, opt: ("first", "adam_m" + _raw(hp), _after(tr, f) / _bias_correction(tr, hp, opt, "beta1")),
    "second_moment": lambda tr, f, hp, opt: ("scale", "adam_v" + _raw(hp), np.sqrt(_after(tr, f) / _bias_correction(tr, hp, opt, "beta2"))),
}

_lr = lambda tr, hp, opt: np.asarray(tr.lrs, dtype=float)  # noqa: E731 - one rate for both coordinates
_eff = lambda tr, hp, opt: np.asarray(tr.effective_lr, dtype=float)  # noqa: E731
_measured = lambda tr, hp, opt: np.abs(np.asarray(tr.effective_lr, dtype=float))  # noqa: E731


def _adam_rate(tr, hp, opt) -> np.ndarray:
    # The runner's effective_lr is per unit of m: eta / ((1 - beta1^t)(sqrt(v hat) + eps)).
    # Times (1 - beta1^t) it is per unit of m hat: eta / (sqrt(v hat) + eps).
    return np.asarray(tr.effective_lr, dtype=float) * _bias_correction(tr, hp, opt, "beta1")


# Each rule's rate, per unit of the quantity its step multiplies (a fact of the rule, not of
# a state field): (label key, values from (run, hyperparameters, optimizer)).
_RATE: dict[str, tuple[str, Callable]] = {
    "sgd": ("rate_sgd", _lr),
    "momentum": ("rate_momentum", _lr),
    "nesterov": ("rate_nesterov", _lr),
    "adagrad": ("rate_adagrad", _eff),
    "rmsprop": ("rate_rmsprop", _eff),
    "adam": ("rate_adam", _adam_rate),
    "newton": ("rate_measured", _measured),
    "saddle_free_newton": ("rate_measured", _measured),
    "lbfgs": ("rate_measured", _measured),
}


def inside_quantities(optimizer: str, tr, hp) -> list[tuple[str, str, np.ndarray]]:
    """What "inside the optimizer" plots for a run: its rate, then every declared state
    field the view knows how to show, each as (panel, label key, values)."""
    label, rate = _RATE[optimizer]
    suffix = _raw(hp) if optimizer == "adam" else ""
    items = [("rate", label + suffix, rate(tr, hp, optimizer))]
    for field, meaning in STATE[optimizer].items():
        if meaning in _QUANTITY:
            items.append(_QUANTITY[meaning](tr, field, hp, optimizer))
    return items


# The label keys internals_figure and inside_overlays need (``fig.<key>`` in the catalogs).
INSIDE_LABELS = (
    "step", "effective_lr", "second", "first", "displacement",
    "q.rate_sgd", "q.rate_momentum", "q.rate_nesterov", "q.rate_adagrad", "q.rate_rmsprop", "q.rate_adam",
    "q.rate_adam_raw", "q.rate_measured", "q.sum_sq", "q.mean_sq", "q.adam_v", "q.adam_v_raw", "q.velocity",
    "q.adam_m", "q.adam_m_raw", "q.nesterov_v", "gradient_step", "actual_step",
    "lookahead_points", "lookahead_segment", "lookahead_step",
)


def internals_figure(runs: list[dict], labels: dict[str, str], panel_height: int = 150, font_size: int = 13) -> dict:
    """What each optimizer holds and how large a step it takes per unit, over the steps.

    ``runs`` items: {"key", "label", "trajectory", "hyper"} (``hyper``: the run's full
    hyperparameters; Adam's beta1, beta2 and bias_correction decide its bias corrections).
    Each trace's name says exactly what it plots (``inside_quantities``), each panel holds one unit
    and has its own legend beside it; per-coordinate quantities draw x solid, y dotted.
    Only panels some run fills are drawn.
    """
    items = []  # (panel, optimizer key, trace name, values (n,) or (n, 2), quantity)
    for run in runs:
        tr = run["trajectory"]
        n = len(tr.lrs)
        if n == 0 or run["key"] not in _RATE:
            continue
        for panel, quantity, values in inside_quantities(run["key"], tr, run.get("hyper") or {}):
            items.append((panel, run["key"], f"{run['label']} · {labels['q.' + quantity]}", np.asarray(values, dtype=float), quantity))
    panels = [p for p in INSIDE_PANELS if any(it[0] == p for it in items)]
    # Each panel tall enough for its legend beside it, and a gap above it for its title.
    entry = 2.0 * font_size
    heights = [max(panel_height, entry * sum(it[0] == p for it in items) + 10) for p in panels]
    gap, top, bottom = 46, 34, 44
    plot = sum(heights) + max(len(panels) - 1, 0) * gap
    layout = {**layout_base(font_size), "height": int(round(top + bottom + plot)), "margin": {"l": 60, "r": 10, "t": top, "b": bottom}, "hovermode": "closest", "annotations": []}
    axis_of, legend_of = {}, {}
    above = 0.0  # pixels of the plot area above this panel
    for i, (p, h) in enumerate(zip(panels, heights)):
        hi, lo = 1 - above / plot, max(1 - (above + h) / plot, 0.0)
        above += h + gap
        suffix = "" if i == 0 else str(i + 1)
        axis_of[p], legend_of[p] = f"y{suffix}", f"legend{suffix}"
        log = p in _LOG_PANELS
        layout[f"yaxis{suffix}"] = {"domain": [lo, hi], "type": "log" if log else "linear"}
        layout[f"legend{suffix}"] = {"x": 1.01, "xanchor": "left", "y": hi, "yanchor": "top", "orientation": "v", "font": {"size": font_size - 1}}
        layout["annotations"].append(
            {"text": f"<b>{labels[_PANEL_TITLE[p]]}</b>", "xref": "paper", "yref": "paper", "x": 0, "y": hi, "xanchor": "left", "yanchor": "bottom", "showarrow": False}
        )
    last = f"y{len(panels)}" if len(panels) > 1 else "y"
    layout["xaxis"] = {"title": {"text": labels["step"]}, "anchor": last}
    data = []
    for panel, key, name, values, quantity in items:
        s = style(key)
        idx = thin(len(values), 400)
        coords = (("x", "solid", values[idx]),) if values.ndim == 1 else (("x", "solid", values[idx, 0]), ("y", "dot", values[idx, 1]))
        group = f"{key}.{quantity}"
        for j, (coord, dash, ys) in enumerate(coords):
            tag = "" if values.ndim == 1 else f" · {coord}"
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": packed(idx, "i4"),
                    "y": packed(ys, "f8"),
                    "yaxis": axis_of[panel],
                    "legend": legend_of[panel],
                    "name": name,
                    "legendgroup": group,
                    "showlegend": j == 0,
                    "line": {"color": s["color"], "dash": dash, "width": 2},
                    "hovertemplate": f"{name}{tag}<br>{labels['step']} %{{x}}: %{{y:.4g}}<extra></extra>",
                }
            )
    return {"data": data, "layout": layout}


def inside_overlays(runs: list[dict], step: int, labels: dict[str, str]) -> list[dict]:
    """The inside view's arrows at ``step`` of each run (clamped to its last step), and Nesterov's look-ahead.

    ``runs`` items: {"key", "label", "trajectory"}. For every run: the plain gradient step
    -eta_k g(x_k) beside the step taken (:func:`step_arrows`). For Nesterov also every
    look-ahead point x_k + mu v_k where a gradient was taken (small markers) and, at the
    step, the segment mu v_k from x_k to its look-ahead point and the arrow -eta_k g from
    there (g: the gradient the optimizer took there, noisy when noise is on); the two end
    where the step taken ends.
    """
    arrows, extra = [], []
    for run in runs:
        tr = run["trajectory"]
        if tr.steps == 0:
            continue
        k = min(step, tr.steps - 1)
        arrows.append({"key": run["key"], "label": run["label"], "point": tr.points[k], "gradient_step": -tr.lrs[k] * tr.gradients[k], "update": tr.updates[k]})
        meanings = STATE.get(run["key"], {})
        if "lookahead_point" in meanings.values():  # a rule that takes its gradient at a look-ahead point
            points = tr.state[_field(run["key"], "lookahead_point")][1:]
            grad_there = tr.state[_field(run["key"], "lookahead_gradient")][k + 1]
            extra += lookahead_traces(run["key"], run["label"], tr.points[k], points, k, -tr.lrs[k] * grad_there, labels)
    return extra + step_arrows(arrows, labels)


def lookahead_traces(key: str, label: str, point, lookaheads: np.ndarray, k: int, step_there, labels: dict[str, str], most: int = 300) -> list[dict]:
    """Nesterov's look-ahead points (``lookaheads[j]``: where step j took its gradient) as small
    markers, thinned to ``most``; at step ``k`` the segment from ``point`` (x_k) to its look-ahead
    point and the arrow ``step_there`` (-eta_k g) from it."""
    s = style(key)
    idx = thin(len(lookaheads), most)
    here = np.asarray(lookaheads[k], dtype=float)
    x_k = np.asarray(point, dtype=float)
    return [
        {
            "type": "scatter",
            "mode": "markers",
            "x": packed(lookaheads[idx, 0], "f8"),
            "y": packed(lookaheads[idx, 1], "f8"),
            "marker": {"symbol": "circle", "size": 5, "color": s["color"], "opacity": 0.8, "line": {"width": 0.5, "color": "white"}},
            "name": f"{label}: {labels['lookahead_points']}",
            "hovertemplate": f"{label}: {labels['lookahead_points']} (%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": [float(x_k[0]), float(here[0])],
            "y": [float(x_k[1]), float(here[1])],
            "line": {"color": s["color"], "width": 2, "dash": "dot"},
            "marker": {"symbol": "circle-open", "size": [0, 11], "color": s["color"], "line": {"width": 2}},
            "name": f"{label}: {labels['lookahead_segment']}",
            "hovertemplate": f"{label}: {labels['lookahead_segment']} (%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
        },
        arrows_trace(here[None, :], here[None, :] + np.asarray(step_there, dtype=float)[None, :], s["color"], f"{label}: {labels['lookahead_step']}", width=2, dash="dashdot"),
    ]


def step_arrows(runs: list[dict], labels: dict[str, str]) -> list[dict]:
    """At one step of each run: the plain gradient step -lr*g (dashed) beside the step actually taken (solid).

    ``runs`` items: {"key", "label", "point" (2,), "gradient_step" (2,), "update" (2,), "velocity" (2,) or None}.
    The gap between the two arrows is what momentum and adaptive scaling add.
    """
    traces = []
    for r in runs:
        s = style(r["key"])
        p = np.asarray(r["point"], dtype=float)[None, :]
        traces.append(arrows_trace(p, p + np.asarray(r["gradient_step"])[None, :], s["color"], f"{r['label']}: {labels['gradient_step']}", width=2, dash="dash"))
        traces.append(arrows_trace(p, p + np.asarray(r["update"])[None, :], s["color"], f"{r['label']}: {labels['actual_step']}", width=4, size=12))
    return traces


def surface_figure(grid: Grid, runs: list[Run], labels: dict[str, str], height: int = 560, font_size: int = 14, axes: tuple[str, str] = ("x", "y")) -> dict:
    """The same runs on a 3-D surface. Heights are the colors' scale (log when the contour is)."""
    step = max(1, len(grid.xs) // 70)
    xs, ys, c = grid.xs[::step], grid.ys[::step], grid.color[::step, ::step]
    data = [
        {
            "type": "surface",
            "x": packed(xs),
            "y": packed(ys),
            "z": packed(c),
            "colorscale": CONTOUR_SCALE,
            "showscale": False,
            "opacity": 0.9,
            "hoverinfo": "skip",
            "name": "f",
        }
    ]
    for run in runs:
        s = style(run.key)
        idx = thin(len(run.points), 300)
        z = run.losses[idx]
        if grid.log:
            with np.errstate(all="ignore"):
                z = np.log10(np.maximum(z - grid.offset, 1e-300))
        data.append(
            {
                "type": "scatter3d",
                "mode": "lines",
                "x": packed(run.points[idx, 0]),
                "y": packed(run.points[idx, 1]),
                "z": packed(z),
                "line": {"color": s["color"], "width": 6},
                "name": run.label,
            }
        )
    layout = {
        **layout_base(font_size),
        "height": height,
        "scene": {
            "xaxis": {"title": {"text": axes[0]}},
            "yaxis": {"title": {"text": axes[1]}},
            "zaxis": {"title": {"text": labels["colorbar"]}},
            "aspectmode": "manual",
            "aspectratio": {"x": 1, "y": 1, "z": 0.6},
        },
        "uirevision": "surface",
    }
    return {"data": data, "layout": layout}
