"""Grid and random hyperparameter search, and refinement: one batched core call per grid. No Streamlit.

On a data surface (``faithful``, ``iris``, ``tanh_unit``) a sweep runs on mini-batches
(``batch_size``, a fixed size for the whole grid, or None for the full batch) with the
input ``scaling`` of choice, and the mini-batch size itself can be an axis
(:func:`sweepable` offers it there, on a log scale of whole numbers from 1 to the
training size). The runner takes one batch size per call, so a batch-size axis means
one batched call per batch-size value, the other axis vectorized within each call.

Every run of a sweep shares one ``seed`` (common random numbers): at a given batch size
every cell sees the same mini-batches in the same order, so the differences between
cells come from the hyperparameters, not from which examples each run happened to draw.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

import landscapes
import optimizers
from landscapes.catalog import is_data
from optimizers.declarations import RUN_SETTINGS

METRICS = ("final_loss", "steps_to_converge", "diverged")
BATCH = "batch_size"  # the run setting a sweep may put on an axis (data surfaces only)
_BATCH_ONLY = "batch_size can be a sweep axis only on a data surface (faithful, iris, tanh_unit); on a formula surface sweep lr, momentum, beta1, ..."


def sweepable(optimizer: str, surface: str | None = None) -> list[str]:
    """The hyperparameters of ``optimizer`` that a sweep can put on an axis (their declarations say),
    and on a data ``surface`` also the mini-batch size."""
    names = [hp.name for hp in optimizers.hyperparameters(optimizer) if hp.sweep is not None]
    if surface is not None and is_data(surface):
        names.append(BATCH)
    return names


@functools.cache
def training_size(surface: str) -> int:
    """The number of training examples of data surface ``surface`` (the same split for every scaling)."""
    if not is_data(surface):
        raise ValueError(f"{surface} has no training data: {_BATCH_ONLY}")
    return int(landscapes.get(surface).data.n_train)


def axis_range(name: str, surface: str | None = None) -> tuple[float, float]:
    """The widest range a sweep's axis over ``name`` spans. The mini-batch size's declared range
    ends at the surface's training size: it needs a data ``surface``."""
    lo, hi = optimizers.declaration(name).sweep
    if hi == np.inf:
        if surface is None or not is_data(surface):
            raise ValueError(_BATCH_ONLY + (f", not {surface}" if surface else ""))
        hi = training_size(surface)
    return float(lo), float(hi)


def is_log(name: str) -> bool:
    """Whether ``name``'s axis is logarithmic (its declared scale)."""
    return optimizers.declaration(name).scale == "log"


def is_whole(name: str) -> bool:
    """Whether ``name`` takes whole numbers only (the mini-batch size: every option it declares is an int)."""
    hp = optimizers.declaration(name)
    return hp.scale == "int" or (bool(hp.options) and all(isinstance(o, int) for o in hp.options))


def _whole_bounds(lo: float, hi: float) -> tuple[int, int]:
    """The whole numbers an axis over [lo, hi] may take (at least one: the nearest to the middle)."""
    a, b = max(1, int(np.ceil(lo - 1e-9))), int(np.floor(hi + 1e-9))
    if a > b:
        a = b = max(1, int(np.rint(np.sqrt(lo * hi))))
    return a, b


def axis(name: str, lo: float, hi: float, n: int) -> np.ndarray:
    """``n`` values from ``lo`` to ``hi``, evenly spaced on the hyperparameter's natural scale.

    A whole-number axis (the mini-batch size) rounds the log-spaced values to whole numbers
    within [lo, hi] and drops repeats, so it may hold fewer than ``n`` values: every whole
    number at the small end (1, 2, 3, ...), ratios at the large end (..., 169, 184, 200, 218).
    """
    if is_whole(name):
        a, b = _whole_bounds(lo, hi)
        values = np.logspace(np.log10(a), np.log10(b), n) if is_log(name) else np.linspace(a, b, n)
        return np.unique(np.clip(np.rint(values), a, b)).astype(float)
    if is_log(name):
        return np.logspace(np.log10(lo), np.log10(hi), n)
    return np.linspace(lo, hi, n)


def random_points(name: str, lo: float, hi: float, n: int, rng: np.random.Generator, choices: np.ndarray | None = None) -> np.ndarray:
    """``n`` points drawn uniformly on the hyperparameter's scale; with ``choices`` (a whole-number
    axis), each draw is taken at the nearest of them (on the same scale)."""
    u = rng.random(n)
    if is_log(name):
        points = 10 ** (np.log10(lo) + u * (np.log10(hi) - np.log10(lo)))
    else:
        points = lo + u * (hi - lo)
    if choices is not None:
        to = np.log10 if is_log(name) else (lambda v: v)
        points = choices[np.argmin(np.abs(to(points)[:, None] - to(choices)[None, :]), axis=1)]
    return points


