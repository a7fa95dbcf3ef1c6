"""The main figure: optimizer paths over the contour, animated in the browser.

Size is the design constraint: a naive animation (one frame per step, each
holding every path so far) is megabytes. Here a frame touches only the moving
traces (one trail and one head per optimizer), there are at most
``max_frames`` frames, and coordinates travel as float32 (Plotly sends them
base64-packed). A frame's trail is the first part of its run's drawn path (the
run thinned to at most ``path_points`` points) up to the frame's step, ending at
the head: the trail grows into exactly the path the figure rests on.
The figure opens on the finished paths; play replays them from the start.

For the live chart the frames travel as a recipe (``recipe=True``: the figure's
``animation``): each frame's step, head and how many of each path's points its
trail shows, not the points again. :func:`expanded` rebuilds the frames from it
(the offline file, the tests) and the browser does the same (``framesOf`` in
``ui/assets/live_chart.js``): a third of the bytes to make, encode and send.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np

from . import data_panel as dp
from . import landscape as lf
from .style import layout_base, packed, packed_float32, style


# The path figure's first traces draw the surface (heatmap, level lines): a back layer.
SURFACE_TRACES = 2


@dataclass(frozen=True)
class Run:
    """One optimizer's path as the figures need it."""

    key: str  # optimizer name, picks the style
    label: str  # legend text
    points: np.ndarray  # (n+1, 2)
    losses: np.ndarray  # (n+1,)
    test_losses: np.ndarray | None = None  # (n+1,) on a data surface: the loss on the test split


def thin(n_points: int, most: int) -> np.ndarray:
    """Indices of at most ``most`` points spread over ``n_points``, first and last kept."""
    if n_points <= most:
        return np.arange(n_points)
    # Spacing above 1, so the rounded indices are already distinct and sorted.
    return np.rint(np.arange(most) * ((n_points - 1) / (most - 1))).astype(int)


def frame_steps(longest: int, max_frames: int) -> np.ndarray:
    """Which steps get a frame: all of them for short runs, evenly spread for long ones."""
    return np.unique(np.round(np.linspace(0, longest, min(longest + 1, max_frames))).astype(int))


def _f32(a) -> dict:
    return packed(a)


def _unpacked(a) -> np.ndarray:
    """A float32 array :func:`_f32` packed, back as an array (the same bits)."""
    return np.frombuffer(base64.b64decode(a["bdata"]), dtype=np.float32)


