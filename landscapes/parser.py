"""Safe parsing of functions that users type, such as ``(1-x)^2 + 100*(y-x^2)^2``.

Nothing the user typed ever reaches ``eval``, ``exec``, ``sympify``,
``parse_expr`` or ``lambdify``. The text goes through three stages:

1. :func:`validate` (in the calling process, pure Python, no sympy): bounds on
   the text (length, plain ASCII, allowed characters, bracket depth), then
   ``ast.parse(text, mode="eval")`` with ``^`` read as ``**``, then a walk of the
   syntax tree that accepts only a whitelist of node types, counts nodes,
   bounds the nesting depth, the size of every number and of every constant
   exponent (constant sub-expressions are folded with float arithmetic, which
   cannot hang), and collects the parameter names.
2. :func:`build_expression` turns the checked tree into a sympy expression,
   node by node, from the whitelist. It runs only inside the sandbox worker
   process (:mod:`landscapes.sandbox`), together with the derivatives, the
   Hessian, ``lambdify`` and a trial evaluation, under a time limit and a
   memory limit: a formula that is small but symbolically explosive ties up
   (at worst kills) a worker process, not the server. The worker also refuses
   functions that are complex-valued, undefined on almost all of the window
   or overflow there.
3. :func:`from_expression` takes the worker's sympy expression (a pickled sympy
   object, never text) and builds the :class:`~landscapes.core.Landscape`.

What may be typed
-----------------
* numbers in decimal notation: ``3``, ``2.5``, ``.5``, ``1e-3`` (at most 1e6 in size)
* the variables ``x`` and ``y``; the constants ``pi`` and ``e``
* parameters: any other name of 1 to 8 ASCII letters (``a``, ``b``, ``k``,
  ``alpha``, ``width``) becomes a parameter with default value 1.0; see
  :func:`parameters`. ``z`` is refused (the surface has two variables), and so
  are multi-letter names containing ``x`` or ``y`` (``xy`` means ``x*y``).
* ``+ - * /``, powers ``^`` or ``**``, unary ``+`` and ``-``, parentheses
* one-argument functions: ``sin cos tan exp log ln sqrt abs sinh cosh tanh atan``
  (``ln`` is ``log``, the natural logarithm)

Everything else is refused with an :class:`ExpressionError` that says what is
wrong and at which column (1-based).
"""

from __future__ import annotations

import ast
import math
import re
import threading
import unicodedata
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np

# -- limits -------------------------------------------------------------------------

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

TIME_LIMIT = 2.0  # seconds the sandbox worker may spend on one expression
DEFAULT_WINDOW = ((-3.0, 3.0), (-3.0, 3.0))
TRIAL_GRID = 41  # points per axis of the grid on which the worker and the hints evaluate f
MIN_FINITE_FRACTION = 0.01  # f must be a finite number on at least this share of the grid

FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "ln", "sqrt", "abs", "sinh", "cosh", "tanh", "atan")
CONSTANTS = ("pi", "e")
VARIABLES = ("x", "y")

# Names that would clash with the code lambdify generates, or that are never parameters.
_RESERVED = {
    "numpy": "it is reserved",
    "math": "it is reserved",
    "mpmath": "it is reserved",
    "scipy": "it is reserved",
    "sympy": "it is reserved",
    "builtins": "it is reserved",
    "range": "it is reserved",
    "window": "it is reserved",
    "I": "it is reserved (complex numbers are not supported)",
}
_ALIASES = {
    "X": "the variables are lowercase x and y",
    "Y": "the variables are lowercase x and y",
    "Z": "the surface has two variables, x and y",
    "z": "the surface has two variables, x and y",
    "E": "write e for Euler's number",
    "PI": "write pi",
    "Pi": "write pi",
    "Exp": "write exp(...)",
    "Sin": "write sin(...)",
    "Cos": "write cos(...)",
    "Log": "write log(...)",
    "Sqrt": "write sqrt(...)",
    "arctan": "write atan(...)",
    "Abs": "write abs(...)",
}
_LOOKALIKES = {
    "\u2212": "-",  # minus sign
    "\u2013": "-",
    "\u00d7": "*",
    "\u00b7": "*",
    "\u22c5": "*",
    "\u00f7": "/",
    "\u00b2": "^2",
    "\u00b3": "^3",
    "\u03c0": "pi",
    "\u0430": "a",  # Cyrillic
    "\u0435": "e",
    "\u043e": "o",
    "\u0440": "p",
    "\u0441": "c",
    "\u0443": "y",
    "\u0445": "x",
    "\u0456": "i",
    "\u03bf": "o",  # Greek omicron
    "\u03bd": "v",
}
_ALLOWED_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +-*/^().,")
_DECIMAL = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+))?\Z")
_NAME = re.compile(r"[A-Za-z]+\Z")

