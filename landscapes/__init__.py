"""Loss surfaces: sympy expressions compiled once to f, gradient and Hessian over (..., 2) arrays."""

from .catalog import get, names, parameter_defaults, parameter_ranges
from .core import X, Y, CriticalPoint, Landscape, compile_expression
from .curvature import Curvature, TaylorModel, analyze, classify, taylor_model
from .expression import ExpressionError, from_expression, parameters  # noqa: F401 - typed functions

__all__ = [
    "X",
    "Y",
    "CriticalPoint",
    "Curvature",
    "Landscape",
    "TaylorModel",
    "analyze",
    "classify",
    "compile_expression",
    "get",
    "names",
    "parameter_defaults",
    "parameter_ranges",
    "taylor_model",
]
