"""The Playground's panels: each turns computed runs into figures and text. No math here."""

from __future__ import annotations

from html import escape

import numpy as np
import streamlit as st

import figures
import landscapes
import optimizers
from i18n import t
from optimizers import schedules
from optimizers.formulas import gradient_rule, update_rule

from . import cache
from . import settings as S
from .charts import show
from .controls import Scenario, set_start_from_click
from .live_chart import live_chart, payloads

PATH_CHART = "path_chart"


def compute(sc: Scenario) -> dict:
    """One cached run per selected optimizer."""
    return {
        opt: cache.trajectory(
            sc.surface, opt, sc.hyper[opt], sc.start, sc.steps, sc.schedule, sc.noise, sc.seed, sc.average
        )
        for opt in sc.optimizers
    }


def fig_labels(lg: str, log: bool = False) -> dict[str, str]:
    keys = ["start", "step", "loss", "lr", "lr_factor", "minimum", "saddle", "maximum", "eigen", "effective_lr", "second", "first", "gradient_step", "actual_step"]
    labels = {k: t(f"fig.{k}", lg) for k in keys}
    labels["colorbar"] = t("fig.colorbar_log" if log else "fig.colorbar", lg)
    labels["loss_title"] = t("pg.loss_title", lg)
    return labels


def as_runs(runs: dict, lg: str, averaged: bool = False) -> list[figures.Run]:
    out = []
    for opt, tr in runs.items():
        out.append(figures.Run(opt, t(f"opt.{opt}", lg), tr.points, tr.losses))
        if averaged and tr.averaged is not None:
            out.append(figures.Run(opt, t("fig.averaged", lg, name=t(f"opt.{opt}", lg)), tr.averaged, tr.losses))
    return out


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
_BADGE_COLORS = {"converged": "#1b7a3a", "max_steps": "#1f4e99", "diverged": "#b3261e", "singular_hessian": "#a35a00"}


def presenting() -> bool:
    return bool(st.session_state.get("present", False))


def size() -> dict:
    """Figure sizes for the screen, or for a projector in presenter mode."""
    return {"font_size": 20, "height": 700, "line_width": 5, "loss_height": 300} if presenting() else {"loss_height": 240}


def inspect_max(runs: dict) -> int:
    """The last step the paths view's inspect slider offers: the longest run's."""
    return max(1, max(tr.steps for tr in runs.values()))


def _path_key(sc: Scenario, lg: str, overlays: dict[str, bool], inspect_step: int | None) -> tuple:
    """Everything the path figure depends on: a class moving the same slider together shares one figure."""
    flags = tuple(sorted(k for k, on in overlays.items() if on))
    at_point = {"taylor", "eigen"} & set(flags)  # the overlays drawn at the inspected step
    return (sc.key, lg, flags, inspect_step if at_point else None, presenting())


def paths_panel(sc: Scenario, runs: dict, lg: str, overlays: dict[str, bool], inspect_step: int | None) -> dict:
    grid = cache.contour(*sc.surface)
    key = _path_key(sc, lg, overlays, inspect_step)
    spec = _path_spec(key, sc, runs, lg, key[2], inspect_step)
    # A chart that stays mounted: a move redraws the paths, not the surface behind them.
    live_chart(*_path_payloads(key, spec, lg), PATH_CHART, lambda: set_start_from_click(PATH_CHART))
    if grid.masked:
        st.info(t("pg.domain_notice", lg))
    status_lines(runs, lg)
    return spec


@cache.shared(max_entries=256, key=lambda key, *rest: key)
def _path_spec(key, sc: Scenario, runs: dict, lg: str, flags: tuple[str, ...], inspect_step: int | None) -> dict:
    """The path figure for everything ``key`` names (shared; nobody mutates it)."""
    surface = cache.surface(*sc.surface)
    grid = cache.contour(*sc.surface)
    labels = fig_labels(lg, grid.log)
    extra = []
    if "field" in flags:
        extra.append(figures.gradient_field_trace(surface, t("fig.field", lg)))
    point = _inspected_point(sc, runs, inspect_step)
    if "taylor" in flags:
        model = landscapes.taylor_model(surface, point)
        extra.append(figures.taylor_trace(surface, model, t("fig.taylor", lg)))
    if "eigen" in flags:
        curv = landscapes.analyze(surface.hessian(point))
        extra += figures.eigen_traces(surface, point, curv, labels)
    # The loss per step is a panel of the same figure: one chart to draw per move.
    return figures.path_figure(surface, grid, as_runs(runs, lg, sc.average != "none"), labels, start=sc.start, overlays=extra, **size())


