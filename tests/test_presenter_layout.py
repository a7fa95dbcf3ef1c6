"""The path figure in presenter mode: what the browser needs to fit it to the window, and the rest unchanged."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

import figures
import landscapes
import optimizers

LABELS = {"colorbar": "f", "start": "start", "step": "step", "loss": "f", "minimum": "minimum", "saddle": "saddle", "maximum": "maximum", "loss_title": "Loss per step"}
FIT = {"window": 1080, "min_font": 16, "min_panels": 200}


@pytest.fixture(scope="module")
def two():
    s = landscapes.get("rosenbrock")
    runs = []
    for name in ("sgd", "adam"):
        t = optimizers.run(s, name, start=(-1.5, 2), steps=200, lr=3e-4)
        runs.append(figures.Run(name, name, t.points, t.losses))
    return s, figures.grid(s, 60), runs


def test_a_projector_figure_carries_its_fit_and_draws_the_same_traces(two):
    s, g, runs = two
    screen = figures.path_figure(s, g, runs, LABELS, start=(-1.5, 2), font_size=20, height=700, line_width=5, loss_height=300)
    projector = figures.path_figure(s, g, runs, LABELS, start=(-1.5, 2), font_size=20, height=700, line_width=5, loss_height=300, fit_window=FIT)
    go.Figure(projector)  # still valid Plotly (an exported file keeps it)
    assert projector["layout"]["meta"] == {"fit": FIT} and "meta" not in screen["layout"]
    # The same traces; only the colorbar's length follows the contour's panel.
    bare = lambda fig: [{k: v for k, v in d.items() if k != "colorbar"} for d in fig["data"]]  # noqa: E731
    assert bare(projector) == bare(screen) and projector["frames"] == screen["frames"]
    # The controls move up into the x-axis title's row: 20 px text, buttons 1.7 and slider 3.9 text
    # heights down; on a screen they stay below the title (4.9 and 8.5).
    assert projector["layout"]["updatemenus"][0]["pad"]["t"] == 34 and projector["layout"]["sliders"][0]["pad"]["t"] == 78
    assert screen["layout"]["updatemenus"][0]["pad"]["t"] == 98 and screen["layout"]["sliders"][0]["pad"]["t"] == 170
    # Between the contour and the loss panel: 5 text heights plus the controls (6.9 on a projector, 12.5 on a screen).
    for fig, controls in ((projector, 138), (screen, 250)):
        lay = fig["layout"]
        plot = lay["height"] - lay["margin"]["t"] - lay["margin"]["b"]
        assert (lay["yaxis"]["domain"][0] - lay["yaxis2"]["domain"][1]) * plot == pytest.approx(100 + controls)
        assert lay["yaxis2"]["domain"][1] * plot == pytest.approx(300)
