"""Sweep page: a 64 x 64 grid x 500 steps, from the request to the heatmap's JSON (server side).

Prints figures; asserts nothing. The browser half (click to rendered heatmap) is
in bench/bench_browser.py. Bar (issue 5): click to rendered heatmap <= 1 s.
Run: python -m bench.bench_sweep
"""

from __future__ import annotations

import statistics
import time

import plotly.io as pio

import figures
import sweep


def once(box) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    result = sweep.run("rosenbrock", "adam", "lr", "beta1", box, n=64, steps=500)
    t1 = time.perf_counter()
    labels = {"metric": "loss", "best": "best", "x": "lr", "y": "beta1", "log_metric": True}
    spec = figures.sweep_figure(result, result.metric("final_loss"), labels)
    size = len(pio.to_json(spec, validate=False))
    return t1 - t0, time.perf_counter() - t1, size


def main() -> None:
    boxes = [(1e-4, 1.0, 0.0, 0.99), (1e-3, 1.0, 0.5, 0.99), (1e-2, 1.0, 0.8, 0.99), (0.1, 1.0, 0.85, 0.95)]
    runs, builds, sizes = zip(*(once(b) for b in boxes))
    print("Sweep: Adam on Rosenbrock, 64 x 64 (lr x beta1) x 500 steps")
    print(f"  batched runs   : median {statistics.median(runs) * 1e3:6.1f} ms")
    print(f"  heatmap + JSON : median {statistics.median(builds) * 1e3:6.1f} ms, {statistics.median(sizes) / 1e3:.0f} kB")
    print(f"  server total   : median {statistics.median([a + b for a, b in zip(runs, builds)]) * 1e3:6.1f} ms")


if __name__ == "__main__":
    main()
