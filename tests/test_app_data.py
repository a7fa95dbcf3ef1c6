"""The Playground on the data surfaces, through AppTest: controls, links, the data panel, the loss panel."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from test_app import fresh, live_layers, path_chart, unpack

ROOT = Path(__file__).resolve().parents[1]


def faithful_rows() -> tuple[np.ndarray, np.ndarray]:
    """(waiting, eruptions) from the shipped CSV, read here without the app's code."""
    with open(ROOT / "landscapes" / "datasets" / "faithful.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return np.array([float(r["waiting"]) for r in rows]), np.array([float(r["eruptions"]) for r in rows])


def traces(fig: dict) -> dict[str, dict]:
    return {d["uid"]: d for d in fig["data"] if "uid" in d}


def warnings(at) -> list[str]:
    return [w.value for w in at.warning]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("surface", ["faithful", "iris", "tanh_unit"])
def test_every_data_surface_draws_its_data_panel(surface, lang):
    at = fresh({"landscape": surface, "optimizers": ["sgd", "adam"], "batch_size": "16", "lang": lang})
    assert not at.exception and not warnings(at)
    fig = path_chart(at)
    uids = traces(fig)
    names = ("a", "b") if surface == "tanh_unit" else ("w", "b")
    assert (fig["layout"]["xaxis"]["title"]["text"], fig["layout"]["yaxis"]["title"]["text"]) == names
    assert {"data-train", "data-test", "sgd-model", "adam-model", "sgd-loss", "sgd-test", "adam-loss", "adam-test"} <= set(uids)
    # Test points hollow, test losses dotted, both on their own panels.
    assert uids["data-test"]["marker"]["symbol"] == "circle-open" and uids["data-train"]["marker"]["symbol"] == "circle"
    assert uids["sgd-test"]["line"]["dash"] == "dot" and uids["sgd-test"]["yaxis"] == "y2"
    assert uids["sgd-model"]["xaxis"] == "x3"
    # The panel sits beside the contour, and the narrow-screen layout puts it below.
    layout = fig["layout"]
    assert layout["xaxis3"]["domain"][0] > layout["xaxis"]["domain"][1]
    narrow = live_layers(at)["front"]["figure"]["narrow"]["layout"]
    assert narrow["yaxis3"]["domain"][1] < narrow["yaxis"]["domain"][0]
    # Each optimizer's model moves with its path: the frames touch path, head and model.
    frame = fig["frames"][0]
    index = {d["uid"]: i for i, d in enumerate(fig["data"]) if "uid" in d}
    for opt in ("sgd", "adam"):
        assert {index[f"{opt}-path"], index[f"{opt}-head"], index[f"{opt}-model"]} <= set(frame["traces"])


def test_faithful_counts_and_model_line_from_the_csv():
    waiting, eruptions = faithful_rows()
    at = fresh({"landscape": "faithful", "scaling": "raw", "optimizers": ["sgd"]})
    fig = path_chart(at)
    uids = traces(fig)
    train_x, test_x = unpack(uids["data-train"]["x"]), unpack(uids["data-test"]["x"])
    assert (len(train_x), len(test_x)) == (218, 54)
    # The panel shows the data as measured: every row of the file, once.
    shown = np.sort(np.concatenate([train_x, test_x]))
    np.testing.assert_allclose(shown, np.sort(waiting), rtol=1e-6)
    np.testing.assert_allclose(np.sort(np.concatenate([unpack(uids["data-train"]["y"]), unpack(uids["data-test"]["y"])])), np.sort(eruptions), rtol=1e-6)
    # The model at rest is the run's last point: y = w * waiting + b (raw inputs).
    w, b = unpack(uids["sgd-head"]["x"])[0], unpack(uids["sgd-head"]["y"])[0]
    x, y = unpack(uids["sgd-model"]["x"]), unpack(uids["sgd-model"]["y"])
    np.testing.assert_allclose(y, w * x + b, rtol=1e-5, atol=1e-5)


def test_standardized_panel_keeps_the_data_in_minutes():
    waiting, _ = faithful_rows()
    at = fresh({"landscape": "faithful", "scaling": "standardized", "optimizers": ["adam"]})
    uids = traces(path_chart(at))
    xs = np.concatenate([unpack(uids["data-train"]["x"]), unpack(uids["data-test"]["x"])])
    assert xs.min() == pytest.approx(waiting.min(), rel=1e-5) and xs.max() == pytest.approx(waiting.max(), rel=1e-5)
    # The model in minutes: y = w (x - mean) / sd + b with the training split's statistics.
    order = np.random.default_rng(0).permutation(272)
    train = np.sort(order[54:])
    mean, sd = waiting[train].mean(), waiting[train].std()
    w, b = unpack(uids["adam-head"]["x"])[0], unpack(uids["adam-head"]["y"])[0]
    x, y = unpack(uids["adam-model"]["x"]), unpack(uids["adam-model"]["y"])
    np.testing.assert_allclose(y, w * (x - mean) / sd + b, rtol=1e-4, atol=1e-4)


def test_iris_model_is_a_sigmoid_with_its_threshold():
    at = fresh({"landscape": "iris", "optimizers": ["adam"]})
    uids = traces(path_chart(at))
    y = unpack(uids["adam-model"]["y"])
    finite = y[np.isfinite(y)]
    assert finite.min() >= 0 and finite.max() <= 1
    x = unpack(uids["adam-model"]["x"])
    # After the gap, the threshold: one x, from p = 0 to p = 1.
    assert np.isnan(y[-3]) and x[-2] == x[-1] and (y[-2], y[-1]) == (0.0, 1.0)


def test_batch_size_reaches_the_runs_and_the_link():
    at = fresh({"landscape": "faithful", "optimizers": ["sgd"], "batch_size": "8", "seed": "3"})
    assert at.select_slider(key="batch_size").value == 8
    fig = path_chart(at)
    full = fresh({"landscape": "faithful", "optimizers": ["sgd"]})
    assert full.select_slider(key="batch_size").value == "full"
    a, b = unpack(traces(fig)["sgd-head"]["x"]), unpack(traces(path_chart(full))["sgd-head"]["x"])
    assert a[0] != b[0]  # a mini-batch path ends elsewhere than gradient descent
    # Moving the control puts it in the link; the full batch leaves the link short.
    full.select_slider(key="batch_size").set_value(32).run()
    assert full.query_params["batch_size"] in ("32", ["32"])
    full.select_slider(key="batch_size").set_value("full").run()
    assert "batch_size" not in full.query_params


def test_no_simulated_noise_on_data_surfaces_and_the_seed_is_the_shuffle():
    at = fresh({"landscape": "iris", "optimizers": ["sgd"], "batch_size": "4"})
    labels = [s.label for s in at.select_slider]
    assert not any("σ" in label for label in labels)
    assert any("Shuffle" in n.label for n in at.number_input)
    one = unpack(traces(path_chart(at))["sgd-head"]["x"])[0]
    at.number_input(key="seed").set_value(7).run()
    assert unpack(traces(path_chart(at))["sgd-head"]["x"])[0] != one


@pytest.mark.parametrize(
    "query, key",
    [
        ({"landscape": "iris", "batch_size": "128"}, "batch_size"),  # iris has 80 training examples
        ({"landscape": "tanh_unit", "scaling": "raw"}, "scaling"),
        ({"landscape": "faithful", "scaling": "sideways"}, "scaling"),
        ({"landscape": "faithful", "batch_size": "17"}, "batch_size"),
    ],
)
def test_a_bad_link_value_falls_back_with_a_notice(query, key):
    at = fresh({**query, "optimizers": ["sgd"]})
    assert not at.exception
    assert any(key in w for w in warnings(at)), warnings(at)
    path_chart(at)  # still drawn
    if key == "scaling":
        assert at.selectbox(key="scaling").value == "standardized"
    else:
        assert at.select_slider(key="batch_size").value == "full"


def test_changing_scaling_resets_the_start_and_rates_for_that_parameterization():
    at = fresh({"landscape": "faithful", "optimizers": ["sgd"]})
    at.selectbox(key="scaling").set_value("raw").run()
    assert not at.exception
    assert (at.number_input(key="x0").value, at.number_input(key="y0").value) == (0.0, -6.0)
    assert at.session_state["sgd_lr"] == pytest.approx(1.5e-4)
    assert at.query_params["scaling"] in ("raw", ["raw"])
    fig = path_chart(at)
    # The window is raw Old Faithful's: w in hundredths, b in minutes.
    assert fig["layout"]["xaxis"]["range"] == [-0.05, 0.2]


def test_readouts_give_the_condition_number_at_the_minimum():
    raw = fresh({"landscape": "faithful", "scaling": "raw", "optimizers": ["sgd"]})
    std = fresh({"landscape": "faithful", "optimizers": ["sgd"]})

    def minimum_row(at) -> list[str]:
        html = next(h.proto.body for h in at.get("html") if "dl-readouts" in h.proto.body)
        row = next(r for r in html.split("<tr>") if r.startswith("<td>minimum</td>"))
        return [c.split("</td>")[0] for c in row.split("<td>")[1:]]

    # Condition number of 2 [[E x^2, E x], [E x, 1]] over the training split, by hand.
    waiting, _ = faithful_rows()
    order = np.random.default_rng(0).permutation(272)
    x = waiting[np.sort(order[54:])]
    ev = np.linalg.eigvalsh(2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]]))
    assert float(minimum_row(raw)[4]) == pytest.approx(ev[1] / ev[0], rel=1e-3)
    assert float(minimum_row(std)[4]) == pytest.approx(1.0, abs=1e-6)


def test_formulas_view_names_the_loss_and_the_mini_batch_gradient():
    at = fresh({"landscape": "faithful", "optimizers": ["sgd"], "batch_size": "16", "view": "formulas"})
    assert not at.exception
    latex = [e.value.strip("$\n") for e in at.latex]
    assert any(v.startswith("L(w, b) = ") for v in latex) and any(v.startswith(r"\nabla L = ") for v in latex)
    assert any(r"\sum_{i \in B_t}" in v and "m = 16" in v for v in latex)


def test_formula_surfaces_are_unchanged_by_the_data_controls():
    at = fresh({"landscape": "bowl", "optimizers": ["sgd"]})
    assert not at.exception
    assert not [s for s in at.selectbox if s.key == "scaling"]
    fig = path_chart(at)
    assert fig["layout"]["xaxis"]["title"]["text"] == "x" and "xaxis3" not in fig["layout"]
    assert json.dumps(fig).count("data-train") == 0
