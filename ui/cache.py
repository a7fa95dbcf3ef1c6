"""Caching split by purpose: compiled surfaces, contour grids, runs and schedules, each its own memo.

Every value here is built once per process and shared by every session, and
nobody mutates it (arrays, frozen dataclasses, compiled functions). Keys are
plain strings, numbers and tuples: sympy objects are not hashed.

Why not ``st.cache_resource`` / ``st.cache_data``: a rerun of the Playground
looks these up about ten times, and Streamlit hashes each call's arguments
with its own hasher (about a millisecond a lookup, profiled) and
``st.cache_data`` unpickles a copy on every hit. With 30 students moving a
slider at once that was a noticeable share of the server's only core. A
dictionary keyed by the (hashable) arguments costs microseconds. As Streamlit's
caches do, :func:`shared` computes each key once even when several sessions
ask for it at the same moment.

The server's two bounds are declared here, once (README "Performance",
docs/deploy.md "Bounds"): the bytes each memo may hold (:data:`MEMO_MB`), and the
CPU time a page's runs may take (:data:`RUN_BUDGET_S`, with the cost model of
:func:`run_cost` that turns it into a number of steps).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import functools
import math
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

import figures
import landscapes
import optimizers

# -- The server's bounds (one place) -------------------------------------------------------------
# What all the memos together may hold, in MB; a host with more memory can raise it
# (DESCENT_LAB_MEMO_MB=400). Measured against it in bench/soak.py.
MEMO_BUDGET_MB = float(os.environ.get("DESCENT_LAB_MEMO_MB", "120"))
# Each memo's share of it. The runs and figures of the views being looked at right now
# are what a class shares; older ones are recomputed when asked for again.
MEMO_SHARES = {
    "surface": 0.15,  # compiled surfaces: sympy trees, generated code, critical points (an estimate, see surface_bytes)
    "contour": 0.10,  # 150 x 150 grids, ~0.5 MB each
    # A class where everyone explores on their own keeps each session's six runs for its next
    # move (fewer steps is their prefix): ~0.1 MB each on the benchmark link, 360 runs for 60
    # sessions. Its figures are new on every move and seldom asked for again.
    "trajectory": 0.45,  # one run: ~50 bytes per step and state field
    "averaged": 0.03,  # a run's averaged path, (steps + 1) x 2 floats
    "path_payloads": 0.14,  # the path figure encoded, as sent (~0.07 MB for the benchmark link, more with overlays)
    "readouts": 0.01,
    "schedule": 0.01,
    "run_cost": 0.01,  # the cost model: a few numbers per surface and optimizer
    "other": 0.05,  # each memo declared with an entry count only (two: the Sweep's grids, the lessons' runs)
}  # with "other" counted once per memo that takes it, the shares add up to 1


# Once the memos have dropped this much, freed memory goes back to the system (glibc's
# malloc_trim): each session's script runs in its own thread, and glibc keeps what a thread
# freed in that thread's arena, so without it the server's size grows past what it holds.
TRIM_AFTER_MB = 32


def memo_bytes(name: str) -> int:
    """The byte bound of memo ``name`` (its share of ``MEMO_BUDGET_MB``)."""
    return int(MEMO_SHARES[name] * MEMO_BUDGET_MB * 2**20)


# CPU seconds the Playground's runs on one page may take together, predicted by the cost
# model below before anything runs. With the rest of a page (the script, the figure, the
# readouts: 0.1-0.4 s) a page stays under the 1.5 s of server CPU that issue 16 set.
RUN_BUDGET_S = 0.8
PAGE_BAR_S = 1.5  # the bar itself, as the page's notice states it
# The cost model's probe: runs of these two lengths on a stand-in (see _StandIn), the best of
# PROBE_REPEATS each; the difference is the cost per step, the rest the cost per run.
PROBE_STEPS = (4, 20)
PROBE_REPEATS = 2
# Measured costs are rounded up to the next power of 2**(1/4) (19% apart), and the step cap down
# to two significant digits: a surface measured again (another process, an evicted entry) lands
# on the same cap unless its speed moved across a bin's edge.
COST_BINS_PER_OCTAVE = 4
# Runs predicted above HEAVY_RUNS_S are computed HEAVY_SLOTS pages at a time; the others wait
# without holding the interpreter. Every session's script is a thread of one interpreter, so
# ten heavy pages computing at once would each get a tenth of it, and so would a light page
# (with one slot it competes with one). Heavy pages lose nothing: they could not run in
# parallel anyway, and the first finishes sooner.
HEAVY_RUNS_S = 0.1
HEAVY_SLOTS = 1
# The Playground's race is drawn LANE_SLOTS pages at a time (``compute.lane``); the others wait
# their turn without holding the interpreter. Every session's script is a thread of one
# interpreter: thirty computing at once hand it to each other every time one lets go (a NumPy
# call on a run's history, a message sent), each resuming with cold caches. Measured with 30
# sessions on their own starts, alternated with the code before: p95 0.59 s in turn against
# 0.81 s all at once (0.66 s with two slots) in one batch, 0.75 s against 0.86 s in another.
# Nothing in the race should wait on anything but the CPU (``compute.lane`` says how); should
# one still wait, a page that has waited LANE_WAIT_S for its turn goes in beside it.
LANE_SLOTS = 1
LANE_WAIT_S = 5.0
# Runs whose longest computed length is remembered (a few hundred bytes each): a request for
# fewer steps of one of them is its prefix, not a new run (``trajectory``).
LONGEST_RUNS = 4096
FALLBACK_STEP_S = 1e-3  # per step, when the probe itself fails: budget as a slow surface would be
MIN_STEPS = 5  # the steps slider's least value: a capped run takes at least this many


Params = tuple[tuple[str, float], ...]


def read_only(*arrays) -> None:
    """Mark arrays that a shared memo hands to every session as read-only (None is skipped)."""
    for a in arrays:
        if isinstance(a, np.ndarray):
            a.setflags(write=False)


_LEAVES = frozenset({str, bytes, bytearray, int, float, bool, complex, type(None)})


def nbytes(value) -> int:
    """An estimate of the memory ``value`` holds: arrays by their buffers, strings and bytes by
    their length, containers, mappings and dataclasses by what they hold, each object once.

    An array that is a view counts the whole buffer it keeps alive (a run cut at its stop
    holds the rows of all the steps it was given), once however many views share it.
    """
    # A loop over a stack, not a recursive inner function: that function would hold itself (and
    # the set of ids) in a reference cycle, left for the cycle collector, which the server runs seldom.
    seen: set[int] = set()
    stack = [value]
    total = 0
    size, ndarray = sys.getsizeof, np.ndarray
    # Dispatch on the exact type first: a figure is thousands of small dicts, lists and strings,
    # and isinstance against Mapping (an abstract class) is the slow path.
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        kind = type(v)
        if kind in _LEAVES:
            total += size(v)
            continue
        if kind is dict or kind is list or kind is tuple:
            total += size(v)
            for x in (v.values() if kind is dict else v):
                if type(x) in _LEAVES:  # counted here, not pushed: most of a figure
                    if id(x) not in seen:
                        seen.add(id(x))
                        total += size(x)
                else:
                    stack.append(x)
            if kind is dict:
                stack.extend(v.keys())
            continue
        if isinstance(v, ndarray):
            root = v
            while isinstance(root.base, ndarray):
                root = root.base
            if root is not v:
                if id(root) in seen:
                    continue
                seen.add(id(root))
            total += root.nbytes + 112  # 112: the array object itself
            continue
        total += size(v)
        if isinstance(v, (str, bytes, bytearray, int, float, bool, complex)) or v is None:
            continue
        if isinstance(v, Mapping):
            for k, x in v.items():
                stack += (k, x)
        elif isinstance(v, (list, tuple, set, frozenset)):
            stack.extend(v)
        elif dataclasses.is_dataclass(v):
            stack.extend(getattr(v, f.name) for f in dataclasses.fields(v))
        elif hasattr(v, "__dict__"):
            stack.append(vars(v))
    return total


def _malloc_trim():
    """glibc's malloc_trim(0), or None where the C library has none (musl, macOS)."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_TRIM = _malloc_trim()
