"""Figure builders on their own: valid Plotly, small, and faithful to the runs they draw."""

from __future__ import annotations

import base64
import copy
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

import figures
import landscapes
import optimizers

LABELS = {
    "colorbar": "f", "start": "start", "play": "play", "pause": "pause", "step": "step", "loss": "f", "lr": "lr",
    "minimum": "minimum", "saddle": "saddle", "maximum": "maximum", "eigen": "eigenvector", "effective_lr": "e",
    "second": "s", "first": "v", "gradient_step": "g", "actual_step": "a", "lr_factor": "x lr", "loss_title": "Loss per step",
}
BENCH = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]


def unpack(arr):
    if isinstance(arr, dict):
        dtype = {"f4": np.float32, "f8": np.float64, "i4": np.int32}[arr["dtype"]]
        return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=dtype)
    return np.asarray(arr, dtype=float)


@pytest.fixture(scope="module")
def bench_runs():
    s = landscapes.get("rosenbrock")
    runs = [figures.Run(n, n, *(lambda t: (t.points, t.losses))(optimizers.run(s, n, start=(-1.5, 2), steps=1000, lr=3e-4))) for n in BENCH]
    return s, figures.grid(s, 150), runs


def test_path_figure_is_valid_plotly(bench_runs):
    s, g, runs = bench_runs
    spec = figures.path_figure(s, g, runs, LABELS, start=(-1.5, 2))
    go.Figure(spec)  # raises on any invalid property
    go.Figure(figures.path_figure(s, g, runs, LABELS, start=(-1.5, 2), loss_height=240))


def test_loss_panel_below_the_contour_shares_the_legend(bench_runs):
    s, g, runs = bench_runs
    plain = figures.path_figure(s, g, runs, LABELS, start=(-1.5, 2))
    spec = figures.path_figure(s, g, runs, LABELS, start=(-1.5, 2), loss_height=240)
    loss = [d for d in spec["data"] if d.get("yaxis") == "y2"]
    assert [d["legendgroup"] for d in loss] == BENCH
    assert not any(d["showlegend"] for d in loss)  # the path's legend entry toggles both
    for d, run in zip(loss, runs):
        x, y = unpack(d["x"]), unpack(d["y"])
        assert x[0] == 0 and x[-1] == len(run.losses) - 1 and len(x) <= 300
        np.testing.assert_array_equal(y, run.losses[x.astype(int)])
    lay = spec["layout"]
    assert lay["yaxis2"]["type"] == "log"  # Rosenbrock's losses are all positive
    lo, hi = lay["yaxis"]["domain"]
    assert hi == 1.0 and lay["yaxis2"]["domain"][1] < lo  # below the contour, not overlapping
    assert lay["height"] > plain["layout"]["height"] + 240
    # The play buttons and the scrub slider sit under the contour they animate, above the loss panel.
    assert lay["updatemenus"][0]["y"] == lay["sliders"][0]["y"] == lo
    assert plain["layout"]["sliders"][0]["y"] == 0.0  # without the panel: at the bottom
    # Frames still move only the paths: the loss panel is drawn once.
    assert spec["frames"][0]["traces"] == plain["frames"][0]["traces"]
    assert "Loss per step" in lay["annotations"][0]["text"]


def test_loss_panel_draws_one_curve_per_optimizer_when_paths_are_averaged(bench_runs):
    s, g, runs = bench_runs
    averaged = [figures.Run(r.key, r.label + " (averaged)", r.points, r.losses) for r in runs]
    spec = figures.path_figure(s, g, runs + averaged, LABELS, loss_height=240)
    assert [d["name"] for d in spec["data"] if d.get("yaxis") == "y2"] == [r.label for r in runs]
    assert [d["type"] for d in spec["data"][: figures.SURFACE_TRACES]] == ["heatmap", "contour"]  # the surface comes first


def test_loss_panel_is_linear_when_a_loss_is_not_positive():
    s = landscapes.get("saddle")
    runs = [figures.Run("sgd", "SGD", *(lambda t: (t.points, t.losses))(optimizers.run(s, "sgd", start=(0.5, 0.1), steps=30, lr=0.1)))]
    spec = figures.path_figure(s, figures.grid(s, 40), runs, LABELS, loss_height=200)
    assert runs[0].losses.min() < 0 and spec["layout"]["yaxis2"]["type"] == "linear"


def test_benchmark_figure_is_under_a_megabyte_with_at_most_60_frames(bench_runs):
    s, g, runs = bench_runs
    spec = figures.path_figure(s, g, runs, LABELS, start=(-1.5, 2))
    assert 2 <= len(spec["frames"]) <= 60
    assert len(pio.to_json(spec, validate=False)) < 1_000_000


