"""The pool of worker processes (server side): start, hand out, time and replace workers.

Each typed function is worked out in a separate process
(:mod:`landscapes.expression.worker`) under a budget of CPU time and a
wall-clock cap:

* Processes are started with the ``spawn`` method (``fork`` is unsafe in a
  threaded server) and kept in a small pool: ``SPARES`` started workers wait
  for work, so a request does not pay the start-up (1.5 s on an idle
  machine, several seconds under load: a fresh interpreter importing numpy
  and sympy and compiling a warm-up function).
* The limits are enforced twice. The worker stops itself at its CPU budget
  (``SIGPROF``) or at the wall-clock cap (``SIGALRM``), answers "timeout" and
  stays in the pool. If it has not answered ``GRACE`` seconds after the cap
  (stuck inside one C call, or starved), the server kills it (SIGKILL) and the
  pool starts a replacement.
* What an answer means (the table ``errors.OUTCOMES``): only the function's
  own cost is a verdict, "too complex", cached by the caller: the budget spent
  in the worker's CPU time (its own report, or for a worker killed at the cap
  its CPU time read from ``/proc``). A wall-clock overrun with the budget
  unspent (a loaded machine), a worker that died (killed from outside), no
  free worker, a worker that did not start: "the server is busy", transient,
  never cached.
* The worker caps its own memory and CPU time (``worker.MEMORY_LIMIT``,
  ``worker.CPU_BACKSTOP``).
* The requesting thread waits on ``Connection.poll(timeout)``, which blocks
  in the OS without holding the GIL: the server's other sessions keep running.
* A worker serves ``MAX_JOBS`` requests at most, then is replaced.

Requests and replies are the named types of :mod:`landscapes.expression.reply`.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
import types

from ..core import Window
from . import limits
from .worker import main as _worker_main
from .errors import refusal
from .reply import Ready, Reply, Request

SPARES = 1  # started, idle workers kept ready beyond those at work
MAX_IDLE = 2  # idle workers kept after finishing a job
MAX_WORKERS = 4  # workers alive at once; further requests wait for one
MAX_JOBS = 100  # requests a worker serves before it is replaced
GRACE = 0.5  # seconds past the wall-clock cap before a worker that has not stopped itself is killed
STARTUP_TIMEOUT = 30.0  # seconds to wait for a starting worker to be ready
QUEUE_TIMEOUT = 10.0  # seconds to wait for a free worker when MAX_WORKERS are busy

_context = multiprocessing.get_context("spawn")
_DIED = object()  # stands for the reply of a worker that died during the job


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
                self.ready = isinstance(message, Ready)
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
        self.over_budget = 0  # verdicts "too complex": the CPU budget spent
        self.starved = 0  # "busy" answers: wall-clock cap reached with the budget unspent, or the worker died

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
        deadline = time.monotonic() + QUEUE_TIMEOUT
        with self._cond:
            while True:
                if self._closed:
                    raise refusal("shut_down")
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
                    raise refusal("busy")  # every worker is at work
                self._cond.wait(remaining)
            self._busy += 1
            self._top_up()
        if not worker.wait_ready(STARTUP_TIMEOUT):
            self._drop(worker)
            raise refusal("busy")  # the worker did not start in time: a loaded machine
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

    def run(self, text: str, window: Window, cpu_limit: float, wall_limit: float, grace: float = GRACE) -> Reply:
        """The worker's reply to ``(text, window)``, or ExpressionError (a row of ``errors.OUTCOMES``).

        The worker stops itself after ``cpu_limit`` seconds of its CPU time (a
        verdict: too complex) or ``wall_limit`` seconds of wall time (busy); if
        it has not answered ``grace`` seconds after the wall limit, it is killed
        (and replaced in the background) and judged by the CPU time it had used.
        With ``wall_limit`` at or below ``cpu_limit`` no function could be judged
        too complex (CPU time does not outrun wall time in one thread): every
        overrun would be "busy".
        """
        return self._run(Request(text, window, cpu_limit, wall_limit), wall_limit + grace, cpu_limit)

    def _run(self, request: Request, hard_limit: float, cpu_limit: float) -> Reply:
        for attempt in range(3):
            worker = self.acquire()
            cpu_before = _cpu_seconds(worker.process.pid)
            try:
                worker.conn.send(request)
                break
            except OSError:  # the worker was gone before it got the request: try another
                self._drop(worker)
        else:
            raise refusal("busy")
        try:
            worker.jobs += 1
            reply = worker.conn.recv() if worker.conn.poll(hard_limit) else None
        except (EOFError, OSError):  # the worker died: killed from outside (the OOM killer, an operator)
            reply = _DIED
        except BaseException:
            self._drop(worker)
            raise
        if reply is None:  # no answer by the hard cap: stuck in one C call, or starved of CPU
            cpu_after = _cpu_seconds(worker.process.pid)  # before the kill: it is gone after
            with self._cond:
                self.killed += 1
            self._drop(worker)
            spent = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
            raise self._judged(spent is not None and spent >= cpu_limit, cpu_limit)
        if not isinstance(reply, Reply):  # died mid-job: says nothing about the function
            self._drop(worker)
            raise self._judged(False, cpu_limit)
        if reply.fatal or not worker.process.is_alive():
            self._drop(worker)  # the worker exits after a fatal error
        else:
            self.release(worker)
        if reply.status == "timeout":
            with self._cond:
                self.timeouts += 1
            # SIGPROF: the CPU budget spent. SIGALRM with the budget unspent: the machine was busy.
            over = reply.limit == "cpu" or (reply.cpu_seconds or 0.0) >= cpu_limit
            raise self._judged(over, cpu_limit)
        return reply

    def _judged(self, over_budget: bool, cpu_limit: float):
        """The refusal of a job that overran: too complex if it spent its CPU budget (a verdict), else busy."""
        with self._cond:
            if over_budget:
                self.over_budget += 1
            else:
                self.starved += 1
        return refusal("too_complex", limit=cpu_limit) if over_budget else refusal("busy")

    def shutdown(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.retire()

    def stats(self) -> dict:
        with self._cond:
            return {
                "idle": len(self._idle),
                "busy": self._busy,
                "timeouts": self.timeouts,
                "killed": self.killed,
                "over_budget": self.over_budget,
                "starved": self.starved,
            }


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


def run_job(text: str, window: Window, cpu_limit: float | None = None, wall_limit: float | None = None) -> Reply:
    """Analyse ``text`` in a worker (:func:`~landscapes.expression.worker.analyse`).

    The worker's "ok" or "error" :class:`~landscapes.expression.reply.Reply`;
    ExpressionError when the job overran (too complex: its CPU budget; busy:
    the wall-clock cap) or when no worker can take it. The limits default to
    ``limits.TIME_LIMIT`` (CPU seconds) and ``limits.WALL_LIMIT``, read now.
    """
    cpu = limits.TIME_LIMIT if cpu_limit is None else cpu_limit
    wall = limits.WALL_LIMIT if wall_limit is None else wall_limit
    return pool().run(text, window, cpu, wall)


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int) -> float | None:
    """The user + system CPU time of process ``pid`` so far, from ``/proc`` (None where there is none)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rpartition(b")")[2].split()  # after the command name, which may hold spaces
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime, stime: fields 14 and 15 of stat
    except (OSError, IndexError, ValueError):
        return None
