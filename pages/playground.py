"""Playground: race optimizers on a surface, watch them move, read the curvature."""

import streamlit as st

from i18n import t
from ui import controls, routing, views


def playground() -> None:
    routing.ensure_router()
    lg = controls.lang()
    base = controls.scenario()  # the sidebar: surface, optimizers, steps, start, training
    st.title(t("nav.playground", lg))
    if not base.optimizers:
        st.info(t("pg.no_optimizer", lg))
        return
    views.schedule_panel(base, lg)
    race(base)


@st.fragment
def race(base: controls.Scenario) -> None:
    """Hyperparameters, runs and views: a hyperparameter move reruns only this part of the page.

    The sidebar's controls rerun the whole page, which calls this again with a new ``base``.
    """
    lg = controls.lang()
    if controls.start_was_clicked():
        st.rerun(scope="app")  # the start lives in the sidebar: redraw it too
    sc = controls.with_hyperparameters(base)
    runs = views.compute(sc)
    keys = ["paths", "surface", "inside", "formulas"]
    tabs = st.tabs([t(f"pg.view.{k}", lg) for k in keys], key="view", on_change="rerun", bind="query-params")
    paths, surface, inside, formulas = tabs
    longest = max(tr.steps for tr in runs.values())
    if paths.open is not False:
        with paths:
            chart = st.container()  # the chart comes first, on a phone too; its options sit below it
            with st.container(key="overlay_group"):
                c1, c2, c3 = st.columns(3)
                overlays = {
                    "field": c1.toggle(t("pg.overlay.field", lg), key="field", bind="query-params"),
                    "eigen": c2.toggle(t("pg.overlay.eigen", lg), key="eigen", bind="query-params"),
                    "taylor": c3.toggle(t("pg.overlay.taylor", lg), key="taylor", bind="query-params"),
                }
                step = st.slider(t("pg.inspect", lg), 0, max(longest, 1), key="inspect", bind="query-params")
            with chart:
                spec = views.paths_panel(sc, runs, lg, overlays, step)
                views.status_lines(runs, lg)
            views.readouts(sc, runs, lg, step)
            views.export_panel(spec, runs, lg)
    if surface.open:
        with surface:
            views.surface_panel(sc, runs, lg)
    if inside.open:
        with inside:
            step = st.slider(t("pg.inspect", lg), 0, max(longest - 1, 1), key="inside_step", bind="query-params")
            views.inside_panel(sc, runs, lg, step)
    if formulas.open:
        with formulas:
            views.formulas_panel(sc, lg)


playground()
