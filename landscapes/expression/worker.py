"""The worker process: everything symbolic about a typed function, under a time and memory limit.

A small formula can still make sympy (and Python's big integers) work for
minutes or eat all memory, and big-integer arithmetic holds the GIL, so no
thread of the server may do that work. This module runs in a separate
process started by :mod:`landscapes.expression.pool` (its :func:`main` is the
process's target): each request is validated again, built
(:mod:`~landscapes.expression.build`), differentiated, lambdified and
evaluated on a trial grid (:func:`analyse`).

* The worker runs each request in its main thread under two interval timers
  (``setitimer``) that interrupt sympy's Python code: ``ITIMER_PROF`` at the
  request's budget of CPU time (the process's own user + system time: a
  verdict about the function, however loaded the machine) and ``ITIMER_REAL``
  at its wall-clock cap (the machine was too busy to give it the CPU: not a
  verdict). It answers ``Reply.timeout(limit, cpu_seconds)`` and serves on.
  (The pool kills a worker that has not answered a grace period after the cap.)
* It caps its address space (``RLIMIT_AS``: ``MEMORY_LIMIT`` bytes above what
  it uses after start-up) and, as a backstop should the server itself die,
  its CPU time per request (``RLIMIT_CPU``: ``CPU_BACKSTOP`` seconds).
* It clears sympy's cache after each request, and exits after a MemoryError
  or RecursionError (a fatal reply).

The server only ever receives a :class:`~landscapes.expression.reply.Reply`
back: a pickled sympy expression with the NumPy code our printer generated for
it (which the server checks against the printer's grammar before it runs it,
:mod:`~landscapes.expression.generated`), or an error message.
"""

from __future__ import annotations

import math
import os
import signal
import time

import numpy as np
import sympy as sp
from sympy.printing.codeprinter import PrintMethodNotImplementedError

from ..core import X, Y, Landscape, Window, compile_expression, symbol
from . import generated
from .build import build_expression
from .errors import ExpressionError, refusal
from .limits import MIN_FINITE_FRACTION
from .reply import Analysis, Ready, Reply, Request
from .validate import validate
from .window import trial_grid

MEMORY_LIMIT = 1 << 30  # bytes of address space a worker may add after start-up
CPU_BACKSTOP = 10  # seconds of CPU per job after which the OS kills a worker


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


def analyse(text: str, window: Window) -> Analysis:
    """Everything symbolic about ``text``: run only in a worker process.

    Validates and builds the expression, rejects complex or undefined results,
    differentiates and lambdifies it (``compile_expression``, timed), makes
    the functions again from the generated source exactly as the server will
    (:func:`generated.compiled`), and evaluates those on a trial grid with
    every parameter at 1.0, refusing a function that overflows or is almost
    nowhere defined.
    """
    parsed = validate(text)
    expr = build_expression(parsed)
    if not isinstance(expr, sp.Expr):
        raise ExpressionError("This is not a function of x and y.")
    _check_real(expr, "f")
    allowed = {X, Y, *(symbol(p) for p in parsed.parameters)}
    if not expr.free_symbols <= allowed:
        raise ExpressionError("The expression uses an unknown symbol.")
    params = tuple(sorted(parsed.parameters))
    start = time.perf_counter()
    try:
        symbolic = compile_expression(expr, params)
    except PrintMethodNotImplementedError:  # a derivative sympy left unevaluated: no NumPy code for it
        raise ExpressionError(
            "The derivatives of this function cannot be written out"
            + (
                ": abs(...) of something that is not a real number everywhere (such as log(y) or sqrt(x) "
                "for negative values) has no derivative here. Make what is inside abs(...) real for every x "
                "and y, for example log(1 + y^2)."
                if expr.has(sp.Abs)
                else ". Try a simpler formula."
            )
        ) from None
    compile_seconds = time.perf_counter() - start
    for d, what in zip(symbolic.gradient, ("df/dx", "df/dy")):
        _check_real(d, what)
    hessian = (symbolic.hessian[0][0], symbolic.hessian[0][1], symbolic.hessian[1][1])
    for d, what in zip(hessian, ("d2f/dx2", "d2f/dxdy", "d2f/dy2")):
        _check_real(d, what)
    parts = {"the function": (expr,), "its gradient": symbolic.gradient, "its Hessian": hessian}
    for what, exprs in parts.items():
        _check_numbers(exprs, what)
    code = generated.Code(**{name: generated.source(getattr(symbolic, name)) for name in ("f", "grad", "hess", "value_and_grad")})
    compiled = generated.compiled(code, params, expr)  # what the server will run, checked the same way

    landscape = Landscape(
        name="custom", expr=expr, params={p: 1.0 for p in parsed.parameters}, window=window, prebuilt=compiled
    )
    points = trial_grid(window)
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
            except OverflowError:  # a number beyond the float range that _check_numbers did not see
                raise ExpressionError(
                    f"The values of {what} involve numbers too large to compute (beyond 1e308): "
                    "use smaller numbers or lower powers."
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
        "gradient_latex": sp.latex(sp.Matrix(symbolic.gradient)),
        "hessian_latex": sp.latex(sp.Matrix(symbolic.hessian)),
    }
    return Analysis(
        expr=expr,
        code=code,
        params=parsed.parameters,
        latex=latex,
        compile_seconds=compile_seconds,
        finite_fraction=finite,
    )


