"""Bounds on what may be typed and on the work done for it; the window and trial grid defaults.

Constants only. Code that must see a changed value at call time (tests
monkeypatch ``TIME_LIMIT``) reads it as ``limits.NAME``, not as a copy.
"""

from __future__ import annotations

MAX_LENGTH = 200  # characters of text
MAX_NODES = 100  # numbers, names, operators and calls in the syntax tree
MAX_DEPTH = 20  # nesting of operators and calls
MAX_LITERAL = 1e6  # largest number that may be typed
MAX_LITERAL_EXPONENT = 20  # 1e-20 .. 1e20 in scientific notation (the value is bounded too)
MAX_FOLDED = 1e12  # largest value of a constant sub-expression, e.g. 1000*1000*1000
MAX_EXPONENT = 10  # |p| for a constant exponent p
MAX_DEGREE = 100  # total exponent of nested powers: (x^10)^10 is fine, ((x^10)^10)^2 is not
MAX_PARAMETERS = 6
MAX_NAME_LENGTH = 8

TIME_LIMIT = 2.0  # seconds of the worker's CPU time one expression may take: its budget (a verdict, cached)
# Seconds of wall time a request may take however loaded the machine (the longest a student
# waits, plus the pool's grace): past it with the budget unspent, the answer is "busy, try
# again" (not cached). Above TIME_LIMIT, so that on an idle machine the budget decides.
WALL_LIMIT = 3.0
DEFAULT_WINDOW = ((-3.0, 3.0), (-3.0, 3.0))
TRIAL_GRID = 41  # points per axis of the grid on which the worker and the hints evaluate f
MIN_FINITE_FRACTION = 0.01  # f must be a finite number on at least this share of the grid

FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "ln", "sqrt", "abs", "sinh", "cosh", "tanh", "atan")
CONSTANTS = ("pi", "e")
VARIABLES = ("x", "y")
