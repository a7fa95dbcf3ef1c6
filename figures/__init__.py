"""Pure Plotly figure builders: data in, figure dicts out. No Streamlit here."""

from .curves import INSIDE_LABELS, inside_overlays, internals_figure, lookahead_traces, schedule_image, schedule_svg, step_arrows, surface_figure
from .landscape import Grid, eigen_traces, gradient_field_trace, grid, taylor_trace
from .layers import layered, merged
from .paths import SURFACE_TRACES, Run, expanded, frame_steps, in_column, path_figure, thin
from .style import OPTIMIZER_STYLE, style
from .sweep import LEGEND_MAX, axis_title, basin_color, basin_figure, seeds_figure, sweep_figure

__all__ = [
    "Grid",
    "OPTIMIZER_STYLE",
    "Run",
    "eigen_traces",
    "expanded",
    "frame_steps",
    "gradient_field_trace",
    "grid",
    "in_column",
    "INSIDE_LABELS",
    "inside_overlays",
    "internals_figure",
    "lookahead_traces",
    "path_figure",
    "schedule_image",
    "schedule_svg",
    "step_arrows",
    "style",
    "surface_figure",
    "sweep_figure",
    "basin_figure",
    "basin_color",
    "seeds_figure",
    "LEGEND_MAX",
    "axis_title",
    "taylor_trace",
    "thin",
    "SURFACE_TRACES",
    "layered",
    "merged",
]
