"""The surface itself: a contour grid, its color scaling, critical points, field and curvature overlays."""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from typing import NamedTuple

import numpy as np

from .style import CONTOUR_SCALE, CRITICAL_STYLE, packed


class Grid(NamedTuple):
    """f sampled on a regular grid over the view window, ready to draw."""

    xs: np.ndarray  # (n,)
    ys: np.ndarray  # (m,)
    z: np.ndarray  # (m, n) f, NaN outside the domain
    color: np.ndarray  # (m, n) float32 what the colors show (f, or log10 of f above its minimum)
    log: bool  # color is log-scaled
    offset: float  # color = log10(f - offset) when log
    masked: bool  # some of the window is outside the function's domain


def grid(landscape, n: int = 150, window=None) -> Grid:
    """Evaluate f on an n x n grid over ``window`` (default: the landscape's).

    Colors are log-scaled when the landscape asks for it (Rosenbrock spans
    four decades): ``log10(f - min f + delta)``, delta a thousandth of the
    median height, so the valley floor keeps its detail.
    """
    (x0, x1), (y0, y1) = window or landscape.window
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    gx, gy = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        z = landscape.f(np.stack([gx, gy], axis=-1))
    finite = np.isfinite(z)
    z = np.where(finite, z, np.nan)
    masked = not finite.all()
    if not finite.any():
        return Grid(xs, ys, z, np.zeros_like(z, dtype=np.float32), False, 0.0, True)
    lo = float(np.nanmin(z))
    log = bool(landscape.log_colors)
    offset = 0.0
    if log:
        delta = 1e-3 * max(float(np.nanmedian(z)) - lo, 1e-12)
        offset = lo - delta
        with np.errstate(all="ignore"):
            color = np.log10(z - offset)
    else:
        color = z
    return Grid(xs, ys, z, color.astype(np.float32), log, offset, masked)


def _per_grid(make):
    """``make(g, *args)`` made once per grid object and arguments. The app draws the same grid,
    kept by its cache, on every move; packing its arrays again each time cost about a quarter
    of the path figure. Each call gets its own copy of the trace and of its dicts (a figure sets
    a trace's colorbar, say); what lies deeper is shared and never changed."""
    made: OrderedDict = OrderedDict()
    lock = threading.Lock()

    @functools.wraps(make)
    def cached(g: Grid, *args, **kwargs):
        key = (id(g), args, tuple(sorted(kwargs.items())))
        with lock:
            hit = made.get(key)
            if hit is not None and hit[0] is g:  # the grid itself is held: its id is not reused meanwhile
                made.move_to_end(key)
                return _copied(hit[1])
        trace = make(g, *args, **kwargs)
        with lock:
            made[key] = (g, trace)
            while len(made) > 8:  # a few surfaces at once, each grid ~0.3 MB kept alive here
                made.popitem(last=False)
        return _copied(trace)

    return cached


def _copied(trace: dict) -> dict:
    return {k: dict(v) if isinstance(v, dict) else v for k, v in trace.items()}


@_per_grid
def contour_trace(g: Grid, colorbar_title: str, show_scale: bool = True) -> dict:
    """The surface's colors as a heatmap: Plotly draws it several times faster than a filled contour.

    The color range is explicit (``zmin``/``zmax``) so a colorbar drawn elsewhere can match it.
    """
    finite = g.color[np.isfinite(g.color)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return {
        "type": "heatmap",
        "x": packed(g.xs),
        "y": packed(g.ys),
        "z": packed(g.color),
        "colorscale": CONTOUR_SCALE,
        "zmin": lo,
        "zmax": hi,
        "zsmooth": "fast",
        "colorbar": {"title": {"text": colorbar_title, "side": "right"}, "thickness": 14},
        "showscale": show_scale,
        "hoverinfo": "skip",
        "name": "f",
    }


@_per_grid
def level_lines_trace(g: Grid, n: int = 60, levels: int = 24) -> dict:
    """Level sets of f as thin lines, traced on a coarser grid (the lines, not the colors, show the shape)."""
    step = max(1, len(g.xs) // n)
    return {
        "type": "contour",
        "x": packed(g.xs[::step]),
        "y": packed(g.ys[::step]),
        "z": packed(g.color[::step, ::step]),
        "ncontours": levels,
        "contours": {"coloring": "none"},
        "line": {"width": 0.6, "color": "rgba(60,60,60,0.35)"},
        "showscale": False,
        "hoverinfo": "skip",
        "name": "levels",
        "showlegend": False,
    }


def selectable_lattice(xs, ys, name: str, size: float, hover: bool = True) -> dict:
    """An invisible lattice of markers over the grid ``xs`` x ``ys`` (fully transparent:
    overlapping markers would otherwise show as a pattern).

    Streamlit reports no points for clicks or box selections on contour and
    heatmap traces; on these markers it does.
    """
    gx, gy = np.meshgrid(xs, ys)
    trace = {
        "type": "scatter",
        "mode": "markers",
        "x": packed(gx.ravel()),
        "y": packed(gy.ravel()),
        "marker": {"size": size, "color": "rgba(0,0,0,0)", "symbol": "circle", "line": {"width": 0}},
        "showlegend": False,
        "name": name,
    }
    if hover:
        trace["hovertemplate"] = "(%{x:.2f}, %{y:.2f})<extra></extra>"
    else:
        trace["hoverinfo"] = "skip"
    return trace


def critical_traces(landscape, labels: dict[str, str]) -> list[dict]:
    """Markers for minima, saddles and maxima inside the window, one trace per kind."""
    traces = []
    for kind, st in CRITICAL_STYLE.items():
        pts = [c.point for c in landscape.critical_points if c.kind == kind]
        if not pts:
            continue
        p = np.array(pts)
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": p[:, 0],
                "y": p[:, 1],
                "marker": {"symbol": st["symbol"], "size": st["size"], "color": st["color"], "line": {"width": 2, "color": st["color"]}},
                "name": labels.get(kind, kind),
                "hovertemplate": labels.get(kind, kind) + " (%{x:.3g}, %{y:.3g})<extra></extra>",
            }
        )
    return traces


