"""Lessons, Sweep, typed functions, prepared links and the offline export, in a real browser."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlparse

import pytest
from harness import LOAD_TIMEOUT_MS, figure_data, no_errors, open_app, path_traces, wait_idle
from i18n import t

import lessons


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def settle_on_playground(page) -> None:
    """In the same session (no reload: the URL is still being written while the run goes on),
    wait until the Playground's chart is drawn and the run has finished."""
    page.wait_for_function(
        "() => { const gd = document.querySelector('.st-key-path_chart .js-plotly-plot'); return !!(gd && gd._fullData && gd._fullData.length); }",
        timeout=LOAD_TIMEOUT_MS,
    )
    wait_idle(page)


def close_to(a: float, b: float) -> bool:
    return abs(a - b) < 1e-6


def test_lesson_opens_its_preset_in_the_playground(page, base_url, browser_log, bad_responses):
    lesson = lessons.get("adagrad_stall")
    open_app(page, f"{base_url}/lessons?lesson={lesson.key}", chart_key=f"lesson_chart_{lesson.key}_0")
    notice = page.locator("[data-testid=stAlertContentSuccess]").first.inner_text()
    assert "AdaGrad" in notice and any(ch.isdigit() for ch in notice)
    preset = lessons.preset(lesson)
    page.get_by_role("button", name=t("ls.open", "en")).click()
    # The Playground's URL carries the preset (its surface is not the default one).
    page.wait_for_url(re.compile(rf"^https?://[^/]+/(playground)?\?.*landscape={preset['landscape']}"), timeout=LOAD_TIMEOUT_MS)
    settle_on_playground(page)
    q = query(page)
    assert q["landscape"] == [preset["landscape"]]
    assert q["optimizers"] == preset["optimizers"]
    names = [tr["name"] for tr in path_traces(figure_data(page)["traces"])]
    assert names == [t(f"opt.{o}", "en") for o in preset["optimizers"]]
    start = [tr for tr in figure_data(page)["traces"] if tr["name"] == t("fig.start", "en")][0]
    assert (start["x"], start["y"]) == ([preset["x0"]], [preset["y0"]])
    # The start too: the address bar opens the same runs when reloaded or shared.
    assert [float(v) for v in q["x0"] + q["y0"]] == [preset["x0"], preset["y0"]], page.url
    no_errors(page, browser_log, bad_responses)


def test_a_phone_hides_the_toolbar_that_would_cover_a_lesson_chart_s_legend(phone_page, page, base_url, browser_log, bad_responses):
    key = "lesson_chart_zigzag_0"
    chart = lambda p: p.locator(f".st-key-{key} .js-plotly-plot")  # noqa: E731
    shown = {}
    for p in (page, phone_page):
        open_app(p, f"{base_url}/lessons?lesson=zigzag", chart_key=key)
        chart(p).scroll_into_view_if_needed()
        chart(p).locator(".nsewdrag").first.hover()  # a mouse shows the toolbar; a touch screen shows it anyway
        shown[p] = chart(p).locator(".modebar").first.is_visible()
    assert shown == {page: True, phone_page: False}
    no_errors(page, browser_log, bad_responses)


def test_sweep_refines_and_opens_the_best_point(page, base_url, browser_log, bad_responses):
    open_app(page, f"{base_url}/sweep", chart_key="sweep_chart")
    before = page.locator("[data-testid=stAlertContentInfo]").first.inner_text()
    assert "4096" in before
    page.get_by_role("button", name=t("sw.refine", "en")).click()
    page.wait_for_function(
        "(old) => { const e = document.querySelector('[data-testid=stAlertContentInfo]'); return e && e.innerText !== old; }",
        arg=before,
        timeout=LOAD_TIMEOUT_MS,
    )
    wait_idle(page)  # bounded by LOAD_TIMEOUT_MS; bench.bench_sweep times the refine
    after = page.locator("[data-testid=stAlertContentInfo]").first.inner_text()
    assert after != before
    assert page.locator(".st-key-sweep_chart .js-plotly-plot").is_visible()
    page.get_by_role("button", name=t("sw.open", "en")).click()
    page.wait_for_url(re.compile(r"^https?://[^/]+/(playground)?\?.*landscape=rosenbrock"), timeout=LOAD_TIMEOUT_MS)
    settle_on_playground(page)
    assert query(page)["landscape"] == ["rosenbrock"]
    assert [tr["name"] for tr in path_traces(figure_data(page)["traces"])] == [t("opt.adam", "en")]
    no_errors(page, browser_log, bad_responses)


def test_typed_function_from_a_shared_link(page, base_url, browser_log, bad_responses):
    link = f"{base_url}/?landscape=custom&fx=(x%5E2%2By-11)%5E2%2B(x%2By%5E2-7)%5E2&optimizers=adam&adam_lr=0.05"
    open_app(page, link)
    assert page.locator(".st-key-fx input").input_value() == "(x^2+y-11)^2+(x+y^2-7)^2"
    traces = figure_data(page)["traces"]
    minima = [tr for tr in traces if tr["name"] == t("fig.minimum", "en")]
    # Of Himmelblau's four minima, (3, 2) lies in the default window [-3, 3]^2.
    assert minima and minima[0]["n"] == 1 and close_to(minima[0]["x"][0], 3.0) and close_to(minima[0]["y"][0], 2.0)
    assert [tr["name"] for tr in path_traces(traces)] == [t("opt.adam", "en")]
    no_errors(page, browser_log, bad_responses)


