"""The one error type of typed functions: a message for the student, with where and whether to retry."""

from __future__ import annotations


class ExpressionError(ValueError):
    """A typed function that cannot be used, with a message meant for the student.

    ``column`` is the 1-based position in the text (None when the problem is
    not at one place), ``token`` the offending piece of text (or None).
    ``transient`` is True when the failure was the server's (busy, worker did
    not start), so that the same text may succeed later: such errors are not cached.
    """

    def __init__(self, message: str, column: int | None = None, token: str | None = None, transient: bool = False):
        super().__init__(message)
        self.message = message
        self.column = column
        self.token = token
        self.transient = transient

    def __reduce__(self):
        return (type(self), (self.message, self.column, self.token, self.transient))
