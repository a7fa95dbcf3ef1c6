"""The sweep heatmap: one cell per hyperparameter setting, the best one starred."""

from __future__ import annotations

import numpy as np

from .landscape import level_lines_trace, selectable_lattice
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


# A basin map's colours: one per minimum (Okabe-Ito, colour-blind safe, without its black;
# they repeat past seven minima), and neutral greys, each with its own glyph, for the rest.
BASIN_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#A08C00")
OUTCOME_STYLE = {  # code -> (fill, glyph drawn on each such cell, glyph colour)
    -3: ("#9e9e9e", "cross-thin", "#ffffff"),  # a saddle (or maximum)
    -2: ("#d9d9d9", "line-ew", "#555555"),  # still moving
    -1: ("#4d4d4d", "x-thin", "#ffffff"),  # diverged
}


def basin_color(code: int) -> str:
    return BASIN_COLORS[code % len(BASIN_COLORS)] if code >= 0 else OUTCOME_STYLE[code][0]


def basin_figure(sweep, labels: dict, levels=None, height: int = 520) -> dict:
    """Which minimum each run ended at, one colour per minimum (``sweep.basin``).

    ``labels``: ``x``, ``y`` (axis titles), ``outcome`` (a list of (code, legend text) in
    legend order: the minima and the other outcomes that happened), ``hover`` (code -> text
    for one cell, a format string over ``steps``), ``minimum`` (the minima's marker name).
    ``levels``: a contour grid (:func:`figures.landscape.grid`) drawn under a map of starts,
    with the minima marked and numbered. Cells that did not end at a minimum are grey, each
    outcome with its own glyph, so colour is not the only cue. An invisible marker at every
    cell centre makes a click report the cell (a heatmap trace reports no points).
    """
    codes = np.asarray(sweep.basin)
    xs, ys = _scale(sweep.x_log, sweep.x), _scale(sweep.y_log, sweep.y)
    present = [code for code, _ in labels["outcome"]]
    slots = {code: i for i, code in enumerate(present)}
    slot = np.vectorize(lambda c: slots.get(int(c), 0), otypes=[np.int32])(codes) if codes.size else codes
    n_slots = max(1, len(present))
    scale = []
    for i, code in enumerate(present):
        scale += [[i / n_slots, basin_color(code)], [(i + 1) / n_slots, basin_color(code)]]
    scale = scale or [[0, "#ffffff"], [1, "#ffffff"]]
    steps = np.asarray(sweep.steps)
    text = np.vectorize(lambda c, s: labels["hover"][int(c)].format(steps=int(s)), otypes=[object])(codes, steps) if codes.size else codes
    hover = f"{labels['x']} %{{x:.3g}}, {labels['y']} %{{y:.3g}}<br>%{{text}}<extra></extra>"
    data: list[dict] = []
    if levels is not None:
        data.append({**level_lines_trace(levels), "line": {"width": 0.8, "color": "rgba(30,30,30,0.45)"}})
    if sweep.random:
        data.append({
            "type": "scatter", "mode": "markers", "x": packed(xs), "y": packed(ys), "text": text.tolist(),
            "marker": {"color": packed(slot, "i4"), "colorscale": scale, "cmin": -0.5, "cmax": n_slots - 0.5, "size": 8, "showscale": False},
            "hovertemplate": hover, "showlegend": False, "name": "runs",
        })  # fmt: skip
    else:
        data.append({
            "type": "heatmap", "x": packed(xs), "y": packed(ys), "z": packed(slot, "i4"), "text": text.tolist(),
            "colorscale": scale, "zmin": -0.5, "zmax": n_slots - 0.5, "showscale": False, "opacity": 0.82,
            "hovertemplate": hover, "name": "basins",
        })  # fmt: skip
        if levels is not None:  # the level lines over the colours too, faint: the map stays readable
            data.append({**level_lines_trace(levels), "line": {"width": 0.6, "color": "rgba(30,30,30,0.3)"}})
    gx, gy = (xs, ys) if sweep.random else np.meshgrid(xs, ys)
    for code, (fill, glyph, ink) in OUTCOME_STYLE.items():
        at = codes == code
        if np.any(at):
            data.append({
                "type": "scatter", "mode": "markers", "x": packed(np.asarray(gx)[at]), "y": packed(np.asarray(gy)[at]),
                "marker": {"symbol": glyph, "size": 7, "color": ink, "line": {"width": 1.2, "color": ink}},
                "hoverinfo": "skip", "showlegend": False, "name": f"glyph {code}",
            })  # fmt: skip
    for code, name in labels["outcome"]:  # the legend: one entry per outcome, with its share
        marker = {"symbol": "square", "size": 14, "color": basin_color(code)}
        if code < 0:
            marker["line"] = {"width": 1, "color": "#333333"}
        data.append({"type": "scatter", "mode": "markers", "x": [None], "y": [None], "marker": marker, "name": name, "showlegend": True, "hoverinfo": "skip"})
    if levels is not None and len(sweep.minima):
        m = np.asarray(sweep.minima)
        data.append({
            "type": "scatter", "mode": "markers+text", "x": m[:, 0].tolist(), "y": m[:, 1].tolist(),
            "text": [str(k + 1) for k in range(len(m))], "textposition": "top center", "textfont": {"size": 15, "color": "#000000"},
            "marker": {"symbol": "star", "size": 15, "color": "#ffffff", "line": {"width": 1.5, "color": "#000000"}},
            "name": labels["minimum"], "showlegend": False,
            "hovertemplate": labels["minimum"] + " %{text}: (%{x:.3g}, %{y:.3g})<extra></extra>",
        })  # fmt: skip
    if not sweep.random:
        data.append(selectable_lattice(xs, ys, "cells", size=9, hover=False))
    layout = {
        **layout_base(14),
        "height": height,
        "xaxis": {"title": {"text": labels["x"]}, "showgrid": False, "zeroline": False},
        "yaxis": {"title": {"text": labels["y"]}, "showgrid": False, "zeroline": False},
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.14, "xanchor": "left", "x": 0},
        "margin": {"l": 50, "r": 20, "t": 20, "b": 40},
        "dragmode": "select",
        "clickmode": "event+select",
        "uirevision": "basins",
    }
    if levels is not None:  # a map of starts: the window, one unit as long on both axes
        layout["xaxis"]["range"] = [float(xs[0]), float(xs[-1])] if not sweep.random else list(sweep.box[:2])
        layout["yaxis"].update(range=[float(ys[0]), float(ys[-1])] if not sweep.random else list(sweep.box[2:]), scaleanchor="x", scaleratio=1)
    return {"data": data, "layout": layout}