def path_figure(
    surface,
    grid: lf.Grid,
    runs: list[Run],
    labels: dict[str, str],
    start=None,
    overlays: list[dict] | None = None,
    max_frames: int = 40,
    path_points: int = 300,
    frame_ms: int = 60,
    height: int = 560,
    font_size: int = 14,
    line_width: float = 3,
    loss_height: int = 0,
    data_height: int = 300,
    fit_window: dict | None = None,
    recipe: bool = False,
) -> dict:
    """The animated contour figure as a plain dict (Plotly figure JSON).

    ``labels`` holds the translated words: colorbar, start, play, pause,
    step, minimum, saddle, maximum, speed names. ``loss_height`` > 0 adds a
    panel of that height below the contour with f per step for every run, in
    the same figure: one chart for the browser to draw instead of two, and one
    legend that hides an optimizer's path and loss together.

    On a data surface (one with ``data``) a panel beside the contour shows the
    examples and each run's model at the current point (``figures.data_panel``),
    moved by the same frames as the paths; the figure then also carries
    ``narrow_layout``, the same figure with that panel below the contour (``data_height``
    pixels), which the browser uses on a narrow screen.

    ``fit_window`` (presenter mode): ``{"window": px, "min_font": px, "min_panels": px}``,
    kept as ``layout.meta.fit``. The browser then lays the figure out again to end at the
    window's bottom edge (``ui/assets/live_chart.js``): ``font_size`` in a window
    ``window`` px tall, in proportion in a lower one but not under ``min_font``; the rows of
    text scale with the font, the contour and the loss panel share the rest as ``height``
    and ``loss_height`` do, at least ``min_panels`` px together. Without a browser (an
    exported file) the figure keeps these sizes.

    ``recipe``: the animation as ``figure["animation"]`` (see the module docstring and
    :func:`expanded`) instead of ``figure["frames"]``.
    """
    # Every trace has a stable id (letters, digits, dashes: Plotly puts it in CSS selectors):
    # what the viewer changed, a legend entry hidden, stays with its trace when a later
    # figure adds or removes others before it (the layout's uirevision keeps it).
    data: list[dict] = [{**lf.contour_trace(grid, labels["colorbar"]), "uid": "surface"}, {**lf.level_lines_trace(grid), "uid": "levels"}]
    data += [{**d, "uid": f"critical-{j}"} for j, d in enumerate(lf.critical_traces(surface, labels))]
    data += [{**d, "uid": f"overlay-{j}"} for j, d in enumerate(overlays or [])]
    if start is not None:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [float(start[0])],
                "y": [float(start[1])],
                "marker": {"symbol": "circle-open", "size": 16, "color": "#222222", "line": {"width": 3}},
                "name": labels["start"],
                "hovertemplate": labels["start"] + " (%{x:.3g}, %{y:.3g})<extra></extra>",
                "uid": "start",
            }
        )
    moving: list[list[int]] = []  # per run, the traces its frames move
    kept: list[np.ndarray] = []  # per run, the indices of its points the path trace draws
    seen: dict[str, int] = {}
    for run in runs:
        s = style(run.key)
        seen[run.key] = seen.get(run.key, 0) + 1
        uid = run.key if seen[run.key] == 1 else f"{run.key}-{seen[run.key]}"  # an averaged path: the second of its key
        kept.append(thin(len(run.points), path_points))
        full = run.points[kept[-1]]
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": _f32(full[:, 0]),
                "y": _f32(full[:, 1]),
                "line": {"color": s["color"], "width": line_width, "dash": s["dash"]},
                "name": run.label,
                "legendgroup": run.key,
                "hoverinfo": "skip",
                "uid": f"{uid}-path",
            }
        )
        moving.append([len(data) - 1, len(data)])
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": _f32(run.points[-1:, 0]),
                "y": _f32(run.points[-1:, 1]),
                "marker": {"symbol": s["symbol"], "size": 4 * line_width + 1, "color": s["color"], "line": {"width": 1.5, "color": "white"}},
                "name": run.label,
                "legendgroup": run.key,
                "showlegend": False,
                "hovertemplate": run.label + " (%{x:.4g}, %{y:.4g})<extra></extra>",
                "uid": f"{uid}-head",
            }
        )
    on_data = getattr(surface, "data", None) is not None
    if on_data:
        data += dp.example_traces(surface, labels, ("x3", "y3"))
        for i, run in enumerate(runs):
            cx, cy = dp.model_curves(surface, run.points[-1:])
            moving[i].append(len(data))
            data.append(dp.curve_trace(run.key, run.label, cx[0], cy[0], ("x3", "y3"), line_width * 0.8, f"{data[moving[i][0]]['uid'][:-5]}-model"))
    animation = _animation(runs, kept, moving, max_frames, surface if on_data else None)
    steps = animation["steps"] if animation else []
    (x0, x1), (y0, y1) = surface.window
    names = getattr(surface, "axes", ("x", "y"))
    layout = {
        **layout_base(font_size),
        "height": height,
        "xaxis": {"range": [x0, x1], "title": {"text": names[0]}, "constrain": "domain"},
        "yaxis": {"range": [y0, y1], "title": {"text": names[1]}},
        "dragmode": "pan",
        "clickmode": "event+select",
        "hovermode": "closest",
        "uirevision": "paths",
    }
    if fit_window:
        layout["meta"] = {"fit": dict(fit_window)}
    # The play buttons and the scrub slider sit right under the contour they animate:
    # below its x-axis title, in pixels that scale with the font.
    # On a projector (fit_window) height is scarce: the buttons go in the x-axis title's row,
    # left of the centred title, and the slider right under that row.
    rows = _PROJECTOR_ROWS if fit_window else _SCREEN_ROWS
    controls = int(rows["controls"] * font_size) if steps else 0
    contour_bottom = 0.0  # in paper units: where the contour's panel ends
    if loss_height > 0 and runs:
        # One curve per optimizer: an averaged path has the same losses as its run.
        first = [r for i, r in enumerate(runs) if r.key not in {q.key for q in runs[:i]}]
        # 300 points a curve: finer than the panel's width in pixels can show.
        traces, log = loss_traces(first, line_width=line_width * 0.8, axes=("x2", "y2"), showlegend=False, most=300, test_label=labels.get("test_loss"))
        data += traces
        gap = 5 * font_size + controls  # the contour's x-axis title, the controls, the loss panel's title
        total = height + gap + loss_height
        contour_bottom = (loss_height + gap) / total
        layout["yaxis"]["domain"] = [contour_bottom, 1.0]
        # The colorbar belongs to the contour: as tall as its panel, not the whole figure.
        data[0]["colorbar"] = {**data[0].get("colorbar", {}), "len": 1 - contour_bottom, "y": 1.0, "yanchor": "top"}
        layout["xaxis2"] = {"anchor": "y2", "title": {"text": labels["step"]}}
        layout["yaxis2"] = {
            "anchor": "x2",
            "domain": [0.0, loss_height / total],
            "type": "log" if log else "linear",
            "title": {"text": labels["loss"]},
            # Explicit, so the browser can move the curves without re-fitting the axis.
            "range": loss_range([r.losses for r in first] + [r.test_losses for r in first if r.test_losses is not None], log),
        }
        title = labels.get("loss_title", "")
        layout["annotations"] = [
            {"text": f"<b>{title}</b>", "xref": "paper", "yref": "paper", "x": 0.0, "y": loss_height / total, "xanchor": "left", "yanchor": "bottom", "showarrow": False}
        ] if title else []
        layout["margin"] = {"l": 50, "r": 20, "t": 40, "b": 4 * font_size}
        layout["height"] = total + 40 + 4 * font_size
    else:
        layout["margin"] = {"l": 50, "r": 20, "t": 40, "b": 40 + controls}
        layout["height"] = height + controls
    if steps:
        layout["updatemenus"] = [_play_menu(labels, frame_ms, contour_bottom, int(rows["buttons"] * font_size))]
        layout["sliders"] = [_scrub_slider(steps, labels, contour_bottom, int(rows["slider"] * font_size))]
    figure = {"data": data, "layout": layout}
    if recipe and animation:
        figure["animation"] = animation
    else:
        figure["frames"] = _frames(data, animation) if animation else []
    if on_data:
        figure["narrow_layout"] = _data_layouts(surface, figure, labels, height, loss_height if runs else 0, controls, font_size, data_height)
    return figure


