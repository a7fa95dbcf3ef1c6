"""Sweep: coarse-to-fine hyperparameter search over two axes, one batched run per grid
(per batch size, when the mini-batch size of a data surface is an axis); with the start's
coordinates on the axes, the basins of attraction and success over seeds."""

import streamlit as st

from i18n import t
from ui import controls, routing, sweep_view


def sweep_page() -> None:
    routing.ensure_router()
    sweep_view.open_requested()  # a button or a click on a map asked for the Playground
    lg = controls.lang()
    notice = st.empty()  # above the title; filled once the controls have read the link
    st.title(t("sw.title", lg))
    st.caption(t("sw.intro", lg))
    c = sweep_view.controls(lg)
    controls.link_notice(notice)
    if c.x == c.y:
        st.warning(t("sw.same_axes", lg))
        return
    setup = c.setup
    box = sweep_view.current_box(setup)
    if c.metric == "basin":
        sweep_view.basins_section(c, lg, setup, box)
        c1, c2 = st.columns(2)
        c1.button(t("sw.back", lg), key="sw_back", disabled=not sweep_view.history(), on_click=sweep_view.back)
        c2.button(t("sw.reset", lg), key="sw_reset", on_click=sweep_view.reset)
    else:
        hyperparameter_search(c, lg, setup, box)
    if c.starts:
        sweep_view.seeds_section(c, lg)
    if sweep_view.history():
        st.markdown(f"**{t('sw.history', lg)}**")
        st.markdown(sweep_view.history_table())  # not st.dataframe: it loads pandas and pyarrow


def hyperparameter_search(c: sweep_view.Controls, lg: str, setup: tuple, box: tuple) -> None:
    result, seconds = sweep_view.grid(c.surface, c.optimizer, c.x, c.y, box, c.n, c.steps, c.random, c.scaling, c.batch, c.fixed())
    bx, by, loss = result.best()
    x_label, y_label = sweep_view.label(c.x, lg), sweep_view.label(c.y, lg)
    if loss == loss:  # not NaN
        st.info(t("sw.best_line", lg, x=x_label, xv=bx, y=y_label, yv=by, loss=loss, runs=result.final_loss.size, ms=seconds * 1e3))
    else:
        st.warning(t("sw.no_best", lg))
    if c.batch_axis:
        values = result.x if c.x == sweep_view.sweep.BATCH else result.y
        st.caption(t("sw.batch_axis", lg, lo=int(values.min()), hi=int(values.max()), count=len(set(values.tolist())), calls=result.calls))
    if c.batch_axis or c.batch is not None:
        st.caption(t("sw.crn", lg, seed=result.seed))
    sweep_view.event_notice(lg, setup, box)  # a box dragged past the edge was cut; a selection that cannot be used, ignored
    sweep_view.heatmap(result, c.metric, lg, setup)
    st.caption(sweep_view.fixed_caption(c, c.optimizer, lg))
    st.caption(t("sw.refine_selection", lg) + " " + t("sw.blank", lg))
    c1, c2, c3, c4 = st.columns(4)
    # Callbacks run before the rerun, so one run draws the new grid.
    c1.button(t("sw.refine", lg), key="sw_refine", disabled=loss != loss, on_click=sweep_view.refine_to, args=(setup, sweep_view.sweep.refine_box(result)) if loss == loss else None)
    c2.button(t("sw.back", lg), key="sw_back", disabled=not sweep_view.history(), on_click=sweep_view.back)
    c3.button(t("sw.reset", lg), key="sw_reset", on_click=sweep_view.reset)
    best = sweep_view.best_state(c, bx, by) if loss == loss else None
    c4.button(t("sw.open", lg), key="sw_open", type="primary", disabled=best is None, on_click=sweep_view.request_open, args=(best,))
    st.caption(t("sw.rounded", lg))


sweep_page()