@dataclass(frozen=True)
class Sweep:
    """One grid (or random sample) of runs and what each achieved."""

    x_name: str
    y_name: str
    x: np.ndarray  # (nx,) grid values, or (n,) random points
    y: np.ndarray  # (ny,) grid values, or (n,) random points
    final_loss: np.ndarray  # (ny, nx), or (n,)
    status: np.ndarray  # same shape, strings
    steps: np.ndarray  # steps taken before stopping
    random: bool = False
    box: tuple[float, float, float, float] = (0, 0, 0, 0)  # x_lo, x_hi, y_lo, y_hi searched
    x_log: bool = False  # the axes' scales, as the hyperparameters declare them
    y_log: bool = False
    meta: dict = field(default_factory=dict)
    x_range: tuple[float, float] | None = None  # the widest range of each axis (None: the declared one)
    y_range: tuple[float, float] | None = None
    surface: str = ""
    scaling: str | None = None  # a data surface's input scaling
    batch_size: int | None = None  # the fixed mini-batch size (None: full batch, or on an axis)
    seed: int = 0  # the one seed every run shares (its mini-batches; the random search's points)
    calls: int = 1  # batched runner calls it took (one per batch size on a batch-size axis)

    @property
    def success(self) -> np.ndarray:
        """Whether each run ended in a status that counts as success (the runner's one status table)."""
        ok = {row.name: row.success for row in optimizers.STATUS_TABLE}
        return np.array([ok[s] for s in np.ravel(self.status)], dtype=bool).reshape(np.shape(self.status))

    def metric(self, name: str) -> np.ndarray:
        if name == "final_loss":
            return np.where(self.status == "diverged", np.nan, self.final_loss)
        if name == "steps_to_converge":
            return np.where(self.status == "converged", self.steps, np.nan).astype(float)
        if name == "diverged":
            return (self.status == "diverged").astype(float)
        raise ValueError(f"Unknown metric {name!r}; choose one of: {', '.join(METRICS)}")

    def best(self) -> tuple[float, float, float]:
        """(x, y, loss) of the lowest finite final loss."""
        loss = self.metric("final_loss")
        if not np.any(np.isfinite(loss)):
            return (float("nan"), float("nan"), float("nan"))
        flat = int(np.nanargmin(loss))
        if self.random:
            return float(self.x[flat]), float(self.y[flat]), float(loss.flat[flat])
        iy, ix = np.unravel_index(flat, loss.shape)
        return float(self.x[ix]), float(self.y[iy]), float(loss[iy, ix])


def _clip(name: str, lo: float, hi: float, widest: tuple[float, float]) -> tuple[float, float]:
    # Only the run settings' ranges are hard limits (a batch beyond the training set does not
    # exist); a hyperparameter's box is searched as given.
    if name not in RUN_SETTINGS:
        return lo, hi
    a, b = widest
    return min(max(lo, a), b), min(max(hi, a), b)