def in_column(spec: dict, narrow: bool) -> dict:
    """``spec`` as one chart of its own (``st.plotly_chart``): with a data panel, in a narrow
    column its panel goes below the contour and the colorbar is left out, as on a phone."""
    if "narrow_layout" not in spec:
        return spec
    if not narrow:
        return {k: v for k, v in spec.items() if k != "narrow_layout"}
    data = [{**spec["data"][0], "showscale": False}] + spec["data"][1:]
    return {"data": data, "layout": spec["narrow_layout"], "frames": spec["frames"]}


# Where the data panel sits beside the contour, in paper units of the figure's width.
CONTOUR_WIDTH = 0.56
DATA_PANEL_LEFT = 0.75


def _data_layouts(surface, figure: dict, labels: dict[str, str], height: int, loss_height: int, controls: int, font_size: int, data_height: int) -> dict:
    """Put the data panel beside the contour in ``figure``'s layout; return the narrow-screen layout (panel below)."""
    layout = figure["layout"]
    panel_x = {"title": {"text": labels["data_x"]}, "range": list(dp.data_range(surface)), "anchor": "y3"}
    panel_y = {"title": {"text": labels["data_y"]}, "range": dp.y_range(surface), "anchor": "x3"}
    # Beside: the contour keeps its height; the panel takes the right part of the width.
    layout["xaxis"]["domain"] = [0.0, CONTOUR_WIDTH]
    layout["xaxis3"] = {**panel_x, "domain": [DATA_PANEL_LEFT, 1.0]}
    layout["yaxis3"] = {**panel_y, "domain": list(layout["yaxis"].get("domain", [0.0, 1.0]))}
    figure["data"][0]["colorbar"] = {**figure["data"][0].get("colorbar", {}), "x": CONTOUR_WIDTH + 0.01, "xanchor": "left"}
    # Below (a phone): contour, its play controls, the data panel, then the loss panel.
    narrow = {**layout, "xaxis": {**layout["xaxis"], "domain": [0.0, 1.0]}, "xaxis3": {**layout["xaxis3"], "domain": [0.0, 1.0]}}
    under_contour = 4 * font_size + controls  # the contour's x-axis title and the play controls
    under_data = 5 * font_size  # the panel's x-axis title and the loss panel's title
    total = height + under_contour + data_height + (under_data + loss_height if loss_height else 0)
    loss_top = loss_height / total
    data_lo = (loss_height + under_data) / total if loss_height else 0.0
    data_hi = data_lo + data_height / total
    contour_lo = data_hi + under_contour / total
    narrow["yaxis"] = {**layout["yaxis"], "domain": [contour_lo, 1.0]}
    narrow["yaxis3"] = {**layout["yaxis3"], "domain": [data_lo, data_hi]}
    if "yaxis2" in layout:
        narrow["yaxis2"] = {**layout["yaxis2"], "domain": [0.0, loss_top]}
        narrow["annotations"] = [{**a, "y": loss_top} for a in layout.get("annotations", [])]
    # Domains are fractions of the plot area: the margins hold only the titles' room.
    narrow["margin"] = {**layout.get("margin", {}), "t": 40, "b": 4 * font_size}
    narrow["height"] = total + 40 + 4 * font_size
    for menu in ("updatemenus", "sliders"):
        if menu in layout:
            narrow[menu] = [{**m, "y": contour_lo} for m in layout[menu]]
    return narrow


