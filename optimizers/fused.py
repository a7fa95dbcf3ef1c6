"""One run of an elementwise rule as one loop on Python floats, made from the rule itself.

A single run of an elementwise rule (SGD, momentum, Nesterov, AdaGrad, RMSProp,
Adam) is stepped on plain floats (``runner.run_batch``): for one run, NumPy's
per-call overhead on (1, 2) arrays is nearly all the cost. Calling the rule's
``update`` once per coordinate and building its state tuple each time still
costs about twice the arithmetic itself, and a class clicking its own starts
runs six such runs per click. So the rule is *traced* instead: its ``probe``
and ``update`` run once on stand-in values that write down each operation as
it happens, in order; those operations, for both coordinates, become the body
of one generated loop (:data:`_TEMPLATE`), compiled once per rule and reused
for every setting. The rule stays the one statement of its formula, and the
loop does the same IEEE operations in the same order on the same floats, so
a run equals the batched loop's to the last bit (``tests/test_runner.py``).

What a trace may meet: ``+ - * /`` (a traced value on either side), unary
minus, and ``np.sqrt`` (written as ``math.sqrt``; both are correctly rounded,
which is why ``rules._sqrt`` may use either). Anything else a rule does to a
value (a comparison, a power, ``float()``, a NumPy function) stops the trace;
:func:`loop` then returns None and the runner takes the batched loop.

Nothing from outside the program reaches ``compile``: the numbers a rule
closes over (its learning rate, betas, eps) are passed to the loop as
arguments, and the source holds only the template, names made here and, for
a catalog surface, the body of the f-and-gradient code this process generated
from the catalog's own expression (:func:`_inlined`). A typed function's code
came from its sandbox worker: the loop only calls it.
"""

from __future__ import annotations

import ast
import functools
import inspect
import math
import textwrap
from dataclasses import dataclass
from typing import Callable, Mapping

__all__ = ["Loop", "loop"]


class _Untraceable(Exception):
    """The rule did something to a traced value that the loop cannot write down."""


class _Tape:
    """The operations of one trace, as assignments to fresh locals; constants go to a shared table.

    ``known`` maps each expression already computed earlier in the loop's body to its local:
    an operation written the same way on the same locals (the shared step count's update, for
    the second coordinate) is that local again, not a second computation of the same value.
    """

    def __init__(self, prefix: str, constants: dict, known: dict[str, str]):
        self.prefix, self.constants, self.known, self.lines = prefix, constants, known, []

    def name_of(self, value) -> str:
        if isinstance(value, _Traced):
            return value.name
        if type(value) in (float, int):  # a number the rule closes over, or one it computed from them
            key = (type(value), repr(value))  # repr: -0.0 and 0.0 are two constants
            if key not in self.constants:
                self.constants[key] = (f"_k{len(self.constants)}", value)
            return self.constants[key][0]
        raise _Untraceable(type(value).__name__)

    def emit(self, expression: str) -> "_Traced":
        if expression not in self.known:
            self.known[expression] = f"{self.prefix}{len(self.lines)}"
            self.lines.append(f"{self.known[expression]} = {expression}")
        return _Traced(self, self.known[expression])


class _Traced:
    """A stand-in float: each arithmetic operation on it is one line on its tape."""

    __slots__ = ("tape", "name")

    def __init__(self, tape: _Tape, name: str):
        self.tape, self.name = tape, name

    def _binary(self, other, op: str, reflected: bool) -> "_Traced":
        a, b = self.name, self.tape.name_of(other)
        return self.tape.emit(f"{b} {op} {a}" if reflected else f"{a} {op} {b}")

    def __neg__(self):
        return self.tape.emit(f"-{self.name}")

    def sqrt(self):  # what np.sqrt calls on an object
        return self.tape.emit(f"sqrt({self.name})")

    def _refuse(self, *args):
        raise _Untraceable("a traced value used as a truth value, a number or in a comparison")

    __bool__ = __float__ = __int__ = __index__ = __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __hash__ = None


