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
        controls.hyper_links({}, base.landscape)  # no optimizer: none of their settings in the link
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
    hyper_box, view_box = controls.hyper_group(), st.container()  # filled once the chart is out
    chart = st.container()  # the chart comes first, on a phone too; its options sit below it
    # The chart goes out before the widgets, drawn from the values they hold now: the
    # browser draws it while the rest of the page is still on its way.
    early = views.early_paths(base, lg, chart)
    sc = controls.with_hyperparameters(base, hyper_box)
    runs = views.compute(sc)
    with view_box:
        view = controls.view_switch()
    if view == "paths":
        # One row of options (it wraps on a narrow screen): every element here is sent on each move.
        with st.container(key="overlay_group", horizontal=True, vertical_alignment="center"):
            overlays = {k: st.toggle(t(f"pg.overlay.{k}", lg), key=k, bind="query-params") for k in controls.OVERLAYS}
            step = controls.step_slider("inspect", views.inspect_max(runs), width="stretch")
        spec = views.late_paths(early, sc, runs, lg, overlays, step, chart)
        views.readouts(sc, runs, lg, step)
        views.export_panel(spec, runs, lg)
    elif view == "surface":
        views.surface_panel(sc, runs, lg)
    elif view == "inside":
        step = controls.step_slider("inside_step", max(views.inspect_max(runs) - 1, 1))
        views.inside_panel(sc, runs, lg, step)
    else:
        views.formulas_panel(sc, lg)


playground()
