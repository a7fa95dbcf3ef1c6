"""The lessons: every claim of the lecture notes (C1-C14) and its homework (H1-H3), reproduced live.

Texts are our own words. Each lesson's numbers are measured from its runs,
never written in: change a setting and the number follows. Most lessons run on a
formula surface, where one effect can be shown in isolation; the lessons on data
(``landscapes.data``: Old Faithful, iris, one tanh unit) show the same claims on
real models, with real mini-batches and a real test split.
"""

from __future__ import annotations

import math
from types import MappingProxyType

import numpy as np

import landscapes
import optimizers
import sweep

from landscapes.data import condition_number

from .core import SEEDS, Lesson, Panel, RunSpec, direction_changes, first_step_where, over_seeds, surface


def _norm(p) -> float:
    return float(np.linalg.norm(p))


def _crossings(tr, n: int = 30) -> int:
    return direction_changes(tr.points[:n, 1])


def _minimum(f) -> tuple[np.ndarray, float]:
    """The lowest critical point of surface ``f`` and its loss (the data surfaces' minima are found numerically)."""
    best = min((c for c in f.critical_points if c.kind == "minimum"), key=lambda c: c.value)
    return np.asarray(best.point, dtype=float), float(best.value)


def _steepest(f, point) -> np.ndarray:
    """The unit direction of the largest curvature of ``f`` at ``point``: across its valley."""
    values, vectors = np.linalg.eigh(f.hessian(np.asarray(point, dtype=float)))
    return vectors[:, int(np.argmax(np.abs(values)))]


def _turns_across(tr, f, n: int = 30) -> int:
    """Turns back across the valley in the first ``n`` points: sign changes of the steps along its steepest direction."""
    across = tr.points[:n] @ _steepest(f, _minimum(f)[0])
    return direction_changes(across, tol=1e-6 * max(float(np.ptp(across)), 1e-300))


# C1, C3, H1 ---------------------------------------------------------------------


def _zigzag(tr, panels):
    sgd, mom = tr[0]
    data_sgd, data_mom = tr[1]
    faithful = surface(panels[1])
    mu = float(mom.hyperparameters["momentum"])
    x0 = abs(float(sgd.points[0, 0]))
    along = lambda t: 1.0 - abs(float(t.points[-1, 0])) / x0  # noqa: E731  (share of the way along the valley, x)
    return {
        "sgd": float(_crossings(sgd)),
        "momentum": float(_crossings(mom)),
        "sgd_lr": float(sgd.hyperparameters["lr"]),
        "mom_lr": float(mom.hyperparameters["lr"]),
        "mu": mu,
        "sgd_eff": float(sgd.hyperparameters["lr"]),
        "mom_eff": float(mom.hyperparameters["lr"]) / (1.0 - mu),
        "sgd_along": 100 * along(sgd),
        "mom_along": 100 * along(mom),
        "steps": float(panels[0].steps),
        # Setup 2, the same race on raw Old Faithful: turns across its valley, and how elongated it is.
        "data_sgd": float(_turns_across(data_sgd, faithful)),
        "data_mom": float(_turns_across(data_mom, faithful)),
        "data_sgd_eff": float(data_sgd.hyperparameters["lr"]),
        "data_mom_eff": float(data_mom.hyperparameters["lr"]) / (1.0 - float(data_mom.hyperparameters["momentum"])),
        "data_kappa": condition_number(faithful, _minimum(faithful)[0]),
    }


ZIGZAG = Lesson(
    key="zigzag",
    claims=("C1", "C3", "H1"),
    panels=(
        # kappa = 50; SGD at lr * lambda_max = 1.5 (it must overshoot across the valley), momentum
        # at the same effective rate lr / (1 - mu) = 0.03: a fair race along the valley.
        Panel(
            "bowl",
            (RunSpec("sgd", {"lr": 0.03}), RunSpec("momentum", {"lr": 0.003, "momentum": 0.9})),
            start=(-3.5, 1.5),
            steps=60,
            params={"condition": 50.0},
        ),
        # Real data: linear regression on raw Old Faithful waiting times (tens of minutes) is a
        # valley about 1.6e5 times steeper across than along. SGD at its largest stable rate on
        # the controls' grid (lr * lambda_max = 1.58), momentum at the same effective rate.
        Panel(
            "faithful",
            (RunSpec("sgd", {"lr": 1.5e-4}), RunSpec("momentum", {"lr": 1.5e-5, "momentum": 0.9})),
            start=(0.0, 0.0),
            steps=300,
            scaling="raw",
        ),
    ),
    measure=_zigzag,
    # Fair (equal effective rates), SGD zig-zags (3x the turns), and momentum gets further along the
    # valley; on raw Old Faithful, a fair race too, and SGD zig-zags there as well.
    effect=lambda n: abs(n["sgd_eff"] - n["mom_eff"]) <= 1e-9 * n["sgd_eff"]
    and n["sgd"] >= 3 * max(n["momentum"], 1)
    and n["mom_along"] > n["sgd_along"]
    and abs(n["data_sgd_eff"] - n["data_mom_eff"]) <= 1e-9 * n["data_sgd_eff"]
    and n["data_sgd"] >= 3 * max(n["data_mom"], 1),
)

# C2 ----------------------------------------------------------------------------