def test_frames_touch_only_the_moving_traces_and_end_at_the_finish(bench_runs):
    s, g, runs = bench_runs
    spec = figures.path_figure(s, g, runs, LABELS, start=(-1.5, 2))
    moving = spec["frames"][0]["traces"]
    assert len(moving) == 2 * len(runs)
    for i in moving:
        assert spec["data"][i].get("legendgroup") in BENCH
    last = spec["frames"][-1]["data"]
    for k, run in enumerate(runs):
        head = last[2 * k + 1]
        assert unpack(head["x"])[0] == pytest.approx(run.points[-1, 0], rel=1e-6, abs=1e-6)
        trail = last[2 * k]
        assert unpack(trail["x"])[0] == pytest.approx(-1.5)


def test_first_frame_sits_at_the_start(bench_runs):
    s, g, runs = bench_runs
    spec = figures.path_figure(s, g, runs, LABELS, start=(-1.5, 2))
    first = spec["frames"][0]["data"]
    for k in range(len(runs)):
        assert list(unpack(first[2 * k + 1]["x"])) == [-1.5]
        assert list(unpack(first[2 * k + 1]["y"])) == [2.0]


def test_a_trail_is_the_drawn_path_up_to_the_frame_s_step_then_its_head(bench_runs):
    s, g, runs = bench_runs
    short = figures.Run("adam", "stopped at 57", runs[-1].points[:58], runs[-1].losses[:58])  # stays at its last point
    shown = runs[:2] + [short]
    spec = figures.path_figure(s, g, shown, LABELS, start=(-1.5, 2), path_points=300)
    f32 = lambda a: np.asarray(a, dtype=np.float32)  # noqa: E731
    for frame in spec["frames"]:
        k = int(frame["name"])
        for r, run in enumerate(shown):
            n = len(run.points)
            at = min(k, n - 1)
            # The path trace's points, by hand: at most 300 of the run's, evenly spread, ends kept.
            kept = np.arange(n) if n <= 300 else np.rint(np.arange(300) * ((n - 1) / 299)).astype(int)
            want = run.points[kept[kept <= at]]
            if at not in kept:
                want = np.vstack([want, run.points[at]])
            trail, head = frame["data"][2 * r], frame["data"][2 * r + 1]
            np.testing.assert_array_equal(unpack(trail["x"]), f32(want[:, 0]))
            np.testing.assert_array_equal(unpack(trail["y"]), f32(want[:, 1]))
            assert list(unpack(head["x"])) == [f32(run.points[at, 0])] and list(unpack(head["y"])) == [f32(run.points[at, 1])]
    # The last frame is the figure at rest: each trail is the whole drawn path.
    paths = [d for d in spec["data"] if d.get("uid", "").endswith("-path")]
    for trail, path in zip(spec["frames"][-1]["data"][::2], paths):
        assert trail == {"x": path["x"], "y": path["y"]}


def test_the_recipe_makes_the_same_frames_in_a_third_of_the_bytes(bench_runs):
    s, g, runs = bench_runs
    full = figures.path_figure(s, g, runs, LABELS, start=(-1.5, 2), loss_height=240)
    recipe = figures.path_figure(s, g, runs, LABELS, start=(-1.5, 2), loss_height=240, recipe=True)
    assert "frames" not in recipe and recipe["animation"]["steps"] == [int(f["name"]) for f in full["frames"]]
    assert figures.expanded(recipe) == full
    assert figures.expanded(full) is full  # nothing to expand
    size = lambda spec: len(pio.to_json(copy.deepcopy(spec), validate=False))  # noqa: E731 (to_json changes what it is given)
    assert size(recipe) < size(full) / 3
    # Split into the live chart's layers and put back together, the frames are the same.
    assert figures.merged(figures.layered(recipe, figures.SURFACE_TRACES))["frames"] == full["frames"]
    front = figures.layered(recipe, figures.SURFACE_TRACES)["front"]
    for run in front["animation"]["runs"]:  # numbered as the front's traces
        assert front["data"][run["path"]]["uid"].endswith("-path") and front["data"][run["head"]]["uid"].endswith("-head")


def test_packed_arrays_round_trip():
    a = np.array([[1.5, -2.25], [3.0, 4.0]])
    p = figures.style.__globals__["packed"](a)
    assert p["shape"] == "2, 2"
    assert list(unpack(p)) == [1.5, -2.25, 3.0, 4.0]


def test_thin_keeps_ends_and_bounds_the_count():
    idx = figures.thin(1001, 80)
    assert idx[0] == 0 and idx[-1] == 1000 and len(idx) <= 80
    assert list(figures.thin(5, 80)) == [0, 1, 2, 3, 4]


def test_log_colors_for_rosenbrock_and_linear_for_the_bowl():
    g = figures.grid(landscapes.get("rosenbrock"), 50)
    assert g.log and np.nanmin(g.color) < 0 < np.nanmax(g.color)
    assert not figures.grid(landscapes.get("bowl"), 50).log