_HELP = "use numbers, x, y, pi, e, parameters such as a, + - * / ^, parentheses and functions such as sin(x)"


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


# -- stage 1: validation (no sympy) ---------------------------------------------------


@dataclass(frozen=True)
class Parsed:
    """A validated expression: its (``^``-translated) syntax tree and parameter names."""

    text: str  # the text as typed, stripped of surrounding white space
    source: str  # the text given to ast.parse (``^`` replaced by ``**``)
    tree: ast.Expression
    parameters: tuple[str, ...]  # in order of first appearance
    nodes: int
    depth: int


@dataclass
class _Info:
    value: float | None  # the value when the sub-tree is constant
    degree: float  # an upper estimate of the total exponent of nested powers


class _Validator:
    def __init__(self, text: str, source: str, column_map: list[int]):
        self.text = text
        self.source = source
        self.column_map = column_map  # index in source -> index in text
        self.nodes = 0
        self.max_depth = 0
        self.params: list[str] = []

    # -- helpers -------------------------------------------------------------
    def column(self, node: ast.AST) -> int:
        offset = getattr(node, "col_offset", 0) or 0
        return self.column_map[min(offset, len(self.column_map) - 1)] + 1

    def raw_segment(self, node: ast.AST) -> str:
        """The text of ``node`` as typed (with ``^``, not ``**``)."""
        start = getattr(node, "col_offset", None)
        end = getattr(node, "end_col_offset", None)
        if start is None or end is None:
            return ""
        a = self.column_map[min(start, len(self.column_map) - 1)]
        b = self.column_map[min(end, len(self.column_map) - 1)]
        return self.text[a:b]

    def segment(self, node: ast.AST) -> str:
        """``raw_segment`` shortened for a message."""
        piece = self.raw_segment(node)
        return piece if len(piece) <= 30 else piece[:27] + "..."

    def fail(self, node: ast.AST, message: str) -> ExpressionError:
        return ExpressionError(message, self.column(node), self.segment(node) or None)

    # -- the walk --------------------------------------------------------------
    def visit(self, node: ast.AST, depth: int) -> _Info:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExpressionError(
                f"The expression is too long: more than {MAX_NODES} numbers, names and operations. "
                "Try a shorter formula.",
                self.column(node),
                self.segment(node) or None,
            )
        if depth > MAX_DEPTH:
            raise self.fail(
                node,
                f"Too deeply nested at column {self.column(node)}: at most {MAX_DEPTH} levels of "
                "operations and function calls inside each other.",
            )
        self.max_depth = max(self.max_depth, depth)
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise self.fail(node, self._not_allowed(node))
        return method(node, depth)

    def visit_Constant(self, node: ast.Constant, depth: int) -> _Info:
        col, shown = self.column(node), self.segment(node)
        if type(node.value) is complex:
            raise self.fail(node, f"Complex number '{shown}' at column {col}: only real numbers are allowed.")
        if type(node.value) not in (int, float):  # str, bytes, bool, None, Ellipsis
            raise self.fail(node, f"'{shown}' at column {col} is not allowed: {_HELP}.")
        piece = self.raw_segment(node)
        match = _DECIMAL.match(piece)
        if not match:
            raise self.fail(node, f"Number '{shown}' at column {col}: write numbers in decimal, like 16, 2.5 or 1e-3.")
        if match.group(1) is not None and abs(int(match.group(1))) > MAX_LITERAL_EXPONENT:
            raise self.fail(node, f"Number '{shown}' at column {col} is out of range: use numbers up to 1e6 in size.")
        value = float(Fraction(piece))
        if abs(value) > MAX_LITERAL:
            raise self.fail(node, f"Number '{shown}' at column {col} is too large: use numbers up to 1e6 in size.")
        return _Info(value, 1.0)

    def visit_Name(self, node: ast.Name, depth: int) -> _Info:
        name, col = node.id, self.column(node)
        if name in VARIABLES:
            return _Info(None, 1.0)
        if name == "pi":
            return _Info(math.pi, 1.0)
        if name == "e":
            return _Info(math.e, 1.0)
        if name in FUNCTIONS:
            raise self.fail(node, f"'{name}' at column {col} is a function: write it with parentheses, like {name}(x).")
        self.check_parameter_name(node)
        if name not in self.params:
            self.params.append(name)
            if len(self.params) > MAX_PARAMETERS:
                raise self.fail(
                    node,
                    f"Too many parameters: at most {MAX_PARAMETERS}, found {', '.join(self.params)}. "
                    "Did you mean a product? Write a*x, not ax.",
                )
        return _Info(None, 1.0)

    def check_parameter_name(self, node: ast.Name) -> None:
        name, col = node.id, self.column(node)
        usual = "use x, y, pi, e, or a parameter such as a"
        if name in _ALIASES:
            raise self.fail(node, f"Unknown name '{name}' at column {col}: {_ALIASES[name]}; {usual}.")
        if name in _RESERVED:
            raise self.fail(node, f"'{name}' at column {col} cannot be a parameter name: {_RESERVED[name]}.")
        if not _NAME.match(name):
            raise self.fail(
                node, f"Unknown name '{name}' at column {col}: parameter names contain only letters; {usual}."
            )
        if len(name) > 1 and ("x" in name or "y" in name):
            for f in FUNCTIONS:
                if name.startswith(f) and set(name[len(f) :]) <= {"x", "y"} and name[len(f) :]:
                    raise self.fail(
                        node, f"Unknown name '{name}' at column {col}: write {f}({name[len(f):]}) with parentheses."
                    )
            spelled = "*".join(name)
            raise self.fail(
                node,
                f"Unknown name '{name}' at column {col}: for a product write {spelled} "
                "(parameter names cannot contain x or y).",
            )
        if len(name) > MAX_NAME_LENGTH:
            raise self.fail(
                node,
                f"Unknown name '{name}' at column {col}: parameter names have at most {MAX_NAME_LENGTH} letters; "
                f"{usual}.",
            )

    def visit_UnaryOp(self, node: ast.UnaryOp, depth: int) -> _Info:
        if not isinstance(node.op, (ast.UAdd, ast.USub)):
            raise self.fail(node, self._not_allowed(node))
        inner = self.visit(node.operand, depth + 1)
        value = None if inner.value is None else (-inner.value if isinstance(node.op, ast.USub) else inner.value)
        return _Info(value, inner.degree)

    def visit_BinOp(self, node: ast.BinOp, depth: int) -> _Info:
        col = self.column(node)
        if isinstance(node.op, ast.FloorDiv):
            raise self.fail(node, f"'//' at column {col} is not allowed: write / for division.")
        if not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            raise self.fail(node, self._not_allowed(node))
        # A chain a + b - c + ... (or a * b / c * ...) is one flat sum (product) for
        # sympy: its left spine does not nest deeper.
        chained = isinstance(node.left, ast.BinOp) and _family(node.left.op) == _family(node.op) != "pow"
        left = self.visit(node.left, depth if chained else depth + 1)
        right = self.visit(node.right, depth + 1)
        degree = max(left.degree, right.degree)
        if isinstance(node.op, ast.Pow):
            p = right.value
            if p is not None:
                if abs(p) > MAX_EXPONENT:
                    shown = self.segment(node.right)
                    raise ExpressionError(
                        f"Exponent '{shown}' at column {self.column(node.right)} is too large: constant exponents "
                        f"must be between -{MAX_EXPONENT} and {MAX_EXPONENT}"
                        + ("" if shown == _fmt(p) else f" (it is {_fmt(p)})")
                        + ".",
                        self.column(node.right),
                        shown,
                    )
                degree = left.degree * max(1.0, abs(p))
                if degree > MAX_DEGREE:
                    raise self.fail(
                        node,
                        f"Powers nested too deeply at column {col}: the total exponent would be about "
                        f"{_fmt(degree)} (at most {MAX_DEGREE}).",
                    )
            else:
                degree = left.degree
        if left.value is None or right.value is None:
            return _Info(None, degree)
        return _Info(self.fold(node, left.value, right.value), degree)

    def fold(self, node: ast.BinOp, a: float, b: float) -> float:
        col, piece = self.column(node), self.segment(node)
        try:
            if isinstance(node.op, ast.Add):
                v = a + b
            elif isinstance(node.op, ast.Sub):
                v = a - b
            elif isinstance(node.op, ast.Mult):
                v = a * b
            elif isinstance(node.op, ast.Div):
                v = a / b
            else:
                v = float(a) ** float(b)
        except ZeroDivisionError:
            raise self.fail(node, f"Division by zero in '{piece}' at column {col}.") from None
        except OverflowError:
            v = math.inf
        if isinstance(v, complex):
            raise self.fail(node, f"'{piece}' at column {col} is not a real number.")
        return self.check_value(node, v)

    def check_value(self, node: ast.AST, v: float) -> float:
        col, piece = self.column(node), self.segment(node)
        if not math.isfinite(v) or abs(v) > MAX_FOLDED:
            raise self.fail(
                node, f"'{piece}' at column {col} is too large: constants must stay below {MAX_FOLDED:.0e} in size."
            )
        return v

    def visit_Call(self, node: ast.Call, depth: int) -> _Info:
        col = self.column(node)
        func = node.func
        if not isinstance(func, ast.Name):
            raise self.fail(
                node,
                f"'{self.segment(node)}' at column {col}: only functions such as sin can be called; "
                "for a product write a '*', like 2*(x+1).",
            )
        name = func.id
        if name not in FUNCTIONS:
            hint = ""
            if name in VARIABLES or name in CONSTANTS or (_NAME.match(name) and len(name) <= 2):
                hint = f" For a product write {name}*(...)."
            raise ExpressionError(
                f"Unknown function '{name}' at column {col}: use one of {', '.join(FUNCTIONS)}.{hint}",
                col,
                name,
            )
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise self.fail(node, f"{name}(...) at column {col} takes exactly one argument, like {name}(x).")
        inner = self.visit(node.args[0], depth + 1)
        if inner.value is None:
            return _Info(None, inner.degree)
        return _Info(self.call(node, name, inner.value), inner.degree)

    def call(self, node: ast.Call, name: str, v: float) -> float:
        col, piece = self.column(node), self.segment(node)
        fn = {
            "sin": math.sin,
            "cos": math.cos,
            "tan": math.tan,
            "exp": math.exp,
            "log": math.log,
            "ln": math.log,
            "sqrt": math.sqrt,
            "abs": abs,
            "sinh": math.sinh,
            "cosh": math.cosh,
            "tanh": math.tanh,
            "atan": math.atan,
        }[name]
        try:
            result = fn(v)
        except OverflowError:
            result = math.inf
        except ValueError:
            why = "the logarithm of zero or of a negative number" if name in ("log", "ln") else "not a real number"
            raise self.fail(node, f"'{piece}' at column {col} is {why}.") from None
        return self.check_value(node, float(result))

    def _not_allowed(self, node: ast.AST) -> str:
        col, piece = self.column(node), self.segment(node)
        what = {
            "Attribute": "Attribute access with '.'",
            "Subscript": "Indexing with [ ]",
            "Lambda": "'lambda'",
            "ListComp": "A comprehension",
            "SetComp": "A comprehension",
            "DictComp": "A comprehension",
            "GeneratorExp": "A comprehension",
            "Compare": "A comparison",
            "BoolOp": "'and' / 'or'",
            "IfExp": "'if ... else'",
            "Tuple": "A comma",
            "List": "A list",
            "Set": "A set",
            "Dict": "A dictionary",
            "JoinedStr": "An f-string",
            "NamedExpr": "':='",
            "Starred": "'*' unpacking",
            "Await": "'await'",
            "Yield": "'yield'",
            "YieldFrom": "'yield'",
            "UnaryOp": "This operator",
            "BinOp": "This operator",
        }.get(type(node).__name__, "This")
        return f"{what} ('{piece}' at column {col}) is not allowed: {_HELP}."