def _operator(op: str, reflected: bool):
    def method(self: _Traced, other) -> _Traced:
        return self._binary(other, op, reflected)

    return method


for _name, _op in (("add", "+"), ("sub", "-"), ("mul", "*"), ("truediv", "/")):
    setattr(_Traced, f"__{_name}__", _operator(_op, False))
    setattr(_Traced, f"__r{_name}__", _operator(_op, True))  # the traced value on the right
del _name, _op


_TEMPLATE = """\
def run(vag, grad_at, args, x0, x1, factors, tilts, steps, tol_sq, bound_sq, {arguments}):
    isfinite, sqrt = _isfinite, _sqrt
{unpack}    loss, g0, g1 = vag(x0, x1, *args)
    rows = [({row})]
    append = rows.append  # looked up once, not on every step
    code, stop = RUNNING, steps
    if not (x0 * x0 + x1 * x1 < bound_sq and isfinite(loss + g0 + g1)):
        code, stop = (UNDEFINED_START if x0 * x0 + x1 * x1 < bound_sq else DIVERGED), 0
    t = 0
    for t in range(steps if code == RUNNING else 0):
        if g0 * g0 + g1 * g1 < tol_sq:
            code, stop = CONVERGED, t
            break
{gradient}
        factor = factors[t]
{update}
        y0, y1 = x0 + {u0}, x1 + {u1}
{value_and_grad}
        total = loss_new + f0 + f1
        # total - total is 0.0 exactly when total is finite (inf - inf and NaN give NaN):
        # math.isfinite without a call, once per step.
        if not (y0 * y0 + y1 * y1 < bound_sq and total - total == 0.0):
            code, stop = DIVERGED, t
            rows.append(rows[-1])  # a stopped run holds its last point
            t += 1
            break
        x0 = y0; x1 = y1; loss = loss_new; g0 = f0; g1 = f1  # one by one: no tuple per step
{commit}
        append(({row}))
    else:
        t = steps if code == RUNNING else 0
    if code == RUNNING:
        code = CONVERGED if g0 * g0 + g1 * g1 < tol_sq else MAX_STEPS
    return code, stop, x0, x1, loss, g0, g1, rows
"""

_INDENT = " " * 8


@dataclass(frozen=True)
class Loop:
    """A rule's generated loop, with the constants of the setting it was traced with.

    ``run(vag, grad_at, args, x0, x1, factors, tilts, steps, tol_sq, bound_sq, states)`` steps
    one run: ``vag(x, y, *args) -> (f, df/dx, df/dy)`` and ``grad_at(x, y, *args)`` on floats,
    ``factors`` the schedule's factor per step (floats), ``tilts`` None or the noise
    ``(e0, e1)`` added to each step's gradient, ``states`` the start's state, one
    tuple of floats per coordinate. It returns ``(status code, stop step, x0, x1,
    loss, g0, g1, rows)``, each row ``(x0, x1, loss, g0, g1, *recorded)``: the
    fields in the order :func:`loop` was given them, a field per run (``shared``) once,
    else one per coordinate. It raises what float arithmetic raises (ZeroDivisionError,
    OverflowError, ValueError from ``math.sqrt``), where arrays give inf or NaN.
    """

    source: str
    _compiled: Callable
    constants: tuple

    def run(self, vag, grad_at, args, x0, x1, factors, tilts, steps, tol_sq, bound_sq, states):
        return self._compiled(vag, grad_at, args, x0, x1, factors, tilts, steps, tol_sq, bound_sq, *states[0], *states[1], *self.constants)


