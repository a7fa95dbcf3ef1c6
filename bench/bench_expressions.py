"""Benchmark: how fast typed functions are refused, stopped, killed, cached, and what the rest of the server feels.

Prints figures; asserts nothing (tests/test_hostile.py and tests/test_parser.py
check the behaviour without reading a clock). The former bars, printed next to
each figure: giant inputs refused by validation in < 50 ms; any hostile input
refused in < 3 s; a heavy input stopped by the worker's own alarm between the
time limit and the limit plus ``GRACE``; a worker stuck past the server's hard
limit of 0.5 s killed in < 1.5 s; a cached answer in < 50 ms; while a worker is
busy, the server's other threads stall < 0.75 s and keep >= 50 % of their speed.
Run: python -m bench.bench_expressions
"""

from __future__ import annotations

import threading
import time

from landscapes.expression import ExpressionError, from_expression, limits, parameters
from landscapes.expression import pool as worker_pool


def heavy(kind: str = "sqrt", a: int = 1) -> str:
    """Valid, within every bound, and 2 to 5 s of sympy work (tests/test_hostile.py uses it too)."""

    def arg(k):
        if kind == "sqrt":
            return f"x*y+{k}" if k % 2 else f"x+y*{k}"
        return f"x*y-{k}" if k % 2 else f"x-y*{k}"

    return "exp(exp(exp(" + "*".join(f"{kind}({arg(k)})" for k in range(a, a + 13)) + ")))"


HOSTILE = [
    "__import__('os').system('true')",
    "x.__class__",
    "9**9**9",
    "(" * 200 + "x" + ")" * 200,
    "exp(exp(exp(exp(exp(x)))))",
    "^".join(["x"] * 19),
    "*".join(f"sin({k}*x+y)" for k in range(1, 41)),
    heavy("atan", 101),
    heavy("sqrt", 101),
]


def seconds(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def refuse(text: str) -> None:
    try:
        from_expression(text)
    except ExpressionError:
        return
    raise SystemExit(f"not refused: {text[:40]}")


def ready(n: int) -> worker_pool.WorkerPool:
    pool = worker_pool.pool()
    pool.warm_up()
    idle = list(pool._idle)
    if len(idle) < n:
        raise SystemExit(f"{len(idle)} idle workers, {n} needed")
    for worker in idle:
        worker.wait_ready(60)
    return pool


def ticks_and_gap(seconds_: float) -> tuple[int, float]:
    count, gap, last = 0, 0.0, time.perf_counter()
    end = last + seconds_
    while True:
        sum(i * i for i in range(200))
        now = time.perf_counter()
        gap, last, count = max(gap, now - last), now, count + 1
        if now >= end:
            return count, gap


def main() -> None:
    pool = ready(2)
    giant = max(
        seconds(lambda t=t: _refused_by_validation(t)) for t in ["x+" * 50_000 + "x", "1" * 100_000, "(" * 100_000]
    )
    print(f"giant inputs refused by validation: {giant * 1e3:.2f} ms at most (bar < 50 ms)")

    worst = max((seconds(lambda t=t: refuse(t)), t[:30]) for t in HOSTILE)
    print(f"hostile inputs refused: {worst[0]:.2f} s at most, for {worst[1]!r} (bar < 3 s)")

    ready(1)
    saved = limits.TIME_LIMIT
    limits.TIME_LIMIT = 0.5
    try:
        text = heavy("sqrt", 203)
        stopped = seconds(lambda: refuse(text))
        cached = seconds(lambda: refuse(text))
    finally:
        limits.TIME_LIMIT = saved
    print(f"heavy input stopped by the worker's alarm at a 0.5 s limit: {stopped:.2f} s "
          f"(bar 0.5 to {0.5 + worker_pool.GRACE:g} s)")
    print(f"the same input again, from the cache: {cached * 1e3:.2f} ms (bar < 50 ms)")

    ready(1)

    def stuck() -> None:
        try:
            pool._run((heavy("atan", 304), limits.DEFAULT_WINDOW, 60.0), 0.5, 0.5)
        except ExpressionError:
            return

    print(f"worker past the server's 0.5 s hard limit killed after: {seconds(stuck):.2f} s (bar < 1.5 s)")

    ready(2)
    baseline, _ = ticks_and_gap(0.5)
    thread = threading.Thread(target=lambda: refuse(heavy("sqrt", 405)), daemon=True)
    thread.start()
    time.sleep(0.1)
    busy, gap = ticks_and_gap(1.0)
    served = seconds(lambda: from_expression("3*x^2 + y^2 - x*y + 0.5"))
    thread.join(10)
    print(f"while a worker is busy: longest stall of another thread {gap * 1e3:.1f} ms (bar < 750 ms), "
          f"its speed {busy / (2 * baseline):.0%} of idle (bar >= 50 %), "
          f"another session served in {served:.2f} s")


def _refused_by_validation(text: str) -> None:
    try:
        parameters(text)
    except ExpressionError:
        return
    raise SystemExit("giant input accepted")


if __name__ == "__main__":
    main()