def _family(op: ast.operator) -> str:
    if isinstance(op, (ast.Add, ast.Sub)):
        return "sum"
    if isinstance(op, (ast.Mult, ast.Div)):
        return "product"
    return "pow"


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else f"{v:.6g}"


def _prepare(text: str) -> tuple[str, str, str, list[int]]:
    """Check the raw text.

    Returns the text stripped of surrounding white space, the text as typed
    less trailing white space (columns count in it), the source for
    ``ast.parse`` (``^`` replaced by ``**``, no leading white space) and the
    map from each index of the source (and its end) to an index of the text.
    """
    if not isinstance(text, str):
        raise ExpressionError("The function must be given as text.")
    if len(text) > MAX_LENGTH * 4:
        raise ExpressionError(f"The expression is too long: {len(text)} characters (at most {MAX_LENGTH}).")
    stripped = text.strip()
    if not stripped:
        raise ExpressionError("Enter a function of x and y, for example x^2 + y^2.")
    if len(stripped) > MAX_LENGTH:
        raise ExpressionError(f"The expression is too long: {len(stripped)} characters (at most {MAX_LENGTH}).")
    typed = text.rstrip()
    lead = len(typed) - len(stripped)
    for i, ch in enumerate(typed):
        if i < lead or ch in _ALLOWED_CHARS:
            continue
        col = i + 1
        if ch == "_":
            raise ExpressionError(f"Underscore '_' at column {col} is not allowed: {_HELP}.", col, ch)
        if ch in "\n\r\t\v\f":
            raise ExpressionError(f"Line breaks and tabs (column {col}) are not allowed: type one line.", col, None)
        if not ch.isascii():
            looks = _LOOKALIKES.get(ch) or unicodedata.normalize("NFKC", ch)
            hint = f" (did you mean '{looks}'?)" if looks and looks.isascii() and looks.isprintable() else ""
            name = unicodedata.name(ch, "")
            named = f" ({name.lower()})" if name else ""
            raise ExpressionError(
                f"Character '{ch}'{named} at column {col} is not a plain keyboard character{hint}: "
                "type the formula with plain ASCII letters, digits and + - * / ^ ( ).",
                col,
                ch,
            )
        if ch == "=":
            hint = ": type only the right-hand side, e.g. x^2 + y^2 instead of f = x^2 + y^2"
        elif ch in "[]{}":
            hint = ": use round parentheses ( ) for grouping"
        else:
            hint = f": {_HELP}"
        raise ExpressionError(f"Character '{ch}' at column {col} is not allowed{hint}.", col, ch)
    depth = 0
    for i, ch in enumerate(typed):
        if ch == "(":
            depth += 1
            if depth > MAX_DEPTH:
                raise ExpressionError(
                    f"Too many nested parentheses at column {i + 1}: at most {MAX_DEPTH} levels.", i + 1, ch
                )
        elif ch == ")":
            depth -= 1
    source_chars: list[str] = []
    column_map: list[int] = []
    for i, ch in enumerate(stripped, start=lead):
        if ch == "^":
            source_chars.append("**")
            column_map.extend((i, i))
        else:
            source_chars.append(ch)
            column_map.append(i)
    column_map.append(len(typed))  # the end of the text
    return stripped, typed, "".join(source_chars), column_map