def test_a_grid_s_surface_traces_are_made_once_and_each_caller_gets_its_own():
    from figures.landscape import contour_trace

    bowl, ros = figures.grid(landscapes.get("bowl"), 30), figures.grid(landscapes.get("rosenbrock"), 30)
    np.testing.assert_array_equal(unpack(contour_trace(bowl, "f")["z"]).reshape(30, 30), bowl.color)  # what the grid holds
    first = contour_trace(bowl, "f")
    first["colorbar"]["len"] = 0.5  # a caller sets its colorbar (as the path figure does)
    first["zmin"] = -1.0
    again = contour_trace(bowl, "f")
    assert "len" not in again["colorbar"] and again["zmin"] == float(np.nanmin(bowl.color))
    assert again["z"]["bdata"] is first["z"]["bdata"]  # the packed arrays are made once
    np.testing.assert_array_equal(unpack(contour_trace(ros, "f")["z"]).reshape(30, 30), ros.color)
    assert contour_trace(bowl, "g")["colorbar"]["title"]["text"] == "g"  # another title, another trace


def test_grid_masks_points_outside_the_domain():
    from landscapes.core import X, Y, Landscape
    import sympy as sp

    s = Landscape(name="log", expr=sp.log(X) + Y**2, window=((-1.0, 1.0), (-1.0, 1.0)))
    g = figures.grid(s, 21)
    assert g.masked
    assert np.all(np.isnan(g.z[:, g.xs <= 0]))
    assert np.all(np.isfinite(g.z[:, g.xs > 0]))


def test_other_figures_are_valid_plotly(bench_runs):
    s, g, runs = bench_runs
    go.Figure(figures.surface_figure(g, runs, LABELS))
    t = optimizers.run(s, "adam", start=(-1.5, 2), steps=50, lr=0.01)
    go.Figure(figures.internals_figure([{"key": "adam", "label": "Adam", "trajectory": t, "hyper": optimizers.defaults("adam")}], INSIDE["en"]))
    model = landscapes.taylor_model(s, (0.0, 0.0))
    curv = landscapes.analyze(s.hessian(np.zeros(2)))
    extra = [figures.gradient_field_trace(s, "field"), figures.taylor_trace(s, model, "q"), *figures.eigen_traces(s, (0.0, 0.0), curv, LABELS)]
    go.Figure(figures.path_figure(s, g, runs[:1], LABELS, overlays=extra))


def test_eigen_arrows_follow_the_eigenvectors():
    s = landscapes.get("bowl", condition=4.0, angle=30.0)
    curv = landscapes.analyze(s.hessian(np.zeros(2)))
    traces = figures.eigen_traces(s, (0.0, 0.0), curv, LABELS)
    shallow = traces[0]
    x, y = np.asarray(shallow["x"], dtype=float), np.asarray(shallow["y"], dtype=float)
    direction = np.array([x[1] - x[0], y[1] - y[0]])
    angle = np.degrees(np.arctan2(direction[1], direction[0])) % 180
    assert angle == pytest.approx(30.0, abs=1e-6)  # the shallow axis of a bowl rotated by 30 degrees


def test_csv_export_holds_every_point_exactly():
    import csv
    import io

    from figures.export import trajectories_csv

    s = landscapes.get("bowl")
    runs = {"sgd": optimizers.run(s, "sgd", start=(-3.5, 1.5), steps=7, lr=0.15)}
    rows = list(csv.DictReader(io.StringIO(trajectories_csv(runs))))
    assert len(rows) == 8
    for k, row in enumerate(rows):
        assert (float(row["x"]), float(row["y"])) == tuple(runs["sgd"].points[k])
    # SGD on 1/2 (x^2 + 10 y^2) at lr 0.15: x shrinks by 0.85 a step, y flips by -0.5.
    assert float(rows[1]["x"]) == pytest.approx(-3.5 * 0.85) and float(rows[1]["y"]) == pytest.approx(1.5 * -0.5)
    assert rows[0]["lr"] == "0.15" and rows[-1]["lr"] == ""


def test_standalone_html_leaves_the_shared_figure_as_it_was(bench_runs):
    import json

    from figures.export import standalone_html

    s, g, runs = bench_runs
    spec = figures.path_figure(s, g, runs, LABELS, start=(-1.5, 2), loss_height=240)
    before = json.dumps(spec, default=str)  # key order included: the browser compares these bytes
    standalone_html(spec)
    assert json.dumps(spec, default=str) == before


def test_standalone_html_inlines_plotly_and_the_frames(bench_runs):
    from figures.export import standalone_html

    s, g, runs = bench_runs
    html = standalone_html(figures.path_figure(s, g, runs[:2], LABELS, start=(-1.5, 2)))
    import re

    assert not re.search(r"<script[^>]*\bsrc=", html)  # no script is fetched: it plays offline
    assert "Plotly.newPlot" in html and "Plotly.addFrames" in html
    assert len(html) > 3_000_000  # plotly.js itself is inside