_dropped = [0]  # bytes the memos dropped since the last trim
_dropped_lock = threading.Lock()


def note_dropped(n: int) -> None:
    """Count ``n`` bytes a memo let go; past ``TRIM_AFTER_MB``, hand freed memory back to the system.
    Called after the value is unreferenced (outside any memo's lock: a trim takes a few ms)."""
    with _dropped_lock:
        _dropped[0] += n
        due = _dropped[0] >= TRIM_AFTER_MB * 2**20
        if due:
            _dropped[0] = 0
    if due and _TRIM is not None:
        _TRIM(0)


def shared(max_entries: int | None = None, key=None, max_bytes: int | None = None, size=nbytes):
    """Memoize a function of hashable arguments for the whole process, least recently used out first.

    Bounded by bytes: ``size(value)`` estimates what each value holds (default
    :func:`nbytes`), and entries leave, least recently used first, while the memo
    holds more than ``max_bytes`` (default: the ``"other"`` share of
    :data:`MEMO_BUDGET_MB`) or more than ``max_entries`` values. A value larger than
    the whole bound is returned but not kept.

    ``key(*args)``, when given, names the value instead of the arguments (some
    of which may then be unhashable). A value is computed by one thread; others
    asking for the same key wait for it. An exception is not cached (it
    reaches every caller that computed).
    """
    bound = memo_bytes("other") if max_bytes is None else int(max_bytes)
    most = math.inf if max_entries is None else max_entries

    def decorate(fn):
        values: OrderedDict = OrderedDict()  # args -> (value, its size in bytes)
        computing: dict = {}
        lock = threading.Lock()
        held = [0]  # bytes held by ``values``

        def evict() -> int:  # under ``lock``; the bytes dropped
            dropped = 0
            while values and (held[0] > bound or len(values) > most):
                _, (_, n) = values.popitem(last=False)
                held[0] -= n
                dropped += n
            return dropped

        @functools.wraps(fn)
        def cached(*call_args):
            args = call_args if key is None else key(*call_args)
            with lock:
                if args in values:
                    values.move_to_end(args)
                    return values[args][0]
                key_lock = computing.setdefault(args, threading.Lock())
            with key_lock:
                with lock:
                    if args in values:  # computed by another session meanwhile
                        return values[args][0]
                try:
                    value = fn(*call_args)
                    n = size(value)  # outside the memo's lock: a large figure takes a few ms to walk
                except BaseException:
                    with lock:
                        if computing.get(args) is key_lock:
                            del computing[args]
                    raise
                dropped = 0
                with lock:  # store and release in one step: no one can start a second computation
                    if n <= bound:
                        values[args] = (value, n)
                        held[0] += n
                        dropped = evict()
                    if computing.get(args) is key_lock:
                        del computing[args]
                if dropped:
                    note_dropped(dropped)
                return value

        def peek(*call_args):
            """The value kept for these arguments, or None: never computes."""
            args = call_args if key is None else key(*call_args)
            with lock:
                if args in values:
                    values.move_to_end(args)
                    return values[args][0]
            return None

        def clear() -> None:
            with lock:
                values.clear()
                held[0] = 0

        def stats() -> tuple[int, int]:
            """(entries, bytes) held now."""
            with lock:
                return len(values), held[0]

        cached.clear = clear
        cached.peek = peek
        cached.stats = stats
        cached.max_bytes = bound
        return cached

    return decorate


