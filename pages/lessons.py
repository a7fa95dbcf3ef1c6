"""Lessons: each claim of the lecture notes, live, with a measured number and a one-click preset."""

import streamlit as st

import lessons
from i18n import t
from ui import controls, lessons_view, routing


def lessons_page() -> None:
    routing.ensure_router()
    lg = controls.lang()
    notice = st.empty()  # above the title; filled once the lesson's choice has been read
    st.title(t("ls.title", lg))
    st.caption(t("ls.intro", lg))
    keys = [lesson.key for lesson in lessons.LESSONS]
    key = controls.choice(t("ls.pick", lg), keys, keys[0], "lesson", lambda k: t(f"lesson.{k}.title", lg), where=st)
    controls.link_notice(notice)
    lesson = lessons.get(key)
    result = lessons_view.outcome(key)
    st.markdown(" ".join(f"`{c}`" for c in lesson.claims) + f" · {t('ls.claims', lg)}")
    st.markdown(t(f"lesson.{key}.explanation", lg))
    notice = t(f"lesson.{key}.notice", lg, **result.numbers)
    (st.success if result.shows_effect else st.warning)(f"**{t('ls.notice', lg)}:** {notice}")
    lessons_view.panels(lesson, result, lg)
    state = lessons.preset(lesson)
    c1, c2 = st.columns(2)
    if lesson.link == "sweep":
        if c1.button(t("ls.open_sweep", lg), type="primary", key="open_lesson"):
            lessons_view.open_in_sweep(lesson.sweep_state)
    elif c1.button(t("ls.open", lg), type="primary", key="open_lesson"):
        lessons_view.open_in_playground(state)
    c2.markdown(f"[{t('ls.share', lg)}]({lessons_view.share_link(lesson, state)})")
    if len({r.optimizer for r in lesson.panels[0].runs}) < len(lesson.panels[0].runs):
        st.caption(t("ls.variants_note", lg))


lessons_page()