def _check_real(e, what: str) -> None:
    if e.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise ExpressionError(
            f"Not a usable function: {what} is undefined everywhere (a division by zero or an infinite value)."
        )
    if e.has(sp.I):
        raise ExpressionError(
            f"Not a real function: {what} takes complex values (like sqrt(-1)); only real-valued functions "
            "can be plotted."
        )


def _check_numbers(exprs, what: str) -> None:
    """Refuse numbers beyond the float range (1e308) in ``exprs``: NumPy could not use them.

    ``((1e6*x)^10)^10`` is ``1e600*x^100``: every number typed is small, the
    powers multiply them out. Exact rationals, so the size is read from the
    numerator's and denominator's logarithms (exact for Python's integers of any size).
    """
    largest = 0
    for e in exprs:
        for n in e.atoms(sp.Rational):
            if n.p:
                largest = max(largest, math.floor(math.log10(abs(n.p)) - math.log10(n.q)))
    if largest > 308:
        raise ExpressionError(
            f"{what[0].upper() + what[1:]} has a number too large to compute with (about 1e{largest}; "
            "a computer's numbers stop at about 1e308): powers multiply out the numbers inside them, "
            "so use smaller numbers or lower powers."
        )


class _Overrun(BaseException):
    """Raised in the worker by SIGPROF or SIGALRM when a request overruns a limit.

    ``limit`` is "cpu" (the request's budget of CPU time) or "wall" (the
    wall-clock cap). A BaseException, so that sympy's own ``except Exception``
    clauses let it through.
    """

    def __init__(self, limit: str):
        super().__init__(limit)
        self.limit = limit


_armed = False  # a request is running: the timers' signals interrupt it (afterwards they are ignored)


def _on_alarm(signum, frame):
    if _armed:
        raise _Overrun("cpu" if signum == signal.SIGPROF else "wall")


def serve(request: Request) -> Reply:
    """The reply to one request; never raises."""
    global _armed
    text, window, cpu_limit, wall_limit = request
    start = time.process_time()
    try:
        try:
            _armed = True
            signal.setitimer(signal.ITIMER_PROF, cpu_limit)
            signal.setitimer(signal.ITIMER_REAL, wall_limit)
            return Reply.ok(analyse(text, window))
        finally:
            _armed = False  # first: a signal arriving while the timers are cleared is ignored
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.setitimer(signal.ITIMER_PROF, 0)
    except _Overrun as overrun:
        return Reply.timeout(overrun.limit, time.process_time() - start)
    except ExpressionError as err:
        return Reply.error(err.message, err.column, err.token)
    except MemoryError:
        return Reply.error(refusal("too_much_memory").message, fatal=True)
    except RecursionError:
        return Reply.error(refusal("too_deep").message, fatal=True)
    except Exception as err:  # any other failure of sympy or lambdify on this input
        return Reply.error(refusal("not_compiled", why=type(err).__name__).message)


def main(conn) -> None:
    """Serve requests (:class:`Request`) on ``conn`` until it closes or sends None: the process target.

    The limits are enforced here first, by SIGPROF (CPU time) and SIGALRM
    (wall time): the worker's main thread runs the job, so the signal
    interrupts sympy's Python code and the worker survives to serve again. The
    server kills the worker if even that does not stop it (a long computation
    inside one C call).
    """
    from sympy.core.cache import clear_cache

    try:
        _limit_resources()
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.signal(signal.SIGPROF, _on_alarm)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the server's terminal is for the server
        # The first lambdify and numpy printing import and set up a lot: do it
        # now, so that the first request's time limit is spent on the request.
        analyse("x^2 + sin(y)*exp(x)/(1 + abs(x)) + log(x)", ((-1.0, 1.0), (-1.0, 1.0)))
        clear_cache()
        conn.send(Ready(os.getpid()))
        while True:
            request = conn.recv()
            if request is None:
                return
            _limit_cpu_for_next_job()
            reply = serve(request)
            try:
                conn.send(reply)
            except (EOFError, BrokenPipeError):
                raise
            except Exception:  # the result could not be pickled
                conn.send(Reply.error("This function could not be compiled."))
            if reply.fatal:
                return  # after MemoryError or RecursionError, start afresh
            clear_cache()
    except (EOFError, BrokenPipeError, OSError, _Overrun):
        return