def _curvature_at_origin(panel):
    curv = landscapes.analyze(surface(panel).hessian(np.zeros(2)))
    return curv.eigenvalues, float(curv.determinant), _norm(surface(panel).grad(np.zeros(2)))


def _saddle_vs_minimum(tr, panels):
    sgd = tr[0][0]
    escape = first_step_where(np.abs(sgd.points[:, 1]) > 1.0)
    steps = np.linalg.norm(sgd.updates, axis=-1)
    (s_lo, s_hi), s_det, g_saddle = _curvature_at_origin(panels[0])
    (m_lo, m_hi), m_det, g_min = _curvature_at_origin(panels[1])
    return {
        "s_lo": float(s_lo),
        "s_hi": float(s_hi),
        "s_det": s_det,
        "m_lo": float(m_lo),
        "m_hi": float(m_hi),
        "m_det": m_det,
        "g_saddle": g_saddle,
        "g_min": g_min,
        "escape": escape,
        # Near the saddle SGD crawls: its shortest step before escaping, against its first.
        "crawl": float(steps[: int(escape)].min() / steps[0]) if np.isfinite(escape) else float("nan"),
    }


SADDLE = Lesson(
    key="saddle_vs_minimum",
    claims=("C2", "H1"),
    panels=(
        Panel("saddle", (RunSpec("sgd", {"lr": 0.05}),), start=(-1.8, 0.001), steps=80),
        Panel("bowl", (RunSpec("sgd", {"lr": 0.05}),), start=(-1.8, 0.001), steps=80),
    ),
    measure=_saddle_vs_minimum,
    effect=lambda n: n["g_saddle"] == 0 == n["g_min"]
    and n["s_det"] < 0 < n["m_det"]
    and n["s_lo"] < 0 < n["s_hi"]
    and n["m_lo"] > 0
    and n["crawl"] < 0.1,  # NaN (never escaped) fails too
)

# C2, C3 on data: the zero initialisation of one tanh unit ------------------------------

_ESCAPED = 0.5  # "left the saddle": this far from (0, 0); the minima are about 1.83 away


def _zero_init(tr, panels):
    gd, mom, zero = tr[0]
    f = surface(panels[0])
    origin = np.zeros(2)
    curv = landscapes.analyze(f.hessian(origin))
    # Every training example's own gradient at (0, 0): a mini-batch's gradient is a mean of these.
    ga, gb = f.model.grad(0.0, 0.0, f.data.x_train, f.data.y_train)
    leave = lambda t: first_step_where(np.linalg.norm(t.points, axis=-1) > _ESCAPED)  # noqa: E731
    gd_out, mom_out = leave(gd), leave(mom)
    start = np.asarray(panels[0].start, dtype=float)
    return {
        "zero_moved": float(np.abs(zero.points - zero.points[0]).max()),
        "zero_steps": float(zero.steps),
        "zero_converged": float(zero.status == "converged"),
        "example_grad": float(np.hypot(np.broadcast_to(ga, f.data.x_train.shape), np.broadcast_to(gb, f.data.x_train.shape)).max()),
        "s_lo": float(curv.eigenvalues[0]),
        "s_hi": float(curv.eigenvalues[1]),
        "saddle_loss": float(f.f(origin)),
        "min_loss": float(min(mom.losses.min(), gd.losses.min())),  # where the runs settle: a minimum
        "offset": float(np.abs(start).max()),
        "radius": _ESCAPED,
        "sgd": gd_out,
        "momentum": mom_out,
        "fewer": gd_out - mom_out,
        "rate": float(gd.hyperparameters["lr"]),
        "mu": float(mom.hyperparameters["momentum"]),
    }


ZERO_INIT = Lesson(
    key="zero_init",
    claims=("C2", "C3", "H1"),
    panels=(
        # One tanh unit on standardised Old Faithful: (0, 0), the all-zero initialisation, is a saddle.
        # The preset is the race from a tiny offset; the run from exactly zero is drawn beside it.
        Panel(
            "tanh_unit",
            (
                RunSpec("sgd", {"lr": 0.1}, label="offset"),
                RunSpec("momentum", {"lr": 0.1, "momentum": 0.9}, label="offset"),
                RunSpec("sgd", {"lr": 0.1}, label="zero", start=(0.0, 0.0)),
            ),
            start=(0.001, 0.001),
            steps=300,
        ),
    ),
    measure=_zero_init,
    # From zero nothing moves although (0, 0) is a saddle, not a minimum; from the offset both leave,
    # momentum in at most two thirds of gradient descent's steps (NaN, never leaving, fails).
    effect=lambda n: n["zero_moved"] == 0
    and n["s_lo"] < 0 < n["s_hi"]
    and n["saddle_loss"] > 2 * n["min_loss"]
    and n["momentum"] <= n["sgd"] / 1.5,
)

# C3 ----------------------------------------------------------------------------


def _escape_steps(tr, panels):
    return {name: first_step_where(np.abs(t.points[:, 1]) > 1.0) for name, t in zip(("sgd", "momentum", "nesterov"), tr[0])}


THROUGH_SADDLE = Lesson(
    key="momentum_saddle",
    claims=("C3", "H1"),
    panels=(
        Panel(
            "saddle",
            (
                RunSpec("sgd", {"lr": 0.05}),
                RunSpec("momentum", {"lr": 0.05, "momentum": 0.9}),
                RunSpec("nesterov", {"lr": 0.05, "momentum": 0.9}),
            ),
            start=(-1.8, 0.001),
            steps=80,
        ),
    ),
    measure=_escape_steps,
    effect=lambda n: n["momentum"] < n["sgd"] / 2 and n["nesterov"] < n["sgd"] / 2,
)


