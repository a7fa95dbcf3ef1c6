"""What the sandbox's answers mean, and which of them are kept (issue 16, points 3 and 4).

A verdict about the function (its syntax, the allowlist, a compile over its
budget of the worker's CPU time, a real memory-limit refusal) is cached for
everyone. An answer caused by the server's load (no free worker, a worker
that got too little CPU before the wall-clock cap, a worker killed from
outside) says "the server is busy, try again" and is never cached: the same
function is accepted once the server is idle.

Load is simulated without reading a clock: a worker is stopped (SIGSTOP) as
it takes a job, which is what a saturated machine does to it in the extreme
(wall time passes, its CPU time does not).

The second half: the server builds a typed function's NumPy functions from
the code the worker generated, without sympy (no second compile without a limit).
"""

from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pytest
import sympy
from polling import wait_until

from bench.bench_expressions import heavy
from landscapes import core
from landscapes.expression import (
    ExpressionError,
    from_expression,
    generated,
    limits,
    surface,
)
from landscapes.expression import pool as worker_pool
from landscapes.expression.reply import Request

BUSY = "the server is busy"  # what the student reads for any refusal caused by load


@pytest.fixture(autouse=True)
def _ready_pool():
    pool = worker_pool.pool()
    pool.warm_up()
    for worker in list(pool._idle):
        assert worker.wait_ready(60)
    yield


@pytest.fixture
def asked(monkeypatch) -> list[str]:
    """The texts sent to a worker (a cached verdict sends none)."""
    texts: list[str] = []
    real = surface._run_worker
    monkeypatch.setattr(surface, "_run_worker", lambda text, window: texts.append(text) or real(text, window))
    return texts


def _starve(monkeypatch, pool, while_set: threading.Event | None = None):
    """Every worker the pool hands out (while ``while_set`` is set) is stopped (SIGSTOP) as it takes its job."""
    real = pool.acquire

    def acquire():
        worker = real()
        if while_set is None or while_set.is_set():
            os.kill(worker.process.pid, signal.SIGSTOP)
        return worker

    monkeypatch.setattr(pool, "acquire", acquire)
    return real


def _attempt(text: str):
    try:
        return from_expression(text)
    except ExpressionError as err:
        return err



def _is_busy(err) -> bool:
    return isinstance(err, ExpressionError) and err.transient and BUSY in err.message.lower()


# -- load: answered "busy", never cached -------------------------------------------------------------


def test_a_function_starved_of_cpu_is_answered_busy_and_accepted_once_idle(monkeypatch, asked):
    # A valid, light function whose worker gets no CPU at all: the pool's hard cap kills the
    # worker; it had used none of its budget: busy, not "too complex", and not kept.
    monkeypatch.setattr(limits, "WALL_LIMIT", 0.5)
    text = "x^2 + 3*y^2 + 0.0625"
    pool = worker_pool.pool()
    real = _starve(monkeypatch, pool)
    err = _attempt(text)
    assert _is_busy(err), err
    assert "too complex" not in err.message and "memory" not in err.message
    monkeypatch.setattr(pool, "acquire", real)  # the machine is idle again
    landscape = from_expression(text)  # asked again, not a cached refusal
    assert float(landscape.f(np.array([1.0, 1.0]))) == 4.0625
    assert asked == [text, text]


def test_the_wall_clock_cap_reached_before_the_cpu_budget_is_busy_and_not_cached(monkeypatch, asked):
    # The worker's own wall-clock alarm stops a job whose CPU budget is not spent (here a
    # budget it cannot reach): what a loaded machine does to a function that needs a while.
    monkeypatch.setattr(limits, "TIME_LIMIT", 60.0)
    monkeypatch.setattr(limits, "WALL_LIMIT", 0.3)
    text = heavy("sqrt", 51)
    pool = worker_pool.pool()
    before = pool.stats()
    for _ in range(2):
        err = _attempt(text)
        assert _is_busy(err), err
    after = pool.stats()
    # Both stopped by the worker itself (no kill), both asked a worker: nothing was kept.
    assert after["timeouts"] == before["timeouts"] + 2 and after["killed"] == before["killed"]
    assert asked == [text, text]


