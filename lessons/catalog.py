"""The lessons: every claim of the lecture notes (C1-C14) and its homework (H1-H3), reproduced live.

Texts are our own words. Each lesson's numbers are measured from its runs,
never written in: change a setting and the number follows.
"""

from __future__ import annotations

import numpy as np

import landscapes

from .core import Lesson, Panel, RunSpec, direction_changes, first_step_where


def _norm(p) -> float:
    return float(np.linalg.norm(p))


def _crossings(tr, n: int = 30) -> int:
    return direction_changes(tr.points[:n, 1])


# C1, H1 ------------------------------------------------------------------------

ZIGZAG = Lesson(
    key="zigzag",
    claims=("C1", "C3", "H1"),
    panels=(
        Panel(
            "bowl",
            (RunSpec("sgd", {"lr": 0.15}), RunSpec("momentum", {"lr": 0.015, "momentum": 0.8})),
            start=(-3.5, 1.5),
            steps=60,
        ),
    ),
    measure=lambda tr: {"sgd": _crossings(tr[0][0]), "momentum": _crossings(tr[0][1])},
    effect=lambda n: n["sgd"] >= 3 * max(n["momentum"], 1),
)

# C2 ----------------------------------------------------------------------------


def _saddle_vs_minimum(tr):
    saddle = landscapes.analyze(landscapes.get("saddle").hessian(np.zeros(2)))
    bowl = landscapes.analyze(landscapes.get("bowl").hessian(np.zeros(2)))
    return {
        "s_lo": float(saddle.eigenvalues[0]),
        "s_hi": float(saddle.eigenvalues[1]),
        "s_det": float(saddle.determinant),
        "m_lo": float(bowl.eigenvalues[0]),
        "m_hi": float(bowl.eigenvalues[1]),
        "m_det": float(bowl.determinant),
        "g_saddle": _norm(landscapes.get("saddle").grad(np.zeros(2))),
        "escape": first_step_where(np.abs(tr[0][0].points[:, 1]) > 1.0),
    }


SADDLE = Lesson(
    key="saddle_vs_minimum",
    claims=("C2", "H1"),
    panels=(Panel("saddle", (RunSpec("sgd", {"lr": 0.05}),), start=(-1.8, 0.001), steps=80),),
    measure=_saddle_vs_minimum,
    effect=lambda n: n["s_det"] < 0 < n["m_det"] and n["s_lo"] < 0 < n["s_hi"] and n["m_lo"] > 0 and n["g_saddle"] == 0,
)

# C3 ----------------------------------------------------------------------------


def _escape_steps(tr):
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
    effect=lambda n: n["momentum"] < n["sgd"] / 2,
)


def _local_minimum(tr):
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


def _overshoot(tr):
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
    effect=lambda n: n["nesterov"] < n["momentum"],
)

# C5, C6 ------------------------------------------------------------------------


def _stall(tr):
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


def _first_steps(tr):
    off, on = tr[0]
    lr = 0.01
    return {"on": float(np.abs(on.updates[0]).max() / lr), "off": float(np.abs(off.updates[0]).max() / lr)}


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
    effect=lambda n: abs(n["on"] - 1.0) < 1e-6 and abs(n["off"] - np.sqrt(10)) < 0.01,
)

# C8, H3 ------------------------------------------------------------------------


def _schedules(tr):
    return {"decayed": float(np.mean(tr[0][0].losses[-50:])), "constant": float(np.mean(tr[1][0].losses[-50:]))}


SCHEDULES = Lesson(
    key="schedules",
    claims=("C8", "H3"),
    panels=(
        # The preset is the decayed run; the fixed rate is the comparison.
        Panel("bowl", (RunSpec("sgd", {"lr": 0.1}, noise=2.0),), start=(-3.5, 1.5), steps=300, schedule=("step", 0)),
        Panel("bowl", (RunSpec("sgd", {"lr": 0.1}, noise=2.0),), start=(-3.5, 1.5), steps=300),
    ),
    measure=_schedules,
    effect=lambda n: n["decayed"] < 0.6 * n["constant"],
)

# C9 ----------------------------------------------------------------------------


def _newton(tr):
    bowl = tr[0][0]
    saddle_newton, saddle_free = tr[1]
    return {
        "bowl_steps": float(bowl.steps),
        "saddle_dist": _norm(saddle_newton.points[-1]),
        "saddle_steps": float(saddle_newton.steps),
        "free_loss": saddle_free.final_loss,
    }