_NUMBER_THEN_LETTERS = re.compile(r"(?<![A-Za-z0-9.])(\d+\.?\d*|\.\d+)([A-Za-z]+)")


def _syntax_error(err: SyntaxError, text: str, column_map: list[int]) -> ExpressionError:
    """A student's version of Python's syntax error ``err`` on the translated ``text``."""
    msg = err.msg or ""
    if not err.offset:  # Python's offset 0: the text ended too early
        return ExpressionError(
            "The expression is incomplete: something is missing at the end (after an operator or a '(').",
            len(text) + 1,
            None,
        )
    col = column_map[max(0, min(err.offset - 1, len(column_map) - 1))] + 1
    end = col + 1
    if err.end_offset and err.end_offset > err.offset:
        end = column_map[max(0, min(err.end_offset - 1, len(column_map) - 1))] + 1
    shown = text[col - 1 : max(end, col + 1) - 1] or None
    if "decimal literal" in msg or "imaginary literal" in msg:
        match = _NUMBER_THEN_LETTERS.search(text)
        if match:
            number, letters = match.groups()
            return ExpressionError(
                f"Missing '*' at column {match.start(2) + 1}: write {number}*{letters} instead of {number}{letters}.",
                match.start(2) + 1,
                match.group(0),
            )
        return ExpressionError(f"Malformed number at column {col}: write numbers like 2, 2.5 or 1e-3.", col, shown)
    if "was never closed" in msg:
        return ExpressionError(f"The '(' at column {col} is never closed: add a ')'.", col, "(")
    if "unmatched" in msg or "does not match" in msg:
        return ExpressionError(f"Unmatched ')' at column {col}: remove it or add a '(' before it.", col, ")")
    before = text[: col - 1].rstrip()
    if before and (before[-1].isalnum() or before[-1] in ").") and shown and (shown[0].isalnum() or shown[0] in "(."):
        left = re.search(r"[A-Za-z0-9.]+$", before)
        right = re.match(r"[A-Za-z0-9.]+|\(", text[col - 1 :])
        right_text = right.group(0) if right else shown
        if left and left.group(0) in FUNCTIONS:
            advice = f"write {left.group(0)}({right_text}) with parentheses"
        elif left:
            advice = f"for a product write {left.group(0)}*{right_text}"
        else:
            advice = f"for a product write (...)*{right_text}"
        return ExpressionError(f"Missing operator at column {col}, before '{right_text}': {advice}.", col, right_text)
    return ExpressionError(f"Unexpected '{shown}' at column {col}: {_HELP}.", col, shown)


