"""A figure split in two layers drawn one over the other: the surface behind, the rest in front.

The surface (a 200 x 200 heatmap and its level lines) is most of a figure's
drawing time and changes only with the landscape; the paths change on every
slider move. Drawn as two stacked charts, a move redraws only the front one.
The front carries the axes, the legend, the colorbar and every interaction;
the back has no axes of its own and is laid onto the front's plot area by the
browser (``ui/assets/live_chart.js``), so both share one geometry.
"""

from __future__ import annotations

from .paths import expanded

TRANSPARENT = "rgba(0,0,0,0)"
COLORBAR_ONLY = "colorbar-only"  # the meta of a front trace that only draws a back trace's colorbar


def layered(spec: dict, back_traces: int) -> dict:
    """Split ``spec`` after its first ``back_traces`` traces into ``{"back": ..., "front": ...}``.

    - back: those traces without their color scale, the x/y axes hidden, nothing else.
    - front: the other traces, then one empty trace per hidden color scale that
      draws the same colorbar (so the front makes room for it), on a transparent
      background with no grid (the grid would draw over the surface); frames (or the
      animation's recipe, ``figures.paths``) renumbered to the front's traces.
    """
    data, layout = spec["data"], spec["layout"]
    back_data = [_without_scale(d) for d in data[:back_traces]]
    scales = [_colorbar_only(d) for d in data[:back_traces] if _has_scale(d)]
    axes = ("xaxis", "yaxis")
    back_layout = {
        "height": layout.get("height"),
        "showlegend": False,
        "hovermode": False,
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        **{a: {**layout.get(a, {}), "visible": False} for a in axes},
    }
    def in_front(layout: dict) -> dict:
        return {
            **layout,
            "paper_bgcolor": TRANSPARENT,
            "plot_bgcolor": TRANSPARENT,
            **{a: {**layout.get(a, {}), "showgrid": False, "zeroline": False} for a in axes},
        }

    front = {"data": data[back_traces:] + scales, "layout": in_front(layout), "frames": _renumbered(spec.get("frames", []), -back_traces)}
    if "animation" in spec:
        front["animation"] = _renumbered_animation(spec["animation"], -back_traces)
    if "narrow_layout" in spec:
        # The same front on a narrow screen (ui/assets/live_chart.js picks it by width), without
        # the colorbar: a phone needs the width for the contour and its play controls.
        front["narrow"] = {"layout": in_front(spec["narrow_layout"]), "marker": {"showscale": False}}
    return {"back": {"data": back_data, "layout": back_layout}, "front": front}


def merged(layers: dict) -> dict:
    """The one figure ``layered`` split: back traces then front traces, frames numbered as before
    (an animation's recipe made into its frames, as the browser makes them).

    The back traces keep ``showscale`` off (the front drew their colorbars); the
    layout is the front's.
    """
    back, front = layers["back"]["data"], layers["front"]["data"]
    data = back + [d for d in front if d.get("meta") != COLORBAR_ONLY]
    figure = {"data": data, "layout": layers["front"]["layout"], "frames": _renumbered(layers["front"].get("frames", []), len(back))}
    if "animation" in layers["front"]:
        figure["animation"] = _renumbered_animation(layers["front"]["animation"], len(back))
    return expanded(figure)


def _renumbered(frames: list[dict], shift: int) -> list[dict]:
    """``frames`` with the trace indices they touch moved by ``shift``."""
    return [{**f, "traces": [i + shift for i in f["traces"]]} if "traces" in f else f for f in frames]


def _has_scale(trace: dict) -> bool:
    return trace.get("type") in ("heatmap", "contour") and trace.get("showscale", True) and "colorscale" in trace


def _without_scale(trace: dict) -> dict:
    return {**trace, "showscale": False} if _has_scale(trace) else trace


def _colorbar_only(trace: dict) -> dict:
    """An empty scatter whose marker scale spans the trace's z range: only its colorbar is drawn."""
    return {
        "type": "scatter",
        "mode": "markers",
        "x": [None],
        "y": [None],
        "marker": {
            "color": [trace["zmin"], trace["zmax"]],
            "cmin": trace["zmin"],
            "cmax": trace["zmax"],
            "colorscale": trace["colorscale"],
            "showscale": True,
            "colorbar": trace.get("colorbar", {}),
        },
        "showlegend": False,
        "hoverinfo": "skip",
        "name": trace.get("name", ""),
        "meta": COLORBAR_ONLY,
        "uid": f"{trace.get('uid', 'surface')}-scale",
    }


def _renumbered_animation(animation: dict, shift: int) -> dict:
    """An animation's recipe with the trace indices it names moved by ``shift``."""
    runs = [{**r, **{k: r[k] + shift for k in ("path", "head")}} for r in animation["runs"]]
    return {**animation, "traces": [i + shift for i in animation["traces"]], "runs": runs}
