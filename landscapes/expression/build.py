"""Stage 2: the sympy expression of a validated tree, built node by node from the whitelist.

Runs only inside the sandbox worker (:mod:`landscapes.expression.worker`):
sympy's automatic simplification is the first step that could take long on a
small but nasty input. Numbers are read from the text as typed, as exact
fractions; names map to fixed symbols and functions. Nothing is evaluated as text.
"""

from __future__ import annotations

import ast
from fractions import Fraction

import sympy as sp

from ..core import X, Y, symbol
from .errors import ExpressionError
from .validate import Parsed, source_map


def build_expression(parsed: Parsed):
    """The sympy expression of a validated tree, in real symbols X, Y and symbol(p).

    Runs inside the sandbox worker: sympy's automatic simplification is the
    first step that could take long on a small but nasty input.
    """
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
    located = source_map(parsed.text)

    def build(node: ast.AST):
        if isinstance(node, ast.Constant):
            q = Fraction(located.raw_segment(node))
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
        raise ExpressionError(located.not_allowed(node), located.column(node))  # unreachable after validate

    return build(parsed.tree.body)
