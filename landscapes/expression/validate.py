"""Stage 1: validation of typed text, in the calling process, pure Python, no sympy.

Bounds on the text (length, plain ASCII, allowed characters, bracket depth),
then ``ast.parse(text, mode="eval")`` with ``^`` read as ``**``, then a walk
of the syntax tree that accepts only a whitelist of node types, counts nodes,
bounds the nesting depth, the size of every number and of every constant
exponent (constant sub-expressions are folded with float arithmetic, which
cannot hang), and collects the parameter names. Nothing here evaluates the text.
"""

from __future__ import annotations

import ast
import itertools
import keyword
import math
import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction

from .errors import ExpressionError
from .limits import (
    CONSTANTS,
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
    VARIABLES,
)

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
# Names a student may try for special values: parameters would quietly take the value 1.
_NOT_NUMBERS = {"nan", "inf", "infinity", "oo", "zoo"}  # compared in lower case (NaN, Inf, ...)
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
# Superscripts are powers: x⁴ is x^4, y⁻¹ is y^-1 (a run of them is read together).
_SUPERSCRIPTS = {
    "\u2070": "0", "\u00b9": "1", "\u00b2": "2", "\u00b3": "3", "\u2074": "4", "\u2075": "5", "\u2076": "6",
    "\u2077": "7", "\u2078": "8", "\u2079": "9", "\u207a": "+", "\u207b": "-", "\u207d": "(", "\u207e": ")",
    "\u207f": "n", "\u2071": "i",
}  # fmt: skip
# Printable by Python's rules, yet blank on screen (fillers): shown by code point like the invisible ones.
_BLANK = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}
_ALLOWED_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +-*/^().,")
_DECIMAL = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+))?\Z")
_NAME = re.compile(r"[A-Za-z]+\Z")

_HELP = "use numbers, x, y, pi, e, parameters such as a, + - * / ^, parentheses and functions such as sin(x)"


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


class SourceMap:
    """Where the nodes of a tree parsed from ``source`` are in ``text``, the text as typed.

    Messages quote the text as typed (with ``^``, not ``**``) and give 1-based
    columns in it; the builder reads every number from it, exactly as typed.
    """

    def __init__(self, text: str, source: str, column_map: list[int]):
        self.text = text
        self.source = source
        self.column_map = column_map  # index in source -> index in text

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

    def not_allowed(self, node: ast.AST) -> str:
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


class _Validator(SourceMap):
    def __init__(self, text: str, source: str, column_map: list[int]):
        super().__init__(text, source, column_map)
        self.nodes = 0
        self.max_depth = 0
        self.params: list[str] = []

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
            raise self.fail(node, self.not_allowed(node))
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
        if name.lower() in _NOT_NUMBERS:
            raise self.fail(
                node,
                f"Unknown name '{name}' at column {col}: infinity and not a number (nan) cannot be used "
                f"in a formula; {usual}.",
            )
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
            raise self.fail(node, self.not_allowed(node))
        inner = self.visit(node.operand, depth + 1)
        value = None if inner.value is None else (-inner.value if isinstance(node.op, ast.USub) else inner.value)
        return _Info(value, inner.degree)

    def visit_BinOp(self, node: ast.BinOp, depth: int) -> _Info:
        col = self.column(node)
        if isinstance(node.op, ast.FloorDiv):
            raise self.fail(node, f"'//' at column {col} is not allowed: write / for division.")
        if not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            raise self.fail(node, self.not_allowed(node))
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
            if ch in _SUPERSCRIPTS:
                run = "".join(_SUPERSCRIPTS[c] for c in itertools.takewhile(_SUPERSCRIPTS.__contains__, typed[i:]))
                looks = "^" + run
            else:
                looks = _LOOKALIKES.get(ch) or unicodedata.normalize("NFKC", ch)
            hint = f" (did you mean '{looks}'?)" if looks and looks.isascii() and looks.isprintable() else ""
            name = unicodedata.name(ch, "")
            named = f" ({name.lower()})" if name else ""
            raise ExpressionError(
                f"Character {shown_character(ch)}{named} at column {col} is not a plain keyboard character{hint}: "
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
        raise ExpressionError(f"Character {shown_character(ch)} at column {col} is not allowed{hint}.", col, ch)
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


def shown_character(ch: str) -> str:
    """``ch`` as a message shows it: quoted as typed when it can be seen, else by code point (U+202E).

    A message repeats what was typed. A character that cannot be seen (a
    control character, a zero-width or no-break space, a combining mark that
    would sit on the quote) or that changes the direction of the text around
    it (U+202E, right-to-left override, would flip the whole alert) is never
    repeated raw.
    """
    if ch.isprintable() and not unicodedata.category(ch).startswith("M") and ch not in _BLANK:
        return f"'{ch}'"
    return f"U+{ord(ch):04X}"


# A number (with its exponent, as in 1e-3) followed at once by letters: 2x, 1e-3x.
_NUMBER_THEN_LETTERS = re.compile(r"(?<![A-Za-z0-9.])((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)([A-Za-z]+)")
_WORD = re.compile(r"(?<![A-Za-z0-9.])[A-Za-z]+")


def _syntax_error(err: SyntaxError, text: str, column_map: list[int]) -> ExpressionError:
    """A student's version of Python's syntax error ``err`` on the translated ``text``."""
    msg = err.msg or ""
    for word in _WORD.finditer(text):  # Python's reserved words read as syntax, not as names
        if keyword.iskeyword(word.group(0)):
            name, at = word.group(0), word.start() + 1
            such = "lam" if name == "lambda" else "a"
            return ExpressionError(
                f"'{name}' at column {at} is a reserved word: it cannot be a parameter name; "
                f"use another name, such as {such}.",
                at,
                name,
            )
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
        # The number and letters where Python stopped (not the first in the text: 2x + 1e-3y).
        found = list(_NUMBER_THEN_LETTERS.finditer(text))
        match = next((m for m in found if m.start() < col <= m.end() + 1), found[0] if found else None)
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


def source_map(text: str) -> SourceMap:
    """The :class:`SourceMap` of text that :func:`validate` accepted (``Parsed.text``)."""
    _, typed, source, column_map = _prepare(text)
    return SourceMap(typed, source, column_map)