def _local_minimum(tr, panels):
    sgd, mom = tr[0]
    return {"sgd": sgd.final_loss, "momentum": mom.final_loss}


LOCAL_MINIMUM = Lesson(
    key="local_minimum",
    claims=("C3", "H1"),
    panels=(
        Panel(
            "six_hump_camel",
            (RunSpec("sgd", {"lr": 0.01}), RunSpec("momentum", {"lr": 0.01, "momentum": 0.9})),
            start=(-1.9, -0.45),
            steps=300,
        ),
    ),
    measure=_local_minimum,
    effect=lambda n: n["momentum"] < n["sgd"] - 1.0,
)

# C3, H1 over many starts and seeds: basins of attraction --------------------------

_BASIN_GRID = 32  # starts per side of the grid over the window: 1024 runs
_BASIN_SEEDS = 200  # seeds from the one start beside the saddle
_BASIN_EDGE = (-2.0, -0.5)  # on the window's edge: SGD settles in a shallow local minimum, momentum rolls on
_BASIN_SADDLE = (-1.15, 0.77)  # 0.04 from the saddle (-1.109, 0.768), on the side of the local minimum
_BASIN_NOISE = 2.0  # one of the Playground's (and the Sweep page's) noise options
_BASIN_STEPS = 300


def _at_global(basin: np.ndarray, minimum_losses: np.ndarray) -> np.ndarray:
    """Whether each run ended at a global minimum (any of the minima tied for the lowest loss, as
    ``sweep.Seeds.global_minima`` counts them)."""
    low = float(np.min(minimum_losses))
    return np.isin(basin, np.flatnonzero(minimum_losses <= low + 1e-6 * max(1.0, abs(low))))


def _basins(tr, panels):
    edge, beside = panels
    sgd, mom = edge.runs
    f = surface(edge)
    (x_lo, x_hi), (y_lo, y_hi) = f.window
    mu = float(mom.hyper["momentum"])
    eff = float(mom.hyper["lr"]) / (1.0 - mu)

    def grid(optimizer: str, hyper) -> tuple[np.ndarray, np.ndarray]:
        """Whether the run from each start of the grid over the window ends at a global minimum, and at a local one."""
        box = (x_lo, x_hi, y_lo, y_hi)
        s = sweep.run(edge.landscape, optimizer, "x0", "y0", box, _BASIN_GRID, steps=edge.steps, fixed=dict(hyper), params=dict(edge.params))
        at_global = _at_global(s.basin, s.minimum_losses)
        return at_global, (s.basin >= 0) & ~at_global

    (plain, plain_local), (rolled, rolled_local) = grid(sgd.optimizer, sgd.hyper), grid(mom.optimizer, mom.hyper)
    wider, _ = grid(sgd.optimizer, {**sgd.hyper, "lr": eff})  # SGD at momentum's effective rate lr / (1 - mu)
    noisy = beside.runs[1]
    seeds = sweep.seeds(
        beside.landscape, noisy.optimizer, noisy.start or beside.start, n=_BASIN_SEEDS, steps=beside.steps,
        noise=noisy.noise, fixed=dict(noisy.hyper), params=dict(beside.params), first_seed=noisy.seed,
    )  # fmt: skip
    reached = seeds.reached_global()
    low, high = reached.interval
    clean = tr[1][0]  # the noise-free run from the same start
    clean_basin = int(sweep.basins(surface(beside), clean.points[-1:], [clean.status == "diverged"])[0])
    return {
        "starts": float(plain.size),
        "side": float(_BASIN_GRID),
        "steps": float(edge.steps),
        "sgd_lr": float(sgd.hyper["lr"]),
        "mom_lr": float(mom.hyper["lr"]),
        "mu": mu,
        "eff_lr": eff,
        "sgd": 100 * float(plain.mean()),
        "momentum": 100 * float(rolled.mean()),
        "sgd_eff": 100 * float(wider.mean()),
        "gained": float(np.sum(rolled & plain_local)),  # starts where SGD settled in a local minimum, momentum in a global one
        "lost": float(np.sum(plain & rolled_local)),  # and the other way round
        "sx": float(seeds.start[0]),
        "sy": float(seeds.start[1]),
        "noise": float(noisy.noise),
        "seeds": float(reached.total),
        "noisy": 100 * reached.share,
        "low": 100 * low,
        "high": 100 * high,
        "reached": float(reached.count),
        # The noise-free run: where it ended (1 at a local minimum that is not a global one), at what loss.
        "clean_local": float(clean_basin >= 0 and not _at_global(np.array([clean_basin]), seeds.minimum_losses)[0]),
        "clean_loss": clean.final_loss,
        "global_loss": float(np.min(seeds.minimum_losses)),
    }