def surface_bytes(s) -> int:
    """An estimate of what a compiled surface holds: its sympy trees (the function, and the
    gradient and Hessian when compiled here: ~500 bytes a node with sympy's bookkeeping,
    measured), its generated functions' code and its data. A heavy typed function (ten tan
    factors) comes to ~0.2-0.3 MB."""
    compiled = s.__dict__.get("compiled") or getattr(s, "prebuilt", None)  # None: not compiled yet
    trees = [s.expr]
    if compiled is not None:
        trees += [*(compiled.gradient or ()), *(row for pair in (compiled.hessian or ()) for row in pair)]
    nodes: set[int] = set()
    stack = list(trees)
    while stack:
        e = stack.pop()
        if id(e) not in nodes:
            nodes.add(id(e))
            stack.extend(getattr(e, "args", ()))
    code = 0
    if compiled is not None:
        for fn in (compiled.f, compiled.grad, compiled.hess, compiled.value_and_grad):
            co = getattr(fn, "__code__", None)
            # The bytecode with its line table, names and constants: about four times the bytecode.
            code += 4 * len(co.co_code) if co is not None else 0
    data = getattr(s, "data", None)
    return 32 * 1024 + 512 * len(nodes) + code + (nbytes(data) if data is not None else 0)


def _surface_key(name: str, params: Params, expression: str = "", scaling: str = "", *rest) -> tuple:
    # Callers that leave out the defaults name the same surface: one entry, one compile.
    return (name, params, expression, scaling, *rest)


