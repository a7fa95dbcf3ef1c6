"""Hostile input: code execution attempts, resource exhaustion, look-alike characters.

Every entry of the corpus must be refused with an ExpressionError within 3 s,
without side effects (a sentinel file that the code-execution attempts try
to create must never appear), and the server's other threads must keep
running while a worker grinds on a heavy input.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

import numpy as np
import pytest

from landscapes import parser, sandbox
from landscapes.parser import ExpressionError, from_expression, parameters

SENTINEL = f"/tmp/descent_lab_pwned_{os.getpid()}"
TOUCH = f"touch {SENTINEL}"

# Products of many different factors inside exp(exp(exp(...))): valid syntax
# within every bound, but their Hessians take sympy 2.2 to 5 s (measured
# in-process; it varies with the hash seed), about the worker's 2 s limit; when
# they are compiled in time, their values overflow and are refused all the same.
def _heavy(kind: str = "sqrt", a: int = 1) -> str:
    def arg(k):
        if kind == "sqrt":
            return f"x*y+{k}" if k % 2 else f"x+y*{k}"
        return f"x*y-{k}" if k % 2 else f"x-y*{k}"

    return "exp(exp(exp(" + "*".join(f"{kind}({arg(k)})" for k in range(a, a + 13)) + ")))"


HEAVY = _heavy("atan")
HEAVY_2 = _heavy("sqrt")
FORTY_SINES = "*".join(f"sin({k}*x+y)" for k in range(1, 41))
TOWER = "^".join(["x"] * 19)

CORPUS = [
    # -- code execution ------------------------------------------------------------------
    f"x.__new__.__globals__['__builtins__']['__import__']('os').system('{TOUCH}')",
    f"__import__('os').system('{TOUCH}')",
    f"().__class__.__bases__[0].__subclasses__()[-1]('{TOUCH}', shell=True)",
    f"eval(\"__import__('os').system('{TOUCH}')\")",
    f"exec('import os; os.system(\"{TOUCH}\")')",
    f"open('{SENTINEL}', 'w').write('x')",
    "x.__class__",
    "x.real",
    "(x).conjugate()",
    "sin.func(x)",
    "(lambda: 1)()",
    "lambda x: x",
    "[c for c in (x, y)]",
    "{c for c in (x, y)}",
    "sum(c for c in (x, y))",
    "{x: y}",
    "f'{x}'",
    "'x'",
    "b'x'",
    "x[0]",
    "sin(*[x])",
    "sin(**{'x': 1})",
    "sin(x=1)",
    "(x := 3)",
    "x if y else 1",
    "x < y",
    "x == y",
    "x and y",
    "not x",
    "~x",
    "x | y",
    "x & y",
    "x << 2",
    "x % 2",
    "x @ y",
    "x // 2",
    "getattr(x, 'real')",
    "Symbol('x')",
    "sympify('x')",
    "S(1)",
    "Function(x)",
    "sin(x)(y)",
    "numpy*x",
    "range*x",
    "...",
    "None",
    "True*x",
    "x\x00",
    "x\n+y",
    # -- exhaustion --------------------------------------------------------------------------
    "9**9**9",
    "9^9^9",
    "7**(3*10**7)",
    "factorial(10**9)",
    "10**10**10",
    "2**2**2**2**2",
    "x**(10**6)",
    "(10**6)**(10**6)",
    "1e308*1e308",
    "exp(1e6)",
    "1e999",
    "123456789123456789*x",
    "(((x^10)^10)^10)^10",
    "(2*x)^10^10",
    "(" * 200 + "x" + ")" * 200,
    "-" * 150 + "x",
    "sin(" * 30 + "x" + ")" * 30,
    "x+" * 50_000 + "x",
    "1" * 100_000,
    FORTY_SINES,
    "exp(exp(exp(exp(exp(x)))))",
    TOWER,
    HEAVY,
    HEAVY_2,
    # -- look-alikes and invisible characters ---------------------------------------------
    "\uff58^2 + \uff59^2",  # fullwidth x, y
    "\u0435xp(x)",  # Cyrillic e
    "x\u200b+y",  # zero-width space
    "\U0001d431 + y",  # mathematical bold x
    "x\u00a0+ y",  # no-break space
    "\u0445 + y",  # Cyrillic ha
]


def _kind(text: str) -> str:
    try:
        parameters(text)
    except ExpressionError:
        return "parse"
    return "worker"


@pytest.fixture(scope="module", autouse=True)
def _ready_workers():
    if os.path.exists(SENTINEL):
        os.remove(SENTINEL)
    sandbox.warm_up()
    for worker in list(sandbox.pool()._idle):
        assert worker.wait_ready(60)
    yield
    assert not os.path.exists(SENTINEL)


def test_corpus_is_large_and_mixed():
    assert len(CORPUS) >= 50
    kinds = [_kind(t) for t in CORPUS]
    # Most are refused by the parser; the rest reach the worker and must fail there.
    assert kinds.count("parse") >= 50
    assert {TOWER, HEAVY, HEAVY_2, "exp(exp(exp(exp(exp(x)))))"} <= {t for t, k in zip(CORPUS, kinds) if k == "worker"}


@pytest.mark.parametrize("text", CORPUS, ids=[f"{i:02d}" for i in range(len(CORPUS))])
def test_hostile_input_is_refused_quickly_without_side_effects(text):
    start = time.perf_counter()
    with pytest.raises(ExpressionError) as info:
        from_expression(text)
    elapsed = time.perf_counter() - start
    assert elapsed < 3.0, f"{elapsed:.2f} s"
    assert isinstance(info.value.args[0], str) and len(info.value.args[0]) > 10
    assert not os.path.exists(SENTINEL)


def test_heavy_input_is_stopped_at_the_time_limit(monkeypatch):
    assert parser.TIME_LIMIT == 2.0
    # The heavy inputs need 2 to 5 s of sympy (it varies with the hash seed):
    # a 0.5 s limit makes the time-out certain.
    monkeypatch.setattr(parser, "TIME_LIMIT", 0.5)
    heavy = _heavy("sqrt", 3)  # not cached by the corpus test
    _ready_idle_workers(1)
    before = sandbox.pool().stats()
    start = time.perf_counter()
    with pytest.raises(ExpressionError, match="took longer than 0.5 s"):
        from_expression(heavy)
    elapsed = time.perf_counter() - start
    assert 0.5 <= elapsed < 0.5 + sandbox.GRACE
    after = sandbox.pool().stats()
    # The worker's alarm stopped the job: no kill, the worker serves on.
    assert after["timeouts"] == before["timeouts"] + 1 and after["killed"] == before["killed"]
    # The timeout is cached: asking again costs nothing and gives the same answer.
    start = time.perf_counter()
    with pytest.raises(ExpressionError, match="took longer"):
        from_expression(heavy)
    assert time.perf_counter() - start < 0.05
    assert float(from_expression("x^2 + 2*y^2 + 0.25").f(np.array([1.0, 1.0]))) == 3.25


def test_a_worker_that_does_not_stop_is_killed_and_replaced():
    pool = sandbox.pool()
    _ready_idle_workers(1)
    pids = {w.process.pid for w in pool._idle}
    before = pool.stats()
    # A request whose own (soft) limit is far away: only the server's hard limit stops it.
    start = time.perf_counter()
    with pytest.raises(ExpressionError, match="took longer"):
        pool._run((_heavy("atan", 4), parser.DEFAULT_WINDOW, 60.0), 0.5, 0.5)
    assert time.perf_counter() - start < 1.5
    assert pool.stats()["killed"] == before["killed"] + 1
    gone = pids - {p.pid for p in multiprocessing.active_children()}
    assert len(gone) == 1  # the worker that ran it was killed and reaped
    assert not os.path.exists(f"/proc/{gone.pop()}")
    # The pool replaces it and serves on.
    assert float(from_expression("x^2 + 4*y^2 + 0.75").f(np.array([1.0, 1.0]))) == 5.75
    assert len(multiprocessing.active_children()) <= sandbox.MAX_WORKERS


def test_a_worker_killed_while_idle_is_replaced():
    _ready_idle_workers(2)
    for worker in list(sandbox.pool()._idle):
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.process.join(5)
    landscape = from_expression("x^2 + 5*y^2 + 0.125")
    assert float(landscape.f(np.array([1.0, 1.0]))) == 6.125


def test_other_threads_keep_running_while_a_worker_is_busy():
    heavy = _heavy("sqrt", 5)  # a fresh text: not cached
    _ready_idle_workers(2)  # one for the heavy input, one for the other session

    def tick_gaps(seconds: float) -> tuple[int, float]:
        count, gap, last = 0, 0.0, time.perf_counter()
        end = last + seconds
        while True:
            sum(i * i for i in range(200))
            now = time.perf_counter()
            gap, last, count = max(gap, now - last), now, count + 1
            if now >= end:
                return count, gap

    baseline, _ = tick_gaps(0.5)
    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(_attempt(heavy)), daemon=True)
    thread.start()
    time.sleep(0.1)
    busy, gap = tick_gaps(1.0)  # while the worker is busy on the heavy input
    assert thread.is_alive()  # still waiting for the worker
    # Another session is served meanwhile, by another worker.
    start = time.perf_counter()
    served = from_expression("3*x^2 + y^2 - x*y + 0.5")
    assert time.perf_counter() - start < 1.5
    assert float(served.f(np.array([1.0, 2.0]))) == 3 + 4 - 2 + 0.5
    thread.join(10)
    assert not thread.is_alive()
    assert isinstance(outcome[0], ExpressionError)
    # The main thread was never stalled for long and kept much of its speed (the
    # worker runs in its own process; the waiting thread holds no GIL). A server
    # doing the work in-process would stall for the whole heavy computation (> 1 s
    # here); the bounds leave room for the scheduler of a busy shared machine.
    assert gap < 0.75, f"main thread stalled for {gap:.3f} s"
    assert busy >= 0.25 * 2 * baseline, (busy, baseline)


def _ready_idle_workers(n: int) -> None:
    pool = sandbox.pool()
    pool.warm_up()
    idle = list(pool._idle)
    assert len(idle) >= n
    for worker in idle:
        assert worker.wait_ready(60)


def _attempt(text: str):
    try:
        return from_expression(text)
    except ExpressionError as err:
        return err


def test_workers_run_under_a_memory_limit():
    pool = sandbox.pool()
    pool.warm_up()
    worker = pool._idle[0]
    assert worker.wait_ready(60)
    with open(f"/proc/{worker.process.pid}/limits") as f:
        line = next(line for line in f if line.startswith("Max address space"))
    soft = int(line.split()[3])
    assert soft <= 4 << 30  # the worker's start-up size plus sandbox.MEMORY_LIMIT (1 GiB)
    assert os.getpid() != worker.process.pid
    with open(f"/proc/{os.getpid()}/limits") as f:
        own = next(line for line in f if line.startswith("Max address space"))
    assert own.split()[3] == "unlimited"  # only the worker is limited


def test_parse_only_checks_are_fast_for_the_giant_inputs():
    for text in ["x+" * 50_000 + "x", "1" * 100_000, "(" * 100_000]:
        start = time.perf_counter()
        with pytest.raises(ExpressionError, match="too long"):
            parameters(text)
        assert time.perf_counter() - start < 0.05
