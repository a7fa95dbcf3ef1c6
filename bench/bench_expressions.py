"""Benchmark: how fast typed functions are refused, stopped, killed, cached, and what the rest of the server feels.

Prints figures; asserts nothing (tests/test_hostile.py and tests/test_parser.py
check the behaviour without reading a clock). The former bars, printed next to
each figure: giant inputs refused by validation in < 50 ms; any hostile input
refused in < 3 s; a heavy input stopped by the worker's own alarm between the
time limit and the limit plus ``GRACE``; a worker stuck past the server's hard
limit of 0.5 s killed in < 1.5 s; a cached answer in < 50 ms; while a worker is
busy, the server's other threads stall < 0.75 s and keep >= 50 % of their speed.

``--server-side`` prints what a typed function costs the server's own thread
(its CPU time, ``time.thread_time``: the wait on the worker costs none) on a
cache miss, for heavy legal inputs (a product of ten tan factors, thirteen atan
or sqrt factors), and beside it what compiling the worker's expression again
in the server (``landscapes.core.compile_expression``, as ``from_expression``
did before issue 16) costs. Limits are raised so that the inputs are accepted
on a loaded machine. Run from an older checkout, the first column is the old
server-side cost (it compiled there).
Run: python -m bench.bench_expressions [--server-side]
"""

from __future__ import annotations

import sys
import threading
import time

from landscapes.expression import ExpressionError, from_expression, limits, parameters
from landscapes.expression import pool as worker_pool
from landscapes.expression.reply import Request


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


# Heavy legal inputs, accepted (within every bound; 0.5 to 2 s of sympy in the worker).
HEAVY_LEGAL = {
    "ten tan factors (k*x+y)": "*".join(f"tan({k}*x+y)" for k in range(1, 11)),
    "ten tan factors (x*y+k)": "*".join(f"tan(x*y+{k})" for k in range(1, 11)),
    "thirteen atan factors": "*".join(f"atan(x*y-{k})" if k % 2 else f"atan(x-y*{k})" for k in range(1, 14)),
    "thirteen sqrt factors": "*".join(f"sqrt(x*y+{k})" if k % 2 else f"sqrt(x+y*{k})" for k in range(1, 14)),
}


def server_side(repeats: int = 3) -> None:
    """The server thread's CPU for one typed function on a cache miss, and a second compile's."""
    from sympy.core.cache import clear_cache as clear_sympy_cache

    from landscapes import core
    from landscapes.expression import surface

    limits.TIME_LIMIT = 30.0  # accepted however loaded the machine (both limits, old and new code)
    if hasattr(limits, "WALL_LIMIT"):
        limits.WALL_LIMIT = 60.0
    ready(1)
    print("server thread CPU per typed function (cache miss; median of %d), and compiling it again in the server:" % repeats)
    for label, text in HEAVY_LEGAL.items():
        costs, again = [], []
        for _ in range(repeats):
            surface.clear_cache()
            core.compile_expression.cache_clear()
            clear_sympy_cache()
            t0 = time.thread_time()
            landscape = from_expression(text)
            costs.append(time.thread_time() - t0)
            core.compile_expression.cache_clear()
            clear_sympy_cache()
            t0 = time.thread_time()
            core.compile_expression(landscape.expr, tuple(sorted(landscape.params)))
            again.append(time.thread_time() - t0)
        med = sorted(costs)[len(costs) // 2]
        med_again = sorted(again)[len(again) // 2]
        print(f"  {label:26s} from_expression {med * 1e3:7.1f} ms   a second compile would cost {med_again * 1e3:7.1f} ms")


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
    saved = limits.TIME_LIMIT, limits.WALL_LIMIT
    limits.TIME_LIMIT, limits.WALL_LIMIT = 0.5, 60.0  # the CPU budget decides, not the machine's load
    try:
        text = heavy("sqrt", 203)
        stopped = seconds(lambda: refuse(text))
        cached = seconds(lambda: refuse(text))
    finally:
        limits.TIME_LIMIT, limits.WALL_LIMIT = saved
    print(f"heavy input stopped by the worker's alarm at a 0.5 s CPU budget: {stopped:.2f} s of wall time "
          f"(bar 0.5 to {0.5 + worker_pool.GRACE:g} s on an idle machine)")
    print(f"the same input again, from the cache: {cached * 1e3:.2f} ms (bar < 50 ms)")

    ready(1)

    def stuck() -> None:
        try:
            pool._run(Request(heavy("atan", 304), limits.DEFAULT_WINDOW, 60.0, 60.0), 0.5, 5.0)
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
    server_side() if "--server-side" in sys.argv else main()