def validate(text: str) -> Parsed:
    """Check ``text`` without evaluating anything; raise :class:`ExpressionError` if it is refused.

    Costs well under a millisecond: every bound is checked on the text and on
    Python's syntax tree, with float arithmetic for constant sub-expressions.
    """
    stripped, typed, source, column_map = _prepare(text)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as err:
        raise _syntax_error(err, typed, column_map) from None
    except (ValueError, RecursionError, MemoryError):  # e.g. a null byte; cannot happen after _prepare
        raise ExpressionError("The expression could not be read.") from None
    validator = _Validator(typed, source, column_map)
    validator.visit(tree.body, 1)
    return Parsed(
        text=stripped,
        source=source,
        tree=tree,
        parameters=tuple(validator.params),
        nodes=validator.nodes,
        depth=validator.max_depth,
    )


def parameters(text: str) -> list[str]:
    """The parameter names in ``text``, in order of first appearance (validated; no sympy).

    Raises :class:`ExpressionError` when the text is refused, exactly as
    :func:`from_expression` would before any symbolic work.

    >>> parameters("a*x^2 + b*y^2")
    ['a', 'b']
    """
    return list(validate(text).parameters)


# -- stage 2: sympy expression from the checked tree (sandbox worker only) ----------------


def build_expression(parsed: Parsed):
    """The sympy expression of a validated tree, in real symbols X, Y and symbol(p).

    Runs inside the sandbox worker: sympy's automatic simplification is the
    first step that could take long on a small but nasty input.
    """
    import sympy as sp

    from .core import X, Y, symbol

    functions = {
        "sin": sp.sin,
        "cos": sp.cos,
        "tan": sp.tan,
        "exp": sp.exp,
        "log": sp.log,
        "ln": sp.log,
        "sqrt": sp.sqrt,
        "abs": sp.Abs,
        "sinh": sp.sinh,
        "cosh": sp.cosh,
        "tanh": sp.tanh,
        "atan": sp.atan,
    }
    names = {"x": X, "y": Y, "pi": sp.pi, "e": sp.E}
    names.update({p: symbol(p) for p in parsed.parameters})
    _, typed, source, column_map = _prepare(parsed.text)
    validator = _Validator(typed, source, column_map)

    def build(node: ast.AST):
        if isinstance(node, ast.Constant):
            q = Fraction(validator.raw_segment(node))
            return sp.Rational(q.numerator, q.denominator)
        if isinstance(node, ast.Name):
            return names[node.id]
        if isinstance(node, ast.UnaryOp):
            inner = build(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp):
            a, b = build(node.left), build(node.right)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            if isinstance(node.op, ast.Div):
                return a / b
            if isinstance(node.op, ast.Pow):
                return a**b
        if isinstance(node, ast.Call):
            return functions[node.func.id](build(node.args[0]))
        raise ExpressionError(validator._not_allowed(node), validator.column(node))  # unreachable after validate

    return build(parsed.tree.body)


