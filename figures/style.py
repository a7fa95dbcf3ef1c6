"""One look for every chart: colors, dashes and markers per optimizer, and the contour palette.

Colors are the Okabe-Ito palette, which viewers with the common color-vision
deficiencies can tell apart; its yellow is darkened so it survives a washed-out
projector on a light background. Each optimizer also has its own dash and
marker, so nothing depends on color alone.
"""

from __future__ import annotations

OPTIMIZER_STYLE: dict[str, dict[str, str]] = {
    "sgd": {"color": "#D55E00", "dash": "solid", "symbol": "circle"},
    "momentum": {"color": "#0072B2", "dash": "dash", "symbol": "square"},
    "nesterov": {"color": "#56B4E9", "dash": "dot", "symbol": "diamond"},
    "adagrad": {"color": "#009E73", "dash": "dashdot", "symbol": "triangle-up"},
    "rmsprop": {"color": "#CC79A7", "dash": "longdash", "symbol": "cross"},
    "adam": {"color": "#E69F00", "dash": "longdashdot", "symbol": "x"},
    "newton": {"color": "#000000", "dash": "solid", "symbol": "star"},
    "saddle_free_newton": {"color": "#6E6E6E", "dash": "dash", "symbol": "pentagon"},
    "lbfgs": {"color": "#A08C00", "dash": "dot", "symbol": "hexagon"},
}

# Pale, light-to-dark blue-grey: the paths, not the surface, carry the color.
CONTOUR_SCALE = [
    [0.0, "#f7fbff"],
    [0.25, "#deebf7"],
    [0.5, "#c6dbef"],
    [0.75, "#9ecae1"],
    [1.0, "#6baed6"],
]

CRITICAL_STYLE = {
    "minimum": {"symbol": "star", "color": "#1b7837", "size": 16},
    "saddle": {"symbol": "x-thin-open", "color": "#762a83", "size": 16},
    "maximum": {"symbol": "triangle-down-open", "color": "#762a83", "size": 12},
}


def style(name: str) -> dict[str, str]:
    return OPTIMIZER_STYLE.get(name, {"color": "#333333", "dash": "solid", "symbol": "circle"})


def layout_base(font_size: int = 14) -> dict:
    return {
        "template": "plotly_white",
        "font": {"size": font_size},
        "margin": {"l": 50, "r": 20, "t": 30, "b": 40},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1},
    }


def packed(values, dtype: str = "f4") -> dict:
    """A numeric array in plotly.js's typed-array form: base64 bytes, about a third of JSON text.

    Plotly's own Figure objects encode arrays this way, but building one
    validates every frame (half a second for an animated figure); our
    figures are plain dicts, so they pack their arrays themselves.
    """
    import numpy as np

    values = np.asarray(values)
    if dtype == "f4":
        return packed_float32(as_float32(values))
    a = np.ascontiguousarray(values, dtype={"f8": np.float64, "i4": np.int32}[dtype])
    return _packed(a, dtype)


def as_float32(values):
    """``values`` as float32 the way :func:`packed` sends them: float32 ends at 3.4e38, and a
    diverged run's loss or point can lie beyond it. Such a value goes as +-inf, as the cast
    would round it (Plotly leaves it out), without NumPy's overflow warning; NaN stays NaN
    (it never compares greater)."""
    import numpy as np

    values = np.asarray(values)
    if values.dtype.kind == "f" and values.dtype.itemsize > 4:
        beyond = np.abs(values) > np.finfo(np.float32).max
        if beyond.any():
            values = np.where(beyond, np.copysign(np.inf, values), values)
    return np.ascontiguousarray(values, dtype=np.float32)


def packed_float32(a) -> dict:
    """:func:`packed` for an array already made by :func:`as_float32` (many slices of one cast:
    an animation's frames)."""
    return _packed(a, "f4")


def _packed(a, dtype: str) -> dict:
    import base64

    out = {"dtype": dtype, "bdata": base64.b64encode(a.tobytes()).decode("ascii")}
    if a.ndim > 1:
        out["shape"] = ", ".join(str(n) for n in a.shape)
    return out