def arrows_trace(tails: np.ndarray, heads: np.ndarray, color: str, name: str, width: float = 1.5, size: float = 8, showlegend: bool = True, dash: str = "solid") -> dict:
    """Arrows from tails to heads (both (k, 2)) as one trace: shafts, with an arrowhead at each tip."""
    k = len(tails)
    xs = np.full(3 * k, np.nan)
    ys = np.full(3 * k, np.nan)
    xs[0::3], xs[1::3] = tails[:, 0], heads[:, 0]
    ys[0::3], ys[1::3] = tails[:, 1], heads[:, 1]
    sizes = np.zeros(3 * k)
    sizes[1::3] = size
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "x": xs,
        "y": ys,
        "line": {"color": color, "width": width, "dash": dash},
        "marker": {"symbol": "arrow", "angleref": "previous", "size": sizes, "color": color},
        "name": name,
        "showlegend": showlegend,
        "hoverinfo": "skip",
        "connectgaps": False,
    }


def gradient_field_trace(landscape, name: str, n: int = 15) -> dict:
    """Downhill directions (-grad f) on an n x n lattice, scaled to the lattice spacing."""
    (x0, x1), (y0, y1) = landscape.window
    gx, gy = np.meshgrid(np.linspace(x0, x1, n + 2)[1:-1], np.linspace(y0, y1, n + 2)[1:-1])
    p = np.stack([gx.ravel(), gy.ravel()], axis=-1)
    with np.errstate(all="ignore"):
        g = landscape.grad(p)
        norm = np.linalg.norm(g, axis=-1, keepdims=True)
        spacing = np.array([(x1 - x0) / (n + 1), (y1 - y0) / (n + 1)])
        # Arrow length grows with |grad| but saturates, so steep walls do not swamp the view.
        length = 0.85 * np.tanh(norm / np.nanmedian(norm[norm > 0]) if np.any(norm > 0) else norm)
        d = np.where(norm > 0, -g / np.where(norm > 0, norm, 1.0), 0.0) * length * spacing
    ok = np.all(np.isfinite(d), axis=-1)
    return arrows_trace(p[ok], p[ok] + d[ok], "rgba(90,90,90,0.55)", name, width=1, size=6)


def eigen_traces(landscape, point, curvature, labels: dict[str, str]) -> list[dict]:
    """The Hessian's eigenvectors at ``point``, drawn both ways, colored by the sign of their eigenvalue."""
    (x0, x1), (y0, y1) = landscape.window
    scale = 0.12 * min(x1 - x0, y1 - y0)
    p = np.asarray(point, dtype=float)
    traces = []
    for k in range(2):
        lam = float(curvature.eigenvalues[k])
        v = curvature.eigenvectors[:, k]
        color = "#1b7837" if lam > 0 else ("#b2182b" if lam < 0 else "#777777")
        tails = np.array([p, p])
        heads = np.array([p + scale * v, p - scale * v])
        tr = arrows_trace(tails, heads, color, f"{labels['eigen']} λ{k + 1} = {lam:.3g}", width=3, size=11)
        traces.append(tr)
    return traces


def taylor_trace(landscape, model, name: str, n: int = 60) -> dict:
    """Dashed level lines of the quadratic model around its center, over a quarter of the window."""
    (x0, x1), (y0, y1) = landscape.window
    cx, cy = model.center
    hx, hy = 0.25 * (x1 - x0), 0.25 * (y1 - y0)
    xs = np.linspace(max(x0, cx - hx), min(x1, cx + hx), n)
    ys = np.linspace(max(y0, cy - hy), min(y1, cy + hy), n)
    gx, gy = np.meshgrid(xs, ys)
    q = model(np.stack([gx, gy], axis=-1))
    return {
        "type": "contour",
        "x": xs,
        "y": ys,
        "z": packed(q),
        "contours": {"coloring": "none", "showlabels": False},
        "ncontours": 12,
        "line": {"color": "#b2182b", "width": 1.5, "dash": "dash"},
        "showscale": False,
        "hoverinfo": "skip",
        "name": name,
        "showlegend": True,
    }