def test_hostile_text_is_refused_beside_the_box(page, base_url, browser_log, bad_responses):
    open_app(page, f"{base_url}/?landscape=custom&fx=x%5E2%2By%5E2")
    box = page.locator(".st-key-fx input")
    box.fill("x.__class__.__bases__")
    box.press("Enter")
    page.wait_for_selector("[data-testid=stAlertContentError]", timeout=LOAD_TIMEOUT_MS)
    wait_idle(page)
    assert "Cannot use this function" in page.locator("[data-testid=stAlertContentError]").first.inner_text()
    assert box.input_value() == "x.__class__.__bases__"  # the text is kept
    assert page.locator(".st-key-path_chart .js-plotly-plot").is_visible()
    no_errors(page, browser_log, bad_responses)


def test_prepared_presenter_link_hides_controls(page, base_url, browser_log, bad_responses):
    open_app(page, f"{base_url}/?present=true&hide=hyper&hide=training&hide=optimizers")
    assert not page.locator(".st-key-hyper_group").is_visible()
    assert not page.locator(".st-key-training_group").is_visible()
    assert not page.locator(".st-key-optimizers").is_visible()
    assert page.locator(".st-key-steps").is_visible()
    assert figure_data(page)["traces"]  # the chart is there
    no_errors(page, browser_log, bad_responses)


def test_exported_html_plays_offline(page, browser, base_url, browser_log, bad_responses, tmp_path):
    open_app(page, f"{base_url}/")
    page.get_by_role("button", name=t("pg.export", "en")).click()  # the popover runs its content once open
    with page.expect_download(timeout=LOAD_TIMEOUT_MS) as download:
        page.get_by_role("button", name=t("pg.export_html", "en")).click()
    target = tmp_path / "figure.html"
    download.value.save_as(target)
    context = browser.new_context()
    try:
        context.set_offline(True)
        offline = context.new_page()
        errors: list[str] = []
        offline.on("pageerror", lambda e: errors.append(str(e)))
        offline.goto(target.as_uri())
        offline.wait_for_function("() => { const gd = document.querySelector('.js-plotly-plot'); return gd && gd._fullData && gd._fullData.length; }", timeout=30_000)
        heads = "() => Array.from(document.querySelector('.js-plotly-plot')._fullData).filter(d => d.mode === 'markers' && d.legendgroup).map(d => d.x[0])"
        before = offline.evaluate(heads)
        offline.get_by_text("▶ 1×").click()
        moved = False
        for _ in range(40):
            time.sleep(0.1)
            if offline.evaluate(heads) != before:
                moved = True
                break
        assert moved, "the exported animation did not play"
        assert errors == []
    finally:
        context.close()
    no_errors(page, browser_log, bad_responses)


def test_a_fresh_server_serves_a_deep_link_through_the_router(browser, browser_log):
    """The first visitor of a new server arrives by a shared /lessons link, not the root URL."""
    from harness import ROOT, StreamlitServer

    with StreamlitServer("app.py", cwd=ROOT) as fresh:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            page = context.new_page()
            page.on("pageerror", lambda e: browser_log.page_errors.append(str(e)))
            open_app(page, f"{fresh.url}/lessons?lesson=newton", chart_key="lesson_chart_newton_0")
            assert page.locator(".st-key-lang").is_visible()  # the router's shared sidebar ran
            assert page.locator(".st-key-lesson").is_visible()
            open_app(page, f"{fresh.url}/?landscape=saddle&optimizers=newton")
            assert page.locator(".st-key-lang").is_visible()  # the router's shared sidebar ran
            assert query(page)["landscape"] == ["saddle"]
            assert [tr["name"] for tr in path_traces(figure_data(page)["traces"])] == [t("opt.newton", "en")]
            no_errors(page, browser_log)
        finally:
            context.close()


TYPED = {
    "rosenbrock": "(1-x)^2 + 100*(y-x^2)^2",
    "ackley": "-20*exp(-0.2*sqrt(0.5*(x^2+y^2))) - exp(0.5*(cos(2*pi*x)+cos(2*pi*y))) + e + 20",
    "sincos": "sin(x)*cos(y)",
    "abs": "abs(x)+abs(y)",
    "constant": "3",
}


@pytest.mark.parametrize("name", list(TYPED))
def test_each_typed_function_works_from_a_link(name, page, base_url, browser_log, bad_responses):
    from urllib.parse import quote

    open_app(page, f"{base_url}/?landscape=custom&optimizers=sgd&optimizers=lbfgs&fx={quote(TYPED[name])}")
    assert page.locator(".st-key-fx input").input_value() == TYPED[name]
    assert page.locator("[data-testid=stAlertContentError]").count() == 0
    names = [tr["name"] for tr in path_traces(figure_data(page)["traces"])]
    assert names == [t("opt.sgd", "en"), t("opt.lbfgs", "en")]
    no_errors(page, browser_log, bad_responses)