def test_a_saturated_pool_answers_busy_and_accepts_the_same_function_once_idle(monkeypatch, asked):
    # Twenty visitors typing heavy functions, in small: every worker takes a heavy job and,
    # the machine being saturated, gets no CPU for it. A valid function typed meanwhile
    # waits for a worker, then hears "busy"; so do the heavy ones (they were never judged).
    pool = worker_pool.pool()
    monkeypatch.setattr(pool, "max_workers", 2)
    monkeypatch.setattr(worker_pool, "QUEUE_TIMEOUT", 0.3)
    monkeypatch.setattr(limits, "WALL_LIMIT", 0.5)
    saturated = threading.Event()
    saturated.set()
    _starve(monkeypatch, pool, while_set=saturated)
    heavies = [heavy("sqrt", 31), heavy("atan", 31)]
    outcomes: dict[str, object] = {}
    threads = [threading.Thread(target=lambda t=t: outcomes.update({t: _attempt(t)}), daemon=True) for t in heavies]
    for thread in threads:
        thread.start()
    wait_until(lambda: pool.stats()["busy"] >= 2, "the heavy jobs never took the workers")
    valid = "2*x^2 + y^2 - x*y + 0.875"
    refused = _attempt(valid)
    for thread in threads:
        thread.join(60)
    assert _is_busy(refused), refused
    assert all(_is_busy(outcomes[t]) for t in heavies), outcomes
    # The server is idle again.
    saturated.clear()
    monkeypatch.setattr(pool, "max_workers", worker_pool.MAX_WORKERS)
    landscape = from_expression(valid)
    assert float(landscape.f(np.array([1.0, 2.0]))) == 2 + 4 - 2 + 0.875
    # The heavy functions were not kept as refused either: on the idle server they are
    # judged for what they are, by the worker's CPU time (the wall limit out of the way).
    monkeypatch.setattr(limits, "TIME_LIMIT", 0.3)
    monkeypatch.setattr(limits, "WALL_LIMIT", 60.0)
    verdict = _attempt(heavies[0])
    assert isinstance(verdict, ExpressionError) and not verdict.transient
    assert "too complex" in verdict.message
    assert asked.count(heavies[0]) == 2 and asked.count(valid) == 2


def test_a_worker_killed_from_outside_is_answered_busy_and_not_cached(monkeypatch, asked):
    # Killed mid-job (an administrator, the OOM killer of a full host): nothing is known about
    # the function. It used to read "needed too much memory", kept for everyone.
    text = "x^2 + y^2 + 0.375"
    pool = worker_pool.pool()
    real = pool.acquire

    def killed_after_the_request_is_sent():
        worker = real()
        pid, conn = worker.process.pid, worker.conn
        os.kill(pid, signal.SIGSTOP)  # it cannot answer before it is killed

        class KillAfterSend:
            def send(self, obj):
                conn.send(obj)
                os.kill(pid, signal.SIGKILL)

            def __getattr__(self, name):
                return getattr(conn, name)

        worker.conn = KillAfterSend()
        return worker

    monkeypatch.setattr(pool, "acquire", killed_after_the_request_is_sent)
    err = _attempt(text)
    assert _is_busy(err), err
    assert "memory" not in err.message
    monkeypatch.setattr(pool, "acquire", real)
    assert float(from_expression(text).f(np.array([1.0, 2.0]))) == 5.375
    assert asked == [text, text]


# -- the function's own cost: cached -----------------------------------------------------------------