BASINS = Lesson(
    key="basins",
    claims=("C3", "H1"),
    panels=(
        # A start from which the two differ: SGD settles in the shallow local minimum, momentum rolls on.
        Panel(
            "six_hump_camel",
            (RunSpec("sgd", {"lr": 0.01}), RunSpec("momentum", {"lr": 0.005, "momentum": 0.9})),
            start=_BASIN_EDGE,
            steps=_BASIN_STEPS,
        ),
        # Beside the saddle between a local and a global minimum: without noise, and with it (seed 0 drawn).
        Panel(
            "six_hump_camel",
            (RunSpec("sgd", {"lr": 0.01}, label="exact"), RunSpec("sgd", {"lr": 0.01}, label="noisy", noise=_BASIN_NOISE)),
            start=_BASIN_SADDLE,
            steps=_BASIN_STEPS,
        ),
    ),
    measure=_basins,
    # Over the grid, momentum reaches a global minimum from at least 2 points more of the starts
    # than SGD, and than SGD at momentum's effective rate (the inertia, not the larger step); beside
    # the saddle the noise-free run settles in a local minimum while noise sends some of the seeds,
    # not all, to a global one.
    effect=lambda n: n["momentum"] >= n["sgd"] + 2
    and n["momentum"] >= n["sgd_eff"] + 2
    and n["clean_local"] == 1
    and 0 < n["reached"] < n["seeds"],
    link="sweep",
    sweep_state=MappingProxyType(
        {
            "sw_landscape": "six_hump_camel",
            "sw_optimizer": "sgd",
            "sw_x": "x0",
            "sw_y": "y0",
            "sw_metric": "basin",
            "sw_vs": "momentum",
            "sw_mode": "grid",
            "sw_n": _BASIN_GRID,
            "sw_steps": _BASIN_STEPS,
            "sw_noise": _BASIN_NOISE,
            "sw_seeds": _BASIN_SEEDS,
            "sw_sx": _BASIN_SADDLE[0],
            "sw_sy": _BASIN_SADDLE[1],
        }
    ),
)

# C4 ----------------------------------------------------------------------------


def _overshoot(tr, panels):
    mom, nes = tr[0]
    return {"momentum": float(mom.points[:, 0].max()), "nesterov": float(nes.points[:, 0].max())}


NESTEROV = Lesson(
    key="nesterov",
    claims=("C4",),
    panels=(
        Panel(
            "bowl",
            (RunSpec("momentum", {"lr": 0.03, "momentum": 0.9}), RunSpec("nesterov", {"lr": 0.03, "momentum": 0.9})),
            start=(-3.5, 1.5),
            steps=80,
        ),
    ),
    measure=_overshoot,
    # Momentum must overshoot the minimum at all, and Nesterov less far.
    effect=lambda n: n["momentum"] > 0 and n["nesterov"] < n["momentum"],
)

# C5, C6 ------------------------------------------------------------------------


def _stall(tr, panels):
    ada, rms = tr[0]
    return {
        "ada_x": float(ada.points[-1, 0]),
        "rms_x": float(rms.points[-1, 0]),
        "ada_first": float(ada.effective_lr[0, 0]),
        "ada_last": float(ada.effective_lr[-1, 0]),
    }


ADAGRAD = Lesson(
    key="adagrad_stall",
    claims=("C5", "C6"),
    panels=(
        Panel(
            "cliff_valley",
            (RunSpec("adagrad", {"lr": 1.0}), RunSpec("rmsprop", {"lr": 0.1, "alpha": 0.9})),
            start=(11.0, 2.0),
            steps=300,
        ),
    ),
    measure=_stall,
    effect=lambda n: n["ada_x"] > 3.0 and abs(n["rms_x"]) < 0.5,
)

# C7 ----------------------------------------------------------------------------


def _first_steps(tr, panels):
    off, on = tr[0]
    h = off.hyperparameters
    defaults = optimizers.defaults("adam")
    b1, b2 = float(h.get("beta1", defaults["beta1"])), float(h.get("beta2", defaults["beta2"]))
    first = lambda t: float(np.abs(t.updates[0]).max() / t.lrs[0])  # noqa: E731  (in units of the step's own lr)
    return {"on": first(on), "off": first(off), "ratio": (1 - b1) / math.sqrt(1 - b2), "beta1": b1, "beta2": b2}


ADAM = Lesson(
    key="adam_bias_correction",
    claims=("C7",),
    panels=(
        Panel(
            "rosenbrock",
            (
                RunSpec("adam", {"lr": 0.01, "bias_correction": False}, "no_bias_correction"),
                RunSpec("adam", {"lr": 0.01, "bias_correction": True}, "with_bias_correction"),
            ),
            start=(-1.5, 2.0),
            steps=50,
        ),
    ),
    measure=_first_steps,
    # Corrected, the first step is the learning rate; uncorrected, (1 - b1)/sqrt(1 - b2) times it,
    # and that is "too large" (the claim) only when the ratio is well above 1.
    effect=lambda n: abs(n["on"] - 1.0) < 1e-6 and abs(n["off"] - n["ratio"]) < 1e-3 * n["ratio"] and n["off"] > 1.5,
)

# C8, H3 ------------------------------------------------------------------------


def _tail_mean(losses: np.ndarray, tail: int) -> np.ndarray:
    return np.mean(losses[..., -tail:], axis=-1)


def _schedules(tr, panels):
    # Over SEEDS seeds (the same seeds for both), the mean loss of the last 50 steps.
    decayed = _tail_mean(over_seeds(panels[0], 0).history["losses"], 50)
    constant = _tail_mean(over_seeds(panels[1], 0).history["losses"], 50)
    return {
        "decayed": float(np.median(decayed)),
        "constant": float(np.median(constant)),
        "wins": float(np.sum(decayed < constant)),
        "seeds": float(len(decayed)),
    }