def loop(
    opt,
    state_type: type,
    recorded: tuple[str, ...],
    shared: frozenset[str],
    noise: bool,
    statuses: Mapping[str, int],
    inline: tuple[Callable, Callable] | None = None,
) -> Loop | None:
    """The generated loop of elementwise rule ``opt`` (its state a ``state_type`` of floats), or None.

    ``recorded``: the state fields a row keeps; ``shared``: those that are one value per run
    (Adam's step count) rather than one per coordinate; ``noise``: whether each step's gradient
    gets a tilt; ``statuses``: the runner's codes RUNNING, CONVERGED, DIVERGED, MAX_STEPS,
    UNDEFINED_START. None when the rule cannot be traced (see the module's docstring).

    ``inline``: the surface's ``(value_and_grad, grad)`` when the loop may hold their bodies
    instead of calling them (code generated in this process from a catalog expression, see
    :func:`_inlined`): a call, its argument tuple and its list cost about a third of what the
    body does. The loop then serves that surface only (its parameters still come as ``args``).
    """
    fields = state_type._fields
    constants: dict = {}
    # What a line may reuse: the probe's lines come before the gradient is taken, the update's
    # after it, so a probe reuses only probe lines and an update any line traced before it.
    probe_known: dict[str, str] = {}
    update_known: dict[str, str] = {}
    gradient, update, commit, step_names = [], [], [], []
    try:
        for c in (0, 1):
            # A shared field is one local for both coordinates (the first's); so the second
            # coordinate's operations on it alone are the first's, computed once.
            names = [f"s0_{i}" if k in shared else f"s{c}_{i}" for i, k in enumerate(fields)]
            state = state_type(*(_Traced(None, n) for n in names))
            x = _Traced(None, f"x{c}")
            if opt.probe is not None:
                tape = _Tape(f"p{c}_", constants, probe_known)
                _attach(tape, state, x)
                probe = tape.name_of(opt.probe(state, x))
                gradient += tape.lines + [f"q{c} = {probe}"]
            update_known.update(probe_known)
            tape = _Tape(f"u{c}_", constants, update_known)
            grad, factor = _Traced(tape, f"h{c}"), _Traced(tape, "factor")
            _attach(tape, state, x)
            step, new = opt.update(grad, state, x, factor, None)
            if type(new) is not state_type:
                return None
            update += tape.lines
            step_names.append(tape.name_of(step))
            commit += [(f"s{c}_{i}", tape.name_of(v)) for i, (k, v) in enumerate(zip(fields, new)) if c == 0 or k not in shared]
    except (_Untraceable, TypeError, AttributeError, ValueError):
        return None
    value_and_grad, probe_grad, needed = ("loss_new, f0, f1 = vag(y0, y1, *args)",), ("h0, h1 = grad_at(q0, q1, *args)",), {}
    n_args = 0
    if inline is not None:
        at_step = _inlined(inline[0], ("y0", "y1"), ("loss_new", "f0", "f1"), "_v")
        at_probe = _inlined(inline[1], ("q0", "q1"), ("h0", "h1"), "_w") if opt.probe is not None else ((), (), 0)
        if at_step is not None and at_probe is not None:
            (value_and_grad, found, n_args), (inlined_probe, more, _) = at_step, at_probe
            needed = {**dict(found), **dict(more)}
            if opt.probe is not None:
                probe_grad = inlined_probe
    if opt.probe is not None:
        gradient += list(probe_grad)
    else:
        gradient.append("h0, h1 = g0, g1")
    if noise:
        gradient += ["e0, e1 = tilts[t]", "h0, h1 = h0 + e0, h1 + e1"]  # the same sums as the batched oracle's
    state_names = [f"s{c}_{i}" for c in (0, 1) for i in range(len(fields))]
    targets = [t for t, _ in commit]
    if any(v in targets[:i] for i, (_, v) in enumerate(commit)):  # one reads a field set before it: at once
        commit_line = f"{', '.join(targets)} = {', '.join(v for _, v in commit)}"
    elif commit:  # one by one: no tuple built and taken apart on every step
        commit_line = "; ".join(f"{t} = {v}" for t, v in commit)
    else:
        commit_line = "pass"
    row = ["x0", "x1", "loss", "g0", "g1"]
    for k in recorded:
        i = fields.index(k)
        row += [f"s0_{i}"] if k in shared else [f"s0_{i}", f"s1_{i}"]
    names = [name for name, _ in constants.values()]
    source = _TEMPLATE.format(
        arguments=", ".join(state_names + names),
        row=", ".join(row),
        gradient="\n".join(_INDENT + line for line in gradient),
        update="\n".join(_INDENT + line for line in update),
        u0=step_names[0],
        u1=step_names[1],
        commit=_INDENT + commit_line,
        value_and_grad="\n".join(_INDENT + line for line in value_and_grad),
        unpack=f"    {''.join(f'_a{i}, ' for i in range(n_args))}= args\n" if n_args else "",
    )
    compiled = _compile(source, tuple(sorted(statuses.items())), tuple(sorted(needed.items(), key=lambda kv: kv[0])))
    return Loop(source, compiled, tuple(v for _, v in constants.values()))