# -- the two layers of the live path chart ---------------------------------------------


def test_layers_put_the_surface_behind_and_everything_else_in_front(bench_runs):
    s, g, runs = bench_runs
    spec = figures.path_figure(s, g, runs, LABELS, start=(-1.5, 2), loss_height=240)
    layers = figures.layered(spec, figures.SURFACE_TRACES)
    back, front = layers["back"], layers["front"]
    assert [d["type"] for d in back["data"]] == ["heatmap", "contour"]
    assert not any(d.get("showscale") for d in back["data"])  # the front draws the colorbar
    assert back["layout"]["xaxis"]["visible"] is False and back["layout"]["yaxis"]["visible"] is False
    assert back["layout"]["xaxis"]["range"] == spec["layout"]["xaxis"]["range"]
    assert "heatmap" not in [d.get("type") for d in front["data"]]
    # The front is see-through and has no grid to draw over the surface.
    assert front["layout"]["paper_bgcolor"] == front["layout"]["plot_bgcolor"] == "rgba(0,0,0,0)"
    assert front["layout"]["xaxis"]["showgrid"] is False and front["layout"]["yaxis"]["showgrid"] is False
    # One stand-in colorbar: the heatmap's scale over its exact z range, no points.
    (bar,) = [d for d in front["data"] if d.get("meta") == "colorbar-only"]
    heat = spec["data"][0]
    color = unpack(heat["z"])
    assert bar["marker"]["cmin"] == float(np.nanmin(color)) and bar["marker"]["cmax"] == float(np.nanmax(color))
    assert bar["marker"]["colorscale"] == heat["colorscale"] and bar["marker"]["colorbar"] == heat["colorbar"]
    assert bar["x"] == [None] and bar["y"] == [None]
    # Frames now number the front's traces: they still point at the paths' trails and heads.
    for f_new, f_old in zip(front["frames"], spec["frames"]):
        assert [front["data"][i]["name"] for i in f_new["traces"]] == [spec["data"][i]["name"] for i in f_old["traces"]]
    go.Figure({"data": back["data"], "layout": back["layout"]})
    go.Figure(front)  # both layers are valid Plotly


def test_merging_the_layers_gives_back_the_figure(bench_runs):
    s, g, runs = bench_runs
    spec = figures.path_figure(s, g, runs, LABELS, start=(-1.5, 2), loss_height=240)
    again = figures.merged(figures.layered(spec, figures.SURFACE_TRACES))
    assert again["frames"] == spec["frames"]
    assert [d.get("name") for d in again["data"]] == [d.get("name") for d in spec["data"]]
    assert again["data"][figures.SURFACE_TRACES:] == spec["data"][figures.SURFACE_TRACES:]
    assert {**again["data"][0], "showscale": True} == spec["data"][0]


def test_loss_axis_range_covers_every_finite_loss(bench_runs):
    s, g, runs = bench_runs
    spec = figures.path_figure(s, g, runs, LABELS, start=(-1.5, 2), loss_height=240)
    lo, hi = spec["layout"]["yaxis2"]["range"]  # log10 units: the axis is log
    losses = np.concatenate([r.losses for r in runs])
    assert lo < np.log10(losses.min()) and hi > np.log10(losses.max())
    span = np.log10(losses.max()) - np.log10(losses.min())
    # Padded by 8% in all, then each end out by less than one step (at most a quarter of the padded span).
    assert span > 1 and hi - lo < 1.08 * span * 1.5
    assert abs(lo * 10 - round(lo * 10)) < 1e-9 and abs(hi * 10 - round(hi * 10)) < 1e-9  # round ends
    from figures.paths import loss_range

    # Padded by 4% of the span, then out to a multiple of a round step (1, 2 or 5 x 10^k)
    # of about a tenth of the padded span. Linear: plain units; infinities and NaN (a
    # diverged run) are left out; a flat curve still gets a span.
    assert loss_range([np.array([-1.0, 3.0, np.inf, np.nan])], log=False) == pytest.approx([-1.5, 3.5])  # [-1.16, 3.16], step 0.5
    assert loss_range([np.array([2.0, 2.0])], log=False) == pytest.approx([1.92, 2.08])  # span 0.16, step 0.02
    assert loss_range([np.array([5.0, 5.0])], log=False) == pytest.approx([4.8, 5.2])  # 4.8 / 0.05 rounds to 96, not 95
    assert loss_range([np.array([1e-3, 10.0, 0.0])], log=True) == pytest.approx([-3.5, 1.5])  # [-3.16, 1.16], step 0.5
    # Losses that are never negative get no negative axis: [0, 10.5] pads to [-0.42, 10.92], step 2.
    assert loss_range([np.array([0.0, 10.5])], log=False) == pytest.approx([0.0, 12.0])
    assert loss_range([np.array([np.nan])], log=True) == [0.0, 1.0]
    # A slider nudging one run a little leaves the axis as it was (the browser then redraws no ticks).
    assert loss_range([np.array([2e-3, 10.0])], log=True) == loss_range([np.array([1.5e-3, 9.0])], log=True)