def run(
    surface: str,
    optimizer: str,
    x_name: str,
    y_name: str,
    box: tuple[float, float, float, float],
    n: int = 64,
    steps: int = 500,
    start=(-1.5, 2.0),
    fixed: dict | None = None,
    params: dict | None = None,
    random: bool = False,
    seed: int = 0,
    scaling: str | None = None,
    batch_size: int | None = None,
) -> Sweep:
    """Run ``optimizer`` over an ``n`` x ``n`` grid (or ``n*n`` random points) of two hyperparameters.

    One batched call for the whole grid; with ``batch_size`` on an axis (data surfaces only),
    one batched call per batch-size value (the runner takes one batch size per call), the
    other axis vectorized within it. The batch-size axis holds whole numbers, log-spaced,
    rounded and without repeats (:func:`axis`), so it may have fewer than ``n`` values;
    random search takes each point's batch size at the nearest of those values, so it
    needs no more calls than the grid.

    ``scaling`` and a fixed ``batch_size`` (None: the full batch) apply to a data surface.
    Every run shares ``seed`` (common random numbers): runs with the same batch size see
    the same mini-batches in the same order, exactly those :func:`optimizers.run` with
    ``seed`` sees, so each cell's final loss is that of its single run. ``seed`` also
    draws the random search's points.
    """
    axes = sweepable(optimizer, surface)
    if BATCH in (x_name, y_name) and not is_data(surface):
        raise ValueError(f"{_BATCH_ONLY}, not {surface}")
    for name in (x_name, y_name):
        if name not in axes:
            raise ValueError(f"{optimizer} has no sweepable hyperparameter {name!r}; choose from {', '.join(axes)}")
    if x_name == y_name:
        raise ValueError("Choose two different hyperparameters")
    batch_axis = BATCH in (x_name, y_name)
    if batch_axis and batch_size is not None:
        raise ValueError("batch_size is on an axis: leave the fixed batch_size out (None)")
    x_range, y_range = axis_range(x_name, surface), axis_range(y_name, surface)
    x_lo, x_hi = _clip(x_name, *(float(v) for v in box[:2]), x_range)
    y_lo, y_hi = _clip(y_name, *(float(v) for v in box[2:]), y_range)
    landscape = landscapes.get(surface, **({"scaling": scaling} if scaling is not None else {}), **(params or {}))
    common = dict(history=False, seed=seed, **(fixed or {}))

    def call(m, **grid):
        return optimizers.run_batch(landscape, optimizer, start, steps, batch_size=m, **common, **grid)

    calls = 1
    if random:
        rng = np.random.default_rng(seed)
        xs = random_points(x_name, x_lo, x_hi, n * n, rng, axis(x_name, x_lo, x_hi, n) if is_whole(x_name) else None)
        ys = random_points(y_name, y_lo, y_hi, n * n, rng, axis(y_name, y_lo, y_hi, n) if is_whole(y_name) else None)
        if batch_axis:
            sizes, other, other_name = (xs, ys, y_name) if x_name == BATCH else (ys, xs, x_name)
            final, codes, stops = np.empty(n * n), np.empty(n * n, dtype=int), np.empty(n * n, dtype=int)
            values = np.unique(sizes)
            for m in values:
                at = sizes == m
                b = call(int(m), **{other_name: other[at]})
                final[at], codes[at], stops[at] = b.final_losses, b.status_codes, b.stop_steps
            calls = len(values)
        else:
            b = call(batch_size, **{x_name: xs, y_name: ys})
            final, codes, stops = b.final_losses, b.status_codes, b.stop_steps
    else:
        xs, ys = axis(x_name, x_lo, x_hi, n), axis(y_name, y_lo, y_hi, n)
        if batch_axis:
            final, codes, stops = (np.empty((len(ys), len(xs)), dtype=d) for d in (float, int, int))
            if x_name == BATCH:
                for j, m in enumerate(xs):
                    b = call(int(m), **{y_name: ys})
                    final[:, j], codes[:, j], stops[:, j] = b.final_losses, b.status_codes, b.stop_steps
            else:
                for i, m in enumerate(ys):
                    b = call(int(m), **{x_name: xs})
                    final[i], codes[i], stops[i] = b.final_losses, b.status_codes, b.stop_steps
            calls = len(xs) if x_name == BATCH else len(ys)
        else:
            b = call(batch_size, **{x_name: xs[None, :], y_name: ys[:, None]})
            final, codes, stops = b.final_losses, b.status_codes, b.stop_steps
    return Sweep(
        x_name, y_name, xs, ys, final, np.asarray(optimizers.STATUSES)[codes], stops, random, (x_lo, x_hi, y_lo, y_hi),
        x_log=is_log(x_name), y_log=is_log(y_name), x_range=x_range, y_range=y_range,
        surface=surface, scaling=getattr(landscape, "scaling", None) if is_data(surface) else None,
        batch_size=None if batch_axis else batch_size, seed=int(seed), calls=calls,
    )  # fmt: skip


def refine_box(sweep: Sweep, center=None, shrink: float = 4.0) -> tuple[float, float, float, float]:
    """A box ``shrink`` times smaller (per axis, on its natural scale) around ``center`` (default: the best point).

    A whole-number axis (the mini-batch size) keeps whole-number ends, rounded outward."""
    cx, cy = center if center is not None else sweep.best()[:2]
    out = []
    for name, c, lo, hi, widest in (
        (sweep.x_name, cx, *sweep.box[:2], sweep.x_range),
        (sweep.y_name, cy, *sweep.box[2:], sweep.y_range),
    ):
        log = is_log(name)
        to = np.log10 if log else (lambda v: v)
        back = (lambda v: 10**v) if log else (lambda v: v)
        half = (to(hi) - to(lo)) / (2 * shrink)
        a, b = max(to(lo), to(c) - half), min(to(hi), to(c) + half)
        a_max, b_min = widest if widest is not None else axis_range(name)
        a, b = max(back(a), a_max), min(back(b), b_min)
        if is_whole(name):
            a, b = float(np.floor(a + 1e-9)), float(np.ceil(b - 1e-9))
        out += [a, b]
    return tuple(float(v) for v in out)  # type: ignore[return-value]


def coarse_to_fine_demo(surface: str = "rosenbrock", start=(-1.5, 2.0), coarse_steps: int = 100, fine_steps: int = 500) -> dict[str, float]:
    """Adam over lr x beta1: a 16 x 16 coarse grid of short runs, then a 16 x 16 grid four times finer around its best, with longer runs."""
    coarse = run(surface, "adam", "lr", "beta1", (1e-4, 1.0, 0.0, 0.99), n=16, steps=coarse_steps, start=start)
    fine = run(surface, "adam", "lr", "beta1", refine_box(coarse), n=16, steps=fine_steps, start=start)
    return {"coarse": coarse.best()[2], "fine": fine.best()[2], "coarse_steps": float(coarse_steps), "fine_steps": float(fine_steps)}
