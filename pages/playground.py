"""Playground: race optimizers on a surface, watch them move, read the curvature."""

import streamlit as st

from i18n import t
from ui import compute, controls, numerics, routing, state, views


def playground() -> None:
    routing.ensure_router()
    state.race_undrawn()
    lg = state.lang()
    base = controls.scenario()  # the sidebar: surface, optimizers, steps, start, training
    controls.link_notice()  # the link's keys that were reset, and controls that got a value they do not offer
    st.title(t("nav.playground", lg))
    if not base.optimizers:
        st.info(t("pg.no_optimizer", lg))
        state.hyper_links({}, base.landscape)  # no optimizer: none of their settings in the link
        return
    views.schedule_panel(base, lg)
    race(base)
    state.race_drawn()


# Under the app's errstate on its own reruns too; the key lets a callback rerun it alone (tests do).
@numerics.fragment(key=state.RACE)
def race(base: state.Scenario) -> None:
    """Hyperparameters, runs and views: a hyperparameter move reruns only this part of the page.

    One pass: every value is settled first (link, session, the panel's report), the runs
    are computed once, the chart is drawn, then the controls that show those values. The
    sidebar's controls rerun the whole page, which calls this again with a new ``base``, except
    those that change only the runs (steps, the start typed or clicked, the schedule, its warm-up
    and period, noise, seed, averaging, a catalog surface's parameters): they rerun this alone
    (with the sidebar's start inputs or schedule plot, each a fragment of its own, when they show
    the change), and this reads them from the session (``state.current_runs``).
    """
    current = state.current_runs(base)
    with compute.lane(current.surface):  # one page at a time: see cache.LANE_SLOTS
        _race(current)


def _race(current: state.Scenario) -> None:
    lg = state.lang()
    if state.start_was_clicked():  # a click while this fragment was not the page's current one
        st.rerun(scope="app")  # the start lives in the sidebar: redraw it too
    sc = state.settled_hyperparameters(current)
    runs = compute.compute(sc)
    view = state.settled_view()
    # The chart goes out before the panel (its bytes first; the panel's box is filled once the
    # chart is sent). On a projector the chart comes first in the page's order too (keyboard,
    # screen readers): the panel's box is made after it. No box for the switch or the chart:
    # every element is sent again on each move.
    hyper_box = None if state.presenting() else controls.hyper_group()
    controls.view_switch()
    if view == "paths":
        overlays, step = state.settled_paths_view(compute.inspect_max(runs))
        make_spec = views.paths_panel(sc, runs, lg, overlays, step)
    controls.hyper_controls(sc, hyper_box)
    if view == "paths":
        # One row of options (it wraps on a narrow screen): every element here is sent on each move.
        with st.container(key="overlay_group", horizontal=True, vertical_alignment="center"):
            for k in state.OVERLAYS:
                st.toggle(t(f"pg.overlay.{k}", lg), key=k, bind="query-params")
            controls.step_slider("inspect", compute.inspect_max(runs), width="stretch")
        views.readouts(sc, runs, lg, step)
        views.export_panel(make_spec, runs, lg)
    elif view == "surface":
        views.surface_panel(sc, runs, lg)
    elif view == "inside":
        step = controls.step_slider("inside_step", max(compute.inspect_max(runs) - 1, 1))
        views.inside_panel(sc, runs, lg, step)
    else:
        views.formulas_panel(sc, lg)


playground()
