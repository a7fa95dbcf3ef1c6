"""What a lesson is: runs on the real core, a number measured from them, and a Playground preset.

A lesson has one or more panels; a panel is a surface with the runs drawn on
it. The first panel is also the lesson's preset: the exact Playground state
(surface, optimizers, hyperparameters, start, steps, schedule, noise) that
one click opens. A panel on a model on data (``landscapes.data``) also names
its input scaling, and a run its mini-batch size; a run with a batch size, like
a noisy one, depends on its seed. ``measure`` turns the runs into named numbers, ``effect``
says whether those numbers show what the lesson claims (tests hold every
lesson to it); the "what to notice" line that states them is in the language catalogs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Mapping

import numpy as np

import landscapes
import optimizers


@dataclass(frozen=True)
class RunSpec:
    optimizer: str
    hyper: Mapping[str, object] = field(default_factory=dict)
    label: str = ""  # a variant's name: catalog key lesson.<lesson>.label.<label>
    noise: float = 0.0
    seed: int = 0
    average: str = "none"
    start: tuple[float, float] | None = None  # this run's own start (default: the panel's)
    batch_size: int | None = None  # mini-batches of this size (data surfaces only); None: the full batch

    @property
    def stochastic(self) -> bool:
        """Whether the run depends on its seed: simulated noise, or mini-batches drawn from the seed."""
        return self.noise > 0 or self.batch_size is not None


@dataclass(frozen=True)
class Panel:
    landscape: str
    runs: tuple[RunSpec, ...]
    start: tuple[float, float]
    steps: int
    params: Mapping[str, float] = field(default_factory=dict)
    schedule: tuple[str, int] = ("constant", 0)  # (name, warm-up steps), as the Playground offers
    scaling: str | None = None  # a data surface's input scaling (None: its default; formula surfaces: None)


@dataclass(frozen=True)
class Lesson:
    """A lesson; its words live in the language catalogs under ``lesson.<key>.title``,
    ``.explanation`` and ``.notice`` (a format string over the measured numbers)."""

    key: str
    claims: tuple[str, ...]  # ids from the lecture notes: C1..C14, H1..H3
    panels: tuple[Panel, ...]
    measure: Callable[[list[list], tuple[Panel, ...]], dict[str, float]]  # (trajectories per panel, panels) -> numbers
    effect: Callable[[dict[str, float]], bool]
    link: str = "playground"  # the page the preset opens
    # With link "sweep": the Sweep page's session-state keys (its URL keys) the lesson's button sets
    # and its link carries; None opens the Sweep page as it stands.
    sweep_state: Mapping[str, object] | None = None


def surface(panel: Panel):
    if panel.scaling is not None:
        return landscapes.get(panel.landscape, scaling=panel.scaling, **panel.params)
    return landscapes.get(panel.landscape, **panel.params)


def scaling(panel: Panel) -> str | None:
    """The panel's input scaling as it runs: its own, else the data surface's default; None on a formula surface."""
    if not landscapes.catalog.is_data(panel.landscape):
        return None
    return panel.scaling or landscapes.catalog.scalings(panel.landscape)[0]


def _options(panel: Panel, r: RunSpec) -> dict:
    """The run's keywords for optimizers.run / run_batch, besides its start and seed."""
    name, warmup = panel.schedule
    return {
        "steps": panel.steps,
        "schedule": optimizers.schedules.make(name, warmup_steps=warmup),
        "noise": r.noise,
        "average": None if r.average == "none" else r.average,
        "batch_size": r.batch_size,
        **r.hyper,
    }


def run_panel(panel: Panel) -> list:
    """The trajectories of one panel, in its run order."""
    f = surface(panel)
    return [optimizers.run(f, r.optimizer, start=r.start or panel.start, seed=r.seed, **_options(panel, r)) for r in panel.runs]


SEEDS = 10  # a noisy lesson's check holds over this many seeds, not one lucky draw


def over_seeds(panel: Panel, run: int, n: int = SEEDS) -> optimizers.Batch:
    """Run ``run`` of ``panel`` with seeds ``seed, seed + 1, ..., seed + n - 1``, in one batch (with history)."""
    r = panel.runs[run]
    start = np.asarray(r.start or panel.start, dtype=float)
    return optimizers.run_batch(surface(panel), r.optimizer, start, seed=r.seed + np.arange(n), **_options(panel, r))


def with_seed(lesson: Lesson, seed: int) -> Lesson:
    """``lesson`` with every seed-dependent run's seed moved on by ``seed`` (a check must hold whatever
    the seed). Runs that shared a seed still share one (the same samples for a fair comparison);
    runs with different seeds (an ensemble's members) keep different ones."""
    panels = tuple(
        replace(p, runs=tuple(replace(r, seed=r.seed + seed) if r.stochastic else r for r in p.runs)) for p in lesson.panels
    )
    return replace(lesson, panels=panels)


def noisy(lesson: Lesson) -> bool:
    """Whether any run depends on its seed (simulated noise or mini-batches)."""
    return any(r.stochastic for p in lesson.panels for r in p.runs)


@dataclass(frozen=True)
class Outcome:
    trajectories: list[list]  # per panel, per run
    numbers: dict[str, float]
    shows_effect: bool


def run(lesson: Lesson) -> Outcome:
    """Run every panel of ``lesson`` and measure it."""
    trajectories = [run_panel(p) for p in lesson.panels]
    numbers = lesson.measure(trajectories, lesson.panels)
    return Outcome(trajectories, numbers, bool(lesson.effect(numbers)))


def preset(lesson: Lesson) -> dict[str, object]:
    """The Playground state of the lesson's first panel, as control keys and values.

    The keys are the Playground's URL keys, so the same dict is also a
    shareable link's query.
    """
    panel = lesson.panels[0]
    chosen: list[str] = []
    state: dict[str, object] = {
        "landscape": panel.landscape,
        "steps": panel.steps,
        "x0": float(panel.start[0]),
        "y0": float(panel.start[1]),
        "schedule": panel.schedule[0],
        "warmup": panel.schedule[1],
    }
    for p, v in panel.params.items():
        state[f"p_{p}"] = float(v)
    noise, seed, average, batch = 0.0, 0, "none", None
    for r in panel.runs:
        if r.optimizer in chosen:
            continue  # the Playground runs each optimizer once: the first variant is the preset
        chosen.append(r.optimizer)
        for hp, v in r.hyper.items():
            state[f"{r.optimizer}_{hp}"] = v
        noise, seed, average = max(noise, r.noise), r.seed, r.average if r.average != "none" else average
        batch = batch if batch is not None else r.batch_size  # one batch size for all: the first run's that has one
    state.update({"optimizers": chosen, "noise": noise, "seed": seed, "average": average})
    if landscapes.catalog.is_data(panel.landscape):
        state["scaling"] = scaling(panel)
        state["batch_size"] = "full" if batch is None else int(batch)
    return state


# -- measurements shared by several lessons ---------------------------------------


def direction_changes(values: np.ndarray, tol: float = 1e-6) -> int:
    """How often a sequence turns back: sign changes of its steps, ignoring steps below ``tol``."""
    d = np.diff(np.asarray(values, dtype=float))
    d = d[np.abs(d) > tol]
    return int(np.sum(np.sign(d[1:]) != np.sign(d[:-1])))


def first_step_where(mask: np.ndarray) -> float:
    """Index of the first True, or NaN when there is none."""
    mask = np.asarray(mask, dtype=bool)
    return float(np.argmax(mask)) if mask.any() else float("nan")
