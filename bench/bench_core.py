"""Benchmark: a 64 x 64 (lr x beta1) Adam grid on Rosenbrock, batched versus one run at a time.

Prints figures; asserts nothing. Bar (issue 2): batched <= 150 ms and >= 30x the loop.
Run: python -m bench.bench_core
"""

from __future__ import annotations

import time

import numpy as np

import landscapes
import optimizers

STEPS = 500
START = (-1.5, 2.0)


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    surface = landscapes.get("rosenbrock")
    lrs = np.logspace(-4, -0.5, 64)
    beta1s = np.linspace(0.0, 0.99, 64)
    surface.f(np.zeros(2))  # compile once, outside the timings

    def batched():
        return optimizers.run_batch(
            surface, "adam", START, STEPS, history=False, lr=lrs[:, None], beta1=beta1s[None, :]
        )

    batched_s = best_of(batched, 5)
    batched_full_s = best_of(
        lambda: optimizers.run_batch(surface, "adam", START, STEPS, lr=lrs[:, None], beta1=beta1s[None, :]), 2
    )

    # The loop: the same 4096 runs one at a time (time a slice, scale up: the
    # runs are independent and equally long).
    sample = [(lr, b1) for lr in lrs[::8] for b1 in beta1s[::8]]

    def loop():
        for lr, b1 in sample:
            optimizers.run_batch(surface, "adam", START, STEPS, history=False, lr=lr, beta1=b1)

    loop_s = best_of(loop, 1) * (64 * 64) / len(sample)
    result = batched()
    print(f"64 x 64 Adam runs x {STEPS} steps on Rosenbrock")
    print(f"  batched, finals only : {batched_s * 1e3:8.1f} ms")
    print(f"  batched, full history: {batched_full_s * 1e3:8.1f} ms")
    print(f"  one run at a time    : {loop_s * 1e3:8.1f} ms (timed on {len(sample)} runs, scaled to 4096)")
    print(f"  speed-up             : {loop_s / batched_s:8.1f} x")
    print(f"  statuses             : {dict(zip(*np.unique(result.status, return_counts=True)))}")
    print(f"  bar: batched <= 150 ms and >= 30x -> {'met' if batched_s <= 0.150 and loop_s / batched_s >= 30 else 'NOT met'}")


if __name__ == "__main__":
    main()
