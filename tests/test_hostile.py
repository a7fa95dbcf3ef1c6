"""Hostile input: code execution attempts, resource exhaustion, look-alike characters.

Every entry of the corpus must be refused with an ExpressionError, without
side effects (a sentinel file that the code-execution attempts try to create
must never appear): by validation before any worker is asked, or by a worker
that answers, stops itself at the time limit, or is killed and replaced. The
server's other threads must keep running while a worker grinds on a heavy
input. No assert here reads a clock: the timings are printed by
``python -m bench.bench_expressions``.
"""

from __future__ import annotations

import ast
import multiprocessing
import os
import signal
import threading

import numpy as np
import pytest

from landscapes.expression import (
    ExpressionError,
    from_expression,
    limits,
    parameters,
    surface,
)
from landscapes.expression import pool as worker_pool
from landscapes.expression.reply import Request

SENTINEL = f"/tmp/descent_lab_pwned_{os.getpid()}"
TOUCH = f"touch {SENTINEL}"

# Products of many different factors inside exp(exp(exp(...))): valid syntax
# within every bound, but their Hessians take sympy 2.2 to 5 s (measured
# in-process; it varies with the hash seed), about the worker's 2 s limit; when
# they are compiled in time, their values overflow and are refused all the same.
from polling import wait_until

from bench.bench_expressions import heavy as _heavy  # noqa: E402  (one definition, shared with the benchmark)

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
    worker_pool.warm_up()
    for worker in list(worker_pool.pool()._idle):
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
def test_hostile_input_is_refused_without_side_effects(text, monkeypatch):
    # The CPU budget alone decides, however loaded the test machine: a wall-clock overrun
    # would be "busy, try again" (transient), which is not what this test is about.
    monkeypatch.setattr(limits, "WALL_LIMIT", 60.0)
    asked: list[str] = []
    real = surface._run_worker
    monkeypatch.setattr(surface, "_run_worker", lambda text, window: asked.append(text) or real(text, window))
    kind = _kind(text)
    with pytest.raises(ExpressionError) as info:
        from_expression(text)
    assert isinstance(info.value.args[0], str) and len(info.value.args[0]) > 10
    assert not info.value.transient  # refused for what it is, not because the checker was busy
    # Validation refuses without asking a worker; the rest cost one worker request at most
    # (none when cached), and the worker that took it is back in the pool or was killed.
    if kind == "parse":
        assert asked == []
    else:
        assert len(asked) <= 1
    assert worker_pool.pool().stats()["busy"] == 0
    assert not os.path.exists(SENTINEL)


def test_heavy_input_is_stopped_at_the_time_limit(monkeypatch):
    assert limits.TIME_LIMIT == 2.0 and limits.WALL_LIMIT > limits.TIME_LIMIT
    # The heavy inputs need 1.5 to 5 s of sympy's CPU time (it varies with the hash seed):
    # a budget of 0.5 s makes the time-out certain; the wall-clock cap is out of the way.
    monkeypatch.setattr(limits, "TIME_LIMIT", 0.5)
    monkeypatch.setattr(limits, "WALL_LIMIT", 60.0)
    heavy = _heavy("sqrt", 3)  # not cached by the corpus test
    _ready_idle_workers(1)
    pool = worker_pool.pool()
    pids = {w.process.pid for w in pool._idle}
    before = pool.stats()
    with pytest.raises(ExpressionError, match="more than 0.5 s of computing time"):
        from_expression(heavy)
    after = pool.stats()
    # The worker's alarm stopped the job: no kill, the worker serves on.
    assert after["timeouts"] == before["timeouts"] + 1 and after["killed"] == before["killed"]
    assert after["over_budget"] == before["over_budget"] + 1
    assert pids <= {p.pid for p in multiprocessing.active_children()}
    # The verdict is cached: asking again asks no worker and gives the same answer.
    with pytest.raises(ExpressionError, match="computing time"):
        from_expression(heavy)
    assert pool.stats()["timeouts"] == after["timeouts"]
    assert float(from_expression("x^2 + 2*y^2 + 0.25").f(np.array([1.0, 1.0]))) == 3.25


