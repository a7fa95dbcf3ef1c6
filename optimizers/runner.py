"""Run an optimizer on a landscape: one run (:func:`run`) or a whole grid at once (:func:`run_batch`).

Every run ends with one status from :data:`STATUS_MESSAGES`, the single table
of termination reasons (as ``scipy.optimize`` keeps one). A run that stops
early keeps its last point for the remaining steps of a batch, so arrays stay
rectangular; :meth:`Batch.trajectory` cuts a single run at its stop.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import struct
from types import SimpleNamespace
from dataclasses import dataclass
from typing import Callable, Mapping, NamedTuple

import numpy as np

from . import declarations, fused, rules
from .schedules import Schedule, constant

OPTIMIZERS: dict[str, Callable[..., rules.Optimizer]] = {
    "sgd": rules.sgd,
    "momentum": rules.momentum,
    "nesterov": rules.nesterov,
    "adagrad": rules.adagrad,
    "rmsprop": rules.rmsprop,
    "adam": rules.adam,
    "newton": rules.newton,
    "saddle_free_newton": rules.saddle_free_newton,
    "lbfgs": rules.lbfgs,
}

class Status(NamedTuple):
    """One way a run can end: its name, code, whether it counts as success, and its message
    (a template over ``step``, ``tol`` and ``grad_norm``; the UI's words are ``status.<name>``
    in the catalogs)."""

    name: str
    code: int
    success: bool
    message: str


# The one table of how runs end (as scipy.optimize keeps one); a status's code is its row.
STATUS_TABLE: tuple[Status, ...] = (
    Status("converged", 0, True, "Converged at step {step}: the gradient norm fell below {tol:g}."),
    Status("max_steps", 1, False, "Ran all {step} steps; the gradient norm is still {grad_norm:.3g}."),
    Status(
        "diverged", 2, False,
        "Diverged at step {step}: the iterates blew up (the loss or the point became infinite, NaN or beyond 1e12). Try a smaller learning rate.",
    ),  # fmt: skip
    Status("singular_hessian", 3, False, "Stopped at step {step}: the Hessian is singular there, so the Newton step is undefined."),
    # Before any step: f or its gradient is not a finite number at a start within the bound (a start
    # beyond the bound, 1e12, is diverged): outside the function's domain, log(x) from x < 0.
    Status(
        "undefined_start", 4, False,
        "Did not start: the loss or its gradient is undefined (not a finite number) at the start point. Start where the function is defined.",
    ),  # fmt: skip
)
STATUSES = tuple(s.name for s in STATUS_TABLE)
STATUS_MESSAGES: dict[str, str] = {s.name: s.message for s in STATUS_TABLE}
_CONVERGED, _MAX_STEPS, _DIVERGED, _SINGULAR, _UNDEFINED_START = (s.code for s in STATUS_TABLE)
_RUNNING = -1
# The codes a generated loop (:mod:`.fused`) ends a run with, by the names it uses.
_STATUS_NAMES = {"RUNNING": _RUNNING, "CONVERGED": _CONVERGED, "DIVERGED": _DIVERGED, "MAX_STEPS": _MAX_STEPS, "UNDEFINED_START": _UNDEFINED_START}


@dataclass(frozen=True)
class Result:
    """How one run ended, in the spirit of ``scipy.optimize.OptimizeResult``.

    ``steps`` is the number of steps taken; ``at_step`` the step the message names
    (for a divergence, the step that blew up: ``steps + 1``); ``grad_evals`` and
    ``hessian_evals`` count the evaluations the rule asked for (one gradient per step;
    one Hessian per step for the Newton methods; the recorded noise-free gradients
    are bookkeeping, not counted).
    """

    status: str
    success: bool
    steps: int
    at_step: int
    grad_norm: float
    grad_evals: int
    hessian_evals: int
    message: str


def _result(code: int, steps: int, grad_norm: float, tol: float, hessian: bool) -> Result:
    row = STATUS_TABLE[code]
    at_step = steps + (1 if code == _DIVERGED else 0)
    return Result(
        status=row.name,
        success=row.success,
        steps=steps,
        at_step=at_step,
        grad_norm=grad_norm,
        grad_evals=steps,
        hessian_evals=steps if hessian else 0,
        message=row.message.format(step=at_step, tol=tol, grad_norm=grad_norm),
    )

# |x| beyond this counts as diverged: far outside any view window, and
# before float64 overflows in a quartic.
DIVERGENCE_BOUND = 1e12


def names() -> list[str]:
    """The optimizer choices."""
    return list(OPTIMIZERS)


def defaults(name: str) -> dict[str, object]:
    """Default hyperparameters of optimizer ``name``, from its declaration (:mod:`.declarations`)."""
    return {hp.name: hp.default for hp in declarations.hyperparameters(name)}


def make(name: str, **hyperparameters) -> rules.Optimizer:
    """Build optimizer ``name``; unknown keywords and out-of-range values raise ValueError."""
    factory = _factory(name)
    allowed = defaults(name)
    unknown = set(hyperparameters) - set(allowed)
    if unknown:
        raise ValueError(
            f"Unknown hyperparameter(s) for {name}: {', '.join(sorted(unknown))} (allowed: {', '.join(allowed)})"
        )
    return factory(**hyperparameters)


def _factory(name: str):
    try:
        return OPTIMIZERS[name]
    except KeyError:
        raise ValueError(f"Unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}") from None


@dataclass(frozen=True)
class Trajectory:
    """One run: the path, what the optimizer saw and held at each step, and why it stopped.

    ``points[k]`` is the k-th iterate (``points[0]`` is the start); ``losses``
    and ``gradients`` are the exact f and gradient there. ``lrs[k]``,
    ``updates[k]`` and ``effective_lr[k]`` belong to the step from point k to
    point k+1. ``state[name][k]`` is the optimizer's state field after k steps
    (index 0 is the initial state), e.g. ``state["velocity"]`` or
    ``state["exp_avg_sq"]``.
    """

    optimizer: str
    hyperparameters: Mapping[str, object]
    points: np.ndarray  # (n+1, 2)
    losses: np.ndarray  # (n+1,)
    gradients: np.ndarray  # (n+1, 2), exact (noise-free)
    lrs: np.ndarray  # (n,) learning rate used at each step, schedule included
    updates: np.ndarray  # (n, 2) x_{k+1} - x_k
    effective_lr: np.ndarray  # (n, 2) per-coordinate step per unit of gradient
    state: Mapping[str, np.ndarray]  # field -> (n+1, ...)
    result: Result  # how it ended: status, success, steps, evaluations, message
    averaged: np.ndarray | None = None  # (n+1, 2) averaged iterates, when asked for
    batches: np.ndarray | None = None  # (n, batch_size) training indices of each step's mini-batch
    test_losses: np.ndarray | None = None  # (n+1,) loss on the test split at each point (data surfaces)

    @property
    def status(self) -> str:
        return self.result.status

    @property
    def message(self) -> str:
        return self.result.message

    @property
    def success(self) -> bool:
        return self.result.success

    @property
    def steps(self) -> int:
        return len(self.points) - 1

    @property
    def final_point(self) -> np.ndarray:
        return self.points[-1]

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])

    def with_average(self, average: str | None, ema_decay: float = 0.9) -> "Trajectory":
        """This run with the averaged iterates :func:`run` records for ``average`` ("polyak",
        "ema" with ``ema_decay``, or None for none): they are computed from the path after the run,
        so the run itself is the same whatever the averaging."""
        if average is None:
            return dataclasses.replace(self, averaged=None)
        _check_average(average, ema_decay)
        points = self.points[:, None, :]
        return dataclasses.replace(self, averaged=_average(points, np.array([self.steps]), average, ema_decay)[:, 0, :])

    def prefix(self, steps: int) -> "Trajectory | None":
        """The run of ``steps`` steps that this run begins: what :func:`run` returns with the same
        arguments and ``steps``, as long as the learning-rate schedule is the same function of the
        step for both lengths (a cosine or one-cycle schedule is laid out over the run's length: not
        the same). None when this run cannot tell (it is shorter, or it stopped at ``steps`` itself).

        Why it holds: step k of a run depends only on the steps before it (the noise, ``xi_k``, and
        the mini-batches are drawn in order from the seed; an average runs over the path so far),
        and a run that went past step ``steps`` neither converged nor diverged by then, so the
        shorter run ends there having run all its steps. A run that stopped before ``steps`` is
        that shorter run too.
        """
        if steps > self.steps and self.status != "max_steps":
            return self  # it stopped before: the shorter run stops there too
        if steps == self.steps and self.status == "max_steps":
            return self
        if not 1 <= steps < self.steps:
            return None
        n = steps
        cut = lambda a, k: None if a is None else a[:k]  # noqa: E731
        g = self.gradients[n]
        hessian = self.result.hessian_evals > 0
        result = _result(_MAX_STEPS, n, float(np.hypot(g[0], g[1])), math.nan, hessian)
        return Trajectory(
            optimizer=self.optimizer,
            hyperparameters=self.hyperparameters,
            points=self.points[: n + 1],
            losses=self.losses[: n + 1],
            gradients=self.gradients[: n + 1],
            lrs=self.lrs[:n],
            updates=self.updates[:n],
            effective_lr=self.effective_lr[:n],
            state={k: v[: n + 1] for k, v in self.state.items()},
            result=result,
            averaged=cut(self.averaged, n + 1),
            batches=cut(self.batches, n),
            test_losses=cut(self.test_losses, n + 1),
        )


@dataclass(frozen=True)
class Batch:
    """Many runs of one optimizer, stepped together. Leading axes are the batch shape."""

    optimizer: str
    hyperparameters: Mapping[str, np.ndarray]  # each broadcast to the batch shape
    final_points: np.ndarray  # (*batch, 2)
    final_losses: np.ndarray  # (*batch)
    final_grad_norms: np.ndarray  # (*batch)
    status_codes: np.ndarray  # (*batch) index into STATUSES
    stop_steps: np.ndarray  # (*batch) steps taken before stopping
    tol: float
    history: Mapping[str, np.ndarray] | None = None  # field -> (*batch, steps(+1), ...)
    state_fields: tuple[str, ...] = ()
    hessian: bool = False  # the rule evaluates a Hessian at every step

    @property
    def shape(self) -> tuple[int, ...]:
        return self.final_losses.shape

    @property
    def status(self) -> np.ndarray:
        return np.asarray(STATUSES)[self.status_codes]

    @property
    def success(self) -> np.ndarray:
        return np.asarray([row.success for row in STATUS_TABLE])[self.status_codes]

    def result(self, index=()) -> Result:
        """How the run at ``index`` ended (:class:`Result`)."""
        return _result(
            int(self.status_codes[index]), int(self.stop_steps[index]), float(self.final_grad_norms[index]), self.tol, self.hessian
        )

    def message(self, index=()) -> str:
        return self.result(index).message

    def trajectory(self, index=()) -> Trajectory:
        """The run at ``index`` of the batch, cut at its stop. Needs ``history=True``."""
        if self.history is None:
            raise ValueError("This batch was run with history=False; run it again with history=True.")
        hyperparameters = {k: _scalar(v[index]) for k, v in self.hyperparameters.items()}
        history = {k: v[index] for k, v in self.history.items()}
        return _trajectory(self.optimizer, hyperparameters, history, self.state_fields, self.result(index))


def _trajectory(optimizer: str, hyperparameters: dict, history: dict, fields: tuple[str, ...], result: Result) -> Trajectory:
    """One run from its ``history`` (field -> (steps + 1, ...), as a batch records it), cut at its stop."""
    n = result.steps
    averaged, batches, test_losses = history.get("averaged"), history.get("batches"), history.get("test_losses")
    return Trajectory(
        optimizer=optimizer,
        hyperparameters=hyperparameters,
        points=history["points"][: n + 1],
        losses=history["losses"][: n + 1],
        gradients=history["gradients"][: n + 1],
        lrs=history["lrs"][:n],
        updates=history["updates"][:n],
        effective_lr=history["effective_lr"][:n],
        state={k: history["state." + k][: n + 1] for k in fields},
        result=result,
        averaged=None if averaged is None else averaged[: n + 1],
        batches=None if batches is None else batches[:n],
        test_losses=None if test_losses is None else test_losses[: n + 1],
    )


def _per_run(value, shape: tuple[int, ...], b: int) -> np.ndarray:
    column = np.broadcast_to(np.asarray(value, dtype=np.float64), shape).reshape(b, 1)
    return np.ascontiguousarray(np.broadcast_to(column, (b, 2)))


def _scalar(v):
    v = np.asarray(v)
    return v.item() if v.ndim == 0 else v


class _Oracle:
    """The landscape as the optimizer sees it at one step: the loss of that step's random sample.

    The noise model (simulated mini-batches): step k sees
    ``f_k(x) = f(x) + noise * xi_k . x`` with ``xi_k ~ N(0, I)``, a random linear
    tilt of the loss, so its gradient is ``grad f(x) + noise * xi_k`` (Gaussian
    gradient noise) and its Hessian is exactly ``H``. Every evaluation within step
    k (the gradient, wherever the rule takes it; L-BFGS's line-search values) sees
    the same sample, as one mini-batch per ``optimizer.step()`` does in torch.
    ``xi_k`` is draw pair (2k, 2k+1) of ``np.random.default_rng(seed)``: with the
    same seed every optimizer, and every run of a batch, sees the same sequence.

    On a data surface with ``batch_size`` < the training size, step k sees instead
    the mean loss of its mini-batch (:class:`_Minibatches`): f, the gradient and
    the Hessian of that batch, wherever the rule evaluates them within the step.
    """

    def __init__(self, landscape, noise: float, draws: "_Draws", minibatches: "_Minibatches | None" = None):
        self.landscape = landscape
        self.noise = noise
        self.draws = draws
        self.tilt = None  # noise * xi_k for the step being taken, (B, 2); None without noise
        self.minibatches = minibatches if minibatches is not None and not minibatches.full else None
        self.index = None  # the step's batch: (B or 1, m) training indices

    def at_step(self, k: int) -> None:
        if self.noise > 0:
            self.tilt = self.noise * self.draws.batch(k)
        if self.minibatches is not None:
            self.index = self.minibatches.batch(k)

    def seen(self, x, g):
        """The gradient the rule sees at the current points ``x``, whose exact gradient is ``g``."""
        if self.index is not None:
            return self.landscape.batch_grad(x, self.index)
        return self.add_noise(g)

    def f(self, points):
        if self.index is not None:
            return self.landscape.batch_loss(points, self.index)
        value = self.landscape.f(points)
        if self.tilt is None:
            return value
        tilt = self.tilt.reshape(self.tilt.shape[:1] + (1,) * (points.ndim - 2) + (2,))
        return value + (points * tilt).sum(axis=-1)

    def grad(self, points):
        if self.index is not None:
            return self.landscape.batch_grad(points, self.index)
        return self.add_noise(self.landscape.grad(points))

    def hessian(self, points):
        if self.index is not None:
            return self.landscape.batch_hessian(points, self.index)
        return self.landscape.hessian(points)

    def add_noise(self, g):
        return g if self.tilt is None else g + self.tilt


class _Draws:
    """The noise draws: ``xi_k`` for every step and run, one generator per distinct seed.

    ``seeds`` holds each run's seed (B,); runs that share a seed share the sequence.
    """

    def __init__(self, seeds: np.ndarray, steps: int, noise: float):
        self.table = self.index = None
        if noise > 0:
            unique, self.index = np.unique(seeds, return_inverse=True)
            # (steps, U, 2): draw pair (2k, 2k+1) of seed u's generator at [k, u].
            self.table = np.stack([np.random.default_rng(int(s)).standard_normal((steps, 2)) for s in unique], axis=1)

    def batch(self, k: int) -> np.ndarray:
        """Step k's draws, (B, 2); (1, 2) when every run shares one seed (it broadcasts, no copy)."""
        return self.table[k] if self.table.shape[1] == 1 else self.table[k][self.index]

    def single(self) -> list[tuple[float, float]]:
        """Run 0's draws as (float, float) per step, for the single-run path."""
        return [(float(a), float(b)) for a, b in self.table[:, self.index[0]]]


class _Minibatches:
    """Which training examples each step of each run sees: shuffled epochs, drawn up front.

    As ``torch.utils.data.DataLoader(shuffle=True, drop_last=True)`` with a generator
    per run: every epoch draws a fresh permutation of the n training indices from the
    run's own ``numpy.random.default_rng(seed)`` (one ``rng.permutation(n)`` call per
    epoch, in order) and cuts its first ``(n // m) * m`` entries into ``n // m`` batches
    of ``m`` without replacement; the ``n % m`` left over sit this epoch out. Step k
    takes batch ``k % (n // m)`` of epoch ``k // (n // m)``. A run's stream depends on
    its seed alone: runs that share a seed see the same batches (one seed for a whole
    sweep compares settings on the same batches), and a run of a batch sees exactly
    what :func:`run` with its seed sees; pass one seed per run for independent streams.
    ``m == n`` is the full batch: every step's batch is the whole training set (in a
    fresh order each step) and the run is the full-batch run, bit for bit.
    """

    def __init__(self, n: int, m: int, seeds: np.ndarray, steps: int):
        self.full = m == n
        per_epoch = n // m
        epochs = -(-steps // per_epoch)
        unique, self.index = np.unique(seeds, return_inverse=True)
        dtype = np.int16 if n <= np.iinfo(np.int16).max else np.int64
        tables = []
        for s in unique:
            rng = np.random.default_rng(int(s))
            perms = np.stack([rng.permutation(n)[: per_epoch * m] for _ in range(epochs)])
            tables.append(perms.reshape(epochs * per_epoch, m)[:steps].astype(dtype))
        self.table = np.stack(tables, axis=1)  # (steps, U, m)

    def batch(self, k: int) -> np.ndarray:
        """Step k's batches, (B, m); (1, m) when every run shares one seed."""
        return self.table[k] if self.table.shape[1] == 1 else self.table[k][self.index]

    def history(self) -> np.ndarray:
        """Every step's batch of every run, (steps, B, m)."""
        return self.table[:, self.index].astype(np.int64)


def check_batch_size(landscape, batch_size) -> int | None:
    """``batch_size`` as an int in [1, training size], or None (full batch); ValueError otherwise."""
    if batch_size is None:
        return None
    data = getattr(landscape, "data", None)
    if data is None:
        raise ValueError(
            f"batch_size applies only to a surface with training data (faithful, iris, tanh_unit), not {getattr(landscape, 'name', 'this surface')}; "
            "on a formula surface use noise= for simulated mini-batches"
        )
    n = data.n_train
    try:
        ok = not isinstance(batch_size, bool) and float(batch_size) == int(batch_size) and 1 <= int(batch_size) <= n
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValueError(f"Invalid batch_size: {batch_size!r} (allowed: a whole number from 1 to {n}, the training size, or None for the full batch)")
    return int(batch_size)


def _where(mask: np.ndarray, new, old):
    """Field by field, ``new`` where ``mask`` (shape (B,)) holds, else ``old``."""
    return type(new)(
        *(np.where(mask.reshape(mask.shape + (1,) * (n.ndim - 1)), n, o) for n, o in zip(new, old))
    )


def _checked_options(landscape, name, steps, noise, average, ema_decay, batch_size, hyperparameters):
    """:func:`run_batch`'s options but the seed checked, with readable errors: ``(steps, batch_size,
    opt)``, ``opt`` the rule as given (its names and values checked)."""
    steps = _check_steps(steps)
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"Invalid noise: {noise} (allowed range [0, inf))")
    _check_average(average, ema_decay)
    batch_size = check_batch_size(landscape, batch_size)
    if batch_size is not None and noise > 0:
        raise ValueError("Choose mini-batches (batch_size) or simulated noise (noise), not both")
    opt = make(name, **hyperparameters)
    return steps, batch_size, opt


def _check_finite(starts: np.ndarray) -> None:
    if not np.all(np.isfinite(starts)):
        raise ValueError("Invalid start: every coordinate must be a finite number")


def _numeric(name: str, hyperparameters: dict) -> dict:
    """The settings that may vary per run (arrays broadcast to the batch); a switch or a whole
    number (Adam's bias correction, L-BFGS's memory) is one value for the whole batch."""
    per_run = {hp.name for hp in declarations.hyperparameters(name) if hp.scale in ("linear", "log")}
    return {k: v for k, v in hyperparameters.items() if k in per_run}


def _float_settings(hyperparameters: dict, numeric: dict) -> tuple[tuple[str, object], ...]:
    """A lone run's settings as its float loop takes them (:func:`_traced`'s key): each numeric
    one a plain float, sorted by name."""
    return tuple(sorted((k, float(np.ravel(v)[0]) if k in numeric else v) for k, v in hyperparameters.items()))


def _after_run(hist: dict, landscape, stops: np.ndarray, average: str | None, ema_decay: float) -> None:
    """What a history gets from the path once the run is over: averaged iterates, test losses."""
    with np.errstate(all="ignore"):  # a diverged run's last point may be past what a square or a loss holds: its status says so
        if average is not None:
            hist["averaged"] = _average(hist["points"], stops, average, ema_decay)
        if hasattr(landscape, "test_loss"):
            hist["test_losses"] = landscape.test_loss(hist["points"])


def _recorded_fields(state) -> tuple[str, ...]:
    # A state may name the fields worth a history (L-BFGS leaves out its ring buffers).
    return tuple(getattr(state, "recorded", state._fields))


def run_batch(
    landscape,
    name: str,
    starts,
    steps: int = 100,
    schedule: Schedule | None = None,
    noise: float = 0.0,
    seed: int | None = 0,
    tol: float = 1e-6,
    history: bool = True,
    average: str | None = None,
    ema_decay: float = 0.9,
    batch_size: int | None = None,
    **hyperparameters,
) -> Batch:
    """Run ``name`` from every start with every hyperparameter setting, all in one vectorized loop.

    ``starts`` has shape (..., 2); each numeric hyperparameter is a scalar or an
    array, and all of them broadcast with ``starts.shape[:-1]`` to the batch
    shape. For a 64 x 64 grid over lr and beta1 from one start::

        run_batch(surface, "adam", (-1.5, 2), 500, lr=lrs[:, None], beta1=b1s[None, :])

    ``noise`` > 0 makes every step see a random sample of the loss (simulated
    mini-batches, see :class:`_Oracle`): its gradient carries N(0, noise^2 I)
    noise, the same at step k for every optimizer with the same ``seed``. ``seed``
    (an int, or an int array that broadcasts to the batch shape, one seed per run)
    makes it reproducible; a run of a batch sees exactly the noise that
    :func:`run` with its seed sees. ``history=False`` keeps only
    the final points, losses and statuses (what a sweep needs, and much less
    memory). ``average`` ("polyak" or "ema") also records averaged iterates.

    ``batch_size`` (data surfaces only: an int from 1 to the training size; None,
    the default, is the full batch): every step's gradient is the mean gradient of
    the loss over that step's mini-batch (see :class:`_Minibatches` for how batches
    are drawn from ``seed``); Newton and saddle-free Newton use the batch's Hessian,
    L-BFGS the batch's gradients and losses. The recorded losses and gradients stay
    the exact full-batch ones; with history, the batch also records each step's
    ``batches`` and, on a data surface, the ``test_losses``.
    """
    steps, batch_size, _ = _checked_options(landscape, name, steps, noise, average, ema_decay, batch_size, hyperparameters)
    allowed = defaults(name)
    starts = np.asarray(starts, dtype=np.float64)
    if starts.shape[-1:] != (2,):
        raise ValueError(f"starts must have shape (..., 2), got {starts.shape}")
    _check_finite(starts)
    seeds = _check_seeds(seed)
    numeric = _numeric(name, hyperparameters)
    shape = np.broadcast_shapes(starts.shape[:-1], np.shape(seeds), *(np.shape(v) for v in numeric.values()))
    b = int(np.prod(shape))
    x = np.broadcast_to(starts, shape + (2,)).reshape(b, 2).copy()
    # Each setting as a contiguous (B, 2) array, the shape of the points:
    # broadcasting a (B, 1) column against (B, 2) is several times slower.
    flat = {k: _per_run(v, shape, b) for k, v in numeric.items()}
    settings = {**hyperparameters, **flat}
    opt = make(name, **settings)
    base_lr = flat.get("lr", np.full((b, 2), float(allowed.get("lr", 1.0))))
    factors = (schedule or constant())(np.arange(steps))
    run_seeds = np.broadcast_to(seeds, shape).reshape(b)
    draws = _Draws(run_seeds, steps, float(noise))
    minibatches = None if batch_size is None else _Minibatches(landscape.data.n_train, batch_size, run_seeds, steps)
    oracle = _Oracle(landscape, float(noise), draws, minibatches)

    with np.errstate(all="ignore"):  # divergence is detected and reported, not warned about
        result = None
        if b == 1 and opt.elementwise and oracle.minibatches is None:
            # The same rule with plain-float settings, as one loop on floats.
            result = _single_loop(landscape, _traced_for(landscape, name, _float_settings(hyperparameters, numeric), oracle.noise > 0), oracle, x, base_lr, factors, steps, tol, history)
        if result is None:
            result = _loop(landscape, opt, oracle, x, base_lr, factors, steps, tol, history)
    codes, stops, x, loss, g, hist, state_fields = result
    if hist is not None:
        _after_run(hist, landscape, stops, average, ema_decay)
    if hist is not None and minibatches is not None:
        hist["batches"] = minibatches.history()
    history_out = None
    if hist is not None:
        # (T, B, ...) -> (*batch, T, ...); one run (the Playground's) is its column, a view.
        if shape == ():
            history_out = {k: v[:, 0] for k, v in hist.items()}
        else:
            history_out = {k: np.moveaxis(v, 0, 1).reshape(shape + v.shape[:1] + v.shape[2:]) for k, v in hist.items()}
    return Batch(
        optimizer=name,
        hyperparameters={k: np.broadcast_to(np.asarray(v), shape) for k, v in hyperparameters.items()},
        final_points=x.reshape(shape + (2,)),
        final_losses=loss.reshape(shape),
        # hypot scales before it squares: a finite gradient past 1e154 has a finite norm (norm's g.g overflows).
        final_grad_norms=np.hypot(g[:, 0], g[:, 1]).reshape(shape),
        status_codes=codes.reshape(shape),
        stop_steps=stops.reshape(shape),
        tol=tol,
        history=history_out,
        state_fields=state_fields,
        hessian=opt.hessian,
    )


def _loop(landscape, opt, oracle, x, base_lr, factors, steps, tol, history):
    b = x.shape[0]
    state = opt.init(x)
    loss, g = landscape.value_and_grad(x)
    codes = np.full(b, _RUNNING)
    stops = np.full(b, steps)
    bad0 = _diverged(x, loss, g)
    # A start beyond the bound counts as diverged; one inside it where f or its gradient is
    # not a finite number is outside the function's domain (log(x) from x < 0).
    inside = x[:, 0] * x[:, 0] + x[:, 1] * x[:, 1] < DIVERGENCE_BOUND**2
    codes[bad0], stops[bad0] = np.where(inside[bad0], _UNDEFINED_START, _DIVERGED), 0
    active = ~bad0
    fields = _recorded_fields(state)
    # Only what cannot be derived afterwards is written inside the loop: for a
    # single run, per-step NumPy calls are the whole cost.
    hist = None
    if history:
        hist = {
            "points": np.empty((steps + 1, b, 2)),
            "losses": np.empty((steps + 1, b)),
            "gradients": np.empty((steps + 1, b, 2)),
        }
        for k in fields:
            v = getattr(state, k)
            hist["state." + k] = np.empty((steps + 1,) + v.shape, dtype=v.dtype)
        _record(hist, fields, 0, x, loss, g, state)
    singular_flag = opt.stops_when_singular
    tol_sq = tol * tol
    t = 0
    for t in range(steps):
        converged = active & (g[:, 0] * g[:, 0] + g[:, 1] * g[:, 1] < tol_sq)
        if np.count_nonzero(converged):
            codes[converged], stops[converged] = _CONVERGED, t
            active &= ~converged
            if not np.count_nonzero(active):
                break
        oracle.at_step(t)
        # One gradient per step: at the rule's probe point (Nesterov's look-ahead) or at x.
        seen = oracle.grad(opt.probe(state, x)) if opt.probe is not None else oracle.seen(x, g)
        update, new_state = opt.update(seen, state, x, factors[t], oracle)
        x_new = x + update
        loss_new, g_new = landscape.value_and_grad(x_new)
        stop_here = active & _diverged(x_new, loss_new, g_new)
        if singular_flag:
            singular = active & new_state.singular & ~stop_here
            codes[singular], stops[singular] = _SINGULAR, t
            stop_here |= singular
        if np.count_nonzero(stop_here):
            codes[stop_here & (codes == _RUNNING)] = _DIVERGED
            stops[stop_here & (codes == _DIVERGED)] = t
            move = active & ~stop_here
            x = np.where(move[:, None], x_new, x)
            loss = np.where(move, loss_new, loss)
            g = np.where(move[:, None], g_new, g)
            state = _where(move, new_state, state)
            active = move
        elif np.count_nonzero(active) == b:
            x, loss, g, state = x_new, loss_new, g_new, new_state
        else:  # some runs stopped earlier: they keep their last point and state
            x = np.where(active[:, None], x_new, x)
            loss = np.where(active, loss_new, loss)
            g = np.where(active[:, None], g_new, g)
            state = _where(active, new_state, state)
        if hist is not None:
            _record(hist, fields, t + 1, x, loss, g, state)
        if not np.count_nonzero(active):
            t += 1
            break
    else:
        t = steps
    if hist is not None:
        if t < steps:  # everyone stopped early: hold the last point for the unused steps
            for v in hist.values():
                v[t + 1 :] = v[t]
        _derive_history(hist, opt, fields, base_lr, factors, stops)
    if t == steps:
        finished = active & (codes == _RUNNING)
        codes[finished & (g[:, 0] * g[:, 0] + g[:, 1] * g[:, 1] < tol_sq)] = _CONVERGED
    codes[codes == _RUNNING] = _MAX_STEPS
    return codes, stops, x, loss, g, hist, fields


@functools.lru_cache(maxsize=32)
def _row_packer(width: int) -> Callable[..., bytes]:
    """Packs one row of ``width`` floats as native doubles (bit for bit)."""
    return struct.Struct(f"{width}d").pack


class _FloatRule(NamedTuple):
    opt: rules.Optimizer
    recorded: tuple[str, ...]
    shared: frozenset[str]
    loop: fused.Loop | None


@functools.lru_cache(maxsize=256)
def _traced(name: str, settings: tuple[tuple[str, object], ...], noise: bool, inline: tuple[Callable, Callable] | None = None) -> _FloatRule:
    """Rule ``name`` with ``settings`` (plain floats) and its generated float loop, traced once
    per setting (and surface, when its functions are ``inline``d: ``Landscape.inlinable_functions``):
    a class moving a slider to and fro asks for the same ones again."""
    opt = make(name, **dict(settings))
    state0 = opt.init(np.zeros((1, 2)))
    recorded = _recorded_fields(state0)
    # A per-run field (Adam's step count, shape (1, 1)) is one value for both coordinates.
    shared = frozenset(k for k, v in zip(state0._fields, state0) if np.shape(v)[-1] == 1)
    return _FloatRule(opt, recorded, shared, fused.loop(opt, type(state0), recorded, shared, noise, _STATUS_NAMES, inline))


def _traced_for(landscape, name: str, settings: tuple[tuple[str, object], ...], noise: bool) -> _FloatRule:
    """:func:`_traced` with ``landscape``'s f and gradient inlined when it offers them."""
    return _traced(name, settings, noise, getattr(landscape, "inlinable_functions", lambda: None)())


def _single_loop(landscape, traced: _FloatRule, oracle, x, base_lr, factors, steps, tol, history):
    """:func:`_loop` for one run of an elementwise rule, on Python floats.

    For one run, NumPy's per-call overhead on (1, 2) arrays is nearly all the
    cost. Here the rule runs as one loop on floats, generated from the rule itself
    (:mod:`.fused`), with f and the gradient from :meth:`Landscape.float_functions`
    (those of :meth:`Landscape.value_and_grad_at`): the same operations in the same
    order, so the result is bit-identical to the batched loop (the tests hold it to
    that), at several times the speed. Returns what ``_loop`` returns, or None
    when the rule cannot be traced or a float operation raised (a division by
    zero that arrays turn into inf): the caller then runs the batched loop instead.
    """
    opt, fields, shared, fused_loop = traced.opt, traced.recorded, traced.shared, traced.loop
    if fused_loop is None:
        return None
    state0 = opt.init(x)
    states = [tuple(float(v[0, 0 if k in shared else i]) for k, v in zip(state0._fields, state0)) for i in (0, 1)]
    tilts = [(oracle.noise * a, oracle.noise * b) for a, b in oracle.draws.single()] if oracle.noise > 0 else None
    try:
        code, stop, x0, x1, loss, g0, g1, rows = fused_loop.run(
            *landscape.float_functions(),
            float(x[0, 0]),
            float(x[0, 1]),
            factors.tolist(),  # floats: NumPy scalars make every later operation slower
            tilts,
            steps,
            tol * tol,
            DIVERGENCE_BOUND**2,
            states,
        )
    except (ZeroDivisionError, OverflowError, ValueError):  # ValueError: math.sqrt of a negative
        return None
    codes, stops = np.array([code]), np.array([stop])
    xb = np.array([[x0, x1]], dtype=np.float64)
    lossb = np.array([loss], dtype=np.float64)
    gb = np.array([[g0, g1]], dtype=np.float64)
    hist = None
    if history:
        held = itertools.chain(rows, itertools.repeat(rows[-1], steps + 1 - len(rows)))  # a stopped run holds its last row
        width = len(rows[0])
        # (T + 1, columns): each row packed as doubles (exact) and the bytes read as one array,
        # about 4x as fast as np.array(rows) (a writable buffer, as np.array's).
        packed = bytearray().join(itertools.starmap(_row_packer(width), held))
        table = np.frombuffer(packed, dtype=np.float64).reshape(steps + 1, width)
        hist = {"points": table[:, None, 0:2], "losses": table[:, 2:3], "gradients": table[:, None, 3:5]}
        column = 5
        for k in fields:
            n = 1 if k in shared else 2
            hist["state." + k] = table[:, None, column : column + n].astype(getattr(state0, k).dtype)
            column += n
        _derive_history(hist, opt, fields, base_lr, factors, stops)
    return codes, stops, xb, lossb, gb, hist, fields


def _derive_history(hist, opt, fields, base_lr, factors, stops) -> None:
    """Learning rates, updates and effective step sizes, from the recorded path in one pass."""
    steps = len(factors)
    taken = np.arange(steps)[:, None] < stops[None, :]  # (T, B): step k was taken by run b
    lrs = base_lr[None, :, :] * factors[:, None, None]  # (T, B, 2)
    hist["lrs"] = np.where(taken, lrs[..., 0], 0.0)
    points = hist["points"]
    updates = points[1:] - points[:-1]  # np.diff's own subtraction, without its argument handling
    hist["updates"] = updates
    if opt.effective_lr is not None:
        after = SimpleNamespace(**{k: hist["state." + k][1:] for k in fields})
        eff = np.broadcast_to(opt.effective_lr(after, lrs), updates.shape)
    else:
        g = hist["gradients"][:-1]
        eff = np.where(g != 0, -updates / np.where(g == 0, 1.0, g), np.nan)
    hist["effective_lr"] = np.where(taken[..., None], eff, np.nan)


def _diverged(x, loss, g) -> np.ndarray:
    """Runs whose new point is out of bounds or whose loss or gradient is not finite.

    Written with per-column arithmetic rather than reductions over the last
    axis, which cost more than the whole Adam update on a (4096, 2) batch.
    """
    radius_sq = x[:, 0] * x[:, 0] + x[:, 1] * x[:, 1]  # NaN compares False below
    return ~((radius_sq < DIVERGENCE_BOUND**2) & np.isfinite(loss + g[:, 0] + g[:, 1]))


def _record(hist, fields, k, x, loss, g, state):
    hist["points"][k] = x
    hist["losses"][k] = loss
    hist["gradients"][k] = g
    for f in fields:
        hist["state." + f][k] = getattr(state, f)


def _average(points: np.ndarray, stops: np.ndarray, kind: str, decay: float) -> np.ndarray:
    """Averaged iterates along axis 0 of ``points`` (T, B, 2), each run up to its stop."""
    if kind == "polyak":
        # Running mean of x_0 .. x_k; past a run's stop its points are held,
        # so the mean there is computed up to the stop and held as well.
        counts = np.arange(1, points.shape[0] + 1)[:, None, None]
        mean = np.cumsum(points, axis=0) / counts
        idx = np.minimum(np.arange(points.shape[0])[:, None], stops[None, :])
        return np.take_along_axis(mean, idx[:, :, None], axis=0)
    out = np.empty_like(points)
    out[0] = points[0]
    for k in range(1, points.shape[0]):
        out[k] = decay * out[k - 1] + (1 - decay) * points[k]
    return out


def seed_matters(noise: float, batch_size: int | None) -> bool:
    """Whether a run draws anything from its seed: the simulated noise, or its mini-batches.
    Without either, every seed gives the same run."""
    return noise > 0 or batch_size is not None


def _check_average(average, ema_decay) -> None:
    if average not in (None, "polyak", "ema"):
        raise ValueError(f"Unknown average {average!r}; choose 'polyak', 'ema' or None")
    rules.check_unit("ema_decay", ema_decay)


def _check_seeds(seed) -> np.ndarray:
    """Seeds as an int64 array; None draws one (a run that cannot be repeated)."""
    if seed is None:
        seed = int(np.random.default_rng().integers(2**62))
    if type(seed) is int and 0 <= seed < 2**63:  # the common case, without the array checks below
        return np.asarray(seed, dtype=np.int64)
    v = np.asarray(seed)
    numeric = v.dtype != bool and (np.issubdtype(v.dtype, np.integer) or np.issubdtype(v.dtype, np.floating))
    if not numeric or not np.all(np.isfinite(v) & (v >= 0) & (v == np.floor(v)) & (v < 2**63)):
        raise ValueError(f"Invalid seed: {seed!r} (whole numbers >= 0)")
    return v.astype(np.int64)


def _check_steps(steps) -> int:
    if not (float(steps) == int(steps) and 1 <= int(steps) <= 100_000):
        raise ValueError(f"Invalid steps: {steps} (allowed range: whole numbers in [1, 100000])")
    return int(steps)


def run(landscape, name: str, start=(0.0, 0.0), steps: int = 100, **options) -> Trajectory:
    """Run optimizer ``name`` on ``landscape`` from ``start`` for at most ``steps`` steps.

    ``options`` are :func:`run_batch`'s keywords (schedule, noise, seed, tol,
    average, ema_decay, batch_size) and the optimizer's hyperparameters (lr, momentum,
    alpha, beta1, beta2, eps, bias_correction, memory)::

        t = run(landscapes.get("rosenbrock"), "adam", start=(-1.5, 2), steps=500, lr=0.02)
        t.status, t.points[-1]
    """
    start = np.asarray(start, dtype=np.float64)
    if start.shape != (2,):
        raise ValueError(f"start must be a point (x, y), got shape {start.shape}")
    if np.ndim(options.get("seed", 0)) != 0:
        raise ValueError("seed must be a single number for run(); use run_batch for one seed per run")
    for k, v in options.items():
        if k in defaults(name) and np.ndim(v) != 0:
            raise ValueError(f"{k} must be a single number for run(); use run_batch for grids")
    alone = _run_alone(landscape, name, start, steps, **options)
    return alone if alone is not None else run_batch(landscape, name, start, steps, history=True, **options).trajectory()


def _run_alone(
    landscape, name, start, steps, schedule=None, noise=0.0, seed=0, tol=1e-6, average=None, ema_decay=0.9, batch_size=None, **hyperparameters
) -> Trajectory | None:
    """:func:`run` on the float path (:func:`_single_loop`) with no batch around the run: the
    same checks, loop and history as :func:`run_batch` gives a lone run, without broadcasting
    the settings to a batch of one and cutting the run back out of it (about 0.1 ms of a
    1000-step Rosenbrock run's 1.2). None when the rule or the run needs the batched loop."""
    if batch_size is not None:
        return None
    steps, _, opt = _checked_options(landscape, name, steps, noise, average, ema_decay, None, hyperparameters)
    _check_finite(start)
    seeds = _check_seeds(seed)
    if not opt.elementwise:
        return None
    settings = _float_settings(hyperparameters, _numeric(name, hyperparameters))
    traced = _traced_for(landscape, name, settings, float(noise) > 0)
    base_lr = np.full((1, 2), float(dict(settings).get("lr", defaults(name).get("lr", 1.0))))
    factors = (schedule or constant())(np.arange(steps))
    oracle = _Oracle(landscape, float(noise), _Draws(seeds.reshape(1), steps, float(noise)))
    with np.errstate(all="ignore"):  # divergence is detected and reported, not warned about
        result = _single_loop(landscape, traced, oracle, start.reshape(1, 2), base_lr, factors, steps, tol, True)
    if result is None:  # the float loop could not carry this run: run_batch takes the batched loop (rare)
        return None
    codes, stops, _, _, g, hist, fields = result
    _after_run(hist, landscape, stops, average, ema_decay)
    outcome = _result(int(codes[0]), int(stops[0]), float(np.hypot(g[0, 0], g[0, 1])), tol, opt.hessian)
    hyper = {k: _scalar(v) for k, v in hyperparameters.items()}
    return _trajectory(name, hyper, {k: v[:, 0] for k, v in hist.items()}, fields, outcome)
