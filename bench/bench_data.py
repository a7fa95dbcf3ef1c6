"""Benchmark: the data surfaces on mini-batches, single runs and sweeps.

Prints figures; asserts nothing. (a) one 1000-step run with batch size 16 on Old
Faithful (SGD, Adam); (b) the sweep 64 x 64 x 500 on Old Faithful with batch size
32, Adam over lr x beta1, finals only. Bar (issue 15): (b) <= 0.5 s on the 2-core
machine. (c) for context: the same on iris and the tanh unit, and a sweep with the
batch size on an axis (one batched call per batch size).
Run: python -m bench.bench_data           (add --quick to skip the slow context rows)
"""

from __future__ import annotations

import sys
import time

import numpy as np

import landscapes
import optimizers
import sweep
from bench.bench_core import best_of
from landscapes.catalog import hints

STEPS = 500
BOX = (1e-4, 1.0, 0.0, 0.99)  # Adam: lr x beta1, the Sweep page's full ranges


def single(surface: str, optimizer: str, repeat: int = 7) -> float:
    """Best of ``repeat``: one run of 1000 steps on mini-batches of 16 at the surface's teaching rate, with its history (as the Playground runs it)."""
    landscape = landscapes.get(surface)
    start = hints(surface)["start"]
    lr = hints(surface)["hyper"][optimizer]["lr"]
    # tol=0: every run takes all 1000 steps (from the tanh unit's start, Adam's first step of
    # +-lr per coordinate lands exactly on the saddle at (0, 0), where the gradient is zero).
    optimizers.run(landscape, optimizer, start, 10, lr=lr, batch_size=16, seed=0, tol=0.0)  # warm-up
    return best_of(lambda: optimizers.run(landscape, optimizer, start, 1000, lr=lr, batch_size=16, seed=0, tol=0.0), repeat)


def grid(surface: str, batch_size: int | None, repeat: int) -> tuple[float, dict]:
    """Best of ``repeat``: sweep.run over 64 x 64 (lr x beta1) x 500 steps, one seed for all runs."""
    start = hints(surface)["start"]
    run = lambda: sweep.run(surface, "adam", "lr", "beta1", BOX, n=64, steps=STEPS, start=start, batch_size=batch_size)  # noqa: E731
    t0 = time.perf_counter()
    result = run()  # the first timing includes the surface's one-time set-up (data, cached moments)
    seconds = time.perf_counter() - t0
    if repeat > 1:
        seconds = min(seconds, best_of(run, repeat - 1))
    names, counts = np.unique(result.status, return_counts=True)
    return seconds, {str(k): int(v) for k, v in zip(names, counts)}


def batch_axis(surface: str, n: int = 64) -> tuple[float, int, int]:
    """One sweep of Adam over lr x batch size (n x up to n values) x 500 steps: seconds, cells, calls."""
    start = hints(surface)["start"]
    n_train = sweep.training_size(surface)
    t0 = time.perf_counter()
    result = sweep.run(surface, "adam", "lr", "batch_size", (1e-4, 1.0, 1, n_train), n=n, steps=STEPS, start=start)
    return time.perf_counter() - t0, result.final_loss.size, result.calls


def main(quick: bool = False) -> None:
    print("(a) one run, 1000 steps, batch size 16, with history (best of 7)")
    for surface in ("faithful",) if quick else ("faithful", "iris", "tanh_unit"):
        for optimizer in ("sgd", "adam"):
            print(f"  {surface:9s} {optimizer:4s}: {single(surface, optimizer) * 1e3:7.1f} ms")

    print(f"(b) sweep 64 x 64 (lr x beta1) x {STEPS} steps, Adam, finals only, batch size 32, one seed")
    seconds, statuses = grid("faithful", 32, repeat=5)
    print(f"  faithful : {seconds * 1e3:7.1f} ms (best of 5)  statuses {statuses}")
    print(f"  bar: <= 500 ms -> {'met' if seconds <= 0.5 else 'NOT met'}")
    full, _ = grid("faithful", None, repeat=3)
    print(f"  faithful, full batch: {full * 1e3:7.1f} ms (best of 3)")
    if quick:
        return

    print("(c) for context: the same sweep on the other data surfaces (one timing each)")
    for surface in ("iris", "tanh_unit"):
        seconds, statuses = grid(surface, 32, repeat=1)
        print(f"  {surface:9s}: {seconds * 1e3:8.1f} ms  statuses {statuses}")
    print(f"    with the batch size on an axis: Adam over lr x batch size, {STEPS} steps (one call per batch size)")
    for surface in ("faithful", "iris"):
        for n in (16, 64):
            seconds, cells, calls = batch_axis(surface, n)
            print(f"  {surface:9s} n={n:2d}: {seconds * 1e3:8.1f} ms  {cells} runs in {calls} calls")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