def loss_traces(
    runs: list[Run], line_width: float = 2.5, axes: tuple[str, str] = ("x", "y"), showlegend: bool = True, most: int = 600, test_label: str | None = None
) -> tuple[list[dict], bool]:
    """f at each step for every run, thinned to ``most`` points, and whether every value is positive (log scale).

    A run with ``test_losses`` also gets its test loss, dotted (named ``test_label``, a format over ``name``):
    the training loss solid, the test loss dotted, in the run's colour.
    """
    data, positive = [], True
    for run in runs:
        s = style(run.key)
        idx = thin(len(run.losses), most)
        curves = [("loss", run.label, run.losses[idx], s["dash"])]
        if run.test_losses is not None:
            name = (test_label or "{name} (test)").format(name=run.label)
            curves.append(("test", name, run.test_losses[idx], "dot"))
        for kind, name, y, dash in curves:
            positive &= bool(np.all(y > 0))
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": packed(idx, "i4"),
                    "y": packed(y, "f8"),  # float32 would flush losses below 1e-38 to 0 on a log axis
                    "xaxis": axes[0],
                    "yaxis": axes[1],
                    "name": name,
                    "legendgroup": run.key,
                    "showlegend": showlegend,
                    "line": {"color": s["color"], "dash": dash if kind == "test" else s["dash"], "width": line_width if kind == "loss" else line_width * 0.8},
                    "hovertemplate": name + " · %{x}: %{y:.4g}<extra></extra>",
                    "uid": f"{run.key}-{kind}",
                }
            )
    return data, positive and bool(data)


def loss_range(losses: list[np.ndarray], log: bool, pad: float = 0.04) -> list[float]:
    """The loss axis's range over every finite value (log10 units on a log axis), padded by ``pad``
    and widened to a round step (1, 2 or 5 times a power of ten, about a tenth of the span).

    Round ends keep the axis still while a slider nudges a run: the browser then moves
    only the lines, and the ticks and labels stay as they are. Losses that are never
    negative get no negative axis.
    """
    values = np.concatenate([np.asarray(v, dtype=float).ravel() for v in losses]) if losses else np.zeros(0)
    values = values[np.isfinite(values) & ((values > 0) if log else True)]
    if not values.size:
        return [0.0, 1.0]
    values = np.clip(values, -1e300, 1e300)  # a diverged run: the span must stay finite
    lo, hi = float(values.min()), float(values.max())
    if log:
        lo, hi = np.log10(lo), np.log10(hi)
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    lo, hi = lo - pad * span, hi + pad * span
    step = _round_step((hi - lo) / 10)
    # Round the quotients first: 4.8 / 0.05 is 95.99999999999999 in floating point.
    lo, hi = float(np.floor(round(lo / step, 9)) * step), float(np.ceil(round(hi / step, 9)) * step)
    if not log and values.min() >= 0:
        lo = max(lo, 0.0)
    return [lo, hi]


def _round_step(x: float) -> float:
    """The nearest of 1, 2, 5 times a power of ten at or above ``x`` (> 0)."""
    power = 10.0 ** np.floor(np.log10(x))
    return float(next(m for m in (1, 2, 5, 10) if m * power >= x * (1 - 1e-12)) * power)