# -- stage 3: the Landscape (calling process) ------------------------------------------------


@dataclass(frozen=True)
class _Built:
    expr: object  # sympy expression, unpickled from the worker
    params: tuple[str, ...]
    latex: dict  # LaTeX of the gradient and Hessian, printed in the worker


_cache: "OrderedDict[tuple, Future]" = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 512


def _check_window(window) -> tuple[tuple[float, float], tuple[float, float]]:
    if window is None:
        return DEFAULT_WINDOW
    try:
        (x0, x1), (y0, y1) = window
        w = ((float(x0), float(x1)), (float(y0), float(y1)))
    except (TypeError, ValueError):
        raise ExpressionError("window must be ((x_min, x_max), (y_min, y_max)).") from None
    for lo, hi in w:
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi and max(abs(lo), abs(hi)) <= 1e6):
            raise ExpressionError("window must be ((x_min, x_max), (y_min, y_max)) with finite min < max.")
    return w


def _compile_in_sandbox(text: str, window) -> _Built:
    """Build and test the expression in the sandbox worker; cached per (text, window), errors too."""
    key = (text, window)
    with _cache_lock:
        future = _cache.get(key)
        owner = future is None
        if owner:
            future = _cache[key] = Future()
            future.set_running_or_notify_cancel()
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
        else:
            _cache.move_to_end(key)
    if not owner:
        # Computed, or being computed for another session: wait without holding the GIL.
        return future.result(timeout=120)
    try:
        built = _run_worker(text, window)
    except ExpressionError as err:
        if err.transient:
            with _cache_lock:
                if _cache.get(key) is future:
                    del _cache[key]
        future.set_exception(err)
        raise
    except BaseException as err:  # never leave waiters hanging
        with _cache_lock:
            if _cache.get(key) is future:
                del _cache[key]
        future.set_exception(ExpressionError("The function could not be checked; please try again.", transient=True))
        raise
    future.set_result(built)
    return built