SEED_PATTERNS = ("", "/", ".", "x")  # one fill pattern per optimizer: the colour is the outcome's


def seeds_figure(codes: list[int], bars: list[dict], labels: dict, height: int = 320) -> dict:
    """Success over seeds: per outcome (``codes``: minima indices, then other outcomes), one bar
    per optimizer, coloured as the basin map colours the outcome, with the 95% interval as
    error bars. ``bars``: per optimizer ``name``, ``share``, ``low``, ``high`` (percent, one
    per code). ``labels``: ``outcomes`` (one per code), ``axis`` (the value axis title)."""
    colors = [basin_color(code) for code in codes]
    data = []
    for i, bar in enumerate(bars):
        share = np.asarray(bar["share"], dtype=float)
        data.append({
            "type": "bar", "name": bar["name"], "x": list(labels["outcomes"]), "y": share.round(2).tolist(),
            "marker": {"color": colors, "line": {"width": 1, "color": "#333333"}, "pattern": {"shape": SEED_PATTERNS[i % len(SEED_PATTERNS)], "fgcolor": "#222222"}},
            "error_y": {
                "type": "data", "symmetric": False, "color": "#222222", "thickness": 1.5, "width": 5,
                "array": (np.asarray(bar["high"], dtype=float) - share).round(2).tolist(),
                "arrayminus": (share - np.asarray(bar["low"], dtype=float)).round(2).tolist(),
            },
            "text": [f"{v:.1f}%" for v in share], "textposition": "outside", "cliponaxis": False,
            "hovertemplate": f"{bar['name']}<br>%{{x}}: %{{y:.1f}}%<extra></extra>",
        })  # fmt: skip
    layout = {
        **layout_base(14),
        "height": height,
        "barmode": "group",
        "yaxis": {"title": {"text": labels["axis"]}, "range": [0, 110], "fixedrange": True},
        "xaxis": {"fixedrange": True},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
        "margin": {"l": 50, "r": 20, "t": 30, "b": 40},
        "showlegend": True,
    }
    return {"data": data, "layout": layout}
