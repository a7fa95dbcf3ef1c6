"""Worker processes that do the symbolic work on user-typed functions.

A small formula can still make sympy (and Python's big integers) work for
minutes or eat all memory, and big-integer arithmetic holds the GIL, so no
thread of the server may do that work: signals do not reach Streamlit's
script threads and threads cannot be cancelled. Instead each expression is
built, differentiated, lambdified and evaluated on a trial grid in a separate
process (:func:`analyse`) under a time limit:

* Processes are started with the ``spawn`` method (``fork`` is unsafe in a
  threaded server) and kept in a small pool: ``SPARES`` started workers wait
  for work, so a request does not pay the start-up (1.5 s on an idle
  machine, several seconds under load: a fresh interpreter importing numpy
  and sympy and compiling a warm-up function).
* The time limit is enforced twice. The worker runs each request in its main
  thread under ``SIGALRM`` (``setitimer``), which interrupts sympy's Python
  code at the limit; the worker answers "timeout" and stays in the pool. If
  it has not answered ``GRACE`` seconds after the limit (stuck inside one
  C call), the server kills it (SIGKILL) and the pool starts a replacement.
* Each worker caps its address space (``RLIMIT_AS``: ``MEMORY_LIMIT`` bytes
  above what it uses after start-up) and, as a backstop should the server
  itself die, its CPU time per request (``RLIMIT_CPU``).
* The requesting thread waits on ``Connection.poll(timeout)``, which blocks
  in the OS without holding the GIL: the server's other sessions keep running.
* A worker serves ``MAX_JOBS`` requests at most, clearing sympy's cache after
  each one, then is replaced.

The server only ever receives a pickled sympy expression (or an error
message) back: never text to evaluate.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
import types

SPARES = 1  # started, idle workers kept ready beyond those at work
MAX_IDLE = 2  # idle workers kept after finishing a job
MAX_WORKERS = 4  # workers alive at once; further requests wait for one
MAX_JOBS = 100  # requests a worker serves before it is replaced
MEMORY_LIMIT = 1 << 30  # bytes of address space a worker may add after start-up
CPU_BACKSTOP = 10  # seconds of CPU per job after which the OS kills a worker
GRACE = 0.5  # seconds past the time limit before a worker that has not stopped itself is killed
STARTUP_TIMEOUT = 30.0  # seconds to wait for a starting worker to be ready
QUEUE_TIMEOUT = 10.0  # seconds to wait for a free worker when MAX_WORKERS are busy

_context = multiprocessing.get_context("spawn")


# -- the worker process -------------------------------------------------------------------


def _limit_resources() -> None:
    import resource

    try:
        with open("/proc/self/status") as status:
            used = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    except (OSError, StopIteration, ValueError):
        used = 256 << 20
    limit = used + MEMORY_LIMIT
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):
        pass


def _limit_cpu_for_next_job() -> None:
    import resource

    try:
        used = resource.getrusage(resource.RUSAGE_SELF)
        spent = int(used.ru_utime + used.ru_stime) + 1
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        soft = spent + CPU_BACKSTOP
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ValueError, OSError):
        pass


def analyse(text: str, window) -> dict:
    """Everything symbolic about ``text``: run only in a worker process.

    Validates and builds the expression, rejects complex or undefined results,
    differentiates and lambdifies it (``compile_expression``, timed), and
    evaluates f, gradient and Hessian on a trial grid with every parameter at
    1.0, refusing a function that overflows or is almost nowhere defined.
    """
    import numpy as np
    import sympy as sp

    from .core import X, Y, Landscape, compile_expression, symbol
    from .parser import MIN_FINITE_FRACTION, ExpressionError, _grid, build_expression, validate

    parsed = validate(text)
    expr = build_expression(parsed)
    if not isinstance(expr, sp.Expr):
        raise ExpressionError("This is not a function of x and y.")
    _check_real(expr, "f")
    allowed = {X, Y, *(symbol(p) for p in parsed.parameters)}
    if not expr.free_symbols <= allowed:
        raise ExpressionError("The expression uses an unknown symbol.")
    start = time.perf_counter()
    compiled = compile_expression(expr, tuple(sorted(parsed.parameters)))
    compile_seconds = time.perf_counter() - start
    for d, what in zip(compiled.gradient, ("df/dx", "df/dy")):
        _check_real(d, what)
    hessian = (compiled.hessian[0][0], compiled.hessian[0][1], compiled.hessian[1][1])
    for d, what in zip(hessian, ("d2f/dx2", "d2f/dxdy", "d2f/dy2")):
        _check_real(d, what)

    landscape = Landscape(name="custom", expr=expr, params={p: 1.0 for p in parsed.parameters}, window=window)
    points = _grid(window)
    values = [landscape.params[k] for k in sorted(landscape.params)]
    with np.errstate(over="raise", divide="ignore", invalid="ignore", under="ignore"):
        for fn, what in ((compiled.f, "f"), (compiled.grad, "its gradient"), (compiled.hess, "its Hessian")):
            try:
                out = fn(points[..., 0], points[..., 1], *values)
            except FloatingPointError:
                raise ExpressionError(
                    f"The values of {what} are too large to compute (beyond 1e308) in the window "
                    f"x in [{window[0][0]:g}, {window[0][1]:g}], y in [{window[1][0]:g}, {window[1][1]:g}]: "
                    "make the function grow more slowly."
                ) from None
            parts = out if isinstance(out, list) else [out]
            if any(np.iscomplexobj(np.asarray(p)) for p in parts):
                raise ExpressionError(
                    f"Not a real function: {what} takes complex values; only real-valued functions can be plotted."
                )
    with np.errstate(all="ignore"):
        f = landscape.f(points)
        landscape.grad(points)
        landscape.hessian(points)
    finite = float(np.isfinite(f).mean())
    if finite < MIN_FINITE_FRACTION:
        raise ExpressionError(
            "The function is undefined (or infinite) almost everywhere in the window "
            f"x in [{window[0][0]:g}, {window[0][1]:g}], y in [{window[1][0]:g}, {window[1][1]:g}], "
            "e.g. the logarithm or square root of a negative number."
        )
    latex = {
        "gradient_latex": sp.latex(sp.Matrix(compiled.gradient)),
        "hessian_latex": sp.latex(sp.Matrix(compiled.hessian)),
    }
    return {
        "expr": expr,
        "params": parsed.parameters,
        "latex": latex,
        "compile_seconds": compile_seconds,
        "finite_fraction": finite,
    }


def _check_real(e, what: str) -> None:
    import sympy as sp

    from .parser import ExpressionError

    if e.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise ExpressionError(
            f"Not a usable function: {what} is undefined everywhere (a division by zero or an infinite value)."
        )
    if e.has(sp.I):
        raise ExpressionError(
            f"Not a real function: {what} takes complex values (like sqrt(-1)); only real-valued functions "
            "can be plotted."
        )


class _Overrun(BaseException):
    """Raised in the worker by SIGALRM when a request overruns its time limit.

    A BaseException, so that sympy's own ``except Exception`` clauses let it through.
    """


def _on_alarm(signum, frame):
    raise _Overrun()


def _serve(request) -> tuple:
    """The reply to one ``(text, window, time_limit)`` request; never raises."""
    from .parser import ExpressionError

    text, window, time_limit = request
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, time_limit)
            return ("ok", analyse(text, window))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Overrun:
        return ("timeout",)
    except ExpressionError as err:
        return ("error", err.message, err.column, err.token, False)
    except MemoryError:
        return ("error", "This function is too complex: working it out needs too much memory.", None, None, True)
    except RecursionError:
        return ("error", "This function is too deeply nested to work out.", None, None, True)
    except Exception as err:  # any other failure of sympy or lambdify on this input
        return ("error", f"This function could not be compiled ({type(err).__name__}).", None, None, False)


def _worker_main(conn) -> None:
    """Serve ``(text, window, time_limit)`` requests on ``conn`` until it closes.

    The time limit is enforced here first, by SIGALRM (the worker's main
    thread runs the job, so the signal interrupts sympy's Python code and the
    worker survives to serve again); the server kills the worker if even that
    does not stop it (a long computation inside one C call).
    """
    from sympy.core.cache import clear_cache

    try:
        _limit_resources()
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the server's terminal is for the server
        # The first lambdify and numpy printing import and set up a lot: do it
        # now, so that the first request's time limit is spent on the request.
        analyse("x^2 + sin(y)*exp(x)/(1 + abs(x)) + log(x)", ((-1.0, 1.0), (-1.0, 1.0)))
        clear_cache()
        conn.send(("ready", os.getpid()))
        while True:
            request = conn.recv()
            if request is None:
                return
            _limit_cpu_for_next_job()
            reply = _serve(request)
            try:
                conn.send(reply)
            except (EOFError, BrokenPipeError):
                raise
            except Exception:  # the result could not be pickled
                conn.send(("error", "This function could not be compiled.", None, None, False))
            if reply[0] == "error" and reply[4]:
                return  # after MemoryError or RecursionError, start afresh
            clear_cache()
    except (EOFError, BrokenPipeError, OSError, _Overrun):
        return


# -- the pool (server side) -------------------------------------------------------------------


# A spawned child first re-runs the parent's __main__ module. Under Streamlit
# that is the app script itself, which would run the whole page, headless, in
# every worker. While a worker starts, __main__ is a bare module, so the child
# imports only what its target needs.
_BARE_MAIN = types.ModuleType("__main__")
_START_LOCK = threading.Lock()


def _start_without_main(process) -> None:
    with _START_LOCK:
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = _BARE_MAIN
        try:
            process.start()
        finally:
            if main is not None:
                sys.modules["__main__"] = main


class _Worker:
    def __init__(self) -> None:
        self.conn, child = _context.Pipe(duplex=True)
        self.process = _context.Process(
            target=_worker_main, args=(child,), daemon=True, name="descent-lab-expression-worker"
        )
        self.started = time.monotonic()
        _start_without_main(self.process)
        child.close()
        self.ready = False
        self.jobs = 0
        self.startup_seconds: float | None = None

    def wait_ready(self, timeout: float) -> bool:
        if self.ready:
            return True
        try:
            if self.conn.poll(timeout):
                message = self.conn.recv()
                self.ready = isinstance(message, tuple) and message[0] == "ready"
                self.startup_seconds = time.monotonic() - self.started
        except (EOFError, OSError):
            self.ready = False
        return self.ready

    def kill(self) -> None:
        try:
            self.process.kill()
            self.process.join(5)
        except Exception:
            pass
        try:
            self.conn.close()
        except Exception:
            pass

    def retire(self) -> None:
        try:
            self.conn.send(None)
        except Exception:
            pass
        try:
            self.process.join(0.5)
        except Exception:
            pass
        if self.process.is_alive():
            self.kill()
        else:
            self.conn.close()


class WorkerPool:
    """Started worker processes, handed out one request at a time."""

    def __init__(self, spares: int = SPARES, max_workers: int = MAX_WORKERS) -> None:
        self.spares = spares
        self.max_workers = max_workers
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._busy = 0
        self._closed = False
        self.timeouts = 0  # requests stopped by the worker's own alarm (for tests and monitoring)
        self.killed = 0  # workers killed for not stopping in time

    def _top_up(self) -> None:  # with the lock held
        while (
            not self._closed
            and len(self._idle) < self.spares
            and len(self._idle) + self._busy < self.max_workers
        ):
            self._idle.append(_Worker())

    def warm_up(self) -> None:
        """Start idle workers now (they become ready in the background)."""
        with self._cond:
            while not self._closed and len(self._idle) < MAX_IDLE and len(self._idle) + self._busy < self.max_workers:
                self._idle.append(_Worker())

    def acquire(self) -> _Worker:
        from .parser import ExpressionError

        deadline = time.monotonic() + QUEUE_TIMEOUT
        with self._cond:
            while True:
                if self._closed:
                    raise ExpressionError("The function checker is shut down.", transient=True)
                for dead in [w for w in self._idle if not w.process.is_alive()]:
                    self._idle.remove(dead)  # died while idle (killed from outside)
                    dead.kill()
                if self._idle:
                    # Prefer a worker that is already ready.
                    ready = [w for w in self._idle if w.ready or w.wait_ready(0)]
                    worker = ready[0] if ready else self._idle[0]
                    self._idle.remove(worker)
                    break
                if self._busy < self.max_workers:
                    worker = _Worker()
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ExpressionError(
                        "The server is busy checking other functions; please try again in a moment.", transient=True
                    )
                self._cond.wait(remaining)
            self._busy += 1
            self._top_up()
        if not worker.wait_ready(STARTUP_TIMEOUT):
            self._drop(worker)
            raise ExpressionError("The function checker did not start; please try again.", transient=True)
        return worker

    def release(self, worker: _Worker) -> None:
        with self._cond:
            self._busy -= 1
            keep = not self._closed and worker.jobs < MAX_JOBS and len(self._idle) < MAX_IDLE
            if keep:
                self._idle.append(worker)
            self._top_up()
            self._cond.notify()
        if not keep:
            worker.retire()

    def _drop(self, worker: _Worker) -> None:
        worker.kill()
        with self._cond:
            self._busy -= 1
            self._top_up()
            self._cond.notify()

    def run(self, text: str, window, time_limit: float, grace: float = GRACE):
        """The worker's reply to ``(text, window)``; ExpressionError after ``time_limit`` seconds.

        The worker stops itself at ``time_limit``; if it has not answered
        ``grace`` seconds later it is killed (and replaced in the background).
        """
        return self._run((text, window, time_limit), time_limit + grace, time_limit)

    def _run(self, request, hard_limit: float, time_limit: float):
        from .parser import ExpressionError

        too_long = ExpressionError(
            f"This function is too complex: working it out took longer than {time_limit:g} s. "
            "Try a shorter or simpler formula."
        )
        for attempt in range(3):
            worker = self.acquire()
            try:
                worker.conn.send(request)
                break
            except OSError:  # the worker was gone before it got the request: try another
                self._drop(worker)
        else:
            raise ExpressionError("The function checker is not working; please try again.", transient=True)
        try:
            worker.jobs += 1
            reply = worker.conn.recv() if worker.conn.poll(hard_limit) else None
        except (EOFError, OSError):  # the worker died: out of memory, or killed by the CPU backstop
            reply = ()
        except BaseException:
            self._drop(worker)
            raise
        if reply is None:
            with self._cond:
                self.killed += 1
            self._drop(worker)
            raise too_long
        if not isinstance(reply, tuple) or not reply:
            self._drop(worker)
            raise ExpressionError("This function is too complex: working it out needed too much memory.")
        if (reply[0] == "error" and reply[4]) or not worker.process.is_alive():
            self._drop(worker)  # the worker exits after a fatal error
        else:
            self.release(worker)
        if reply[0] == "timeout":
            with self._cond:
                self.timeouts += 1
            raise too_long
        return reply

    def shutdown(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.retire()

    def stats(self) -> dict:
        with self._cond:
            return {"idle": len(self._idle), "busy": self._busy, "timeouts": self.timeouts, "killed": self.killed}


_pool: WorkerPool | None = None
_pool_lock = threading.Lock()


def pool() -> WorkerPool:
    """The process-wide worker pool (created on first use)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool._closed:
            _pool = WorkerPool()
        return _pool


def warm_up() -> None:
    """Start the spare worker(s) now, so that the first typed function does not wait for start-up."""
    pool().warm_up()


def run_job(text: str, window, time_limit: float):
    """Analyse ``text`` in a worker (see :func:`analyse`); the reply tuple, or ExpressionError on overrun."""
    return pool().run(text, window, time_limit)
