"""Grid and random hyperparameter search, and refinement: one batched core call per grid. No Streamlit."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import landscapes
import optimizers

METRICS = ("final_loss", "steps_to_converge", "diverged")


def sweepable(optimizer: str) -> list[str]:
    """The hyperparameters of ``optimizer`` that a sweep can put on an axis (their declarations say)."""
    return [hp.name for hp in optimizers.hyperparameters(optimizer) if hp.sweep is not None]


def axis_range(name: str) -> tuple[float, float]:
    """The widest range a sweep's axis over ``name`` spans."""
    return optimizers.declaration(name).sweep


def is_log(name: str) -> bool:
    """Whether ``name``'s axis is logarithmic (its declared scale)."""
    return optimizers.declaration(name).scale == "log"


def axis(name: str, lo: float, hi: float, n: int) -> np.ndarray:
    """``n`` values from ``lo`` to ``hi``, evenly spaced on the hyperparameter's natural scale."""
    if is_log(name):
        return np.logspace(np.log10(lo), np.log10(hi), n)
    return np.linspace(lo, hi, n)


def random_points(name: str, lo: float, hi: float, n: int, rng: np.random.Generator) -> np.ndarray:
    u = rng.random(n)
    if is_log(name):
        return 10 ** (np.log10(lo) + u * (np.log10(hi) - np.log10(lo)))
    return lo + u * (hi - lo)


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
) -> Sweep:
    """Run ``optimizer`` over an ``n`` x ``n`` grid (or ``n*n`` random points) of two hyperparameters in one call."""
    for name in (x_name, y_name):
        if name not in sweepable(optimizer):
            raise ValueError(f"{optimizer} has no sweepable hyperparameter {name!r}; choose from {', '.join(sweepable(optimizer))}")
    if x_name == y_name:
        raise ValueError("Choose two different hyperparameters")
    x_lo, x_hi, y_lo, y_hi = (float(v) for v in box)
    landscape = landscapes.get(surface, **(params or {}))
    if random:
        rng = np.random.default_rng(seed)
        xs, ys = random_points(x_name, x_lo, x_hi, n * n, rng), random_points(y_name, y_lo, y_hi, n * n, rng)
        grid = {x_name: xs, y_name: ys}
    else:
        xs, ys = axis(x_name, x_lo, x_hi, n), axis(y_name, y_lo, y_hi, n)
        grid = {x_name: xs[None, :], y_name: ys[:, None]}
    batch = optimizers.run_batch(landscape, optimizer, start, steps, history=False, **(fixed or {}), **grid)
    return Sweep(
        x_name, y_name, xs, ys, batch.final_losses, batch.status, batch.stop_steps, random, (x_lo, x_hi, y_lo, y_hi),
        x_log=is_log(x_name), y_log=is_log(y_name),
    )  # fmt: skip


def refine_box(sweep: Sweep, center=None, shrink: float = 4.0) -> tuple[float, float, float, float]:
    """A box ``shrink`` times smaller (per axis, on its natural scale) around ``center`` (default: the best point)."""
    cx, cy = center if center is not None else sweep.best()[:2]
    out = []
    for name, c, lo, hi in ((sweep.x_name, cx, *sweep.box[:2]), (sweep.y_name, cy, *sweep.box[2:])):
        log = is_log(name)
        to = np.log10 if log else (lambda v: v)
        back = (lambda v: 10**v) if log else (lambda v: v)
        half = (to(hi) - to(lo)) / (2 * shrink)
        a, b = max(to(lo), to(c) - half), min(to(hi), to(c) + half)
        a_max, b_min = axis_range(name)
        out += [max(back(a), a_max), min(back(b), b_min)]
    return tuple(float(v) for v in out)  # type: ignore[return-value]


def coarse_to_fine_demo(surface: str = "rosenbrock", start=(-1.5, 2.0), coarse_steps: int = 100, fine_steps: int = 500) -> dict[str, float]:
    """Adam over lr x beta1: a 16 x 16 coarse grid of short runs, then a 16 x 16 grid four times finer around its best, with longer runs."""
    coarse = run(surface, "adam", "lr", "beta1", (1e-4, 1.0, 0.0, 0.99), n=16, steps=coarse_steps, start=start)
    fine = run(surface, "adam", "lr", "beta1", refine_box(coarse), n=16, steps=fine_steps, start=start)
    return {"coarse": coarse.best()[2], "fine": fine.best()[2], "coarse_steps": float(coarse_steps), "fine_steps": float(fine_steps)}
