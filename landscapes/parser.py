"""The former home of typed functions, kept so that ``landscapes.parser.NAME`` keeps working.

The code lives in :mod:`landscapes.expression` (validation, building, the
worker and its pool, and :func:`from_expression`, one module each). These are
re-exported names: reading them works, but to change a setting (tests set
``TIME_LIMIT``), set it on the module that defines it,
:mod:`landscapes.expression.limits`.
"""

from __future__ import annotations

from .expression.build import build_expression
from .expression.errors import ExpressionError
from .expression.limits import (
    CONSTANTS,
    DEFAULT_WINDOW,
    FUNCTIONS,
    MAX_DEGREE,
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_FOLDED,
    MAX_LENGTH,
    MAX_LITERAL,
    MAX_LITERAL_EXPONENT,
    MAX_NAME_LENGTH,
    MAX_NODES,
    MAX_PARAMETERS,
    MIN_FINITE_FRACTION,
    TIME_LIMIT,
    TRIAL_GRID,
    VARIABLES,
)
from .expression.surface import clear_cache, from_expression
from .expression.validate import Parsed, parameters, validate

__all__ = [
    "CONSTANTS",
    "DEFAULT_WINDOW",
    "FUNCTIONS",
    "MAX_DEGREE",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_FOLDED",
    "MAX_LENGTH",
    "MAX_LITERAL",
    "MAX_LITERAL_EXPONENT",
    "MAX_NAME_LENGTH",
    "MAX_NODES",
    "MAX_PARAMETERS",
    "MIN_FINITE_FRACTION",
    "TIME_LIMIT",
    "TRIAL_GRID",
    "VARIABLES",
    "ExpressionError",
    "Parsed",
    "build_expression",
    "clear_cache",
    "from_expression",
    "parameters",
    "validate",
]
