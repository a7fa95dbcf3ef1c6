"""The sweep heatmap: one cell per hyperparameter setting, the best one starred."""

from __future__ import annotations

import numpy as np

from .landscape import level_lines_trace, selectable_lattice
from .style import layout_base, packed, style

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
    -4: ("#bdbdbd", "circle-open", "#333333"),  # stopped away from every stationary point of the window
    -3: ("#9e9e9e", "cross-thin", "#ffffff"),  # a saddle (or maximum)
    -2: ("#d9d9d9", "line-ew", "#555555"),  # still moving
    -1: ("#4d4d4d", "x-thin", "#ffffff"),  # diverged
}


LEGEND_MAX = 10  # legend entries of a basin map; more would crowd out the map


def basin_color(code: int) -> str:
    return BASIN_COLORS[code % len(BASIN_COLORS)] if code >= 0 else OUTCOME_STYLE[code][0]


def basin_figure(sweep, labels: dict, levels=None, height: int = 520, mark=None) -> dict:
    """Which minimum each run ended at, one colour per minimum (``sweep.basin``).

    ``labels``: ``x``, ``y`` (axis titles), ``outcome`` (a list of (code, legend text) in
    legend order, every outcome that happened; past :data:`LEGEND_MAX` one line, ``more``, a
    format string over ``k``, stands for the rest), ``hover`` (code -> text for one cell, a
    format string over ``steps``), ``minimum`` (the minima's marker name).
    ``levels``: a contour grid (:func:`figures.landscape.grid`) drawn under a map of starts,
    with the minima marked and numbered. ``mark``: a point to mark, ``(x, y, name)`` (the
    start of the seeded runs). Cells that did not end at a minimum are grey, each outcome with
    its own glyph, so colour is not the only cue.

    A click reports one cell: an invisible marker at every cell centre carries the hover text
    and takes the click (a heatmap trace reports no points). Streamlit turns a click into a
    selection only when the drag mode is not a selection (with ``select`` it makes a click
    clear the selection), so a drag zooms and a box is drawn with the toolbar's Box Select.
    """
    codes = np.asarray(sweep.basin)
    xs, ys = _scale(sweep.x_log, sweep.x), _scale(sweep.y_log, sweep.y)
    swapped = sweep.starts_swept and sweep.x_name == "y0"  # y0 across, x0 up: the surface's overlays turned to match
    if levels is not None and swapped:
        levels = levels._replace(xs=levels.ys, ys=levels.xs, z=levels.z.T, color=levels.color.T)
    minima = np.asarray(sweep.minima).reshape(-1, 2)[:, ::-1] if swapped else np.asarray(sweep.minima).reshape(-1, 2)
    if mark is not None and swapped:
        mark = (mark[1], mark[0], mark[2])
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
            "type": "heatmap", "x": packed(xs), "y": packed(ys), "z": packed(slot, "i4"),
            "colorscale": scale, "zmin": -0.5, "zmax": n_slots - 0.5, "showscale": False, "opacity": 0.82,
            "hoverinfo": "skip", "name": "basins",
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
    for code, name in labels["outcome"][:LEGEND_MAX]:  # the legend: one entry per outcome, with its share
        marker = {"symbol": "square", "size": 14, "color": basin_color(code)}
        if code < 0:
            marker["line"] = {"width": 1, "color": "#333333"}
        data.append({"type": "scatter", "mode": "markers", "x": [None], "y": [None], "marker": marker, "name": name, "showlegend": True, "hoverinfo": "skip"})
    if len(labels["outcome"]) > LEGEND_MAX:  # Rastrigin's runs reach dozens of minima: the rest in one line (the hover names each)
        rest = len(labels["outcome"]) - LEGEND_MAX
        data.append({"type": "scatter", "mode": "markers", "x": [None], "y": [None], "marker": {"symbol": "square-open", "size": 14, "color": "#777777"}, "name": labels["more"].format(k=rest), "showlegend": True, "hoverinfo": "skip"})
    if levels is not None and len(minima):
        m = minima
        data.append({
            "type": "scatter", "mode": "markers+text", "x": m[:, 0].tolist(), "y": m[:, 1].tolist(),
            "text": [str(k + 1) for k in range(len(m))], "textposition": "top center", "textfont": {"size": 15, "color": "#000000"},
            "marker": {"symbol": "star", "size": 15, "color": "#ffffff", "line": {"width": 1.5, "color": "#000000"}},
            "name": labels["minimum"], "showlegend": False,
            "hovertemplate": labels["minimum"] + " %{text}: (%{x:.3g}, %{y:.3g})<extra></extra>",
        })  # fmt: skip
    if mark is not None:
        data.append({
            "type": "scatter", "mode": "markers", "x": [float(mark[0])], "y": [float(mark[1])], "name": mark[2], "showlegend": True,
            "marker": {"symbol": "diamond", "size": 13, "color": "#ffffff", "line": {"width": 2.5, "color": "#000000"}},
            "hovertemplate": f"{mark[2]}: (%{{x:.3g}}, %{{y:.3g}})<extra></extra>",
        })  # fmt: skip
    if not sweep.random:  # last: on top, so the hover and the click find a cell
        data.append({**selectable_lattice(xs, ys, "cells", size=9), "text": np.ravel(text).tolist(), "hovertemplate": hover})
    layout = {
        **layout_base(14),
        "height": height,
        "xaxis": {"title": {"text": labels["x"]}, "showgrid": False, "zeroline": False, "automargin": True},
        "yaxis": {"title": {"text": labels["y"]}, "showgrid": False, "zeroline": False, "automargin": True},
        # Above the map, one entry a row (two a row overlap in a half-width column); below, it
        # would meet the x axis's title at some widths.
        "legend": {"orientation": "v", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0, "font": {"size": 12}, "tracegroupgap": 0},
        "margin": {"l": 50, "r": 20, "t": 10, "b": 30},
        "dragmode": "zoom",
        "clickmode": "event+select",
        "hovermode": "closest",
        "uirevision": "basins",
    }
    if levels is not None:  # a map of starts: the window, filling the plot area (not one unit as long on both axes: a narrow column would leave a thin strip)
        layout["xaxis"]["range"] = [float(xs[0]), float(xs[-1])] if not sweep.random else list(sweep.box[:2])
        layout["yaxis"]["range"] = [float(ys[0]), float(ys[-1])] if not sweep.random else list(sweep.box[2:])
    return {"data": data, "layout": layout}


