"""The sweep heatmap: one cell per hyperparameter setting, the best one starred."""

from __future__ import annotations

import numpy as np

from .landscape import selectable_lattice
from .style import layout_base, packed

def _scale(log: bool, values: np.ndarray) -> np.ndarray:
    return np.log10(values) if log else values


def axis_title(label: str, log: bool) -> str:
    return f"log₁₀ {label}" if log else label


def sweep_figure(sweep, metric: np.ndarray, labels: dict[str, str], height: int = 520) -> dict:
    """Heatmap of ``metric`` (log10 for losses) over the two swept hyperparameters.

    Cells where runs diverged are left blank (NaN). An almost invisible
    lattice of markers at the cell centres makes clicks and box selections
    report points (a heatmap trace itself reports none).
    """
    xs, ys = _scale(sweep.x_log, sweep.x), _scale(sweep.y_log, sweep.y)
    z = np.asarray(metric, dtype=float)
    if labels.get("log_metric"):
        with np.errstate(all="ignore"):
            z = np.log10(np.where(z > 0, z, np.nan))
    bx, by, _ = sweep.best()
    data: list[dict] = []
    if sweep.random:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": packed(xs),
                "y": packed(ys),
                "marker": {"color": packed(z), "colorscale": "Viridis", "reversescale": True, "size": 7, "colorbar": {"title": {"text": labels["metric"]}}, "showscale": True},
                "name": "runs",
                "hovertemplate": "%{x:.3g}, %{y:.3g}<extra></extra>",
            }
        )
    else:
        data.append(
            {
                "type": "heatmap",
                "x": packed(xs),
                "y": packed(ys),
                "z": packed(z),
                "colorscale": "Viridis",
                "reversescale": True,
                "colorbar": {"title": {"text": labels["metric"], "side": "right"}},
                "hoverongaps": False,
                "name": labels["metric"],
            }
        )
        # A sparse lattice is enough for box selection (the box's own range is
        # what refines): thousands of invisible markers would cost more to draw than the heatmap.
        stride = max(1, len(xs) // 16)
        data.append(selectable_lattice(xs[::stride], ys[::stride], "cells", size=10, hover=False))
    if np.isfinite(bx):
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [float(_scale(sweep.x_log, np.array([bx]))[0])],
                "y": [float(_scale(sweep.y_log, np.array([by]))[0])],
                "marker": {"symbol": "star", "size": 20, "color": "#D55E00", "line": {"width": 1.5, "color": "white"}},
                "name": labels["best"],
            }
        )
    layout = {
        **layout_base(14),
        "height": height,
        "xaxis": {"title": {"text": labels["x"]}},
        "yaxis": {"title": {"text": labels["y"]}},
        "dragmode": "select",
        "clickmode": "event+select",
        "uirevision": "sweep",
    }
    return {"data": data, "layout": layout}
