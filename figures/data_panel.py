"""The data beside a model's loss surface: training and test examples, and each run's model.

For a data surface (``landscapes.data``) the path figure gets a third panel: the
examples in their original units (the scaling changes the parameters, not the
data), training points filled, test points hollow, and per optimizer the model at
the current point of its path, in its colour: the fitted line, the sigmoid with
its decision threshold (a vertical segment at p = 0.5), the tanh curve. The
curves are frames of the same animation as the paths, so play and scrub move
them together.
"""

from __future__ import annotations

import numpy as np

from .style import packed, style

CURVE_POINTS = 80  # samples across the panel: smooth at any width the panel gets


def data_range(surface) -> tuple[float, float]:
    """The panel's x range in original units: every example, with a margin."""
    d = surface.data
    raw = np.concatenate([d.x_train, d.x_test]) * d.scale + d.shift
    lo, hi = float(raw.min()), float(raw.max())
    pad = 0.05 * (hi - lo or 1.0)
    return lo - pad, hi + pad


def curve_grid(surface) -> np.ndarray:
    lo, hi = data_range(surface)
    return np.linspace(lo, hi, CURVE_POINTS)


def model_curves(surface, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The model at each of ``points`` (k, 2) as polylines: (x, y) arrays of shape (k, L).

    For the logistic model each polyline continues, after a gap (NaN), with the
    vertical segment of its decision threshold (p = 0.5 at w x + b = 0), when that
    lies inside the panel.
    """
    d = surface.data
    xs = curve_grid(surface)
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    with np.errstate(all="ignore"):
        ys = surface.predict(points, (xs - d.shift) / d.scale)  # (k, L)
        x = np.broadcast_to(xs, ys.shape)
        if surface.model.kind != "logistic":
            return x, ys
        w, b = points[:, 0], points[:, 1]
        threshold = np.where(w != 0, -b / np.where(w == 0, 1.0, w), np.nan) * d.scale + d.shift
    inside = (threshold >= xs[0]) & (threshold <= xs[-1])
    t = np.where(inside, threshold, np.nan)[:, None]
    gap = np.full((len(points), 1), np.nan)
    return np.hstack([x, gap, t, t]), np.hstack([ys, gap, np.zeros_like(t), np.ones_like(t)])


def example_traces(surface, labels: dict[str, str], axes: tuple[str, str], marker_size: int = 7) -> list[dict]:
    """The training examples (filled) and the test examples (hollow), in original units."""
    d = surface.data
    out = []
    for split, x, y, symbol in (("train", d.x_train, d.y_train, "circle"), ("test", d.x_test, d.y_test, "circle-open")):
        out.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": packed(x * d.scale + d.shift),
                "y": packed(y),
                "xaxis": axes[0],
                "yaxis": axes[1],
                "marker": {"symbol": symbol, "size": marker_size, "color": "#7f7f7f" if split == "train" else "#222222", "opacity": 0.55 if split == "train" else 0.9, "line": {"width": 1.2}},
                "name": labels[f"data_{split}"],
                "hovertemplate": labels[f"data_{split}"] + " (%{x:.3g}, %{y:.3g})<extra></extra>",
                "uid": f"data-{split}",
            }
        )
    return out


def curve_trace(key: str, label: str, x: np.ndarray, y: np.ndarray, axes: tuple[str, str], line_width: float, uid: str) -> dict:
    s = style(key)
    return {
        "type": "scatter",
        "mode": "lines",
        "x": packed(x),
        "y": packed(y),
        "xaxis": axes[0],
        "yaxis": axes[1],
        "line": {"color": s["color"], "width": line_width, "dash": s["dash"]},
        "name": label,
        "legendgroup": key,
        "showlegend": False,
        "connectgaps": False,
        "hoverinfo": "skip",
        "uid": uid,
    }


def y_range(surface) -> list[float]:
    """The panel's y range: every example's target with a margin (a probability axis: 0 to 1)."""
    d = surface.data
    if surface.model.kind == "logistic":
        return [-0.1, 1.1]
    y = np.concatenate([d.y_train, d.y_test])
    lo, hi = float(y.min()), float(y.max())
    pad = 0.1 * (hi - lo or 1.0)
    return [lo - pad, hi + pad]