@functools.lru_cache(maxsize=64)
def _inlined(fn: Callable, point: tuple[str, str], targets: tuple[str, ...], prefix: str):
    """Generated function ``fn``'s body as lines that compute it at ``point`` into ``targets``,
    with the names it reads from its module and the number of its parameters; None unless it
    has the shape sympy's ``lambdify`` gives it. Kept per function: reading and rewriting its
    source takes about a millisecond, and every new setting of a rule asks again.

    That shape: ``def f(x, y, *params)``, assignments to locals, then ``return [e0, e1, ...]``
    (``landscapes.core.compile_expression``; ``inspect.getsource`` reads it, as lambdify's
    documentation says). Its parameters become ``_a0, _a1, ...`` (the loop unpacks ``args``
    into them), its locals ``<prefix><name>`` and each name it reads from its module
    ``_g_<name>``. The lines are the same expressions, so the same operations on the same
    floats in the same order: the loop's results stay bit for bit those of the call.
    """
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        return None
    func, module = tree.body[0], getattr(fn, "__globals__", {})
    a = func.args
    if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs or a.defaults or len(a.args) < 2 or func.decorator_list:
        return None
    *body, last = func.body
    result = getattr(last, "value", None)
    if not (isinstance(last, ast.Return) and isinstance(result, (ast.List, ast.Tuple)) and len(result.elts) == len(targets)):
        return None
    if not all(isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name) for st in body):
        return None
    params = [f"_a{i}" for i in range(len(a.args) - 2)]
    names = dict(zip((arg.arg for arg in a.args), (*point, *params)))
    names.update({st.targets[0].id: prefix + st.targets[0].id for st in body})
    needed: dict[str, object] = {}

    class Rename(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.Name:
            if node.id in names:
                new = names[node.id]
            elif node.id in module:
                new = f"_g_{node.id}"
                needed[new] = module[node.id]
            else:
                raise _Untraceable(node.id)
            return ast.copy_location(ast.Name(new, node.ctx), node)

    try:
        lines = [ast.unparse(Rename().visit(st)) for st in body]
        values = Rename().visit(result)
    except _Untraceable:
        return None
    lines.append(f"{', '.join(targets)} = {', '.join(ast.unparse(e) for e in values.elts)}")
    return tuple(lines), tuple(sorted(needed.items(), key=lambda kv: kv[0])), len(params)


def _attach(tape: _Tape, state, x) -> None:
    for v in (*state, x):
        v.tape = tape


@functools.lru_cache(maxsize=64)
def _compile(source: str, statuses: tuple[tuple[str, int], ...], needed: tuple[tuple[str, object], ...] = ()) -> Callable:
    """``source``'s function; the same rule traced under any setting has the same source.
    ``needed``: what an inlined surface reads from its module (``_g_<name>``, see :func:`_inlined`)."""
    namespace = {"__builtins__": {"range": range}, "_isfinite": math.isfinite, "_sqrt": math.sqrt, **dict(statuses), **dict(needed)}
    exec(compile(source, "<fused loop>", "exec"), namespace)  # noqa: S102 - the template and names made above, see the module's docstring
    return namespace["run"]
