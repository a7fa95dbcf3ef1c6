"""The Playground's draw layer: each panel places what ``ui/compute.py`` made. No math here.

A move passes state (``ui/controls.py``: settled values) -> compute (``ui/compute.py``,
``ui/cache.py``: memoized runs, figures, readouts) -> draw (here) once.
"""

from __future__ import annotations

from html import escape

import streamlit as st

import figures
from i18n import t

from . import cache, compute, numerics
from . import settings as S
from .charts import show
from .compute import PATH_CHART
from .state import SCHEDULE, Scenario, current_schedule, set_start_from_click
from .live_chart import live_chart


def status_message(tr, lg: str) -> str:
    """The run's outcome in ``lg``, from the fields of its result (nothing recomputed)."""
    r = tr.result
    return t(f"status.{r.status}", lg, step=r.at_step, grad_norm=r.grad_norm)


def status_lines(runs: dict, lg: str) -> None:
    """The chart's hint, then one line per optimizer in words, in a responsive grid.

    One ``st.html`` element: every element costs time on every move, on the
    server and in the browser, and HTML skips the browser's Markdown parser.
    """
    cells = []
    for opt, tr in runs.items():
        color = figures.style(opt)["color"]
        name = escape(t(f"opt.{opt}", lg))
        text = escape(status_message(tr, lg))
        cells.append(
            f"<div><span style='color:{color}'>■</span> <b style='color:{_BADGE_COLORS[tr.status]}'>{name}</b>"
            f" — {text} · f = {tr.final_loss:.4g}</div>"
        )
    # The hint looks like a caption (small, muted) in any theme.
    hint = f"<div class='dl-hint' style='font-size:0.875em;opacity:0.7;margin-bottom:0.4rem'>{escape(t('pg.click_hint', lg))}</div>"
    grid = "display:grid;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));gap:0.4rem 1.2rem"
    st.html(f"<div class='dl-status'>{hint}<div class='status-lines' style='{grid}'>{''.join(cells)}</div></div>")


# Status word colors: dark enough to read on white, and each status its own hue.
_BADGE_COLORS = {
    "converged": "#1b7a3a", "max_steps": "#1f4e99", "diverged": "#b3261e", "singular_hessian": "#a35a00",
    "undefined_start": "#6a3d9a",
}  # fmt: skip


def budget_notice(sc: Scenario, runs: dict, lg: str) -> None:
    """Say so when the server's budget per page stopped the runs short of the steps asked for."""
    budget = compute.budget_notice(sc, runs)
    if budget is not None:
        text = t("pg.budget_notice", lg, steps=budget.steps, requested=budget.requested, ms=f"{budget.step_ms:.2g}", budget=f"{cache.RUN_BUDGET_S:g}")
        st.info(text, icon=":material/timer:")


def paths_panel(sc: Scenario, runs: dict, lg: str, overlays: dict[str, bool], inspect_step: int | None):
    """The path chart and what goes under it; returns the figure's maker (for the export)."""
    make_spec, layers = compute.path_chart(sc, runs, lg, overlays, inspect_step)
    # A chart that stays mounted: a move redraws the paths, not the surface behind them.
    live_chart(*layers, PATH_CHART, lambda: set_start_from_click(PATH_CHART))
    budget_notice(sc, runs, lg)
    if cache.contour(*sc.surface).masked:
        st.info(t("pg.domain_notice", lg))
    if sc.scaling:  # a model on data: what the panel beside the contour shows
        st.caption(t("pg.data_hint", lg))
    status_lines(runs, lg)
    return make_spec


