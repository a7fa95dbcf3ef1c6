"""Small charts beside the main one: the learning-rate schedule, the optimizer's insides, a 3-D view."""

from __future__ import annotations

import numpy as np

from .landscape import Grid, arrows_trace
from .paths import Run, thin
from .style import CONTOUR_SCALE, layout_base, packed, style


def schedule_figure(factors: np.ndarray, labels: dict[str, str], height: int = 160) -> dict:
    """The schedule's factor at each step: every optimizer's learning rate is its own lr times this.

    One line, independent of the optimizers' learning rates, so moving an lr
    slider leaves this chart as it is and the browser does not redraw it.
    """
    idx = thin(len(factors), 400)
    data = [{"type": "scatter", "mode": "lines", "x": packed(idx, "i4"), "y": packed(factors[idx]), "line": {"color": "#444444", "width": 2}, "hovertemplate": "%{x}: ×%{y:.3g}<extra></extra>"}]
    top = float(np.max(factors)) if len(factors) else 1.0
    layout = {
        **layout_base(11),
        "height": height,
        "margin": {"l": 40, "r": 10, "t": 10, "b": 30},
        "showlegend": False,
        "xaxis": {"title": {"text": labels["step"]}},
        "yaxis": {"title": {"text": labels["lr_factor"]}, "range": [0, 1.05 * max(top, 1e-12)]},
    }
    return {"data": data, "layout": layout}


def internals_figure(series: list[dict], labels: dict[str, str], height: int = 520, font_size: int = 13) -> dict:
    """Three stacked panels over the steps: effective step size, squared-gradient scale, velocity.

    ``series`` items: {"key", "label", "effective_lr" (n, 2), "second" (n+1, 2) or None,
    "first" (n+1, 2) or None}. x-coordinates draw solid, y-coordinates dotted.
    """
    data = []
    panels = [("effective_lr", "y", True), ("second", "y2", True), ("first", "y3", False)]
    for item in series:
        s = style(item["key"])
        for field, axis, _ in panels:
            values = item.get(field)
            if values is None:
                continue
            idx = thin(len(values), 400)
            for c, coord, dash in ((0, "x", "solid"), (1, "y", "dot")):
                data.append(
                    {
                        "type": "scatter",
                        "mode": "lines",
                        "x": packed(idx, "i4"),
                        "y": packed(np.abs(values[idx, c]) if field != "first" else values[idx, c]),
                        "yaxis": axis,
                        "name": f"{item['label']} · {coord}",
                        "legendgroup": item["key"],
                        "showlegend": field == "effective_lr" or (field == "second" and item.get("effective_lr") is None),
                        "line": {"color": s["color"], "dash": dash, "width": 2},
                    }
                )
    layout = {
        **layout_base(font_size),
        "height": height,
        "xaxis": {"title": {"text": labels["step"]}, "anchor": "y3"},
        "yaxis": {"domain": [0.70, 1.0], "type": "log", "title": {"text": labels["effective_lr"]}},
        "yaxis2": {"domain": [0.36, 0.64], "type": "log", "title": {"text": labels["second"]}},
        "yaxis3": {"domain": [0.0, 0.30], "title": {"text": labels["first"]}},
        "legend": {"orientation": "h", "y": -0.15},
    }
    return {"data": data, "layout": layout}


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


def surface_figure(grid: Grid, runs: list[Run], labels: dict[str, str], height: int = 560, font_size: int = 14) -> dict:
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
            "xaxis": {"title": {"text": "x"}},
            "yaxis": {"title": {"text": "y"}},
            "zaxis": {"title": {"text": labels["colorbar"]}},
            "aspectmode": "manual",
            "aspectratio": {"x": 1, "y": 1, "z": 0.6},
        },
        "uirevision": "surface",
    }
    return {"data": data, "layout": layout}