NEWTON = Lesson(
    key="newton",
    claims=("C9", "H2"),
    panels=(
        Panel("bowl", (RunSpec("newton"),), start=(-3.5, 1.5), steps=10),
        Panel("saddle", (RunSpec("newton"), RunSpec("saddle_free_newton")), start=(-1.2, 0.8), steps=10),
    ),
    measure=_newton,
    effect=lambda n: n["bowl_steps"] == 1 and n["saddle_dist"] < 1e-12 and n["free_loss"] < -1,
)

# C10, C11 ------------------------------------------------------------------------


def _lbfgs(tr):
    exact_lbfgs, exact_adam = tr[0]
    noisy_lbfgs, noisy_adam = tr[1]
    err = lambda t: _norm(t.points[-1] - 1.0)  # noqa: E731
    return {
        "exact_steps": float(exact_lbfgs.steps),
        "exact_err": err(exact_lbfgs),
        "noisy_err": err(noisy_lbfgs),
        "adam_err": err(exact_adam),
        "noisy_adam_err": err(noisy_adam),
    }


LBFGS = Lesson(
    key="lbfgs",
    claims=("C10", "C11", "H2"),
    panels=(
        Panel("rosenbrock", (RunSpec("lbfgs"), RunSpec("adam", {"lr": 0.03})), start=(-1.2, 1.0), steps=500),
        Panel(
            "rosenbrock",
            (RunSpec("lbfgs", noise=3.0, seed=0), RunSpec("adam", {"lr": 0.03}, noise=3.0, seed=0)),
            start=(-1.2, 1.0),
            steps=500,
        ),
    ),
    measure=_lbfgs,
    effect=lambda n: n["exact_err"] < 1e-6 and n["noisy_err"] > 100 * n["exact_err"],
)

# C12 ----------------------------------------------------------------------------


def _ensembles(tr):
    (avg,) = tr[0]
    bowl = landscapes.get("bowl")
    ends = np.array([t.points[-1] for t in tr[1]])
    return {
        "raw": float(bowl.f(avg.points[-1])),
        "averaged": float(bowl.f(avg.averaged[-1])),
        "distinct": float(len({tuple(np.round(e, 2)) for e in ends})),
    }


ENSEMBLES = Lesson(
    key="ensembles",
    claims=("C12",),
    panels=(
        Panel("bowl", (RunSpec("sgd", {"lr": 0.05}, noise=3.0, seed=1, average="polyak"),), start=(-3.5, 1.5), steps=300),
        *(
            Panel("himmelblau", (RunSpec("sgd", {"lr": 0.01}),), start=s, steps=300)
            for s in ((-0.5, 0.0), (0.5, 0.0), (0.0, -0.5), (-0.3, -1.5))
        ),
    ),
    measure=lambda tr: _ensembles([tr[0], [p[0] for p in tr[1:]]]),
    effect=lambda n: n["averaged"] < 0.1 * n["raw"] and n["distinct"] >= 3,
)

# C13 ----------------------------------------------------------------------------


def _normalization(tr):
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
    effect=lambda n: n["elongated"] >= 10 and n["round"] == 0 and n["ada_rotated"] > 2 * n["ada_aligned"],
)

# C14 ----------------------------------------------------------------------------


def _coarse_to_fine(tr):
    from sweep import coarse_to_fine_demo

    return coarse_to_fine_demo()


SEARCH = Lesson(
    key="coarse_to_fine",
    claims=("C14",),
    panels=(Panel("rosenbrock", (RunSpec("adam", {"lr": 0.03}),), start=(-1.5, 2.0), steps=500),),
    measure=_coarse_to_fine,
    effect=lambda n: n["fine"] < n["coarse"],
    link="sweep",
)

# H2 ----------------------------------------------------------------------------


def _race(tr):
    out = {}
    for name, t in zip(RACE_ORDER, tr[0]):
        out[name] = float(t.steps) if t.status == "converged" else float("nan")
        out[name + "_loss"] = t.final_loss
    return out


RACE_ORDER = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton", "saddle_free_newton", "lbfgs")

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
    effect=lambda n: max(n["newton"], n["lbfgs"]) < 100 and all(n[k + "_loss"] > 1e-6 for k in ("sgd", "adagrad")),
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