def export_panel(make_spec, runs: dict, lg: str) -> None:
    """Downloads in a popover whose content runs only while it is open: nothing to send on a move."""
    from figures.export import standalone_html, trajectories_csv

    from .live_chart import gif_button

    box = st.popover(t("pg.export", lg), icon=":material/download:", key="export", on_change="rerun")
    if not box.open:
        return
    with box:
        # Callables: the files are made only when asked for.
        st.download_button(t("pg.export_html", lg), lambda: standalone_html(make_spec()), "descent-lab.html", "text/html", key="export_html", on_click="ignore")
        st.download_button(t("pg.export_csv", lg), lambda: trajectories_csv(runs), "descent-lab.csv", "text/csv", key="export_csv", on_click="ignore")
        # Made in the browser from the chart's own frames: nothing to compute here.
        gif_texts = {"label": t("pg.export_gif", lg), "progress": t("pg.export_gif_progress", lg), "error": t("pg.export_gif_error", lg)}
        gif_button(PATH_CHART, gif_texts)
        st.caption(t("pg.export_png", lg))


def schedule_panel(sc: Scenario, lg: str) -> None:
    """The learning-rate schedule's plot at the sidebar's end: a fragment of its own, which the
    schedule's controls and the steps rerun with the race (``state.rerun_schedule``)."""
    with st.sidebar:
        _schedule_plot(sc, lg)


@numerics.fragment(key=SCHEDULE)
def _schedule_plot(base: Scenario, lg: str) -> None:
    """The schedule the controls set now (``base``: the last full run's); a constant rate is said in
    words (a flat line says nothing more)."""
    steps = int(st.session_state.get("steps", base.steps))
    schedule = current_schedule(steps, base.schedule)
    if not S.is_scheduled(schedule):
        st.caption(t("pg.schedule_constant", lg))
        return
    st.caption(t("pg.schedule_title", lg))
    st.html(compute.schedule_image(schedule, steps, lg))


def readouts(sc: Scenario, runs: dict, lg: str, inspect_step: int | None) -> None:
    with st.container(key="readouts_group"):
        st.html(compute.readouts_html(sc, runs, lg, inspect_step))


def surface_panel(sc: Scenario, runs: dict, lg: str) -> None:
    show(compute.surface_spec(sc, runs, lg), "surface_chart")
    budget_notice(sc, runs, lg)


def inside_panel(sc: Scenario, runs: dict, lg: str, step: int) -> None:
    chart, internals = compute.inside_specs(sc, runs, lg, step)
    show(chart, "inside_chart")
    budget_notice(sc, runs, lg)
    st.caption(t("pg.inside_caption", lg))
    show(internals, "internals_chart")


def formulas_panel(sc: Scenario, lg: str) -> None:
    surface = cache.surface(*sc.surface)
    st.markdown(f"**{t('pg.formulas.f', lg)}** — {surface.description.get(lg, '')}")
    a, b = surface.axes
    name = "L" if getattr(surface, "data", None) is not None else "f"
    st.latex(f"{name}({a}, {b}) = " + surface.latex)
    st.markdown(f"**{t('pg.formulas.grad', lg)}**")
    st.latex(rf"\nabla {name} = " + surface.gradient_latex)
    st.markdown(f"**{t('pg.formulas.hess', lg)}**")
    st.latex("H = " + surface.hessian_latex)
    st.markdown(f"**{t('pg.formulas.rules', lg)}**")
    # Each rule as it runs with the settings shown: its hyperparameters, the schedule, the noise.
    latex = compute.formulas(sc)
    caption = "pg.formulas.gradient_batch" if sc.batch_size else "pg.formulas.gradient_noise" if sc.noise > 0 else "pg.formulas.gradient"
    st.caption(t(caption, lg))
    st.latex(latex["gradient"])
    for opt in sc.optimizers:
        st.markdown(f"**{t(f'opt.{opt}', lg)}**")
        st.latex(latex[opt])
        if opt in _RULE_NOTES:
            st.caption(t(f"pg.formulas.note.{opt}", lg))
        st.markdown(f"- {t('pg.pros', lg)}: {t(f'pros.{opt}', lg)}\n- {t('pg.cons', lg)}: {t(f'cons.{opt}', lg)}")
    if "schedule" in latex:
        st.markdown(f"**{t('pg.formulas.schedule', lg)}**")
        st.latex(latex["schedule"])


# The rules with a note under them (pg.formulas.note.<name>): where eta sits, what L-BFGS's H_t is.
_RULE_NOTES = ("momentum", "nesterov", "lbfgs")