# Fewer entries than the figures: ~0.4 MB each, and only the views being shown right now matter.
@cache.shared(max_entries=64, key=lambda key, *rest: key)
def _path_payloads(key, spec: dict, lg: str) -> tuple[bytes, bytes]:
    """The path chart's two layers as sent, encoded once for every session showing ``key``'s figure."""
    texts = {"label": t("pg.chart_label", lg), "png_title": t("pg.chart_png", lg), "error_text": t("pg.chart_error", lg)}
    return payloads(spec, PATH_CHART, figures.SURFACE_TRACES, True, "descent-lab.png", texts)


def export_panel(spec: dict, runs: dict, lg: str) -> None:
    """Downloads in a popover whose content runs only while it is open: nothing to send on a move."""
    from figures.export import standalone_html, trajectories_csv

    box = st.popover(t("pg.export", lg), icon=":material/download:", key="export", on_change="rerun")
    if not box.open:
        return
    with box:
        # Callables: the files are made only when asked for.
        st.download_button(t("pg.export_html", lg), lambda: standalone_html(spec), "descent-lab.html", "text/html", key="export_html", on_click="ignore")
        st.download_button(t("pg.export_csv", lg), lambda: trajectories_csv(runs), "descent-lab.csv", "text/csv", key="export_csv", on_click="ignore")
        st.caption(t("pg.export_png", lg))


def _inspected_point(sc: Scenario, runs: dict, step: int | None) -> np.ndarray:
    if step is None or not runs:
        return np.asarray(sc.start, dtype=float)
    tr = next(iter(runs.values()))
    return tr.points[min(step, tr.steps)]


def schedule_panel(sc: Scenario, lg: str) -> None:
    st.sidebar.caption(t("pg.schedule_title", lg))
    with st.sidebar:
        show(figures.schedule_figure(cache.schedule_factors(sc.schedule, sc.steps), fig_labels(lg)), "schedule_chart")


def readouts(sc: Scenario, runs: dict, lg: str, inspect_step: int | None) -> None:
    with st.container(key="readouts_group"):
        st.html(readouts_html(sc, runs, lg, inspect_step))


def readouts_html(sc: Scenario, runs: dict, lg: str, inspect_step: int | None) -> str:
    """The readouts table for ``sc``'s runs (memoized for every session showing the same view)."""
    return _readouts_table((sc.key, lg, inspect_step), sc, runs, lg, inspect_step)


_TABLE_CSS = (
    "<style>.dl-readouts{border-collapse:collapse;width:100%;font-size:0.9em}"
    ".dl-readouts th,.dl-readouts td{text-align:left;padding:0.3rem 0.6rem;border-bottom:1px solid rgba(128,128,128,0.3)}"
    ".dl-readouts caption{text-align:left;font-weight:600;padding-bottom:0.4rem}</style>"
)