SCHEDULES = Lesson(
    key="schedules",
    claims=("C8", "H3"),
    panels=(
        # The preset is the decayed run; the fixed rate is the comparison.
        Panel("bowl", (RunSpec("sgd", {"lr": 0.1}, noise=2.0),), start=(-3.5, 1.5), steps=300, schedule=("step", 0)),
        Panel("bowl", (RunSpec("sgd", {"lr": 0.1}, noise=2.0),), start=(-3.5, 1.5), steps=300),
    ),
    measure=_schedules,
    effect=lambda n: n["decayed"] < 0.6 * n["constant"] and n["wins"] == n["seeds"],
)

# C9 ----------------------------------------------------------------------------


def _newton(tr, panels):
    bowl = tr[0][0]
    saddle_newton, saddle_free = tr[1]
    return {
        "bowl_steps": float(bowl.steps),
        "bowl_converged": float(bowl.status == "converged"),
        "saddle_dist": _norm(saddle_newton.points[-1]),
        "saddle_steps": float(saddle_newton.steps),
        "free_loss": saddle_free.final_loss,
        "damping": float(bowl.hyperparameters.get("damping", 0.0)),
    }


# The classic Newton step H^-1 g: no damping, and a step cap (R = 1000, the largest the
# Playground offers) that never binds on these surfaces.
_UNDAMPED = {"damping": 0.0, "max_step": 1000.0}

NEWTON = Lesson(
    key="newton",
    claims=("C9", "H2"),
    panels=(
        Panel("bowl", (RunSpec("newton", _UNDAMPED),), start=(-3.5, 1.5), steps=10),
        Panel("saddle", (RunSpec("newton", _UNDAMPED), RunSpec("saddle_free_newton", _UNDAMPED)), start=(-1.2, 0.8), steps=10),
    ),
    measure=_newton,
    effect=lambda n: n["bowl_steps"] == 1 and n["bowl_converged"] == 1 and n["saddle_dist"] < 1e-12 and n["free_loss"] < -1,
)

# C10, C11 ------------------------------------------------------------------------


def _lbfgs(tr, panels):
    exact_lbfgs, exact_adam = tr[0]
    tail = panels[1].steps // 5
    # Like with like: both optimizers, the same noisy samples (the same seeds), the same
    # budget; the median over SEEDS seeds of the mean loss over the last fifth of the run.
    noisy = {name: float(np.median(_tail_mean(over_seeds(panels[1], i).history["losses"], tail))) for i, name in enumerate(("lbfgs", "adam"))}
    return {
        "exact_steps": float(exact_lbfgs.steps) if exact_lbfgs.status == "converged" else float("nan"),
        "exact_lbfgs": exact_lbfgs.final_loss,
        "exact_adam": exact_adam.final_loss,
        "noisy_lbfgs": noisy["lbfgs"],
        "noisy_adam": noisy["adam"],
        "noise": float(panels[1].runs[0].noise),
        "seeds": float(SEEDS),
        "steps": float(panels[1].steps),
        "adam_lr": float(exact_adam.hyperparameters["lr"]),
    }


LBFGS = Lesson(
    key="lbfgs",
    claims=("C10", "C11", "H2"),
    panels=(
        Panel("rosenbrock", (RunSpec("lbfgs"), RunSpec("adam", {"lr": 0.03})), start=(-1.2, 1.0), steps=2000),
        Panel(
            "rosenbrock",
            (RunSpec("lbfgs", noise=3.0, seed=0), RunSpec("adam", {"lr": 0.03}, noise=3.0, seed=0)),
            start=(-1.2, 1.0),
            steps=2000,
        ),
    ),
    measure=_lbfgs,
    # The ranking flips: with exact gradients L-BFGS ends far below Adam; with the same noise, above it.
    effect=lambda n: np.isfinite(n["exact_steps"]) and n["exact_lbfgs"] < 1e-3 * n["exact_adam"] and n["noisy_lbfgs"] > n["noisy_adam"],
)

# C10, C11 on data: real mini-batches -------------------------------------------------

_MINIBATCH_RUNS = ("lbfgs", "adam", "sgd")


def _lbfgs_minibatch(tr, panels):
    exact = tr[1][0]
    fmin = exact.final_loss  # full-batch L-BFGS converges: the minimum
    tail = panels[0].steps // 5
    # Each optimizer over SEEDS seeds (the same batches for all three at each seed), the mean
    # exact training loss over the last fifth of the run, as a multiple of the minimum; the median.
    ends = {
        name: float(np.median(_tail_mean(over_seeds(panels[0], i).history["losses"], tail))) / fmin
        for i, name in enumerate(_MINIBATCH_RUNS)
    }
    return {
        "exact_steps": float(exact.steps) if exact.status == "converged" else float("nan"),
        "exact_loss": fmin,
        **ends,
        "batch": float(panels[0].runs[0].batch_size or 0),
        "n_train": float(surface(panels[0]).data.n_train),
        "steps": float(panels[0].steps),
        "tail": float(tail),
        "seeds": float(SEEDS),
        "adam_lr": float(panels[0].runs[1].hyper["lr"]),
        "sgd_lr": float(panels[0].runs[2].hyper["lr"]),
    }