@shared(max_bytes=memo_bytes("surface"), size=surface_bytes, key=_surface_key)
def surface(name: str, params: Params, expression: str = "", scaling: str = "") -> landscapes.Landscape:
    """A catalog surface, or a typed function (name "custom"), compiled once and shared by every session.

    A typed function goes through the sandboxed parser; its ExpressionError
    reaches the caller (and is not cached here; the parser keeps its own).
    ``scaling`` is a data surface's input scaling ("" for its default, or a formula surface).
    """
    if name == "custom":
        s = landscapes.from_expression(expression, **dict(params))
        with np.errstate(all="ignore"):  # (0, 0) may be outside the domain
            s.f((0.0, 0.0))
            _ = s.critical_points
        return s
    s = landscapes.get(name, scaling=scaling or None, **dict(params)) if landscapes.catalog.is_data(name) else landscapes.get(name, **dict(params))
    s.f((0.0, 0.0))  # compile now, not inside the first run
    _ = s.critical_points
    return s


@shared(max_bytes=memo_bytes("contour"), key=lambda name, params, expression="", scaling="", n=150: (name, params, expression, scaling, n))
def contour(name: str, params: Params, expression: str = "", scaling: str = "", n: int = 150) -> figures.Grid:
    return figures.grid(surface(name, params, expression, scaling), n)  # grid() masks points outside the domain


class _Longest:
    """The longest run computed for each set of a run's arguments but its steps (up to ``most``
    of them, least recently used out first): a shorter request is its prefix."""

    def __init__(self, most: int):
        self.most, self.steps, self.lock = most, OrderedDict(), threading.Lock()

    def get(self, run_id) -> int | None:
        with self.lock:
            if run_id in self.steps:
                self.steps.move_to_end(run_id)
            return self.steps.get(run_id)

    def note(self, run_id, steps: int) -> None:
        with self.lock:
            if steps >= self.steps.get(run_id, 0):
                self.steps[run_id] = steps
                self.steps.move_to_end(run_id)
            while len(self.steps) > self.most:
                self.steps.popitem(last=False)


_LONGEST = _Longest(LONGEST_RUNS)


def trajectory(
    key: tuple[str, Params, str],
    optimizer: str,
    hyper: tuple[tuple[str, object], ...],
    start: tuple[float, float],
    steps: int,
    schedule: tuple[str, int, tuple[tuple[str, int], ...]],
    noise: float,
    seed: int,
    average: str,
    batch_size: int | None = None,
) -> optimizers.Trajectory:
    """One run, cached by everything that decides it: moving one optimizer's slider reruns only that one.

    A run with fewer steps than one already kept (the steps slider moved down, or any number of
    steps past where a kept run converged or diverged) is that run's prefix
    (``Trajectory.prefix``): the same arrays, nothing computed. So is a run that differs only in
    its averaging (``Trajectory.with_average``), or in its seed when nothing is random.
    ``schedule`` is (name, warm-up, options) as ``ui.settings.schedule_setting`` makes it, so the
    schedule is the same function of the step for both lengths whenever the arguments match;
    ``key`` is ``(name, params, expression[, scaling])`` as ``Scenario.surface``."""
    if not optimizers.seed_matters(noise, batch_size):
        seed = 0  # nothing is drawn: every seed gives this run (tests/test_runner.py)
    run_id = (key, optimizer, hyper, start, schedule, noise, seed, batch_size)
    longest = _LONGEST.get(run_id)
    tr = None
    if longest is not None and longest != steps:
        kept = _run.peek(key, optimizer, hyper, start, longest, schedule, noise, seed, batch_size)
        tr = None if kept is None else kept.prefix(steps)
    if tr is None:
        tr = _run(key, optimizer, hyper, start, steps, schedule, noise, seed, batch_size)
        _LONGEST.note(run_id, steps)
    if average == "none":
        return tr
    # The average is taken over the path after the run: switching it reruns nothing. Kept: the
    # EMA is a loop over the steps (13 ms at 3000), and every rerun of the page asks again.
    return dataclasses.replace(tr, averaged=_averaged_path((run_id, steps, average), tr, average))


