"""What the server and a worker process send each other: named, picklable types, no bare tuples.

server -> worker: a :class:`Request` (or ``None``: stop).
worker -> server: :class:`Ready` once after start-up, then one :class:`Reply` per request.

A reply carries a pickled sympy expression and the NumPy code our printer
generated for it (in its :class:`Analysis`; the server runs that code only
after :mod:`~landscapes.expression.generated` checked it against the printer's
grammar), or an error message: never text the student typed, for the server to evaluate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

from ..core import Window
from .errors import ExpressionError
from .generated import Code


class Request(NamedTuple):
    """Analyse ``text`` over ``window`` within ``cpu_limit`` seconds of the worker's CPU time.

    The worker also stops itself after ``wall_limit`` seconds of wall time (it
    may have had too little CPU on a loaded machine: not a verdict).
    """

    text: str
    window: Window
    cpu_limit: float
    wall_limit: float


class Ready(NamedTuple):
    """Sent once by a worker that has started and warmed up."""

    pid: int


@dataclass(frozen=True)
class Analysis:
    """Everything symbolic the worker worked out about a typed function."""

    expr: object  # the sympy expression (pickled across the pipe)
    code: Code  # the NumPy source of f, gradient, Hessian, value-and-gradient (our printer's, checked)
    params: tuple[str, ...]  # parameter names, in order of first appearance
    latex: dict[str, str]  # "gradient_latex" and "hessian_latex", printed (not simplified)
    compile_seconds: float  # time spent by compile_expression
    finite_fraction: float  # share of the trial grid where f is finite (parameters at 1.0)


@dataclass(frozen=True)
class Reply:
    """A worker's answer to one :class:`Request`.

    ``status`` is "ok" (``analysis`` is set), "timeout" (the worker's own alarm
    stopped the job; it serves on) or "error" (``message``, ``column``,
    ``token`` for the student; ``fatal``: the worker exits after sending it).
    A timeout says which limit stopped it (``limit``: "cpu", the function's
    budget of CPU time, or "wall", the wall-clock cap) and the CPU time the job
    had used (``cpu_seconds``, the worker's own ``time.process_time()``).
    """

    status: Literal["ok", "timeout", "error"]
    analysis: Analysis | None = None
    message: str | None = None
    column: int | None = None
    token: str | None = None
    fatal: bool = False
    limit: Literal["cpu", "wall"] | None = None
    cpu_seconds: float | None = None

    @classmethod
    def ok(cls, analysis: Analysis) -> Reply:
        return cls("ok", analysis=analysis)

    @classmethod
    def timeout(cls, limit: Literal["cpu", "wall"], cpu_seconds: float) -> Reply:
        return cls("timeout", limit=limit, cpu_seconds=cpu_seconds)

    @classmethod
    def error(cls, message: str, column: int | None = None, token: str | None = None, fatal: bool = False) -> Reply:
        return cls("error", message=message, column=column, token=token, fatal=fatal)

    def expression_error(self) -> ExpressionError:
        """The student's error for an "error" reply (never transient: the same text fails again)."""
        return ExpressionError(self.message, self.column, self.token)