LBFGS_MINIBATCH = Lesson(
    key="lbfgs_minibatch",
    claims=("C10", "C11"),
    panels=(
        # Logistic regression on standardised iris (80 flowers), mini-batches of 4: the preset.
        Panel(
            "iris",
            tuple(
                RunSpec(name, hyper, batch_size=4)
                for name, hyper in zip(_MINIBATCH_RUNS, ({}, {"lr": 0.1}, {"lr": 2.0}))
            ),
            start=(-1.0, -4.0),
            steps=200,
            scaling="standardized",
        ),
        # The same L-BFGS run on the full batch.
        Panel("iris", (RunSpec("lbfgs"),), start=(-1.0, -4.0), steps=200, scaling="standardized"),
    ),
    measure=_lbfgs_minibatch,
    # Full batch: L-BFGS converges. Mini-batches: it ends at least 1.5 times the minimum, while
    # Adam and SGD end within 20% of it.
    effect=lambda n: np.isfinite(n["exact_steps"]) and n["lbfgs"] >= 1.5 and n["adam"] <= 1.2 and n["sgd"] <= 1.2,
)

# C12 ----------------------------------------------------------------------------

_HIMMELBLAU_STARTS = ((-0.5, 0.0), (0.5, 0.0), (0.0, -0.5), (-0.3, -1.5))


def _ensembles(tr, panels):
    bowl = surface(panels[0])
    runs = over_seeds(panels[0], 0)
    # Per seed: where the last iterates hover (their mean loss over the last 100 steps),
    # against the loss at the running average of all iterates.
    last = _tail_mean(runs.history["losses"], 100)
    averaged = bowl.f(runs.history["averaged"][:, -1])
    ends = np.array([t.points[-1] for t in tr[1]])
    return {
        "raw": float(np.median(last)),
        "averaged": float(np.median(averaged)),
        "wins": float(np.sum(averaged < last)),
        "seeds": float(len(last)),
        "starts": float(len(ends)),
        "distinct": float(len({tuple(np.round(e, 2)) for e in ends})),
    }


ENSEMBLES = Lesson(
    key="ensembles",
    claims=("C12",),
    panels=(
        Panel("bowl", (RunSpec("sgd", {"lr": 0.05}, noise=3.0, seed=1, average="polyak"),), start=(-3.5, 1.5), steps=300),
        Panel(
            "himmelblau",
            tuple(RunSpec("sgd", {"lr": 0.01}, label=f"start{i}", start=s) for i, s in enumerate(_HIMMELBLAU_STARTS)),
            start=_HIMMELBLAU_STARTS[0],
            steps=300,
        ),
    ),
    measure=_ensembles,
    effect=lambda n: n["averaged"] < 0.5 * n["raw"] and n["wins"] == n["seeds"] and n["distinct"] >= 3,
)

# C12 on data: ensembles of one tanh unit, with a test split --------------------------

# Five small initialisations, as random ones would be: their signs differ.
_MEMBER_STARTS = ((0.3, 0.2), (-0.2, -0.3), (0.1, 0.25), (-0.25, -0.1), (0.2, 0.1))


def _ensemble_predictions(tr, panels):
    f = surface(panels[0])
    ends = np.array([t.points[-1] for t in tr[0]])
    x, y = f.data.x_test, f.data.y_test
    members = f.test_loss(ends)  # each member's test loss
    ensemble = float(np.mean((f.predict(ends, x).mean(axis=0) - y) ** 2))  # the test loss of the mean prediction
    # The first two members that ended in mirror minima (a > 0 and a < 0), and their mean weights.
    up, down = ends[ends[:, 0] > 0], ends[ends[:, 0] < 0]
    if len(up) and len(down):
        pair = np.stack([up[0], down[0]])
        mean = pair.mean(axis=0)
        weights = float(f.test_loss(mean))
        pair_loss = float(f.test_loss(pair).mean())
        saddle_distance = float(np.linalg.norm(mean))
        member_distance = float(np.linalg.norm(pair, axis=-1).mean())  # the members' own distance from the saddle
    else:
        weights = pair_loss = saddle_distance = member_distance = float("nan")
    return {
        "members": float(len(ends)),
        "member_test": float(members.mean()),
        "best_member": float(members.min()),
        "ensemble_test": ensemble,
        "gain": 100 * (1 - ensemble / float(members.mean())),
        "up": float(len(up)),
        "down": float(len(down)),
        "weights_test": weights,
        "pair_test": pair_loss,
        "weights_ratio": weights / pair_loss,
        "saddle_distance": saddle_distance,
        "member_distance": member_distance,
        "saddle_test": float(f.test_loss(np.zeros(2))),
        "batch": float(panels[0].runs[0].batch_size or 0),
        "n_test": float(f.data.n_test),
    }


ENSEMBLE_PREDICTIONS = Lesson(
    key="ensemble_predictions",
    claims=("C12",),
    panels=(
        # One tanh unit on standardised Old Faithful: five members, each its own seed (batch order) and start.
        Panel(
            "tanh_unit",
            tuple(
                RunSpec("sgd", {"lr": 0.3}, label=f"member{i}", seed=i, start=s, batch_size=2)
                for i, s in enumerate(_MEMBER_STARTS)
            ),
            start=_MEMBER_STARTS[0],
            steps=300,
        ),
    ),
    measure=_ensemble_predictions,
    # Averaging the predictions beats the members on the test split (by at least 0.1% of their
    # mean loss); averaging the weights of two mirror-image members lands near the saddle (within a
    # quarter of the members' distance from it), at a test loss at least 3 times theirs (NaN, no
    # mirror pair, fails).
    effect=lambda n: n["gain"] >= 0.1 and n["weights_ratio"] >= 3 and n["saddle_distance"] < 0.25 * n["member_distance"],
)

