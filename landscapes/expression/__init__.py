"""Typed functions: safe parsing of functions that users type, such as ``(1-x)^2 + 100*(y-x^2)^2``.

Nothing the user typed ever reaches ``eval``, ``exec``, ``sympify``,
``parse_expr`` or ``lambdify``. The text goes through three stages, one module each:

1. :mod:`~landscapes.expression.validate` (in the calling process, pure Python,
   no sympy): bounds on the text (length, plain ASCII, allowed characters,
   bracket depth), then ``ast.parse(text, mode="eval")`` with ``^`` read as
   ``**``, then a walk of the syntax tree that accepts only a whitelist of node
   types, counts nodes, bounds the nesting depth, the size of every number and
   of every constant exponent (constant sub-expressions are folded with float
   arithmetic, which cannot hang), and collects the parameter names.
2. :mod:`~landscapes.expression.build` turns the checked tree into a sympy
   expression, node by node, from the whitelist. It runs only inside a worker
   process (:mod:`~landscapes.expression.worker`, started and timed by
   :mod:`~landscapes.expression.pool`), together with the derivatives, the
   Hessian, ``lambdify`` and a trial evaluation, under a budget of its own
   CPU time, a wall-clock cap and a memory limit: a formula that is small but
   symbolically explosive ties up (at worst kills) a worker process, not the
   server. The worker also refuses functions that are complex-valued,
   undefined on almost all of the window, hold numbers beyond the float range
   or overflow there. Its answer is a :class:`~landscapes.expression.reply.Reply`:
   the sympy expression and the NumPy code lambdify generated for it.
3. :mod:`~landscapes.expression.surface` (:func:`from_expression`) takes the
   worker's sympy expression (a pickled sympy object, never text) and makes
   the functions from the worker's generated code
   (:mod:`~landscapes.expression.generated`: checked against the printer's
   grammar, then defined; no sympy work, no second compile), and builds the
   :class:`~landscapes.core.Landscape`.

What is cached: a verdict about the function (syntax, the allowlist, the CPU
budget spent, the memory limit, the checks on its values) is kept per (text,
window) for everyone. An answer caused by load (no free worker, the wall-clock
cap reached with the CPU budget unspent, a worker killed from outside) says
"the server is busy, try again" (``ExpressionError.transient``) and is never
kept. The answers are one table, :data:`~landscapes.expression.errors.OUTCOMES`.

Modules and their imports (a DAG; ``core`` is :mod:`landscapes.core`)::

    errors, limits                       (leaves)
    validate  -> errors, limits
    window    -> core, errors, limits
    generated -> core, errors
    reply     -> core, errors, generated
    build     -> core, errors, validate
    worker    -> core, build, errors, generated, limits, reply, validate, window
    pool      -> core, errors, limits, reply, worker
    surface   -> core, errors, generated, limits, pool, reply, validate, window
    (package) -> errors, pool, surface, validate

What may be typed
-----------------
* numbers in decimal notation: ``3``, ``2.5``, ``.5``, ``1e-3`` (at most 1e6 in size)
* the variables ``x`` and ``y``; the constants ``pi`` and ``e``
* parameters: any other name of 1 to 8 ASCII letters (``a``, ``b``, ``k``,
  ``alpha``, ``width``) becomes a parameter with default value 1.0; see
  :func:`parameters`. ``z`` is refused (the surface has two variables), and so
  are multi-letter names containing ``x`` or ``y`` (``xy`` means ``x*y``),
  Python's reserved words (``lambda``: write ``lam``) and the names of
  special values (``nan``, ``inf``, ``infinity``, ``oo``, ``zoo``, any case).
* ``+ - * /``, powers ``^`` or ``**``, unary ``+`` and ``-``, parentheses
* one-argument functions: ``sin cos tan exp log ln sqrt abs sinh cosh tanh atan``
  (``ln`` is ``log``, the natural logarithm)

Everything else is refused with an :class:`ExpressionError` that says what is
wrong and at which column (1-based). A message quotes a typed character only
when it can be seen; an invisible or direction-changing one (U+202E) is named
by its code point.
"""

from __future__ import annotations

from .errors import ExpressionError
from .pool import warm_up
from .surface import clear_cache, from_expression
from .validate import Parsed, parameters, validate

__all__ = ["ExpressionError", "Parsed", "clear_cache", "from_expression", "parameters", "validate", "warm_up"]
