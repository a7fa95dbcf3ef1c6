"""A loss surface f(x, y): one sympy expression compiled once to NumPy.

A :class:`Landscape` is a sympy expression in the real symbols ``x`` and ``y``
and optional named parameters, together with parameter values, a default view
window and teaching text. Its ``f``, ``grad`` and ``hessian`` take float arrays
of shape ``(..., 2)`` and return float64 arrays of shape ``(...)``,
``(..., 2)`` and ``(..., 2, 2)``.

Compilation is the slow part (differentiation, common-subexpression
elimination, ``lambdify``), so it happens once per expression and parameter
*names*: parameter *values* are passed at call time, and a slider move on a
parameter never recompiles.

``lambdify`` runs ``exec`` on generated code. It is only ever given sympy
expressions that the catalog wrote or that :mod:`landscapes.expression` built from
a whitelisted syntax tree, never text a user typed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, ClassVar, Mapping

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

X, Y = sp.symbols("x y", real=True)

Window = tuple[tuple[float, float], tuple[float, float]]


def symbol(name: str) -> sp.Symbol:
    """The real symbol every landscape uses for a parameter called ``name``."""
    return sp.Symbol(name, real=True)


def _without_distributions(expr: sp.Expr) -> sp.Expr:
    # d2|x|/dx2 = 2*DiracDelta(x): zero everywhere a float can land except 0
    # itself, and NumPy has no printer for it.
    return expr.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.Integer(0))


@dataclass(frozen=True)
class Compiled:
    """Derivatives and NumPy functions of one expression, shared by all its parameter values.

    ``gradient`` and ``hessian`` (the symbolic derivatives) are None when the
    functions were made from code generated elsewhere: a typed function's
    sandbox worker (see :mod:`landscapes.expression.generated`).
    """

    expr: sp.Expr
    params: tuple[str, ...]
    gradient: tuple[sp.Expr, sp.Expr] | None
    hessian: tuple[tuple[sp.Expr, sp.Expr], tuple[sp.Expr, sp.Expr]] | None
    f: Callable
    grad: Callable  # -> [df/dx, df/dy]
    hess: Callable  # -> [fxx, fxy, fyy]
    value_and_grad: Callable  # -> [f, df/dx, df/dy]


class _Printer(NumPyPrinter):
    """NumPy code that gives bit-identical results on arrays and on Python floats.

    The runner steps a single run on plain floats (see ``optimizers.runner``) and a
    batch on arrays, through the same generated code, and the two must agree to the
    last bit. ``+ - * /`` are IEEE-exact either way, and a NumPy function called on a
    float runs the same loop as on an array. Only ``**`` differs: on an array,
    ``x**2`` is ``x*x``, but on a float it is C's ``pow``, which rounds differently
    about once in a thousand squares. So squares are printed as products (the base of
    a compound square is a local of its own, see :func:`_shared_subexpressions`) or
    ``numpy.square``, and other powers as ``numpy.power``.
    """

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.base, expr.exp
        if exp == 2:
            if base.is_Atom:
                b = self._print(base)
                return f"({b}*{b})"
            return f"{self._module}.square({self._print(base)})"
        if exp in (sp.S.Half, -sp.S.Half):
            return super()._print_Pow(expr, rational=rational)
        if exp.is_integer and exp.is_negative:
            exp = exp.evalf()  # NumPy refuses integers to negative integer powers
        return f"{self._module}.power({self._print(base)}, {self._print(exp)})"


def _shared_subexpressions(exprs):
    """sympy's common subexpressions, and the base of every compound square as a local too.

    lambdify's ``cse`` hook: with it ``(a - x)**2`` prints as ``x2 = a - x`` and
    ``(x2*x2)``, not ``numpy.square(a - x)``. The same bits on arrays (NumPy's square
    is that product), and on the runner's float path a square stays a float
    operation: a NumPy function called on a float costs about ten float operations
    and returns a NumPy scalar, which slows every later operation on it. The locals
    are named like cse's own (``x0, x1, ...``), the only names the typed functions'
    code check allows (``landscapes.expression.generated``).
    """
    names = sp.numbered_symbols("x")
    replacements, reduced = sp.cse(exprs, symbols=names, list=False)
    lifted: dict[sp.Expr, sp.Symbol] = {}
    out: list[tuple[sp.Symbol, sp.Expr]] = []

    def square_of_local(e: sp.Pow) -> sp.Expr:
        if e.base not in lifted:
            lifted[e.base] = next(names)
            out.append((lifted[e.base], e.base))
        return sp.Pow(lifted[e.base], 2)

    def lift(e):
        # replace() works bottom-up: an inner square's base is a local before the outer one's
        return e.replace(lambda n: n.is_Pow and n.exp == 2 and not n.base.is_Atom, square_of_local)

    for name, e in replacements:
        e = lift(e)
        out.append((name, e))
    reduced = [lift(e) for e in reduced] if isinstance(reduced, list) else lift(reduced)
    return out, reduced


# The server compiles only the catalog's expressions here (13; parameter values are passed at
# call time, and typed functions come prebuilt from their worker); a worker compiles each job's
# own, so there a larger cache would only keep every job it did (~0.1-0.5 MB each, issue 16).
@functools.lru_cache(maxsize=32)
def compile_expression(expr: sp.Expr, params: tuple[str, ...] = ()) -> Compiled:
    """Differentiate ``expr`` and lambdify f, its gradient and its Hessian (cached).

    Each derivative list is lambdified as a Python list, not a ``Matrix``: a
    constant entry (Rosenbrock's d2f/dy2 = 200) comes back as a scalar and is
    broadcast by the caller, where a Matrix would fail on an inhomogeneous shape.
    """
    args = (X, Y, *(symbol(p) for p in params))
    fx, fy = (_without_distributions(sp.diff(expr, v)) for v in (X, Y))
    fxx = _without_distributions(sp.diff(fx, X))
    fxy = _without_distributions(sp.diff(fx, Y))
    fyy = _without_distributions(sp.diff(fy, Y))
    compile_ = functools.partial(sp.lambdify, args, modules="numpy", cse=_shared_subexpressions, printer=_Printer)
    return Compiled(
        expr=expr,
        params=params,
        gradient=(fx, fy),
        hessian=((fxx, fxy), (fxy, fyy)),
        f=compile_(expr),
        grad=compile_([fx, fy]),
        hess=compile_([fxx, fxy, fyy]),
        value_and_grad=compile_([expr, fx, fy]),
    )


@dataclass(frozen=True)
class CriticalPoint:
    """A point where the gradient vanishes, with what the Hessian says it is."""

    point: tuple[float, float]
    kind: str  # "minimum", "maximum", "saddle" or "degenerate"
    exact: tuple[sp.Expr, sp.Expr] | None = None  # exact coordinates when sympy verified them
    value: float = float("nan")


@dataclass(frozen=True, eq=False)
class Landscape:
    """A 2-D loss surface with its derivatives, ready to evaluate on arrays.

    Example:
        >>> import landscapes
        >>> bowl = landscapes.get("bowl", condition=10.0)
        >>> float(bowl.f(np.array([1.0, 1.0])))
        5.5
    """

    name: str
    expr: sp.Expr
    params: Mapping[str, float] = field(default_factory=dict)
    window: Window = ((-2.0, 2.0), (-2.0, 2.0))
    description: Mapping[str, str] = field(default_factory=dict)  # language -> one line
    title: Mapping[str, str] = field(default_factory=dict)  # language -> short name
    log_colors: bool = False  # the range of f calls for log-scaled contour colors
    hints: Mapping[str, object] = field(default_factory=dict)  # suggested start and steps
    axes: tuple[str, str] = ("x", "y")  # what the plane's coordinates are called on screen
    # The compiled functions when they were built elsewhere (a typed function: from its sandbox
    # worker's code), so that this process never compiles the expression; None: compile here.
    prebuilt: Compiled | None = field(default=None, repr=False)
    symbolic: ClassVar[bool] = True  # f is a sympy expression (exact critical points can be verified)
    critical_grid: ClassVar[int] = 31  # starts per side of the critical-point search

    def __post_init__(self) -> None:
        missing = self.expr.free_symbols - {X, Y, *(symbol(p) for p in self.params)}
        if missing:
            names = ", ".join(sorted(str(s) for s in missing))
            raise ValueError(f"No value given for parameter(s): {names}")
        if self.prebuilt is not None and self.prebuilt.params != tuple(sorted(self.params)):
            raise ValueError("The prebuilt functions take other parameters than the landscape has")

    # -- compiled functions -------------------------------------------------
    @functools.cached_property
    def compiled(self) -> Compiled:
        # Held on the instance: an optimizer calls f and grad thousands of
        # times, and the shared cache's key (a sympy expression) is slow to compare.
        if self.prebuilt is not None:
            return self.prebuilt
        return compile_expression(self.expr, tuple(sorted(self.params)))

    @functools.cached_property
    def _param_values(self) -> tuple[float, ...]:
        return tuple(float(self.params[k]) for k in sorted(self.params))

    def _call(self, fn: Callable, points) -> tuple[object, tuple[int, ...]]:
        p = np.asarray(points, dtype=np.float64)
        if p.shape[-1:] != (2,):
            raise ValueError(f"points must have shape (..., 2), got {p.shape}")
        return fn(p[..., 0], p[..., 1], *self._param_values), p.shape[:-1]

    @staticmethod
    def _values(v, shape: tuple[int, ...]) -> np.ndarray:
        if np.shape(v) == shape:
            return np.asarray(v, dtype=np.float64)
        return np.full(shape, v, dtype=np.float64)  # a constant, or one point's scalar

    def f(self, points) -> np.ndarray:
        """f at ``points`` of shape (..., 2) -> shape (...)."""
        out, shape = self._call(self.compiled.f, points)
        return np.array(self._values(out, shape), dtype=np.float64)

    def grad(self, points) -> np.ndarray:
        """The gradient (df/dx, df/dy) at ``points`` (..., 2) -> (..., 2)."""
        parts, shape = self._call(self.compiled.grad, points)
        out = np.empty(shape + (2,))
        out[..., 0], out[..., 1] = parts
        return out

    def value_and_grad(self, points) -> tuple[np.ndarray, np.ndarray]:
        """f and its gradient in one pass that shares subexpressions."""
        (v, gx, gy), shape = self._call(self.compiled.value_and_grad, points)
        out = np.empty(shape + (2,))
        out[..., 0], out[..., 1] = gx, gy
        return self._values(v, shape), out

    def value_and_grad_at(self, x: float, y: float) -> tuple[float, float, float]:
        """f, df/dx, df/dy at one point given as two floats: the runner's single-run path.

        Bit-identical to :meth:`value_and_grad` at that point (see ``_Printer``) and
        about ten times faster than a call on a (1, 2) array. May raise
        ZeroDivisionError where the array version returns inf or NaN.
        """
        return self.compiled.value_and_grad(float(x), float(y), *self._param_values)

    def grad_at(self, x: float, y: float) -> tuple[float, float]:
        """df/dx, df/dy at one point, bit-identical to :meth:`grad` there (its own shared subexpressions)."""
        return self.compiled.grad(float(x), float(y), *self._param_values)

    def float_functions(self) -> tuple[Callable, Callable, tuple[float, ...]]:
        """``(value_and_grad, grad, values)``: :meth:`value_and_grad_at` and :meth:`grad_at` as
        ``value_and_grad(x, y, *values)`` and ``grad(x, y, *values)`` on floats, without their
        per-call wrapping (the runner's loop calls them a thousand times a run)."""
        return self.compiled.value_and_grad, self.compiled.grad, self._param_values

    def inlinable_functions(self) -> tuple[Callable, Callable] | None:
        """:meth:`float_functions`' two functions when this process generated their code from the
        expression (``compile_expression``): the runner's generated loop may hold their bodies
        (``optimizers/fused.py``). None for a typed function: its code came from its sandbox
        worker and is only ever called here."""
        return None if self.prebuilt is not None else (self.compiled.value_and_grad, self.compiled.grad)

    def hessian(self, points) -> np.ndarray:
        """The symmetric Hessian at ``points`` (..., 2) -> (..., 2, 2)."""
        (hxx, hxy, hyy), shape = self._call(self.compiled.hess, points)
        out = np.empty(shape + (2, 2))
        out[..., 0, 0] = hxx
        out[..., 0, 1] = hxy
        out[..., 1, 0] = hxy
        out[..., 1, 1] = hyy
        return out

    # -- text -----------------------------------------------------------------
    def _substituted(self, e: sp.Expr) -> sp.Expr:
        return e.subs({symbol(k): v for k, v in self.params.items()}) if self.params else e

    @property
    def latex(self) -> str:
        """LaTeX of f with its parameters as symbols."""
        return sp.latex(self.expr)

    @property
    def gradient_latex(self) -> str:
        if "gradient_latex" in self.hints:  # printed in the sandbox for typed functions
            return str(self.hints["gradient_latex"])
        gx, gy = self.compiled.gradient
        return sp.latex(sp.Matrix([sp.simplify(gx), sp.simplify(gy)]))

    @property
    def hessian_latex(self) -> str:
        if "hessian_latex" in self.hints:
            return str(self.hints["hessian_latex"])
        return sp.latex(sp.Matrix(self.compiled.hessian).applyfunc(sp.simplify))

    # -- analysis -------------------------------------------------------------
    @property
    def critical_points(self) -> tuple[CriticalPoint, ...]:
        """Minima, maxima and saddles inside the window (see :func:`find_critical_points`)."""
        return _critical_points(self)

    @property
    def minima(self) -> np.ndarray:
        return _points_of_kind(self, "minimum")

    @property
    def saddles(self) -> np.ndarray:
        return _points_of_kind(self, "saddle")

    def with_params(self, **params: float) -> "Landscape":
        """The same surface with some parameter values changed."""
        unknown = set(params) - set(self.params)
        if unknown:
            raise ValueError(f"Unknown parameter(s) for {self.name}: {', '.join(sorted(unknown))}")
        return Landscape(
            name=self.name,
            expr=self.expr,
            params={**self.params, **{k: float(v) for k, v in params.items()}},
            window=self.window,
            description=self.description,
            title=self.title,
            log_colors=self.log_colors,
            hints=self.hints,
            prebuilt=self.prebuilt,  # the same functions: parameter values are passed at call time
        )

    @functools.cached_property
    def _key(self) -> tuple:
        return (self.name, sp.srepr(self.expr), tuple(sorted(self.params.items())), self.window)


def _points_of_kind(landscape: Landscape, kind: str) -> np.ndarray:
    pts = [c.point for c in landscape.critical_points if c.kind == kind]
    return np.array(pts, dtype=np.float64).reshape(-1, 2)


_CRITICAL_POINTS: dict[tuple, tuple[CriticalPoint, ...]] = {}
# Bounded by the points held, not only the surfaces: a typed product of tan factors has ~600
# (~350 bytes each), a catalog surface a handful. 40 000 points: ~14 MB at most.
_MAX_CRITICAL_SURFACES, _MAX_CRITICAL_POINTS = 256, 40_000


def _critical_points(landscape: Landscape) -> tuple[CriticalPoint, ...]:
    # Keyed on the expression and parameter values, so every Landscape object
    # built for the same surface shares one search.
    key = landscape._key
    found = _CRITICAL_POINTS.get(key)
    if found is None:
        found = find_critical_points(landscape, grid=landscape.critical_grid)
        held = sum(len(v) for v in list(_CRITICAL_POINTS.values()))
        if len(_CRITICAL_POINTS) >= _MAX_CRITICAL_SURFACES or held + len(found) > _MAX_CRITICAL_POINTS:
            _CRITICAL_POINTS.clear()
        _CRITICAL_POINTS[key] = found
    return found


def find_critical_points(
    landscape: Landscape, grid: int = 31, iterations: int = 60, tol: float = 1e-9
) -> tuple[CriticalPoint, ...]:
    """Critical points in the view window: numeric, then made exact where sympy verifies.

    Newton's method on the gradient runs from a ``grid`` x ``grid`` lattice of
    starts at once. Converged points inside the window are merged, classified
    by their Hessian, and each coordinate is tried as a small-denominator
    rational: when sympy confirms that the exact gradient vanishes there, the
    exact coordinates are kept (Rosenbrock's (a, a^2), Himmelblau's (3, 2)).
    """
    from .curvature import classify  # curvature imports this module

    (x0, x1), (y0, y1) = landscape.window
    gx, gy = np.meshgrid(np.linspace(x0, x1, grid), np.linspace(y0, y1, grid))
    p = np.stack([gx.ravel(), gy.ravel()], axis=-1)
    with np.errstate(all="ignore"):
        for _ in range(iterations):
            g = landscape.grad(p)
            h = landscape.hessian(p)
            det = h[:, 0, 0] * h[:, 1, 1] - h[:, 0, 1] ** 2
            ok = np.abs(det) > 1e-300
            safe = np.where(ok, det, 1.0)
            dx = (h[:, 1, 1] * g[:, 0] - h[:, 0, 1] * g[:, 1]) / safe
            dy = (h[:, 0, 0] * g[:, 1] - h[:, 0, 1] * g[:, 0]) / safe
            step = np.where(ok[:, None], np.stack([dx, dy], -1), 0.0)
            p = p - step
        g = landscape.grad(p)
        scale = 1.0 + np.abs(landscape.f(p))
        good = np.all(np.isfinite(p), axis=1) & (np.linalg.norm(g, axis=1) < 1e-6 * scale)
    span = max(x1 - x0, y1 - y0)
    inside = (p[:, 0] >= x0 - 1e-9) & (p[:, 0] <= x1 + 1e-9) & (p[:, 1] >= y0 - 1e-9) & (p[:, 1] <= y1 + 1e-9)
    # Merge points closer than 1e-6 of the window, first come first kept: against all kept points
    # at once (a function with hundreds of critical points, a product of tan factors, took
    # ~1 s in a point-by-point loop; this is ~10 ms).
    candidates = p[good & inside]
    kept = np.empty_like(candidates)
    n = 0
    for q in candidates:
        d = kept[:n] - q
        if n == 0 or np.sqrt((d * d).sum(axis=1)).min() > 1e-6 * span:
            kept[n] = q
            n += 1
    found: list[np.ndarray] = list(kept[:n])
    found.sort(key=lambda q: (round(q[0], 9), round(q[1], 9)))
    if not found:
        return ()
    pts = np.array(found)
    kinds = classify(landscape.hessian(pts))
    values = landscape.f(pts)
    points = []
    # User text: no unbounded sympy work here; a data surface has no expression to verify.
    verify = landscape.symbolic and not landscape.hints.get("typed")
    for q, kind, value in zip(pts, kinds, values):
        exact = _exact(landscape, q) if verify else None
        xy = (float(exact[0]), float(exact[1])) if exact else (float(q[0]), float(q[1]))
        points.append(CriticalPoint(point=xy, kind=str(kind), exact=exact, value=float(value)))
    return tuple(points)


def _exact(landscape: Landscape, q: np.ndarray) -> tuple[sp.Expr, sp.Expr] | None:
    """Small rationals near ``q`` at which sympy finds the gradient exactly zero, else None."""
    candidate = []
    for c in q:
        frac = Fraction(float(c)).limit_denominator(64)
        if abs(float(frac) - c) > 1e-7:
            return None
        candidate.append(sp.Rational(frac.numerator, frac.denominator))
    if any(not _is_exact_number(v) for v in landscape.params.values()):
        return None
    subs = {X: candidate[0], Y: candidate[1]}
    subs.update({symbol(k): sp.nsimplify(v) for k, v in landscape.params.items()})
    try:
        zero = all(sp.simplify(d.subs(subs)) == 0 for d in landscape.compiled.gradient)
    except Exception:  # sympy may not decide; the numeric point still stands
        return None
    return (candidate[0], candidate[1]) if zero else None


def _is_exact_number(v: float) -> bool:
    return abs(float(Fraction(v).limit_denominator(1000)) - v) < 1e-12
