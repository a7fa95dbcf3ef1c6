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

The start point is a sweep axis too (``"x0"``, ``"y0"``, over the surface's window): a
grid of starts is a basin map, and the ``basin`` metric says which minimum each run ends
at (:func:`basins`). :func:`seeds` runs one start with many seeds, for the share of runs
that reach each minimum when the gradient is noisy.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

import landscapes
import optimizers
from landscapes.catalog import is_data
from optimizers.declarations import RUN_SETTINGS

METRICS = ("final_loss", "steps_to_converge", "diverged", "basin")
# The start point's coordinates: axes of every sweep on a surface, over its window (a basin map).
START_AXES = ("x0", "y0")
BATCH = "batch_size"  # the run setting a sweep may put on an axis (data surfaces only)
_BATCH_ONLY = "batch_size can be a sweep axis only on a data surface (faithful, iris, tanh_unit); on a formula surface sweep lr, momentum, beta1, ..."


def sweepable(optimizer: str, surface: str | None = None) -> list[str]:
    """The hyperparameters of ``optimizer`` that a sweep can put on an axis (their declarations say),
    and on a data ``surface`` also the mini-batch size."""
    names = [hp.name for hp in optimizers.hyperparameters(optimizer) if hp.sweep is not None]
    if surface is not None and is_data(surface):
        names.append(BATCH)
    if surface is not None:
        names += START_AXES
    return names


def maps_starts(x_name: str, y_name: str) -> bool:
    """Whether two axes are the start's two coordinates: a map of starts over the surface."""
    return {x_name, y_name} == set(START_AXES)


def is_start(name: str) -> bool:
    """Whether ``name`` is a coordinate of the start point (``"x0"`` or ``"y0"``), not a hyperparameter."""
    return name in START_AXES


@functools.cache
def training_size(surface: str) -> int:
    """The number of training examples of data surface ``surface`` (the same split for every scaling)."""
    if not is_data(surface):
        raise ValueError(f"{surface} has no training data: {_BATCH_ONLY}")
    return int(landscapes.get(surface).data.n_train)


def axis_range(name: str, surface: str | None = None, scaling: str | None = None) -> tuple[float, float]:
    """The widest range a sweep's axis over ``name`` spans. The mini-batch size's declared range
    ends at the surface's training size: it needs a data ``surface``. A start coordinate spans
    the surface's window (of its input ``scaling`` on a data surface)."""
    if is_start(name):
        if surface is None:
            raise ValueError(f"{name} (a start coordinate) spans a surface's window: name the surface")
        window = landscapes.get(surface, **({"scaling": scaling} if scaling is not None else {})).window
        lo, hi = window[START_AXES.index(name)]
        return float(lo), float(hi)
    lo, hi = optimizers.declaration(name).sweep
    if hi == np.inf:
        if surface is None or not is_data(surface):
            raise ValueError(_BATCH_ONLY + (f", not {surface}" if surface else ""))
        hi = training_size(surface)
    return float(lo), float(hi)


def is_log(name: str) -> bool:
    """Whether ``name``'s axis is logarithmic (its declared scale; a start coordinate's is linear)."""
    return not is_start(name) and optimizers.declaration(name).scale == "log"


def is_whole(name: str) -> bool:
    """Whether ``name`` takes whole numbers only (the mini-batch size: every option it declares is an int)."""
    if is_start(name):
        return False
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


# How a run ends, as the ``basin`` metric codes it: the index of the minimum it reached
# (0, 1, ... into ``landscape.minima``), or one of these.
DIVERGED, MOVING, SADDLE, STOPPED = -1, -2, -3, -4
OUTCOMES: dict[int, str] = {DIVERGED: "diverged", MOVING: "moving", SADDLE: "saddle", STOPPED: "stopped"}
BASIN_TOL = 0.1  # the largest radius within which a run "ends at" a point, in units of the window's side along each axis
Z95 = 1.959963984540054  # the standard normal's 97.5% quantile: two-sided 95% intervals


def _in_window_units(landscape, points) -> np.ndarray:
    """``points`` with each coordinate divided by the window's side along it: a distance in
    these units means the same share of the map across and up (Old Faithful's raw window is
    0.25 by 13)."""
    (x_lo, x_hi), (y_lo, y_hi) = landscape.window
    return np.asarray(points, dtype=np.float64) / np.array([x_hi - x_lo, y_hi - y_lo])


def stationary_points(landscape) -> tuple[np.ndarray, np.ndarray]:
    """The surface's stationary points inside its window, minima first (in the order of
    ``landscape.minima``) then the others (saddles, maxima, degenerate points), (m, 2); and
    the radius around each within which a run counts as ending there, (m,), in window units
    (each coordinate over the window's side along it): the smaller of :data:`BASIN_TOL` and
    half the distance to the nearest other stationary point, so that no two regions overlap."""
    others = [c.point for c in landscape.critical_points if c.kind != "minimum"]
    points = np.concatenate([landscape.minima, np.array(others, dtype=np.float64).reshape(-1, 2)])
    radius = np.full(len(points), BASIN_TOL)
    if len(points) > 1:
        u = _in_window_units(landscape, points)
        d = np.hypot(u[:, None, 0] - u[None, :, 0], u[:, None, 1] - u[None, :, 1])
        np.fill_diagonal(d, np.inf)
        radius = np.minimum(radius, d.min(axis=1) / 2)
    return points, radius


def basins(landscape, final_points, status) -> np.ndarray:
    """Where each run ended, as an int per run (the ``basin`` metric); ``status``: each run's
    status (:data:`optimizers.STATUSES`).

    ``k >= 0``: the last point lies within the radius :func:`stationary_points` gives around
    ``landscape.minima[k]`` (distances in window units: inside an ellipse whose half-axes are a
    tenth of the window's width and height, at most). :data:`SADDLE`: within the radius of another stationary point inside
    the window (a saddle, a maximum, a degenerate point: a run started on a saddle's stable
    manifold ends there). :data:`DIVERGED`: the run diverged. :data:`MOVING`: its steps ran
    out away from every stationary point (still on its way). :data:`STOPPED`: it stopped
    away from them (converged to a point outside the window, stalled on a flat region, a
    singular Hessian). A run counts by where it ended, whether or not its gradient norm fell
    below the convergence tolerance: Adam with a constant rate, or a run with noisy gradients,
    hovers near a minimum without converging.
    """
    status = np.asarray(status)
    pts = np.asarray(final_points, dtype=np.float64)
    out = np.where(status == "max_steps", MOVING, STOPPED).astype(np.int64)
    targets, radius = stationary_points(landscape)
    if len(targets):
        with np.errstate(all="ignore"):  # a diverged run's point is inf or NaN
            u, t = _in_window_units(landscape, pts), _in_window_units(landscape, targets)
            d = np.hypot(u[..., None, 0] - t[:, 0], u[..., None, 1] - t[:, 1])
        d = np.where(np.isnan(d), np.inf, d)
        nearest = np.argmin(d, axis=-1)
        near = np.take_along_axis(d, nearest[..., None], axis=-1)[..., 0] <= radius[nearest]
        k = len(landscape.minima)
        out[near] = np.where(nearest[near] < k, nearest[near], SADDLE)
    out[status == "diverged"] = DIVERGED
    return out


def global_minima(minimum_losses, rtol: float = 1e-6) -> list[int]:
    """The indices of the minima with the lowest loss: several when they tie within ``rtol``
    (relative, at least absolute for losses below 1), as Himmelblau's four or the camel's two."""
    losses = np.asarray(minimum_losses, dtype=float)
    if not losses.size:
        return []
    low = float(np.min(losses))
    return [k for k, v in enumerate(losses) if v <= low + rtol * max(1.0, abs(low))]


@dataclass(frozen=True)
class Share:
    """How many of ``total`` runs ended one way (``code``: a minimum's index or an outcome of
    :data:`OUTCOMES`), as a share with its Wilson score 95% interval [``low``, ``high``]."""

    code: int
    count: int
    total: int

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else float("nan")

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.count, self.total)