# C13 ----------------------------------------------------------------------------


def _normalization(tr, panels):
    sgd_elongated, sgd_round = tr[0][0], tr[1][0]
    reach = lambda t: first_step_where(t.losses < 1e-3)  # noqa: E731
    return {
        "elongated": float(_crossings(sgd_elongated)),
        "round": float(_crossings(sgd_round)),
        "ada_aligned": reach(tr[2][0]),
        "ada_rotated": reach(tr[3][0]),
    }


NORMALIZATION = Lesson(
    key="normalization",
    claims=("C13",),
    panels=(
        Panel("bowl", (RunSpec("sgd", {"lr": 0.15}),), start=(-3.5, 1.5), steps=60),
        Panel("bowl", (RunSpec("sgd", {"lr": 0.15}),), start=(-3.5, 1.5), steps=60, params={"condition": 1.0}),
        Panel("bowl", (RunSpec("adagrad", {"lr": 0.7}),), start=(-3.5, 1.5), steps=300),
        Panel("bowl", (RunSpec("adagrad", {"lr": 0.7}),), start=(-3.5, 1.5), steps=300, params={"angle": 45.0}),
    ),
    measure=_normalization,
    # Not reaching 1e-3 at all (NaN) on the rotated bowl is the effect at its strongest.
    effect=lambda n: n["elongated"] >= 10 and n["round"] == 0 and np.nan_to_num(n["ada_rotated"], nan=np.inf) > 2 * n["ada_aligned"],
)

# C13 on data: raw against standardised inputs ---------------------------------------

_WITHIN = 0.01  # "at the minimum": within 1% of the minimum loss
_TURN = 1.0  # degrees: the small change of the weights


def _steps_to_minimum(losses: np.ndarray, fmin: float) -> tuple[float, float]:
    """(steps until the loss is within 1% of ``fmin``, whether the run got there): the first such
    step; for a run that never got there, projected from its pace over its last 100 steps (on a
    quadratic the slowest direction sets that pace, so the projection is what the run would do)."""
    target = (1.0 + _WITHIN) * fmin
    reached = first_step_where(losses <= target)
    if np.isfinite(reached):
        return reached, 1.0
    gap = losses - fmin
    pace = (gap[-1] / gap[-101]) ** (1 / 100)
    if not 0 < pace < 1:
        return float("inf"), 0.0
    more = math.log(_WITHIN * fmin / gap[-1]) / math.log(pace)
    return float(f"{len(losses) - 1 + more:.3g}"), 0.0


def _best_grid_rate(panel: Panel, fmin: float) -> float:
    """The learning rate on the controls' grid that brings the panel's run within 1% of the minimum
    soonest (or, where none gets there, ends lowest): one batched run over the whole grid."""
    r = panel.runs[0]
    grid = np.asarray(optimizers.declaration("lr").options, dtype=float)
    batch = optimizers.run_batch(surface(panel), r.optimizer, np.asarray(panel.start, float), panel.steps, lr=grid)
    losses = batch.history["losses"]
    ok = np.isfinite(losses).all(axis=-1) & (batch.status != "diverged")
    reached = np.where((losses <= (1.0 + _WITHIN) * fmin).any(axis=-1), np.argmax(losses <= (1.0 + _WITHIN) * fmin, axis=-1), np.inf)
    order = np.lexsort((np.where(ok, losses[:, -1], np.inf), np.where(ok, reached, np.inf)))
    return float(grid[order[0]])


def _accuracy(f, point) -> float:
    """Training accuracy (%) of the logistic model at ``point``: p >= 1/2 says label 1."""
    p = f.predict(np.asarray(point, dtype=float), f.data.x_train)
    return float(100 * np.mean((p >= 0.5) == (f.data.y_train == 1)))


def _boundary(f, point) -> float:
    """Where the logistic model at ``point`` = (w, b) switches class (w x + b = 0), in the raw input's units."""
    return float(-point[1] / point[0] * f.data.scale + f.data.shift)


def _turned(point, degrees: float) -> np.ndarray:
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    return np.array([c * point[0] - s * point[1], s * point[0] + c * point[1]])


def _standardize(tr, panels):
    out = {}
    for name, panel, (t,) in zip(("raw", "std"), panels[:2], tr[:2]):
        f = surface(panel)
        point, fmin = _minimum(f)
        steps, reached = _steps_to_minimum(t.losses, fmin)
        lam = np.abs(np.linalg.eigvalsh(f.hessian(point)))
        out |= {
            f"{name}_kappa": condition_number(f, point),
            f"{name}_lr": float(t.hyperparameters["lr"]),
            f"{name}_best": _best_grid_rate(panel, fmin),
            f"{name}_limit": float(2.0 / lam.max()),  # gradient descent is stable below this rate
            f"{name}_steps": steps,
            f"{name}_reached": reached,
            f"{name}_gap": float(100 * (t.final_loss / fmin - 1)),
        }
    out["run"] = float(tr[0][0].steps)
    # Iris: turn each scaling's optimum (found by L-BFGS) by 1 degree either way; the worst change.
    for name, panel, (t,) in zip(("iris_raw", "iris_std"), panels[2:], tr[2:]):
        f = surface(panel)
        best = t.points[-1]
        acc = _accuracy(f, best)
        turned = [_turned(best, sign * _TURN) for sign in (-1, 1)]
        out |= {
            f"{name}_acc": acc,
            f"{name}_drop": max(acc - _accuracy(f, q) for q in turned),
            f"{name}_shift": max(abs(_boundary(f, q) - _boundary(f, best)) for q in turned),
            f"{name}_loss": max(float(f.f(q)) for q in turned) / t.final_loss,
            f"{name}_kappa": condition_number(f, best),
            f"{name}_converged": float(t.status == "converged"),
        }
    out["turn"] = _TURN
    return out


