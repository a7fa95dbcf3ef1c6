"""The one error type of typed functions, and the table of the checker's own answers.

An :class:`ExpressionError` carries a message for the student, where the
problem is, and whether it is ``transient``. The checker's answers that are not
about a particular place in the text are rows of :data:`OUTCOMES` (as
``scipy.optimize`` keeps one table of statuses): each says whether it is about
the function (a verdict, cached for everyone) or about the server's load
(transient: never cached, the same text may pass a moment later).
"""

from __future__ import annotations

from typing import NamedTuple


class ExpressionError(ValueError):
    """A typed function that cannot be used, with a message meant for the student.

    ``column`` is the 1-based position in the text (None when the problem is
    not at one place), ``token`` the offending piece of text (or None).
    ``transient`` is True when the failure was the server's (busy, a worker
    starved of CPU, killed or not started), so that the same text may succeed
    later: such errors are not cached.
    """

    def __init__(self, message: str, column: int | None = None, token: str | None = None, transient: bool = False):
        super().__init__(message)
        self.message = message
        self.column = column
        self.token = token
        self.transient = transient

    def __reduce__(self):
        return (type(self), (self.message, self.column, self.token, self.transient))


class Outcome(NamedTuple):
    """One answer of the checker: its name, whether it is transient, and its message (a template)."""

    name: str
    transient: bool  # the server's state, not the function's: never cached
    message: str


OUTCOMES: dict[str, Outcome] = {
    o.name: o
    for o in (
        # Load: no free worker, a worker that got too little CPU before the wall-clock cap, a
        # worker killed from outside or that did not start. Nothing is known about the function.
        Outcome("busy", True, "The server is busy; please try again in a moment."),
        Outcome("shut_down", True, "The function checker is shut down."),
        # Verdicts about the function: its own cost, measured in the worker's CPU time or memory.
        Outcome(
            "too_complex",
            False,
            "This function is too complex: working it out needs more than {limit:g} s of computing time. "
            "Try a shorter or simpler formula.",
        ),
        Outcome("too_much_memory", False, "This function is too complex: working it out needs too much memory."),
        Outcome("too_deep", False, "This function is too deeply nested to work out."),
        Outcome(
            "code_too_long",
            False,
            "This function is too complex: the code for its derivatives would be longer than {limit} characters. "
            "Try a shorter or simpler formula.",
        ),
        Outcome("not_compiled", False, "This function could not be compiled ({why})."),
    )
}


def refusal(name: str, **fields) -> ExpressionError:
    """The :class:`ExpressionError` of the outcome ``name`` (a row of :data:`OUTCOMES`)."""
    outcome = OUTCOMES[name]
    return ExpressionError(outcome.message.format(**fields), transient=outcome.transient)