@cache.shared(max_entries=256, key=lambda key, *rest: key)
def _readouts_table(key, sc: Scenario, runs: dict, lg: str, inspect_step: int | None) -> str:
    """The curvature at the start, each end and the inspected step, as an HTML table (shared, like the figure).

    HTML, not a Markdown table or a dataframe: on every move the browser would
    parse the Markdown again, and a dataframe's Arrow round trip costs more than
    the rest of this panel.
    """
    surface = cache.surface(*sc.surface)
    places = [(t("pg.readout.start", lg), np.asarray(sc.start, dtype=float))]
    for opt, tr in runs.items():
        places.append((t("pg.readout.end", lg, name=t(f"opt.{opt}", lg)), tr.points[-1]))
        if inspect_step is not None:
            k = min(inspect_step, tr.steps)
            places.append((t("pg.readout.step", lg, name=t(f"opt.{opt}", lg), step=k), tr.points[k]))
    pts = np.array([p for _, p in places])
    curv = landscapes.analyze(surface.hessian(pts))
    head = "".join(f"<th>{escape(t(f'pg.readout.{k}', lg))}</th>" for k in ("where", "point", "eigenvalues", "det", "cond", "kind"))
    rows = []
    for i, (where, p) in enumerate(places):
        lo, hi = curv.eigenvalues[i]
        cells = [where, f"({p[0]:.4g}, {p[1]:.4g})", f"{lo:.4g}, {hi:.4g}", f"{curv.determinant[i]:.4g}", f"{curv.condition[i]:.4g}", t(f"kind.{curv.kind[i]}", lg)]
        rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    caption = f"<caption>{escape(t('pg.readouts', lg))}</caption>"
    return f"{_TABLE_CSS}<table class='dl-readouts'>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def surface_panel(sc: Scenario, runs: dict, lg: str) -> None:
    grid = cache.contour(*sc.surface)
    show(figures.surface_figure(grid, as_runs(runs, lg), fig_labels(lg, grid.log)), "surface_chart")


def inside_panel(sc: Scenario, runs: dict, lg: str, step: int) -> None:
    surface = cache.surface(*sc.surface)
    grid = cache.contour(*sc.surface)
    labels = {**fig_labels(lg, grid.log), **{k: t(f"fig.{k}", lg) for k in figures.INSIDE_LABELS}}
    # The runs as the figures take them (figures.INSIDE says what is plotted for each optimizer).
    inside = [
        {"key": opt, "label": t(f"opt.{opt}", lg), "trajectory": tr, "hyper": {**optimizers.defaults(opt), **dict(sc.hyper.get(opt, ()))}}
        for opt, tr in runs.items()
    ]
    overlays = figures.inside_overlays(inside, step, labels)
    spec = figures.path_figure(surface, grid, as_runs(runs, lg), labels, start=sc.start, overlays=overlays, max_frames=0)
    show(spec, "inside_chart")
    st.caption(t("pg.inside_caption", lg))
    show(figures.internals_figure(inside, labels), "internals_chart")


def formulas_panel(sc: Scenario, lg: str) -> None:
    surface = cache.surface(*sc.surface)
    st.markdown(f"**{t('pg.formulas.f', lg)}** — {surface.description.get(lg, '')}")
    st.latex("f(x, y) = " + surface.latex)
    st.markdown(f"**{t('pg.formulas.grad', lg)}**")
    st.latex(r"\nabla f = " + surface.gradient_latex)
    st.markdown(f"**{t('pg.formulas.hess', lg)}**")
    st.latex("H = " + surface.hessian_latex)
    st.markdown(f"**{t('pg.formulas.rules', lg)}**")
    # Each rule as it runs with the settings shown: its hyperparameters, the schedule, the noise.
    scheduled, noisy = S.is_scheduled(sc.schedule), sc.noise > 0
    st.caption(t("pg.formulas.gradient_noise" if noisy else "pg.formulas.gradient", lg))
    st.latex(gradient_rule(sc.noise))
    for opt in sc.optimizers:
        st.markdown(f"**{t(f'opt.{opt}', lg)}**")
        st.latex(update_rule(opt, sc.hyper[opt], scheduled=scheduled, noisy=noisy))
        if opt in _RULE_NOTES:
            st.caption(t(f"pg.formulas.note.{opt}", lg))
        st.markdown(f"- {t('pg.pros', lg)}: {t(f'pros.{opt}', lg)}\n- {t('pg.cons', lg)}: {t(f'cons.{opt}', lg)}")
    if scheduled:
        name, warmup, options = sc.schedule
        st.markdown(f"**{t('pg.formulas.schedule', lg)}**")
        st.latex(schedules.describe(name, warmup, **dict(options)))


# The rules with a note under them (pg.formulas.note.<name>): where eta sits, what L-BFGS's H_t is.
_RULE_NOTES = ("momentum", "nesterov", "lbfgs")
