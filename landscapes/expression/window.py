"""The view window of a typed function and the trial grid on which it is evaluated."""

from __future__ import annotations

import math

import numpy as np

from ..core import Window
from .errors import ExpressionError
from .limits import DEFAULT_WINDOW, TRIAL_GRID


def check_window(window) -> Window:
    """``window`` as ((x_min, x_max), (y_min, y_max)) of floats (default ``DEFAULT_WINDOW``), or ExpressionError."""
    if window is None:
        return DEFAULT_WINDOW
    try:
        (x0, x1), (y0, y1) = window
        w = ((float(x0), float(x1)), (float(y0), float(y1)))
    except (TypeError, ValueError):
        raise ExpressionError("window must be ((x_min, x_max), (y_min, y_max)).") from None
    for lo, hi in w:
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi and max(abs(lo), abs(hi)) <= 1e6):
            raise ExpressionError("window must be ((x_min, x_max), (y_min, y_max)) with finite min < max.")
    return w


def trial_grid(window: Window, n: int = TRIAL_GRID) -> np.ndarray:
    """An ``n`` x ``n`` grid of points (x, y) over ``window``, shape (n, n, 2)."""
    (x0, x1), (y0, y1) = window
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    return np.stack([gx, gy], axis=-1)
