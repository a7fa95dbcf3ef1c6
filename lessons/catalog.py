"""The lessons: every claim of the lecture notes (C1-C14) and its homework (H1-H3), reproduced live.

Texts are our own words. Each lesson's numbers are measured from its runs,
never written in: change a setting and the number follows.
"""

from __future__ import annotations

import math

import numpy as np

import landscapes
import optimizers

from .core import SEEDS, Lesson, Panel, RunSpec, direction_changes, first_step_where, over_seeds, surface


def _norm(p) -> float:
    return float(np.linalg.norm(p))


def _crossings(tr, n: int = 30) -> int:
    return direction_changes(tr.points[:n, 1])


# C1, C3, H1 ---------------------------------------------------------------------


def _zigzag(tr, panels):
    sgd, mom = tr[0]
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
    ),
    measure=_zigzag,
    # Fair (equal effective rates), SGD zig-zags (3x the turns), and momentum gets further along the valley.
    effect=lambda n: abs(n["sgd_eff"] - n["mom_eff"]) <= 1e-9 * n["sgd_eff"]
    and n["sgd"] >= 3 * max(n["momentum"], 1)
    and n["mom_along"] > n["sgd_along"],
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
    THROUGH_SADDLE,
    LOCAL_MINIMUM,
    NESTEROV,
    ADAGRAD,
    ADAM,
    SCHEDULES,
    NEWTON,
    LBFGS,
    ENSEMBLES,
    NORMALIZATION,
    SEARCH,
    RACE,
)

ALL_CLAIMS = tuple(f"C{i}" for i in range(1, 15)) + ("H1", "H2", "H3")


def get(key: str) -> Lesson:
    for lesson in LESSONS:
        if lesson.key == key:
            return lesson
    raise ValueError(f"Unknown lesson {key!r}")