def wilson_interval(count: int, total: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a proportion ``count`` / ``total`` (95% with the default
    ``z``): unlike the normal approximation it stays inside [0, 1] and is not empty at 0 or
    ``total`` (Wilson 1927; Newcombe 1998, method 3)."""
    if total <= 0:
        return (float("nan"), float("nan"))
    p, n = count / total, total
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, float(centre - half)), min(1.0, float(centre + half)))


def shares(basin: np.ndarray, n_minima: int) -> list[Share]:
    """The share of runs that ended at each minimum (every one, even at 0 runs), then at each
    other outcome that happened, in the order saddle, stopped elsewhere, still moving, diverged."""
    codes = np.ravel(basin)
    out = [Share(k, int(np.sum(codes == k)), codes.size) for k in range(n_minima)]
    for code in (SADDLE, STOPPED, MOVING, DIVERGED):
        count = int(np.sum(codes == code))
        if count:
            out.append(Share(code, count, codes.size))
    return out


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
    basin: np.ndarray | None = None  # same shape: where each run ended (:func:`basins`)
    minima: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))  # (k, 2) the surface's minima in its window
    minimum_losses: np.ndarray = field(default_factory=lambda: np.empty(0))  # (k,) f at each
    start: tuple[float, float] = (0.0, 0.0)  # the start of every run (the coordinates not on an axis)
    fixed: tuple = ()  # the settings every run shares, as sorted (name, value) pairs

    @property
    def starts_swept(self) -> bool:
        """Whether both axes are the start's coordinates (a basin map over the surface)."""
        return maps_starts(self.x_name, self.y_name)

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
        if name == "basin":
            return self.basin.astype(float)
        raise ValueError(f"Unknown metric {name!r}; choose one of: {', '.join(METRICS)}")

    def shares(self) -> list[Share]:
        """The share of runs (cells) that ended at each minimum, and the other outcomes (:func:`shares`)."""
        return shares(self.basin, len(self.minima))

    def global_minima(self) -> list[int]:
        """The indices of the minima with the lowest loss (:func:`global_minima`)."""
        return global_minima(self.minimum_losses)

    def reached_global(self) -> Share:
        """How many runs (cells) ended at a global minimum (any of them when several tie)."""
        return Share(-100, int(np.isin(self.basin, self.global_minima()).sum()), int(np.size(self.basin)))

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
    # Only the run settings' ranges and the window are hard limits (a batch beyond the training
    # set does not exist; a start outside the window is off the map); a hyperparameter's box is
    # searched as given.
    if name not in RUN_SETTINGS and not is_start(name):
        return lo, hi
    a, b = widest
    return min(max(lo, a), b), min(max(hi, a), b)


def _surface(surface: str, scaling: str | None, params: dict | None):
    return landscapes.get(surface, **({"scaling": scaling} if scaling is not None else {}), **(params or {}))


def _settings(values: dict[str, np.ndarray], start) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The starts (..., 2) and the hyperparameters of a batch from the axes' ``values`` (arrays
    that broadcast together): a start coordinate on an axis replaces ``start``'s."""
    xy = [np.float64(start[0]), np.float64(start[1])]
    hyper = {}
    for name, v in values.items():
        if is_start(name):
            xy[START_AXES.index(name)] = v
        else:
            hyper[name] = v
    return np.stack(np.broadcast_arrays(*xy), axis=-1), hyper


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
    """Run ``optimizer`` over an ``n`` x ``n`` grid (or ``n*n`` random points) of two axes.

    An axis is a hyperparameter, the mini-batch size (data surfaces), or a coordinate of the
    start point (``"x0"``, ``"y0"``; its range is cut to the surface's window): with both,
    the grid is a grid of starts, a basin map. ``start`` gives the coordinates not on an
    axis, ``fixed`` the settings every run shares (``noise``, hyperparameters not on an
    axis; the rest are the optimizer's defaults).

    One batched call for the whole grid; with ``batch_size`` on an axis (data surfaces only),
    one batched call per batch-size value (the runner takes one batch size per call), the
    other axis vectorized within it. The batch-size axis holds whole numbers, log-spaced,
    rounded and without repeats (:func:`axis`), so it may have fewer than ``n`` values;
    random search takes each point's batch size at the nearest of those values, so it
    needs no more calls than the grid.

    ``scaling`` and a fixed ``batch_size`` (None: the full batch) apply to a data surface.
    Every run shares ``seed`` (common random numbers): runs with the same batch size see
    the same mini-batches in the same order (with ``noise``, the same gradient noise),
    exactly those :func:`optimizers.run` with ``seed`` sees, so each cell's final loss is
    that of its single run. ``seed`` also draws the random search's points.

    Every cell also records where its run ended (:func:`basins`: which minimum, if any),
    the ``basin`` metric.
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
    x_range, y_range = axis_range(x_name, surface, scaling), axis_range(y_name, surface, scaling)
    x_lo, x_hi = _clip(x_name, *(float(v) for v in box[:2]), x_range)
    y_lo, y_hi = _clip(y_name, *(float(v) for v in box[2:]), y_range)
    landscape = _surface(surface, scaling, params)
    common = dict(history=False, seed=seed, **(fixed or {}))

    def call(m, **grid):
        starts, hyper = _settings(grid, start)
        return optimizers.run_batch(landscape, optimizer, starts, steps, batch_size=m, **common, **hyper)

    calls = 1
    if random:
        rng = np.random.default_rng(seed)
        xs = random_points(x_name, x_lo, x_hi, n * n, rng, axis(x_name, x_lo, x_hi, n) if is_whole(x_name) else None)
        ys = random_points(y_name, y_lo, y_hi, n * n, rng, axis(y_name, y_lo, y_hi, n) if is_whole(y_name) else None)
        if batch_axis:
            sizes, other, other_name = (xs, ys, y_name) if x_name == BATCH else (ys, xs, x_name)
            final, codes, stops = np.empty(n * n), np.empty(n * n, dtype=int), np.empty(n * n, dtype=int)
            points = np.empty((n * n, 2))
            values = np.unique(sizes)
            for m in values:
                at = sizes == m
                b = call(int(m), **{other_name: other[at]})
                final[at], codes[at], stops[at], points[at] = b.final_losses, b.status_codes, b.stop_steps, b.final_points
            calls = len(values)
        else:
            b = call(batch_size, **{x_name: xs, y_name: ys})
            final, codes, stops, points = b.final_losses, b.status_codes, b.stop_steps, b.final_points
    else:
        xs, ys = axis(x_name, x_lo, x_hi, n), axis(y_name, y_lo, y_hi, n)
        if batch_axis:
            final, codes, stops = (np.empty((len(ys), len(xs)), dtype=d) for d in (float, int, int))
            points = np.empty((len(ys), len(xs), 2))
            if x_name == BATCH:
                for j, m in enumerate(xs):
                    b = call(int(m), **{y_name: ys})
                    final[:, j], codes[:, j], stops[:, j], points[:, j] = b.final_losses, b.status_codes, b.stop_steps, b.final_points
            else:
                for i, m in enumerate(ys):
                    b = call(int(m), **{x_name: xs})
                    final[i], codes[i], stops[i], points[i] = b.final_losses, b.status_codes, b.stop_steps, b.final_points
            calls = len(xs) if x_name == BATCH else len(ys)
        else:
            b = call(batch_size, **{x_name: xs[None, :], y_name: ys[:, None]})
            final, codes, stops, points = b.final_losses, b.status_codes, b.stop_steps, b.final_points
    status = np.asarray(optimizers.STATUSES)[codes]
    return Sweep(
        x_name, y_name, xs, ys, final, status, stops, random, (x_lo, x_hi, y_lo, y_hi),
        x_log=is_log(x_name), y_log=is_log(y_name), x_range=x_range, y_range=y_range,
        surface=surface, scaling=getattr(landscape, "scaling", None) if is_data(surface) else None,
        batch_size=None if batch_axis else batch_size, seed=int(seed), calls=calls,
        basin=basins(landscape, points, status), minima=landscape.minima,
        minimum_losses=np.asarray(landscape.f(landscape.minima), dtype=float).reshape(-1),
        start=(float(start[0]), float(start[1])), fixed=tuple(sorted((fixed or {}).items())),
    )  # fmt: skip


SEEDS_MAX = 1000  # the most seeds :func:`seeds` runs in one call


@dataclass(frozen=True)
class Seeds:
    """One start run with ``n`` seeds: where each run ended and its final loss."""

    surface: str
    optimizer: str
    start: tuple[float, float]
    seeds: np.ndarray  # (n,) the seeds, first_seed, first_seed + 1, ...
    basin: np.ndarray  # (n,) where each run ended (:func:`basins`)
    final_loss: np.ndarray  # (n,)
    status: np.ndarray  # (n,) strings
    steps: int
    noise: float
    batch_size: int | None
    minima: np.ndarray  # (k, 2)
    minimum_losses: np.ndarray  # (k,)
    fixed: tuple = ()  # the settings every run shares, as sorted (name, value) pairs

    @property
    def n(self) -> int:
        return int(self.seeds.size)

    def shares(self) -> list[Share]:
        """The share of seeds whose run ended at each minimum, and at each other outcome (:func:`shares`)."""
        return shares(self.basin, len(self.minima))

    def global_minima(self) -> list[int]:
        """The indices of the minima with the lowest loss (:func:`global_minima`)."""
        return global_minima(self.minimum_losses)

    def reached_global(self) -> Share:
        """How many runs ended at a global minimum (any of them when several tie)."""
        return Share(-100, int(np.isin(self.basin, self.global_minima()).sum()), self.n)

    def loss_spread(self) -> tuple[float, float, float]:
        """The 5th percentile, median and 95th percentile of the final losses of the runs that did not diverge (NaN if all did)."""
        finite = self.final_loss[(self.basin != DIVERGED) & np.isfinite(self.final_loss)]
        if not finite.size:
            return (float("nan"),) * 3
        lo, mid, hi = np.percentile(finite, [5, 50, 95])
        return float(lo), float(mid), float(hi)


def seeds(
    surface: str,
    optimizer: str,
    start,
    n: int = 200,
    steps: int = 500,
    noise: float = 0.0,
    fixed: dict | None = None,
    params: dict | None = None,
    scaling: str | None = None,
    batch_size: int | None = None,
    first_seed: int = 0,
) -> Seeds:
    """Run ``optimizer`` from one ``start`` with ``n`` seeds (``first_seed``, ``first_seed + 1``,
    ...; at most :data:`SEEDS_MAX`), all in one batched call, and record where each run ended.

    The seed draws what is random in a run: the gradient noise (``noise``, see
    ``optimizers.run_batch``) or, on a data surface, the mini-batches (``batch_size``).
    Run ``i`` is exactly :func:`optimizers.run` with ``seed=first_seed + i``. Without
    either, every seed gives the same run. ``fixed`` holds the hyperparameters (the rest
    are the optimizer's defaults).
    """
    n = int(n)
    if not 1 <= n <= SEEDS_MAX:
        raise ValueError(f"Invalid number of seeds: {n} (allowed: 1 to {SEEDS_MAX})")
    landscape = _surface(surface, scaling, params)
    seed_values = np.arange(int(first_seed), int(first_seed) + n)
    b = optimizers.run_batch(
        landscape, optimizer, np.asarray(start, dtype=np.float64), steps, noise=noise, seed=seed_values,
        batch_size=batch_size, history=False, **(fixed or {}),
    )  # fmt: skip
    status = np.asarray(optimizers.STATUSES)[b.status_codes]
    return Seeds(
        surface=surface, optimizer=optimizer, start=(float(start[0]), float(start[1])), seeds=seed_values,
        basin=basins(landscape, b.final_points, status), final_loss=b.final_losses, status=status,
        steps=int(steps), noise=float(noise), batch_size=batch_size, minima=landscape.minima,
        minimum_losses=np.asarray(landscape.f(landscape.minima), dtype=float).reshape(-1),
        fixed=tuple(sorted((fixed or {}).items())),
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
