"""Hostile links in a real browser (issue 16): a real server, Streamlit's own URL binding, Chromium.

The AppTest suite (tests/test_links_hostile.py) drives every key; this opens the links of the
issue that crashed the page as a visitor would, and moves a control afterwards: the notice
names the key, the chart is drawn, the link no longer holds the value, and nothing breaks on
the next rerun.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from harness import open_app, wait_idle

NOTICE = "[data-testid=stAlertContentWarning]"


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query, keep_blank_values=True)


def named(page) -> set[str]:
    """The keys the page's notice names (the list after its colon)."""
    texts = page.locator(NOTICE).all_inner_texts()
    return {k.strip(" .") for text in texts for k in re.split(r"[:：]", text)[-1].split(",") if k.strip(" .")}


def assert_healthy(page, browser_log, server, mark: int) -> None:
    exc = page.locator("[data-testid=stException]")
    assert exc.count() == 0, exc.first.inner_text()
    assert browser_log.page_errors == [], browser_log.page_errors
    log = server.log_since(mark)
    assert "Traceback" not in log and "Uncaught app exception" not in log, log[-3000:]


def steps_slider(page):
    box = page.locator("[data-testid=stSlider]").filter(has=page.locator("[data-testid=stWidgetLabel]", has_text=re.compile("^Steps$")))
    return box.locator("input[type=range]")


CRASH_LINKS = [("seed", "inf"), ("seed", "9" * 400), ("seed", "1e309"), ("steps", "9" * 140), ("adam_beta1", "9" * 100)]


@pytest.mark.parametrize("key, value", CRASH_LINKS, ids=[f"{k}={v[:8]}" for k, v in CRASH_LINKS])
def test_a_crash_link_opens_the_playground_with_a_notice_and_survives_a_move(page, base_url, browser_log, server, server_log_mark, key, value):
    open_app(page, f"{base_url}/?optimizers=sgd&optimizers=adam&{key}={value}")
    assert key in named(page)
    assert key not in query(page)  # the link no longer holds what was refused
    before = int(steps_slider(page).input_value())
    steps_slider(page).focus()
    page.keyboard.press("ArrowRight")  # the next rerun: the Steps slider moves by 5
    page.wait_for_function("(v) => new URLSearchParams(location.search).get('steps') === String(v)", arg=before + 5)
    wait_idle(page)
    assert page.locator(".st-key-path_chart .js-plotly-plot").count() == 1
    assert key in named(page)
    assert key not in query(page) or key == "steps"
    assert_healthy(page, browser_log, server, server_log_mark)


def test_junk_in_the_sweep_keys_is_named_on_the_sweep_page(page, base_url, browser_log, server, server_log_mark):
    open_app(page, f"{base_url}/sweep?sw_n={'9' * 400}&sw_mode=bogus&sw_steps=-inf&sw_x=", chart_key="sweep_chart")
    assert {"sw_n", "sw_mode", "sw_steps", "sw_x"} <= named(page)
    assert not {"sw_n", "sw_mode", "sw_steps", "sw_x"} & set(query(page))
    assert_healthy(page, browser_log, server, server_log_mark)


def test_a_bad_lesson_and_a_crash_value_are_named_on_the_lessons_page(page, base_url, browser_log, server, server_log_mark):
    open_app(page, f"{base_url}/lessons?lesson=bogus&seed=inf", chart_key="lesson_chart_zigzag_0")
    assert {"lesson", "seed"} <= named(page)
    assert_healthy(page, browser_log, server, server_log_mark)
