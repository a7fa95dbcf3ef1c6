"""The NumPy code a worker generated for a typed function, made into functions without sympy.

The sandbox worker differentiates the function and lambdifies f, its gradient,
its Hessian and f with its gradient (``landscapes.core.compile_expression``:
the slow, symbolic part, under the worker's time and memory limits). It sends
the source of those four generated Python functions (:class:`Code`); the
server turns them into functions here, in a few milliseconds, instead of
compiling the expression a second time with no limit.

Why executing this code is not executing user text: it was written by sympy's
NumPy printer (``core._Printer``) from a sympy tree that
:mod:`~landscapes.expression.build` made node by node from a validated syntax
tree. Its names are ``x``, ``y``, parameter names that validation allows
(1 to 8 ASCII letters, no reserved word), the printer's common-subexpression
names ``x0, x1, ...`` and ``numpy.<function>``; its numbers were printed by the
printer. Nothing the student typed is copied into it as text. Even so, the
server runs it only after :func:`function` has checked that it is exactly of
the printer's grammar (one function with the expected arguments, assignments
to fresh locals, one return; arithmetic, numbers, and a fixed list of NumPy
functions called with their fixed number of arguments), with no builtins: a
bug in the printer or a tampered worker could not smuggle in anything else
(an attribute, a subscript, a string, a loop, a keyword such as ``out=``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..core import Compiled
from .errors import ExpressionError, refusal

MAX_CODE = 100_000  # characters of generated source per function (the heaviest accepted input: about 12 000)
MAX_DIGITS = 400  # digits of an integer the printer may write (larger ones are refused before, in the worker)
FUNCTION_NAME = "_lambdifygenerated"  # the name lambdify gives the function it prints

# What the printer calls, with the number of arguments (a ufunc's extra positional argument is
# ``out``: refused), and the constants it names. The same objects as in lambdify's NumPy namespace
# (there ``abs`` is numpy.absolute), so that the results are the same to the last bit.
_CALLS: dict[str, int] = {
    **dict.fromkeys(
        ("sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh",
         "arctanh", "exp", "expm1", "exp2", "log", "log2", "log10", "log1p", "sqrt", "cbrt", "square",
         "sign", "absolute", "reciprocal"),
        1,
    ),  # fmt: skip
    "power": 2,
    "arctan2": 2,
    "hypot": 2,
}
_CONSTANTS = frozenset({"pi", "e"})
_BUILTINS: dict[str, tuple[object, int]] = {"abs": (np.absolute, 1)}
_LOCAL = re.compile(r"x\d+\Z")  # the printer's common-subexpression names
_BINARY = (ast.Add, ast.Sub, ast.Mult, ast.Div)
_UNARY = (ast.USub, ast.UAdd)


@dataclass(frozen=True)
class Code:
    """The generated source of each function of :class:`~landscapes.core.Compiled`."""

    f: str
    grad: str  # returns [df/dx, df/dy]
    hess: str  # returns [fxx, fxy, fyy]
    value_and_grad: str  # returns [f, df/dx, df/dy]


# How many values each function returns: None for a bare expression, n for a list of n.
_RETURNS = {"f": None, "grad": 2, "hess": 3, "value_and_grad": 3}


def compiled(code: Code, params: tuple[str, ...], expr) -> Compiled:
    """A :class:`~landscapes.core.Compiled` of the four functions in ``code``, or ExpressionError.

    ``params`` are the parameter names in the order of the functions' arguments
    after x and y (sorted). The symbolic derivatives are not rebuilt (no sympy
    here): ``gradient`` and ``hessian`` are None.
    """
    fns = {name: function(getattr(code, name), params, _RETURNS[name]) for name in _RETURNS}
    return Compiled(expr=expr, params=params, gradient=None, hessian=None, **fns)


def function(source: str, params: tuple[str, ...], returns: int | None = None) -> Callable:
    """The function that ``source`` defines, once it is checked to be of the printer's grammar.

    ``returns``: the length of the list it returns (None: one expression).
    Raises ExpressionError for anything else.
    """
    if not isinstance(source, str) or len(source) > MAX_CODE:
        raise refusal("code_too_long", limit=MAX_CODE)
    try:
        tree = ast.parse(source, mode="exec")
        _Grammar(("x", "y", *params), returns).module(tree)
        namespace: dict = {"__builtins__": {}, "numpy": np, **{k: v for k, (v, _) in _BUILTINS.items()}}
        exec(compile(tree, "<typed function>", "exec"), namespace)  # noqa: S102 - checked above, see the module's docstring
    except ExpressionError:
        raise
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError) as err:
        raise refusal("not_compiled", why=type(err).__name__) from None
    return namespace[FUNCTION_NAME]


class _Grammar:
    """Checks a parsed module against the printer's grammar; raises ExpressionError on anything else."""

    def __init__(self, args: tuple[str, ...], returns: int | None):
        self.args = args
        self.returns = returns
        self.names = set(args)

    def refuse(self, node: ast.AST | None = None):
        what = type(node).__name__ if node is not None else "its shape"
        return refusal("not_compiled", why=f"unexpected generated code: {what}")

    def module(self, tree: ast.AST) -> None:
        if not (isinstance(tree, ast.Module) and len(tree.body) == 1 and isinstance(tree.body[0], ast.FunctionDef)):
            raise self.refuse()
        fn = tree.body[0]
        a = fn.args
        plain = not (a.posonlyargs or a.vararg or a.kwonlyargs or a.kw_defaults or a.kwarg or a.defaults)
        if not plain or fn.name != FUNCTION_NAME or fn.decorator_list or fn.returns or fn.type_comment:
            raise self.refuse(fn)
        if tuple(arg.arg for arg in a.args) != self.args or any(arg.annotation for arg in a.args):
            raise self.refuse(fn)
        *assignments, last = fn.body
        for stmt in assignments:
            if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
                raise self.refuse(stmt)
            target = stmt.targets[0].id
            if not _LOCAL.match(target) or target in self.names or stmt.type_comment:
                raise self.refuse(stmt)
            self.expression(stmt.value)
            self.names.add(target)  # usable only after its assignment
        if not isinstance(last, ast.Return) or last.value is None:
            raise self.refuse(last)
        value = last.value
        if self.returns is None:
            self.expression(value)
        elif isinstance(value, ast.List) and len(value.elts) == self.returns:
            for item in value.elts:
                self.expression(item)
        else:
            raise self.refuse(value)

    def expression(self, node: ast.AST) -> None:
        if isinstance(node, ast.BinOp) and isinstance(node.op, _BINARY):
            self.expression(node.left)
            self.expression(node.right)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, _UNARY):
            self.expression(node.operand)
        elif isinstance(node, ast.Constant):
            v = node.value
            if type(v) not in (int, float) or (type(v) is int and len(str(abs(v))) > MAX_DIGITS):
                raise self.refuse(node)
        elif isinstance(node, ast.Name):
            if node.id not in self.names or not isinstance(node.ctx, ast.Load):
                raise self.refuse(node)
        elif isinstance(node, ast.Attribute):
            if not (_is_numpy(node.value) and node.attr in _CONSTANTS and isinstance(node.ctx, ast.Load)):
                raise self.refuse(node)
        elif isinstance(node, ast.Call):
            arity = self.callee(node.func)
            if node.keywords or len(node.args) != arity:
                raise self.refuse(node)
            for arg in node.args:
                if isinstance(arg, ast.Starred):
                    raise self.refuse(arg)
                self.expression(arg)
        else:
            raise self.refuse(node)

    def callee(self, func: ast.AST) -> int:
        if isinstance(func, ast.Attribute) and _is_numpy(func.value) and func.attr in _CALLS:
            return _CALLS[func.attr]
        if isinstance(func, ast.Name) and func.id in _BUILTINS and func.id not in self.names:
            return _BUILTINS[func.id][1]
        raise self.refuse(func)


def _is_numpy(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "numpy" and isinstance(node.ctx, ast.Load)


def source(fn: Callable) -> str:
    """The source lambdify generated for ``fn`` (it keeps it in ``linecache``; in the worker only)."""
    import inspect

    return inspect.getsource(fn)