def test_a_worker_that_does_not_stop_is_killed_and_replaced():
    pool = worker_pool.pool()
    _ready_idle_workers(1)
    pids = {w.process.pid for w in pool._idle}
    before = pool.stats()
    # A request whose own (soft) limits are far away: only the server's hard cap stops it. In
    # 0.5 s of wall time it cannot spend a 5 s budget of CPU: the answer is busy, not a verdict.
    with pytest.raises(ExpressionError, match="server is busy"):
        pool._run(Request(_heavy("atan", 4), limits.DEFAULT_WINDOW, 60.0, 60.0), 0.5, 5.0)
    assert pool.stats()["killed"] == before["killed"] + 1
    gone = pids - {p.pid for p in multiprocessing.active_children()}
    assert len(gone) == 1  # the worker that ran it was killed and reaped
    killed = gone.pop()
    assert not os.path.exists(f"/proc/{killed}")
    # The pool replaces it (it keeps its spare workers, none of them the killed one) and serves on.
    idle = {w.process.pid for w in pool._idle}
    assert len(idle) >= pool.spares and killed not in idle
    assert float(from_expression("x^2 + 4*y^2 + 0.75").f(np.array([1.0, 1.0]))) == 5.75
    assert len(multiprocessing.active_children()) <= worker_pool.MAX_WORKERS


def test_a_worker_killed_while_idle_is_replaced():
    _ready_idle_workers(2)
    for worker in list(worker_pool.pool()._idle):
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.process.join(5)
    landscape = from_expression("x^2 + 5*y^2 + 0.125")
    assert float(landscape.f(np.array([1.0, 1.0]))) == 6.125


def test_other_threads_keep_running_while_a_worker_is_busy():
    heavy = _heavy("sqrt", 5)  # a fresh text: not cached
    _ready_idle_workers(2)  # one for the heavy input, one for the other session
    pool = worker_pool.pool()
    ticks = [0]
    stop = threading.Event()

    def tick() -> None:  # another session's thread, doing Python work
        while not stop.is_set():
            sum(i * i for i in range(200))
            ticks[0] += 1

    ticker = threading.Thread(target=tick, daemon=True)
    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(_attempt(heavy)), daemon=True)
    ticker.start()
    try:
        thread.start()
        wait_until(lambda: pool.stats()["busy"] >= 1, "the heavy input never reached a worker")
        before = ticks[0]
        # Another session is served meanwhile, by another worker.
        served = from_expression("3*x^2 + y^2 - x*y + 0.5")
        assert float(served.f(np.array([1.0, 2.0]))) == 3 + 4 - 2 + 0.5
        wait_until(lambda: ticks[0] > before or not thread.is_alive(), "the ticking thread never ran")
        # The ticking thread made progress while the heavy input was still with its worker
        # (the work runs in another process; the waiting thread holds no GIL).
        assert ticks[0] > before
        assert thread.is_alive()
    finally:
        stop.set()
    thread.join(10)
    ticker.join(10)
    assert not thread.is_alive()
    assert isinstance(outcome[0], ExpressionError)



def _ready_idle_workers(n: int) -> None:
    pool = worker_pool.pool()
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
    pool = worker_pool.pool()
    pool.warm_up()
    worker = pool._idle[0]
    assert worker.wait_ready(60)
    with open(f"/proc/{worker.process.pid}/limits") as f:
        line = next(line for line in f if line.startswith("Max address space"))
    soft = int(line.split()[3])
    assert soft <= 4 << 30  # the worker's start-up size plus worker.MEMORY_LIMIT (1 GiB)
    assert os.getpid() != worker.process.pid
    with open(f"/proc/{os.getpid()}/limits") as f:
        own = next(line for line in f if line.startswith("Max address space"))
    assert own.split()[3] == "unlimited"  # only the worker is limited


def test_parse_only_checks_refuse_the_giant_inputs_before_parsing(monkeypatch):
    def no_parse(*args, **kwargs):
        raise AssertionError("a giant input reached ast.parse")

    monkeypatch.setattr(ast, "parse", no_parse)  # the length is checked first, on the bare text
    for text in ["x+" * 50_000 + "x", "1" * 100_000, "(" * 100_000]:
        with pytest.raises(ExpressionError, match="too long"):
            parameters(text)