def seeds_figure(bars: list[dict], labels: dict, height: int | None = None) -> dict:
    """Success over seeds: one horizontal bar per outcome and optimizer (each optimizer in its
    own colour, as on the Playground), the 95% interval as error bars. ``bars``: per optimizer
    ``optimizer`` (its key), ``name``, ``share``, ``low``, ``high`` (percent, one per outcome).
    ``labels``: ``outcomes`` (one per bar, top to bottom), ``axis`` (the value axis title),
    ``ci`` (the interval's name in the hover text)."""
    outcomes = list(labels["outcomes"])
    data = []
    for bar in bars:
        share, low, high = (np.asarray(bar[k], dtype=float) for k in ("share", "low", "high"))
        data.append({
            "type": "bar", "orientation": "h", "name": bar["name"], "y": outcomes, "x": share.round(2).tolist(),
            "marker": {"color": style(bar["optimizer"])["color"]},
            "error_x": {"type": "data", "symmetric": False, "array": (high - share).round(2).tolist(), "arrayminus": (share - low).round(2).tolist(), "color": "#222222", "thickness": 1.5, "width": 4},
            "customdata": np.c_[low, high].round(1).tolist(),
            "hovertemplate": f"{bar['name']} · %{{y}}: %{{x:.1f}}% ({labels['ci']} %{{customdata[0]}}–%{{customdata[1]}}%)<extra></extra>",
        })  # fmt: skip
    rows = len(outcomes) * max(1, len(bars))
    layout = {
        **layout_base(14),
        "height": height or 110 + 26 * rows,
        "barmode": "group",
        "xaxis": {"title": {"text": labels["axis"]}, "range": [0, 100], "fixedrange": True, "ticksuffix": "%"},
        "yaxis": {"autorange": "reversed", "fixedrange": True, "automargin": True},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0, "traceorder": "normal"},
        "margin": {"l": 20, "r": 20, "t": 30, "b": 50},
    }
    return {"data": data, "layout": layout}
