"""Sweep: coarse-to-fine hyperparameter search over two axes, one batched run per grid."""

import streamlit as st

from i18n import t
from ui import controls, routing, sweep_view


def sweep_page() -> None:
    routing.ensure_router()
    lg = controls.lang()
    st.title(t("sw.title", lg))
    st.caption(t("sw.intro", lg))
    surface, optimizer, x, y, random, n, steps, metric = sweep_view.controls(lg)
    if x == y:
        st.warning(t("sw.same_axes", lg))
        return
    setup = (surface, optimizer, x, y, random)
    box = sweep_view.current_box(setup)
    result, seconds = sweep_view.grid(surface, optimizer, x, y, box, n, steps, random)
    bx, by, loss = result.best()
    if loss == loss:  # not NaN
        st.info(t("sw.best_line", lg, x=t(f"hp.{x}", lg), xv=bx, y=t(f"hp.{y}", lg), yv=by, loss=loss, runs=result.final_loss.size, ms=seconds * 1e3))
    else:
        st.warning(t("sw.no_best", lg))
    sweep_view.heatmap(result, metric, lg, setup)
    st.caption(t("sw.refine_selection", lg) + " " + t("sw.blank", lg))
    c1, c2, c3, c4 = st.columns(4)
    # Callbacks run before the rerun, so one run draws the new grid.
    c1.button(t("sw.refine", lg), key="sw_refine", disabled=loss != loss, on_click=sweep_view.refine_to, args=(setup, sweep_view.sweep.refine_box(result)) if loss == loss else None)
    c2.button(t("sw.back", lg), key="sw_back", disabled=not sweep_view.history(), on_click=sweep_view.back)
    c3.button(t("sw.reset", lg), key="sw_reset", on_click=sweep_view.reset)
    if c4.button(t("sw.open", lg), key="sw_open", type="primary", disabled=loss != loss):
        sweep_view.open_best(surface, optimizer, x, bx, y, by, steps)
    st.caption(t("sw.rounded", lg))
    if sweep_view.history():
        st.markdown(f"**{t('sw.history', lg)}**")
        st.markdown(sweep_view.history_table())  # not st.dataframe: it loads pandas and pyarrow


sweep_page()