def test_a_function_over_its_cpu_budget_is_cached_as_too_complex(monkeypatch, asked):
    # The budget is the worker's CPU time; the wall-clock limit is far away, so that however
    # loaded the test machine is, the CPU budget decides.
    monkeypatch.setattr(limits, "TIME_LIMIT", 0.3)
    monkeypatch.setattr(limits, "WALL_LIMIT", 60.0)
    text = heavy("sqrt", 21)
    for _ in range(2):
        with pytest.raises(ExpressionError) as info:
            from_expression(text)
        assert not info.value.transient
        assert "too complex" in info.value.message and "0.3 s of computing time" in info.value.message
    assert asked == [text]  # the second answer came from the cache


def test_a_worker_killed_at_the_hard_cap_is_judged_by_its_cpu_time(monkeypatch):
    # A worker that does not stop itself (its own limits far away; think of a long C call) is
    # killed at the pool's hard cap. If it had spent its CPU budget, the function is too
    # complex; if it had no CPU (stopped), the server was busy.
    pool = worker_pool.pool()
    request = Request(heavy("atan", 41), limits.DEFAULT_WINDOW, 60.0, 60.0)
    before = pool.stats()["killed"]
    with pytest.raises(ExpressionError) as info:
        pool._run(request, 2.0, 0.05)  # 2 s of wall time to spend 0.05 s of CPU
    assert not info.value.transient and "too complex" in info.value.message
    assert pool.stats()["killed"] == before + 1
    _starve(monkeypatch, pool)
    with pytest.raises(ExpressionError) as info:
        pool._run(request, 0.5, 0.05)
    assert _is_busy(info.value), info.value
    assert pool.stats()["killed"] == before + 2


# -- no second compile in the server --------------------------------------------------------------------