@shared(max_bytes=memo_bytes("averaged"), key=lambda key, *rest: key)
def _averaged_path(key, tr: optimizers.Trajectory, average: str) -> np.ndarray:
    """The averaged path of run ``tr`` (named by ``key``: its arguments, steps and averaging)."""
    path = tr.with_average(average).averaged
    read_only(path)
    return path


@shared(max_bytes=memo_bytes("trajectory"))
def _run(
    key: tuple[str, Params, str],
    optimizer: str,
    hyper: tuple[tuple[str, object], ...],
    start: tuple[float, float],
    steps: int,
    schedule: tuple[str, int, tuple[tuple[str, int], ...]],
    noise: float,
    seed: int,
    batch_size: int | None = None,
) -> optimizers.Trajectory:
    """One run of :func:`trajectory`, computed."""
    return optimizers.run(
        surface(*key),
        optimizer,
        start=start,
        steps=steps,
        schedule=make_schedule(schedule),
        noise=noise,
        seed=seed,
        **({"batch_size": batch_size} if batch_size is not None else {}),
        **dict(hyper),
    )


# The runs' memo is ``_run``'s: its bound and statistics are the runs'.
trajectory.max_bytes, trajectory.stats, trajectory.clear = _run.max_bytes, _run.stats, _run.clear


def make_schedule(schedule: tuple[str, int, tuple[tuple[str, int], ...]]):
    """The schedule function for (name, warm-up, options) (``ui.settings.schedule_setting``)."""
    name, warmup, options = schedule
    return optimizers.schedules.make(name, warmup_steps=warmup, **dict(options))


@shared(max_bytes=memo_bytes("schedule"))
def schedule_factors(schedule: tuple[str, int, tuple[tuple[str, int], ...]], steps: int) -> np.ndarray:
    """The schedule's factor at steps 0 .. steps-1 (what the sidebar's small chart shows): the runs' own."""
    return make_schedule(schedule)(np.arange(steps))


# -- The cost model of a page's runs ------------------------------------------------------------


class RunCost(NamedTuple):
    """What one run of an optimizer costs on a surface, in CPU seconds: once per run, and per step."""

    setup_s: float
    step_s: float

    def seconds(self, steps: int) -> float:
        return self.setup_s + self.step_s * steps


def quantized(seconds: float) -> float:
    """``seconds`` rounded up to the next power of 2**(1/COST_BINS_PER_OCTAVE) (0 stays 0): a cost
    measured twice lands on the same value unless it moved across a bin's edge."""
    if seconds <= 0:
        return 0.0
    return 2.0 ** (math.ceil(math.log2(seconds) * COST_BINS_PER_OCTAVE - 1e-9) / COST_BINS_PER_OCTAVE)