STANDARDIZE = Lesson(
    key="standardize_inputs",
    claims=("C13",),
    panels=(
        # Old Faithful, the same model and the same start (w = b = 0: predict 0 for every eruption),
        # gradient descent at the best rate of the controls' grid for each scaling.
        Panel("faithful", (RunSpec("sgd", {"lr": 1.5e-4}),), start=(0.0, 0.0), steps=1000, scaling="raw"),
        Panel("faithful", (RunSpec("sgd", {"lr": 0.5}),), start=(0.0, 0.0), steps=1000, scaling="standardized"),
        # Iris: each scaling's optimum, where the 1-degree turn starts.
        Panel("iris", (RunSpec("lbfgs"),), start=(0.0, 0.0), steps=100, scaling="raw"),
        Panel("iris", (RunSpec("lbfgs"),), start=(0.0, 0.0), steps=100, scaling="standardized"),
    ),
    measure=_standardize,
    # Each run at its scaling's best grid rate; standardised, the minimum within a few steps; raw,
    # a hundred times as many at least; the raw bowl far more elongated. On iris, a 1-degree turn
    # of the raw optimum costs at least 5 points of accuracy, of the standardised one at most 1.
    effect=lambda n: n["raw_lr"] == n["raw_best"]
    and n["std_lr"] == n["std_best"]
    and n["std_reached"] == 1
    and n["std_steps"] <= 10
    and n["raw_steps"] >= 100 * max(n["std_steps"], 1)
    and n["raw_kappa"] >= 1000 * n["std_kappa"]
    and n["iris_raw_converged"] == 1 == n["iris_std_converged"]
    and n["iris_raw_drop"] >= 5
    and n["iris_std_drop"] <= 1,
)

# C14 ----------------------------------------------------------------------------


def _coarse_to_fine(tr, panels):
    from sweep import coarse_to_fine_demo

    panel = panels[0]
    return coarse_to_fine_demo(panel.landscape, panel.start, coarse_steps=100, fine_steps=panel.steps)


SEARCH = Lesson(
    key="coarse_to_fine",
    claims=("C14",),
    panels=(Panel("rosenbrock", (RunSpec("adam", {"lr": 0.03}),), start=(-1.5, 2.0), steps=500),),
    measure=_coarse_to_fine,
    effect=lambda n: n["fine"] < n["coarse"],
    link="sweep",
)

# H2 ----------------------------------------------------------------------------

RACE_ORDER = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton", "saddle_free_newton", "lbfgs")
SECOND_ORDER = ("newton", "saddle_free_newton", "lbfgs")


def _race(tr, panels):
    out = {}
    for name, t in zip(RACE_ORDER, tr[0]):
        out[name] = float(t.steps) if t.status == "converged" else float("nan")
        out[name + "_loss"] = t.final_loss
    out["steps"] = float(panels[0].steps)
    return out


RACE = Lesson(
    key="race",
    claims=("H2",),
    panels=(
        Panel(
            "rosenbrock",
            tuple(
                RunSpec(name, {"lr": lr} if lr else {})
                for name, lr in zip(RACE_ORDER, (0.0005, 0.0003, 0.0003, 0.3, 0.005, 0.03, None, None, None))
            ),
            start=(-1.2, 1.0),
            steps=1000,
        ),
    ),
    measure=_race,
    # What the text says of each: the second-order methods converge within 100 steps; every
    # first-order one is still on its way (not converged, loss above 1e-6) when the race ends.
    effect=lambda n: all(n[k] < 100 for k in SECOND_ORDER)
    and all(np.isnan(n[k]) and n[k + "_loss"] > 1e-6 for k in RACE_ORDER if k not in SECOND_ORDER),
)


LESSONS: tuple[Lesson, ...] = (
    ZIGZAG,
    SADDLE,
    ZERO_INIT,
    THROUGH_SADDLE,
    LOCAL_MINIMUM,
    BASINS,
    NESTEROV,
    ADAGRAD,
    ADAM,
    SCHEDULES,
    NEWTON,
    LBFGS,
    LBFGS_MINIBATCH,
    ENSEMBLES,
    ENSEMBLE_PREDICTIONS,
    NORMALIZATION,
    STANDARDIZE,
    SEARCH,
    RACE,
)

ALL_CLAIMS = tuple(f"C{i}" for i in range(1, 15)) + ("H1", "H2", "H3")


def get(key: str) -> Lesson:
    for lesson in LESSONS:
        if lesson.key == key:
            return lesson
    raise ValueError(f"Unknown lesson {key!r}")
