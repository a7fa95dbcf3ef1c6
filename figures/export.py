"""Take a view home: the animated figure as one offline HTML file, the runs as CSV."""

from __future__ import annotations

import csv
import io

import numpy as np


def standalone_html(spec: dict, title: str = "Descent Lab") -> str:
    """One self-contained HTML page: plotly.js is inlined, so it plays with the network off.

    ``spec`` is left as it was: the app shares one figure between sessions, and
    ``go.Figure`` reorders the keys of the dicts it is given. An animation sent as a recipe
    (``figures.path_figure``'s ``recipe``) goes as the frames it describes.
    """
    import copy

    import plotly.graph_objects as go
    import plotly.io as pio

    from .paths import expanded

    return pio.to_html(
        go.Figure(copy.deepcopy(expanded(spec))),
        include_plotlyjs=True,
        full_html=True,
        auto_play=False,
        config={"displaylogo": False, "scrollZoom": True},
        default_width="100%",
        default_height="90vh",
    ).replace("<head>", f"<head><meta charset='utf-8'><title>{title}</title>", 1)


CSV_COLUMNS = ["optimizer", "step", "x", "y", "loss", "grad_x", "grad_y", "lr", "status"]


def trajectories_csv(runs: dict) -> str:
    """Every point of every run, one row each (``lr`` is the rate of the step leaving that point)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for name, tr in runs.items():
        lrs = np.append(tr.lrs, np.nan)
        for k, ((x, y), loss, (gx, gy), lr) in enumerate(zip(tr.points, tr.losses, tr.gradients, lrs)):
            writer.writerow([name, k, repr(float(x)), repr(float(y)), repr(float(loss)), repr(float(gx)), repr(float(gy)), "" if np.isnan(lr) else repr(float(lr)), tr.status])
    return out.getvalue()