class _StandIn:
    """A surface's cost with a bowl's values: every evaluation the runner asks for is made on the
    real surface (so it costs what it costs, at points near the start), and answered with
    0.5 |x - c|^2 for c one unit from the start on each axis. A probe on it therefore neither
    converges, diverges nor stops at a singular Hessian, whatever the surface does: it takes
    every step it is given, along the same code path (floats or arrays, mini-batches, line
    search) as a real run. Anything else (``data``, ``test_loss``, ``window``) is the surface's own.
    """

    def __init__(self, surface, start: tuple[float, float]):
        self._surface = surface
        self._c = np.asarray(start, dtype=np.float64) + 1.0

    def __getattr__(self, name):
        return getattr(self._surface, name)

    def _f(self, points):
        d = np.asarray(points, dtype=np.float64) - self._c
        return 0.5 * (d * d).sum(axis=-1)

    def _g(self, points):
        return np.asarray(points, dtype=np.float64) - self._c

    @staticmethod
    def _h(points):
        return np.broadcast_to(np.eye(2), np.shape(points)[:-1] + (2, 2)).copy()

    def f(self, points):
        self._surface.f(points)
        return self._f(points)

    def grad(self, points):
        self._surface.grad(points)
        return self._g(points)

    def value_and_grad(self, points):
        self._surface.value_and_grad(points)
        return self._f(points), self._g(points)

    def hessian(self, points):
        self._surface.hessian(points)
        return self._h(points)

    def value_and_grad_at(self, x, y):
        try:
            self._surface.value_and_grad_at(x, y)
        except (ZeroDivisionError, OverflowError, ValueError):  # what the float path may raise
            pass
        dx, dy = x - self._c[0], y - self._c[1]
        return 0.5 * (dx * dx + dy * dy), dx, dy

    def grad_at(self, x, y):
        try:
            self._surface.grad_at(x, y)
        except (ZeroDivisionError, OverflowError, ValueError):
            pass
        return x - self._c[0], y - self._c[1]

    def float_functions(self):  # its own, not the surface's (which __getattr__ would give)
        return self.value_and_grad_at, self.grad_at, ()

    def inlinable_functions(self):  # none: the runner must call the float functions above, not inline the surface's
        return None

    def batch_loss(self, points, index):
        self._surface.batch_loss(points, index)
        return self._f(points)

    def batch_grad(self, points, index):
        self._surface.batch_grad(points, index)
        return self._g(points)

    def batch_hessian(self, points, index):
        self._surface.batch_hessian(points, index)
        return self._h(points)


def probe_start(s) -> tuple[float, float]:
    """Where the probe starts: the surface's suggested start, else its window's centre."""
    start = s.hints.get("start") if isinstance(s.hints, Mapping) else None
    if start is None:
        (x0, x1), (y0, y1) = s.window
        start = ((x0 + x1) / 2, (y0 + y1) / 2)
    return float(start[0]), float(start[1])


def measure_run_cost(s, optimizer: str, batch_size: int | None = None, memory: int | None = None) -> RunCost:
    """Time two short runs of ``optimizer`` on a stand-in for ``s`` (this thread's CPU time, so
    other sessions' work does not count) and split the cost into per-run and per-step parts."""
    start = probe_start(s)
    stand_in = _StandIn(s, start)
    options = {"batch_size": batch_size} if batch_size is not None else {}
    if memory is not None:
        options["memory"] = memory
    best = {n: math.inf for n in PROBE_STEPS}
    for _ in range(PROBE_REPEATS):
        for n in PROBE_STEPS:
            t0 = time.thread_time()
            optimizers.run(stand_in, optimizer, start=start, steps=n, tol=0.0, **options)  # tol 0: it never converges
            best[n] = min(best[n], time.thread_time() - t0)
    short, long = PROBE_STEPS
    step = max((best[long] - best[short]) / (long - short), 0.0)
    return RunCost(max(best[short] - short * step, 0.0), step)


@shared(max_bytes=memo_bytes("run_cost"))
def run_cost(key: tuple, optimizer: str, batch_size: int | None = None, memory: int | None = None) -> RunCost:
    """The cost model of ``optimizer``'s runs on surface ``key`` (``Scenario.surface``), measured
    once and kept with the surface's key: quantized, so the step cap it gives is the same for
    every page on this surface, whatever the load when it was measured. ``memory`` is
    L-BFGS's (its per-step cost grows with it); ``batch_size`` a data surface's mini-batch."""
    s = surface(*key)  # a surface that cannot be built raises here, as on the page
    try:
        cost = measure_run_cost(s, optimizer, batch_size, memory)
    except Exception:  # noqa: BLE001 - the real run will report its own error; budget it as slow
        cost = RunCost(0.0, FALLBACK_STEP_S)
    return RunCost(quantized(cost.setup_s), quantized(cost.step_s))
