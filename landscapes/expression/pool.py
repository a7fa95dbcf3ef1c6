"""The pool of worker processes (server side): start, hand out, time and replace workers.

Each typed function is worked out in a separate process
(:mod:`landscapes.expression.worker`) under a time limit:

* Processes are started with the ``spawn`` method (``fork`` is unsafe in a
  threaded server) and kept in a small pool: ``SPARES`` started workers wait
  for work, so a request does not pay the start-up (1.5 s on an idle
  machine, several seconds under load: a fresh interpreter importing numpy
  and sympy and compiling a warm-up function).
* The time limit is enforced twice. The worker stops itself at the limit
  (``SIGALRM``), answers "timeout" and stays in the pool. If it has not
  answered ``GRACE`` seconds after the limit (stuck inside one C call), the
  server kills it (SIGKILL) and the pool starts a replacement.
* The worker caps its own memory and CPU time (``worker.MEMORY_LIMIT``,
  ``worker.CPU_BACKSTOP``).
* The requesting thread waits on ``Connection.poll(timeout)``, which blocks
  in the OS without holding the GIL: the server's other sessions keep running.
* A worker serves ``MAX_JOBS`` requests at most, then is replaced.

Requests and replies are the named types of :mod:`landscapes.expression.reply`.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
import time
import types

from ..core import Window
from .worker import main as _worker_main
from .errors import ExpressionError
from .reply import Ready, Reply, Request

SPARES = 1  # started, idle workers kept ready beyond those at work
MAX_IDLE = 2  # idle workers kept after finishing a job
MAX_WORKERS = 4  # workers alive at once; further requests wait for one
MAX_JOBS = 100  # requests a worker serves before it is replaced
GRACE = 0.5  # seconds past the time limit before a worker that has not stopped itself is killed
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

    def run(self, text: str, window: Window, time_limit: float, grace: float = GRACE) -> Reply:
        """The worker's reply to ``(text, window)``; ExpressionError after ``time_limit`` seconds.

        The worker stops itself at ``time_limit``; if it has not answered
        ``grace`` seconds later it is killed (and replaced in the background).
        """
        return self._run(Request(text, window, time_limit), time_limit + grace, time_limit)

    def _run(self, request: Request, hard_limit: float, time_limit: float) -> Reply:
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
            reply = _DIED
        except BaseException:
            self._drop(worker)
            raise
        if reply is None:
            with self._cond:
                self.killed += 1
            self._drop(worker)
            raise too_long
        if not isinstance(reply, Reply):
            self._drop(worker)
            raise ExpressionError("This function is too complex: working it out needed too much memory.")
        if reply.fatal or not worker.process.is_alive():
            self._drop(worker)  # the worker exits after a fatal error
        else:
            self.release(worker)
        if reply.status == "timeout":
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


def run_job(text: str, window: Window, time_limit: float) -> Reply:
    """Analyse ``text`` in a worker (:func:`~landscapes.expression.worker.analyse`).

    The worker's "ok" or "error" :class:`~landscapes.expression.reply.Reply`;
    ExpressionError on overrun, or when no worker can take the job.
    """
    return pool().run(text, window, time_limit)
