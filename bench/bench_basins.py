"""Basins of attraction and success over seeds (issue 18), server side. Prints figures; asserts nothing.

- A 128 x 128 map of starts x 500 steps of Adam on Himmelblau (its teaching settings), one
  batched call: the runs, then the basin figure and its JSON. Bar: <= 1 s.
- 1000 seeds x 500 steps of noisy SGD from one start on the six-hump camel, one batched
  call. Bar: <= 0.5 s.
- The basins lesson, measured on every render: its three 32 x 32 grids and 200 seeds.
Run: python -m bench.bench_basins
"""

from __future__ import annotations

import statistics
import time

import plotly.io as pio

import figures
import landscapes
import lessons
import sweep
from ui import settings as S


def teaching(optimizer: str, surface: str) -> dict:
    """The Playground's (and the Sweep page's) settings of ``optimizer`` on ``surface``."""
    return {name: S.default_hyperparameter(optimizer, name, surface) for name in S.hyper_names(optimizer)}


def timed(f, repeat: int = 5) -> tuple[list[float], object]:
    out, times = None, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t0)
    return times, out


def spread(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1e3:6.0f} ms (min {min(times) * 1e3:.0f}, max {max(times) * 1e3:.0f}, {len(times)} runs)"


def basin_map() -> None:
    fixed = teaching("adam", "himmelblau")
    box = sweep.axis_range("x0", "himmelblau") + sweep.axis_range("y0", "himmelblau")
    run = lambda: sweep.run("himmelblau", "adam", "x0", "y0", box, n=128, steps=500, fixed=fixed)  # noqa: E731
    run()  # the surface compiled, NumPy warm
    times, result = timed(run)
    labels = {
        "x": "x0", "y": "y0", "minimum": "minimum",
        "outcome": [(s.code, f"{s.code}: {100 * s.share:.1f}%") for s in result.shares()],
        "hover": {**{k: "minimum {steps}" for k in range(len(result.minima))}, **{c: "other {steps}" for c in sweep.OUTCOMES}},
    }  # fmt: skip
    levels = figures.grid(landscapes.get("himmelblau"))
    builds, size = [], 0
    for _ in range(3):
        t0 = time.perf_counter()
        size = len(pio.to_json(figures.basin_figure(result, labels, levels), validate=False))
        builds.append(time.perf_counter() - t0)
    shares = ", ".join(f"{s.code}: {100 * s.share:.1f}%" for s in result.shares())
    print(f"Basin map: Adam ({fixed}) on Himmelblau, 128 x 128 starts x 500 steps, one batched call")
    print(f"  batched runs + basins : {spread(times)}   (bar <= 1000 ms)")
    print(f"  basin figure + JSON   : {spread(builds)}, {size / 1e3:.0f} kB")
    print(f"  where the runs ended  : {shares}")


def seeds() -> None:
    fixed = teaching("sgd", "six_hump_camel")
    run = lambda: sweep.seeds("six_hump_camel", "sgd", (-1.15, 0.77), n=1000, steps=500, noise=2.0, fixed=fixed)  # noqa: E731
    run()
    times, result = timed(run)
    reached = result.reached_global()
    lo, hi = reached.interval
    print(f"Seeds: SGD ({fixed}) on the six-hump camel from (-1.15, 0.77), noise 2, 1000 seeds x 500 steps, one batched call")
    print(f"  batched runs + basins : {spread(times)}   (bar <= 500 ms)")
    print(f"  reached a global minimum: {100 * reached.share:.1f}% (95% CI {100 * lo:.1f}-{100 * hi:.1f}%)")


def lesson() -> None:
    the_lesson = lessons.get("basins")
    lessons.run(the_lesson)
    times, _ = timed(lambda: lessons.run(the_lesson))
    print("Lesson 'basins', measured on every render (three 32 x 32 grids x 300 steps, 200 seeds, single runs)")
    print(f"  lessons.run           : {spread(times)}")


if __name__ == "__main__":
    basin_map()
    seeds()
    lesson()