def test_every_path_figure_trace_has_a_stable_id_plotly_can_use_in_a_selector(bench_runs):
    import re

    s, g, runs = bench_runs
    averaged = [figures.Run(r.key, r.label + " (averaged)", r.points, r.losses) for r in runs[:2]]
    field = figures.gradient_field_trace(s, "field")
    a = figures.path_figure(s, g, runs + averaged, LABELS, start=(-1.5, 2), loss_height=240)
    b = figures.path_figure(s, g, runs + averaged, LABELS, start=(-1.5, 2), loss_height=240, overlays=[field])
    uids = [d["uid"] for d in a["data"]]
    assert len(set(uids)) == len(uids) and all(re.fullmatch(r"[A-Za-z0-9_-]+", u) for u in uids)
    # An overlay added before the paths shifts their places, not their ids.
    by_uid = {d["uid"]: d.get("name") for d in b["data"]}
    assert all(by_uid.get(d["uid"], d.get("name")) == d.get("name") for d in a["data"])
    assert {"sgd-path", "sgd-head", "sgd-2-path", "sgd-loss", "start", "surface"} <= set(uids)


# --------------------------------------------------------------------------
# Inside the optimizer: every plotted number is what its label says.
# On the bowl (condition 10, angle 0) f = (x^2 + 10 y^2) / 2, so the gradient at a
# recorded point (x, y) is (x, 10 y) by hand; with noise 0 it is what the optimizer saw.
# --------------------------------------------------------------------------

from i18n import t as _t  # noqa: E402

INSIDE = {lg: {k: _t(f"fig.{k}", lg) for k in figures.INSIDE_LABELS} for lg in ("en", "zh")}
BOWL_START, BOWL_STEPS = (-3.5, 1.5), 60
BOWL_SETTINGS = {
    "sgd": {"lr": 0.15},
    "momentum": {"lr": 0.015, "momentum": 0.8},
    "nesterov": {"lr": 0.015, "momentum": 0.8},
    "adagrad": {"lr": 0.7, "eps": 1e-10},
    "rmsprop": {"lr": 0.07, "alpha": 0.99, "eps": 1e-8},
    "adam": {"lr": 0.2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "bias_correction": True},
}
NAMES = {"sgd": "SGD", "momentum": "Momentum", "nesterov": "Nesterov", "adagrad": "AdaGrad", "rmsprop": "RMSProp", "adam": "Adam"}


def bowl_grad(points):
    p = np.asarray(points, dtype=float)
    return np.stack([p[..., 0], 10 * p[..., 1]], axis=-1)


@pytest.fixture(scope="module")
def bowl_runs():
    s = landscapes.get("bowl", condition=10)
    return {k: optimizers.run(s, k, start=BOWL_START, steps=BOWL_STEPS, **hp) for k, hp in BOWL_SETTINGS.items()}


def inside_items(runs, names=NAMES):
    return [{"key": k, "label": names[k], "trajectory": tr, "hyper": BOWL_SETTINGS[k]} for k, tr in runs.items()]


def traced(spec, name):
    """{coordinate: (steps, values)} of the traces called ``name`` (x first, then y)."""
    found = [d for d in spec["data"] if d.get("name") == name]
    assert found, f"no trace named {name!r}; have {sorted({d.get('name') for d in spec['data']})}"
    return [(unpack(d["x"]), unpack(d["y"])) for d in found]


