"""The Lessons page's pieces: run a lesson (cached), draw its panels, open its preset."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Mapping
from urllib.parse import urlencode

import streamlit as st

import figures
import lessons
from i18n import t
from landscapes.catalog import CATALOG, is_data

from . import cache, routing
from . import settings as S
from .charts import show
from .compute import fig_labels, surface_labels


@cache.shared(max_entries=32)
def outcome(key: str) -> lessons.Outcome:
    """The lesson's runs and numbers, shared by every session: read-only, so none can change them for the others."""
    result = lessons.run(lessons.get(key))
    for tr in (tr for panel in result.trajectories for tr in panel):
        cache.read_only(
            tr.points, tr.losses, tr.gradients, tr.lrs, tr.updates, tr.effective_lr, tr.averaged, tr.batches, tr.test_losses,
            *tr.state.values(),
        )  # fmt: skip
    return dataclasses.replace(result, numbers=MappingProxyType(dict(result.numbers)))


def caption(panel: lessons.Panel, n: int, lg: str) -> str:
    """"Setup n: surface", and on a data surface its input scaling and mini-batch size(s)."""
    title = CATALOG[panel.landscape].title[lg]
    if not is_data(panel.landscape):
        return t("ls.panel", lg, n=n, surface=title)
    sizes = list(dict.fromkeys(r.batch_size for r in panel.runs))
    batch = " / ".join(t("ls.full_batch", lg) if m is None else t("ls.batch", lg, m=m) for m in sizes)
    scaling = t(f"ls.scaling.{lessons.scaling(panel)}", lg)
    return t("ls.panel_data", lg, n=n, surface=title, scaling=scaling, batch=batch)


def run_label(lesson: lessons.Lesson, spec: lessons.RunSpec, lg: str) -> str:
    name = t(f"opt.{spec.optimizer}", lg)
    return f"{name} · {t(f'lesson.{lesson.key}.label.{spec.label}', lg)}" if spec.label else name


def panels(lesson: lessons.Lesson, result: lessons.Outcome, lg: str) -> None:
    cols = st.columns(2) if len(lesson.panels) > 1 else [st.container()]
    for i, (panel, trajectories) in enumerate(zip(lesson.panels, result.trajectories)):
        params = tuple(sorted({**CATALOG[panel.landscape].defaults, **panel.params}.items()))
        scaling = lessons.scaling(panel) or ""  # the Playground's caches: "" on a formula surface
        surface = cache.surface(panel.landscape, params, "", scaling)
        grid = cache.contour(panel.landscape, params, "", scaling)
        runs = [
            figures.Run(spec.optimizer, run_label(lesson, spec, lg), tr.points, tr.losses)
            for spec, tr in zip(panel.runs, trajectories)
        ]
        averaged = [
            figures.Run(spec.optimizer, t("fig.averaged", lg, name=t(f"opt.{spec.optimizer}", lg)), tr.averaged, tr.losses)
            for spec, tr in zip(panel.runs, trajectories)
            if tr.averaged is not None
        ]
        spec = figures.path_figure(
            surface, grid, runs + averaged, surface_labels(surface, lg, fig_labels(lg, grid.log)), start=panel.start, max_frames=30, height=420
        )
        spec = figures.in_column(spec, narrow=len(cols) > 1)  # two columns: a data panel goes below its contour
        with cols[i % len(cols)]:
            st.caption(caption(panel, i + 1, lg))
            show(spec, f"lesson_chart_{lesson.key}_{i}")


def link_params(state: Mapping[str, object]) -> dict[str, str | list[str]]:
    """``state`` as a link's query parameters: texts, a list for a repeated key, booleans as the URL spells them (true / false)."""
    def text(v) -> str:
        return str(v).lower() if isinstance(v, bool) else str(v)

    return {k: [text(x) for x in v] if isinstance(v, (list, tuple)) else text(v) for k, v in state.items()}


def link_query(state: Mapping[str, object]) -> str:
    return urlencode(link_params(state), doseq=True)


def share_link(lesson: lessons.Lesson, state: dict) -> str:
    """The link to the lesson's setup: the Sweep page set as the lesson's button sets it (a lesson
    with a ``sweep_state``), else the Playground with the preset ``state``."""
    if lesson.link == "sweep" and lesson.sweep_state:
        return f"/sweep?{link_query(lesson.sweep_state)}"
    return f"/?{link_query(state)}"


def open_in_sweep(state: Mapping[str, object] | None) -> None:
    """Open the Sweep page, its controls first set to ``state`` (their session-state keys) when given."""
    if state:
        st.session_state.update(dict(state))
    routing.switch_to("pages/sweep.py")


def open_in_playground(state: dict) -> None:
    """Put the preset into the Playground's controls (every one, so the state is exactly the preset).

    On a data surface that includes its input scaling and mini-batch size (the surface's
    default scaling and the full batch when ``state`` names none)."""
    surface = state["landscape"]
    scaling = state.get(S.SCALING_KEY) or S.default_scaling(surface)
    for p, v in CATALOG[surface].defaults.items():
        st.session_state[S.param_key(p)] = float(state.get(S.param_key(p), v))
    st.session_state.update(S.hyperparameter_state(surface, state, scaling=scaling))
    for key in ("landscape", "optimizers", "steps", "x0", "y0", "schedule", "warmup", "noise", "seed", "average"):
        st.session_state[key] = state[key]
    if scaling is not None:
        st.session_state[S.SCALING_KEY] = scaling
        st.session_state[S.BATCH_KEY] = state.get(S.BATCH_KEY, S.FULL_BATCH)
    for key in ("field", "eigen", "taylor"):
        st.session_state[key] = False
    st.session_state["inspect"] = 0
    # The opening link must not override what the preset just set.
    st.session_state.setdefault(S.SEEDED_KEY, set()).update(
        {"landscape", "optimizers", "schedule", "average", S.SCALING_KEY, S.BATCH_KEY, *S.hyper_keys()}
    )
    routing.switch_to("pages/playground.py", link_params(state))  # the address bar then holds the preset: reload or share it