def _run_worker(text: str, window) -> _Built:
    from . import sandbox

    reply = sandbox.run_job(text, window, TIME_LIMIT)
    if reply[0] == "error":
        _, message, column, token, _fatal = reply
        raise ExpressionError(message, column, token)
    payload = reply[1]
    return _Built(expr=payload["expr"], params=tuple(payload["params"]), latex=dict(payload["latex"]))


def from_expression(text: str, /, *, window=None, **params: float):
    """The :class:`~landscapes.core.Landscape` of a function the user typed, or :class:`ExpressionError`.

    ``text`` is a formula in ``x`` and ``y`` (see the module doc for what may
    be typed). Every other name of letters is a parameter with default 1.0;
    pass values by keyword (``from_expression("a*x^2 + b*y^2", a=2, b=3)``).
    ``window`` is the view ((x_min, x_max), (y_min, y_max)), by default
    ((-3, 3), (-3, 3)).

    The returned surface computes f, its gradient and Hessian like any catalog
    surface. Where f is undefined (``log`` or ``sqrt`` of a negative number,
    a division by zero) ``f`` returns nan (or +-inf); the surface's ``hints``
    then have ``domain_warning`` True, and always:

    * ``domain_warning``: f is not a finite number somewhere on a 41 x 41 grid over the window
    * ``finite_fraction``: the share of that grid where f is finite
    * ``start``: a suggested start point where f and its gradient are finite
    * ``steps``: a suggested number of steps (200)
    * ``gradient_latex``, ``hessian_latex``: LaTeX of the derivatives, printed
      (not simplified) in the sandbox worker. Use these rather than the
      surface's ``gradient_latex`` / ``hessian_latex`` properties, which run
      ``sympy.simplify`` in the calling process, with no time limit.

    ``hints`` describe the parameter values given here: after ``with_params``
    call ``from_expression`` again with the new values (a cache hit: about a
    millisecond) to refresh them. Evaluating f where it is undefined makes
    NumPy warn (RuntimeWarning) unless called under ``np.errstate``.

    Refused (ExpressionError with a message for the student): anything that is
    not the whitelisted syntax, any bound exceeded, an unknown or wrongly
    passed parameter, a function that is complex-valued, undefined on almost
    all of the window, or that overflows the float range there (e.g.
    exp(exp(exp(exp(exp(x)))))), and anything the sandbox worker cannot finish
    within ``TIME_LIMIT`` seconds and its memory limit.
    """
    from .core import Landscape

    parsed = validate(text)
    window = _check_window(window)
    unknown = sorted(set(params) - set(parsed.parameters))
    if unknown:
        found = ", ".join(parsed.parameters) or "none"
        raise ExpressionError(
            f"Parameter(s) {', '.join(unknown)} do not appear in the expression (its parameters: {found})."
        )
    values: dict[str, float] = {}
    for name in parsed.parameters:
        try:
            v = float(params.get(name, 1.0))
        except (TypeError, ValueError):
            raise ExpressionError(f"Parameter {name} must be a number.") from None
        if not math.isfinite(v):
            raise ExpressionError(f"Parameter {name} must be a finite number.")
        values[name] = v
    built = _compile_in_sandbox(parsed.text, window)
    landscape = Landscape(
        name="custom",
        expr=built.expr,
        params=values,
        window=window,
        description={
            "en": f"Your function: f(x, y) = {parsed.text}",
            "zh": f"你输入的函数：f(x, y) = {parsed.text}",
        },
        title={"en": "Custom", "zh": "自定义"},
    )
    try:
        landscape.compiled  # noqa: B018 - compile here (cached; the worker did the same in time)
        hints, log_colors = _numeric_hints(landscape)
    except Exception as err:  # the worker succeeded on the same work: not expected
        raise ExpressionError(f"This function could not be compiled ({type(err).__name__}).") from None
    hints.update(built.latex)
    return replace(landscape, hints=hints, log_colors=log_colors)