def by_hand(runs):
    """What each plotted quantity is, recomputed from the recorded points with the hand gradient.

    Row k: the quantity step k (x_k -> x_{k+1}) used."""
    out = {}
    n = BOWL_STEPS
    # AdaGrad: s after step k is the sum of g_0^2 .. g_k^2.
    g = bowl_grad(runs["adagrad"].points[:n])
    out["adagrad_sqrt_sum"] = np.sqrt(np.cumsum(g**2, axis=0))
    # RMSProp: s = alpha s + (1 - alpha) g^2.
    g = bowl_grad(runs["rmsprop"].points[:n])
    s, rows = np.zeros(2), []
    for k in range(n):
        s = 0.99 * s + 0.01 * g[k] ** 2
        rows.append(np.sqrt(s))
    out["rmsprop_sqrt_avg"] = np.array(rows)
    # Momentum: v = mu v + g.
    g = bowl_grad(runs["momentum"].points[:n])
    v, rows = np.zeros(2), []
    for k in range(n):
        v = 0.8 * v + g[k]
        rows.append(v.copy())
    out["momentum_v"] = np.array(rows)
    # Adam: m, v and their bias corrections at t = k + 1; rate per unit of m hat.
    g = bowl_grad(runs["adam"].points[:n])
    m, v, mh, vh = np.zeros(2), np.zeros(2), [], []
    for k in range(n):
        m = 0.9 * m + 0.1 * g[k]
        v = 0.999 * v + 0.001 * g[k] ** 2
        mh.append(m / (1 - 0.9 ** (k + 1)))
        vh.append(v / (1 - 0.999 ** (k + 1)))
    out["adam_m_hat"], out["adam_sqrt_v_hat"] = np.array(mh), np.sqrt(np.array(vh))
    out["adam_rate"] = 0.2 / (out["adam_sqrt_v_hat"] + 1e-8)
    # Nesterov's velocity is the step it took: x_{k+1} - x_k.
    out["nesterov_v"] = np.diff(runs["nesterov"].points, axis=0)
    return out


def test_inside_panels_plot_what_their_labels_say(bowl_runs):
    spec = figures.internals_figure(inside_items(bowl_runs), INSIDE["en"])
    go.Figure(spec)
    hand = by_hand(bowl_runs)
    steps = np.arange(BOWL_STEPS)

    def check(name, expected, rtol=1e-9):
        traces = traced(spec, name)
        assert len(traces) == (1 if expected.ndim == 1 else 2), name
        for c, (x, y) in enumerate(traces):
            np.testing.assert_array_equal(x, steps)
            np.testing.assert_allclose(y, expected if expected.ndim == 1 else expected[:, c], rtol=rtol, atol=1e-12, err_msg=name)

    check("AdaGrad · √(Σg²), sum of squared gradients", hand["adagrad_sqrt_sum"])
    check("RMSProp · √(avg g²), moving average", hand["rmsprop_sqrt_avg"])
    check("Momentum · v = μv + g", hand["momentum_v"])
    check("Adam · m̂, bias-corrected first moment", hand["adam_m_hat"])
    check("Adam · √v̂, bias-corrected second moment", hand["adam_sqrt_v_hat"])
    check("Adam · η/(√v̂+ε) per unit of m̂", hand["adam_rate"], rtol=1e-8)
    check("Nesterov · v = μv − η·g, the step taken", hand["nesterov_v"])
    check("SGD · η per unit of g", np.full(BOWL_STEPS, 0.15))
    check("AdaGrad · η/(√(Σg²)+ε) per unit of g", 0.7 / (hand["adagrad_sqrt_sum"] + 1e-10))
    # By hand in x: g_0 = -3.5; AdaGrad's first step is lr = 0.7 per coordinate, so x_1 = -2.8 = g_1.
    # The plot shows the root of the sum, sqrt(3.5^2 + 2.8^2) = 4.48, not the RMS sqrt((3.5^2 + 2.8^2) / 2) = 3.17.
    assert traced(spec, "AdaGrad · √(Σg²), sum of squared gradients")[0][1][:2] == pytest.approx([3.5, 4.4821870], rel=1e-7)


def test_each_rate_times_its_quantity_is_the_step_taken(bowl_runs):
    """Adam's rate is per unit of m̂ (not of g): rate x m̂ reproduces the recorded steps."""
    spec = figures.internals_figure(inside_items(bowl_runs), INSIDE["en"])
    steps_taken = {k: np.diff(tr.points, axis=0) for k, tr in bowl_runs.items()}  # x_{k+1} - x_k
    pairs = [
        ("Adam · η/(√v̂+ε) per unit of m̂", "Adam · m̂, bias-corrected first moment", "adam"),
        ("AdaGrad · η/(√(Σg²)+ε) per unit of g", None, "adagrad"),
        ("RMSProp · η/(√(avg g²)+ε) per unit of g", None, "rmsprop"),
        ("Momentum · η per unit of v", "Momentum · v = μv + g", "momentum"),
    ]
    for rate_name, per_name, key in pairs:
        rate = np.stack([y for _, y in traced(spec, rate_name)], axis=1)
        if rate.shape[1] == 1:
            rate = np.repeat(rate, 2, axis=1)
        per = np.stack([y for _, y in traced(spec, per_name)], axis=1) if per_name else bowl_grad(bowl_runs[key].points[:-1])
        np.testing.assert_allclose(-rate * per, steps_taken[key], rtol=1e-9, atol=1e-14, err_msg=key)
    # The old label's claim, "step per unit gradient" times g, is ten times Adam's first step.
    adam = bowl_runs["adam"]
    assert abs(adam.effective_lr[0, 0] * bowl_grad(adam.points[0])[0]) == pytest.approx(10 * abs(steps_taken["adam"][0, 0]), rel=1e-6)