def _animation(runs: list[Run], kept: list[np.ndarray], moving: list[list[int]], max_frames: int, surface=None) -> dict | None:
    """The animation as a recipe: each frame's step, and per run the head at that step and how
    much of the run's path trace its trail shows.

    ``kept``: per run, the indices of its points that its path trace draws; ``moving``: per
    run, its traces (path, head, and on a data surface its model's curve). A run that stopped
    before a frame's step stays at its last point. ``cut[j]``: the path trace's points at or
    before frame j's step; ``join[j]``: 1 when the step itself is not one of them, so the
    trail goes on to the head. On a data surface each frame also holds each run's model there.
    """
    if not runs:
        return None
    longest = max(len(r.points) - 1 for r in runs)
    steps = frame_steps(longest, max_frames)
    out = []
    for run, keep, traces in zip(runs, kept, moving):
        at = np.minimum(steps, len(run.points) - 1)
        cut = np.searchsorted(keep, at, side="right")  # keep starts at 0: every cut is at least 1
        heads = run.points[at]
        item = {
            "path": traces[0], "head": traces[1], "cut": cut.tolist(), "join": (keep[cut - 1] != at).astype(int).tolist(),
            "x": _f32(heads[:, 0]), "y": _f32(heads[:, 1]),
        }  # fmt: skip
        if surface is not None:  # the model's curve: the run's third moving trace
            item["curves"] = [{"x": _f32(cx), "y": _f32(cy)} for cx, cy in zip(*dp.model_curves(surface, heads))]
        out.append(item)
    return {"steps": steps.tolist(), "traces": [i for m in moving for i in m], "runs": out}


def _frames(data: list[dict], animation: dict) -> list[dict]:
    """The Plotly frames ``animation`` describes over the traces ``data`` (see :func:`_animation`)."""
    per_run = []
    for run in animation["runs"]:
        path = data[run["path"]]
        px, py = _unpacked(path["x"]), _unpacked(path["y"])
        hx, hy = _unpacked(run["x"]), _unpacked(run["y"])
        frames = []
        for j, (cut, join) in enumerate(zip(run["cut"], run["join"])):
            tx, ty = (np.append(px[:cut], hx[j]), np.append(py[:cut], hy[j])) if join else (px[:cut], py[:cut])
            frame = [{"x": packed_float32(tx), "y": packed_float32(ty)}, {"x": packed_float32(hx[j : j + 1]), "y": packed_float32(hy[j : j + 1])}]
            if "curves" in run:
                frame.append(run["curves"][j])
            frames.append(frame)
        per_run.append(frames)
    return [
        {"name": str(k), "data": [d for frames in per_run for d in frames[j]], "traces": animation["traces"]}
        for j, k in enumerate(animation["steps"])
    ]


def expanded(figure: dict) -> dict:
    """``figure`` with the frames its ``animation`` describes (the figure itself when it has
    none): what the browser draws from a figure made with ``recipe=True``. A new dict: the
    figure may be shared."""
    if "animation" not in figure:
        return figure
    out = {k: v for k, v in figure.items() if k != "animation"}
    out["frames"] = _frames(figure["data"], figure["animation"])
    return out


# Under the contour, in font heights: how far down the play buttons and the scrub slider start
# (below the contour's bottom edge) and the height all the controls add between the contour's
# x-axis title and the loss panel's title.
_SCREEN_ROWS = {"buttons": 4.9, "slider": 8.5, "controls": 12.5}
_PROJECTOR_ROWS = {"buttons": 1.7, "slider": 3.9, "controls": 6.9}


def _play_menu(labels: dict[str, str], frame_ms: int, y: float = 0.0, pad: int = 54) -> dict:
    def play(speed: float) -> dict:
        ms = int(frame_ms / speed)
        return {
            "label": f"▶ {speed:g}×",
            "method": "animate",
            "args": [None, {"frame": {"duration": ms, "redraw": False}, "transition": {"duration": 0}, "fromcurrent": False, "mode": "immediate"}],
        }

    return {
        "type": "buttons",
        "direction": "left",
        "x": 0.0,
        "y": y,
        "xanchor": "left",
        "yanchor": "top",
        "pad": {"t": pad},
        "showactive": False,
        "buttons": [
            play(0.5),
            play(1.0),
            play(2.0),
            {
                "label": "❚❚",
                "method": "animate",
                "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate", "transition": {"duration": 0}}],
            },
        ],
    }


def _scrub_slider(steps: list[int], labels: dict[str, str], y: float = 0.0, pad: int = 105) -> dict:
    return {
        "active": len(steps) - 1,
        "currentvalue": {"prefix": labels["step"] + " ", "visible": True, "xanchor": "right"},
        "x": 0.0,
        "len": 1.0,
        "y": y,
        "yanchor": "top",
        "pad": {"t": pad},
        "steps": [
            {
                "label": str(k),
                "method": "animate",
                "args": [[str(k)], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate", "transition": {"duration": 0}}],
            }
            for k in steps
        ],
    }