def _grid(window, n: int = TRIAL_GRID) -> np.ndarray:
    (x0, x1), (y0, y1) = window
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    return np.stack([gx, gy], axis=-1)


def _numeric_hints(landscape) -> tuple[dict, bool]:
    """Domain flag, suggested start and log-color choice from f on a grid over the window."""
    (x0, x1), (y0, y1) = landscape.window
    with np.errstate(all="ignore"):
        v = landscape.f(_grid(landscape.window)).ravel()
        finite = np.isfinite(v)
        fraction = float(finite.mean())
        start = ((x0 + x1) / 2, (y0 + y1) / 2)
        for fx, fy in ((0.8, 0.75), (0.2, 0.8), (0.75, 0.2), (0.25, 0.25), (0.6, 0.9), (0.9, 0.4)):
            p = np.array([x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)])
            value, grad = landscape.value_and_grad(p)
            if np.isfinite(value) and np.all(np.isfinite(grad)) and np.any(grad != 0):
                start = (round(float(p[0]), 6), round(float(p[1]), 6))
                break
        log_colors = False
        if finite.sum() >= 10:
            w = v[finite]
            low, mid, high = float(w.min()), float(np.median(w)), float(w.max())
            log_colors = bool(low >= 0 and mid > low and (high - low) > 5 * (mid - low))
    # "typed": the surface came from user text, so nothing may run unbounded
    # sympy work on it in this process (no exact critical-point search).
    hints = {"domain_warning": fraction < 1.0, "finite_fraction": fraction, "start": start, "steps": 200, "typed": True}
    return hints, log_colors


def clear_cache() -> None:
    """Forget every cached result (for tests)."""
    with _cache_lock:
        _cache.clear()