def test_no_inside_panel_mixes_units(bowl_runs):
    spec = figures.internals_figure(inside_items(bowl_runs), INSIDE["en"])
    axis = {d["name"]: d["yaxis"] for d in spec["data"]}
    titles = {a["y"]: a["text"] for a in spec["layout"]["annotations"]}
    title = lambda name: titles[spec["layout"][axis[name].replace("y", "yaxis")]["domain"][1]]  # noqa: E731
    # Momentum's v and Adam's m̂ are in gradient units; Nesterov's v is a displacement, on its own axis.
    assert axis["Momentum · v = μv + g"] == axis["Adam · m̂, bias-corrected first moment"] != axis["Nesterov · v = μv − η·g, the step taken"]
    assert "gradient units" in title("Momentum · v = μv + g")
    assert "units of x" in title("Nesterov · v = μv − η·g, the step taken")
    assert "gradient units" in title("AdaGrad · √(Σg²), sum of squared gradients")
    assert "per unit of" in title("Adam · η/(√v̂+ε) per unit of m̂")
    # Every panel has its own legend, beside it.
    for d in spec["data"]:
        assert d["legend"] == d["yaxis"].replace("y", "legend")
    # Each per-coordinate quantity is one legend entry (x solid), its y dotted beside it.
    for name in ("Adam · m̂, bias-corrected first moment", "AdaGrad · √(Σg²), sum of squared gradients"):
        pair = [d for d in spec["data"] if d["name"] == name]
        assert [d["showlegend"] for d in pair] == [True, False] and [d["line"]["dash"] for d in pair] == ["solid", "dot"]


def test_inside_labels_in_chinese_name_the_same_quantities(bowl_runs):
    names = {"sgd": "SGD", "momentum": "动量法", "nesterov": "Nesterov 动量", "adagrad": "AdaGrad", "rmsprop": "RMSProp", "adam": "Adam"}
    spec = figures.internals_figure(inside_items(bowl_runs, names), INSIDE["zh"])
    shown = {d["name"] for d in spec["data"]}
    assert "AdaGrad · √(Σg²)，梯度平方和的平方根" in shown
    assert "Adam · √v̂，偏差修正后的二阶矩" in shown and "Adam · m̂，偏差修正后的一阶矩" in shown
    assert "Adam · η/(√v̂+ε)，每单位一阶矩 m̂" in shown
    assert "动量法 · 速度 v = μv + g" in shown and "Nesterov 动量 · 速度 v = μv − η·g，即实际迈出的一步" in shown
    titles = " ".join(a["text"] for a in spec["layout"]["annotations"])
    assert "梯度单位" in titles and "x 的单位" in titles and "有效学习率" in titles
    hand = by_hand(bowl_runs)
    np.testing.assert_allclose(traced(spec, "AdaGrad · √(Σg²)，梯度平方和的平方根")[1][1], hand["adagrad_sqrt_sum"][:, 1], rtol=1e-9)


def test_adam_without_bias_correction_is_labelled_raw():
    s = landscapes.get("bowl", condition=10)
    tr = optimizers.run(s, "adam", start=BOWL_START, steps=20, lr=0.2, bias_correction=False)
    spec = figures.internals_figure([{"key": "adam", "label": "Adam", "trajectory": tr, "hyper": {"beta1": 0.9, "beta2": 0.999, "bias_correction": False}}], INSIDE["en"])
    names = {d["name"] for d in spec["data"]}
    assert names == {"Adam · η/(√v+ε) per unit of m (no bias correction)", "Adam · √v, second moment (no bias correction)", "Adam · m, first moment (no bias correction)"}
    # m after the first step is (1 - beta1) g_0 = 0.1 * (-3.5, 15).
    (x, mx), (_, my) = traced(spec, "Adam · m, first moment (no bias correction)")
    assert (mx[0], my[0]) == pytest.approx((-0.35, 1.5))


def test_only_the_panels_some_run_fills_are_drawn(bowl_runs):
    spec = figures.internals_figure(inside_items({"sgd": bowl_runs["sgd"]}), INSIDE["en"])
    assert [a["text"] for a in spec["layout"]["annotations"]] == [f"<b>{INSIDE['en']['effective_lr']}</b>"]
    assert "yaxis2" not in spec["layout"] and spec["layout"]["yaxis"]["type"] == "log"


def lookahead_by_hand(tr, mu):
    """x_k + mu v_k with v_k = x_k - x_{k-1} (v_0 = 0), for every step k."""
    p = tr.points
    v = np.vstack([np.zeros(2), np.diff(p, axis=0)])[:-1]
    return p[:-1] + mu * v


