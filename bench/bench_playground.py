"""Server-side cost of one slider move in the Playground's benchmark scenario.

Scenario: Rosenbrock, the six first-order optimizers, 1000 steps. A move of
one optimizer's learning-rate slider reruns that optimizer (the other five
are cache hits in the app) and rebuilds the paths view's figure (paths and
loss per step in one), split into the chart's two layers and encoded as the
bytes the browser receives; a move of the steps slider reruns all six. Prints
milliseconds and the bytes of figure JSON sent per interaction: the front layer
(paths, loss panel, frames) on every move, the back layer (the surface) once per
surface, as Streamlit's message cache sends an element it has sent before as a
reference. Bars (issue 3): <= 80 ms to a built figure, <= 1 MB.
Run: python -m bench.bench_playground
"""

from __future__ import annotations

import statistics
import time

import numpy as np

import figures
import landscapes
import optimizers
from i18n import t
from landscapes.catalog import CATALOG
from ui.live_chart import payloads
from ui.compute import fig_labels

BENCH = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
START = (-1.5, 2.0)


def build(surface, grid, runs, labels) -> tuple[int, int]:
    """What a rerun builds: the path figure with its loss panel in two layers, the readouts' curvature.

    Returns the bytes of the front and the back layer as sent.
    """
    as_runs = [figures.Run(k, t(f"opt.{k}", "en"), r.points, r.losses) for k, r in runs.items()]
    main = figures.path_figure(surface, grid, as_runs, labels, start=START, loss_height=240)
    front, back = payloads(main, "path_chart", figures.SURFACE_TRACES, clickable=True)
    pts = np.array([START] + [r.points[-1] for r in runs.values()])
    landscapes.analyze(surface.hessian(pts))
    return len(front), len(back)


def main() -> None:
    surface = landscapes.get("rosenbrock")
    grid = figures.grid(surface, 150)
    labels = fig_labels("en", grid.log)
    _ = surface.critical_points
    lrs = {opt: hyper["lr"] for opt, hyper in CATALOG["rosenbrock"].hints["hyper"].items()}
    runs = {k: optimizers.run(surface, k, start=START, steps=1000, lr=lrs[k]) for k in BENCH}
    one, all_six, sizes = [], [], []
    for i in range(8):
        t0 = time.perf_counter()
        lr = lrs["adam"] * (1 + 0.1 * (i + 1))
        runs["adam"] = optimizers.run(surface, "adam", start=START, steps=1000, lr=lr)
        sizes.append(build(surface, grid, runs, labels))
        one.append(time.perf_counter() - t0)
    for i in range(3):
        t0 = time.perf_counter()
        runs = {k: optimizers.run(surface, k, start=START, steps=1000 - i, lr=lrs[k]) for k in BENCH}
        build(surface, grid, runs, labels)
        all_six.append(time.perf_counter() - t0)
    print("Playground benchmark scenario: Rosenbrock, 6 first-order optimizers, 1000 steps")
    print(f"  one optimizer's slider (1 run + figures): median {statistics.median(one) * 1e3:6.1f} ms")
    print(f"  steps slider (6 runs + figures)         : median {statistics.median(all_six) * 1e3:6.1f} ms")
    front = statistics.median(f for f, _ in sizes)
    back = statistics.median(b for _, b in sizes)
    print(f"  figure JSON per interaction             : {front / 1e6:6.3f} MB (front layer; the surface's {back / 1e6:.3f} MB goes once)")


if __name__ == "__main__":
    main()