def _no_sympy_compile(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("sympy compiled a typed function in the server")

    monkeypatch.setattr(core, "compile_expression", refuse)
    monkeypatch.setattr(sympy, "lambdify", refuse)
    monkeypatch.setattr(sympy, "diff", refuse)
    monkeypatch.setattr(sympy, "cse", refuse)


def test_the_server_builds_a_typed_function_without_compiling_it_again(monkeypatch):
    _no_sympy_compile(monkeypatch)
    L = from_expression("a*x^2*y + sin(b*y) + abs(x)", a=2.0, b=0.5)
    x, y = 1.5, -2.0
    assert float(L.f(np.array([x, y]))) == pytest.approx(2 * x * x * y + np.sin(0.5 * y) + abs(x), rel=1e-15)
    np.testing.assert_allclose(L.grad(np.array([x, y])), [4 * x * y + 1.0, 2 * x * x + 0.5 * np.cos(0.5 * y)], rtol=1e-15)
    np.testing.assert_allclose(
        L.hessian(np.array([x, y])), [[4 * y, 4 * x], [4 * x, -0.25 * np.sin(0.5 * y)]], rtol=1e-15
    )
    moved = L.with_params(a=-1.0)  # a slider move: the same functions, new values
    assert float(moved.f(np.array([x, y]))) == pytest.approx(-x * x * y + np.sin(0.5 * y) + abs(x), rel=1e-15)
    # A run, the critical-point search and the hints all use the worker's code.
    assert optimizers_run_steps(moved) == 20
    assert L.hints["typed"] is True
    L.critical_points  # noqa: B018 - the numeric search, on the worker's code


def optimizers_run_steps(landscape) -> int:
    import optimizers

    return optimizers.run(landscape, "adam", start=(0.5, 0.5), steps=20, lr=0.01, tol=0.0).steps


@pytest.mark.parametrize(
    "text",
    [
        "(1-x)^2 + 100*(y-x^2)^2",
        "-20*exp(-0.2*sqrt(0.5*(x^2+y^2))) - exp(0.5*(cos(2*pi*x)+cos(2*pi*y))) + e + 20",
        "abs(x) + atan(y)*x^-3 + 2^x + k*tanh(y)",
        "x^(1/3) + sqrt(x^2 + y^2) + log(1 + x^2)/y",
    ],
)
def test_the_workers_code_gives_what_lambdify_gives_bit_for_bit(text):
    L = from_expression(text)
    reference = core.compile_expression(L.expr, tuple(sorted(L.params)))  # in the test process only
    pts = np.array([[0.5, -1.25], [1.5, 2.0], [-2.0, 0.75], [2.75, -2.5], [0.0, 1.0]])
    values = [1.0] * len(L.params)
    with np.errstate(all="ignore"):
        for name in ("f", "grad", "hess", "value_and_grad"):
            ours = getattr(L.compiled, name)(pts[:, 0], pts[:, 1], *values)
            theirs = getattr(reference, name)(pts[:, 0], pts[:, 1], *values)
            np.testing.assert_array_equal(_columns(ours, len(pts)), _columns(theirs, len(pts)))
        for x, y in pts[:-1].tolist():  # on floats (the runner's single-run path)
            np.testing.assert_array_equal(L.value_and_grad_at(x, y), reference.value_and_grad(x, y, *values))


def _columns(out, n: int) -> np.ndarray:
    parts = out if isinstance(out, list) else [out]
    return np.array([np.broadcast_to(np.asarray(p, dtype=np.float64), (n,)) for p in parts])


HOSTILE_CODE = [
    "import os\ndef _lambdifygenerated(x, y):\n    return x\n",
    "def _lambdifygenerated(x, y):\n    return __import__('os').system('true')\n",
    "def _lambdifygenerated(x, y):\n    return x.__class__\n",
    "def _lambdifygenerated(x, y):\n    return numpy.load('/etc/passwd')\n",
    "def _lambdifygenerated(x, y):\n    return numpy.lib\n",
    "def _lambdifygenerated(x, y):\n    return open\n",
    "def _lambdifygenerated(x, y):\n    return (lambda: x)()\n",
    "def _lambdifygenerated(x, y):\n    return x[0]\n",
    "def _lambdifygenerated(x, y):\n    return 'x'\n",
    "def _lambdifygenerated(x, y):\n    while True:\n        pass\n",
    "def _lambdifygenerated(x, y):\n    return numpy.sin(x, out=y)\n",
    "def _lambdifygenerated(x, y, z=1):\n    return x\n",
    "@numpy.vectorize\ndef _lambdifygenerated(x, y):\n    return x\n",
    "def _lambdifygenerated(x, y):\n    x0 = x\n    return x1\n",  # a name never assigned
    "def _lambdifygenerated(x, y):\n    def g():\n        return x\n    return g()\n",
    "def _lambdifygenerated(x, y):\n    return x ** 2 ** 1000\n",  # constant folding of a huge power
    "def _lambdifygenerated(x, y):\n    return 10 ** 100000000\n",
    "def _lambdifygenerated(x, y):\n    return x\n" + "#" * (generated.MAX_CODE + 1),
]


@pytest.mark.parametrize("code", HOSTILE_CODE, ids=[f"{i:02d}" for i in range(len(HOSTILE_CODE))])
def test_the_server_runs_only_code_of_the_printers_grammar(code):
    with pytest.raises(ExpressionError):
        generated.function(code, ())


def test_the_printers_grammar_holds_what_the_printer_writes():
    fn = generated.function(
        "def _lambdifygenerated(x, y, a):\n"
        "    x0 = numpy.sin(x)\n"
        "    x1 = (y*y)\n"
        "    return [a*x0 + abs(x) - 3/numpy.power(x1 + 1, -1.0) + numpy.pi, 2*x0, -x1/2 + 1.5e-3]\n",
        ("a",),
        3,
    )
    got = fn(0.5, 2.0, 3.0)
    assert got[0] == 3 * np.sin(0.5) + 0.5 - 3 / (5.0**-1.0) + np.pi
    assert got[1:] == [2 * np.sin(0.5), -2.0 + 1.5e-3]