@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_nesterov_lookahead_points_and_the_gradient_taken_there(noise):
    s = landscapes.get("bowl", condition=10)
    tr = optimizers.run(s, "nesterov", start=BOWL_START, steps=BOWL_STEPS, lr=0.015, momentum=0.8, noise=noise, seed=3)
    k = 4
    traces = figures.inside_overlays([{"key": "nesterov", "label": "Nesterov", "trajectory": tr}], k, INSIDE["en"])
    go.Figure({"data": traces})
    by_name = {d["name"]: d for d in traces}
    expected = lookahead_by_hand(tr, 0.8)
    pts = by_name["Nesterov: look-ahead points x + μv (where each gradient was taken)"]
    np.testing.assert_allclose(np.stack([unpack(pts["x"]), unpack(pts["y"])], axis=1), expected, rtol=1e-12, atol=1e-12)
    assert pts["mode"] == "markers" and pts["marker"]["color"] == figures.style("nesterov")["color"]
    # The segment mu v_k: from x_k to its look-ahead point.
    seg = by_name["Nesterov: μv, from x to its look-ahead point"]
    np.testing.assert_allclose([seg["x"], seg["y"]], [[tr.points[k, 0], expected[k, 0]], [tr.points[k, 1], expected[k, 1]]], rtol=1e-12)
    # The arrow -eta g from the look-ahead point ends where the step ends: x_k + mu v_k - eta g = x_{k+1}.
    arrow = by_name["Nesterov: −η·g, the gradient taken at the look-ahead point"]
    tail, head = np.array([arrow["x"][0], arrow["y"][0]]), np.array([arrow["x"][1], arrow["y"][1]])
    np.testing.assert_allclose(tail, expected[k], rtol=1e-12)
    np.testing.assert_allclose(head, tr.points[k + 1], rtol=1e-9, atol=1e-12)
    if noise == 0:  # the gradient there, by hand: (x, 10 y) at the look-ahead point
        np.testing.assert_allclose(head - tail, -0.015 * bowl_grad(expected[k]), rtol=1e-9)
    else:  # the optimizer saw a noisy gradient there, not the exact one
        assert not np.allclose(head - tail, -0.015 * bowl_grad(expected[k]), rtol=1e-3)
    # The plain gradient step and the step taken are still drawn, at x_k.
    assert {"Nesterov: −η·g", "Nesterov: actual step"} <= set(by_name)


def test_many_lookahead_points_are_thinned_and_other_optimizers_draw_none():
    s = landscapes.get("bowl", condition=10)
    tr = optimizers.run(s, "nesterov", start=BOWL_START, steps=1000, lr=0.001, momentum=0.5, tol=0)
    mom = optimizers.run(s, "momentum", start=BOWL_START, steps=50, lr=0.015, momentum=0.8)
    traces = figures.inside_overlays([{"key": "nesterov", "label": "N", "trajectory": tr}, {"key": "momentum", "label": "M", "trajectory": mom}], 2000, INSIDE["en"])
    pts = next(d for d in traces if d["name"].startswith("N: look-ahead"))
    x = unpack(pts["x"])
    assert 2 <= len(x) <= 300
    expected = lookahead_by_hand(tr, 0.5)
    assert x[0] == expected[0, 0] and x[-1] == pytest.approx(expected[-1, 0], rel=1e-12)
    # The inspected step past the end of a run is its last step.
    seg = next(d for d in traces if d["name"].startswith("N: μv"))
    assert seg["x"][0] == tr.points[-2, 0]
    assert not any(d["name"].startswith("M: look-ahead") for d in traces)


def test_the_schedule_plot_draws_the_factors_it_is_given():
    import re
    import xml.etree.ElementTree as ET

    # Warm-up 5 then cosine over 45 steps, by hand at three steps.
    factors = optimizers.schedules.make("cosine", warmup_steps=5, period=45)(np.arange(50))
    assert factors[0] == pytest.approx(0.2) and factors[5] == 1.0 and factors[49] == pytest.approx(0.5 * (1 + np.cos(np.pi * 44 / 45)))
    html = figures.schedule_image(factors, LABELS, "schedule")
    assert json.loads(re.search(r"data-factors='([^']*)'", html).group(1)) == factors.tolist()
    svg = ET.fromstring(base64.b64decode(re.search(r"base64,([^\"]+)", html).group(1)))  # well-formed SVG
    line = svg.find("{http://www.w3.org/2000/svg}polyline")
    ys = [float(p.split(",")[1]) for p in line.get("points").split()]
    assert len(ys) == 50 and min(ys) == ys[5]  # the peak (factor 1) is drawn highest, at step 5
    # Long runs are thinned to 400 points, first and last kept.
    long = optimizers.schedules.make("exponential")(np.arange(3000))
    steps = json.loads(re.search(r"data-steps='([^']*)'", figures.schedule_image(long, LABELS, "s")).group(1))
    assert len(steps) == 400 and steps[0] == 0 and steps[-1] == 2999
