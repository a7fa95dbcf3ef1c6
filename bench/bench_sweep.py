"""Sweep page: a 64 x 64 grid x 500 steps, from the request to the heatmap's JSON (server side).

Prints figures; asserts nothing: the server side (batched runs, heatmap JSON), then
in headless Chromium the click on "Refine" to the new heatmap drawn. Bar (issue 5):
click to rendered heatmap <= 1 s. Also the server side on Old Faithful (issue 15):
mini-batches of 32, and the batch size on an axis (one batched call per batch size);
bench/bench_data.py has the data surfaces' own figures.
Run: python -m bench.bench_sweep
"""

from __future__ import annotations

import statistics
import time

import plotly.io as pio

import figures
import sweep


def once(box, surface: str = "rosenbrock", y: str = "beta1", **options) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    result = sweep.run(surface, "adam", "lr", y, box, n=64, steps=500, **options)
    t1 = time.perf_counter()
    labels = {"metric": "loss", "best": "best", "x": "lr", "y": y, "log_metric": True}
    spec = figures.sweep_figure(result, result.metric("final_loss"), labels)
    size = len(pio.to_json(spec, validate=False))
    return t1 - t0, time.perf_counter() - t1, size


def main() -> None:
    boxes = [(1e-4, 1.0, 0.0, 0.99), (1e-3, 1.0, 0.5, 0.99), (1e-2, 1.0, 0.8, 0.99), (0.1, 1.0, 0.85, 0.95)]
    runs, builds, sizes = zip(*(once(b) for b in boxes))
    print("Sweep: Adam on Rosenbrock, 64 x 64 (lr x beta1) x 500 steps")
    print(f"  batched runs   : median {statistics.median(runs) * 1e3:6.1f} ms")
    print(f"  heatmap + JSON : median {statistics.median(builds) * 1e3:6.1f} ms, {statistics.median(sizes) / 1e3:.0f} kB")
    print(f"  server total   : median {statistics.median([a + b for a, b in zip(runs, builds)]) * 1e3:6.1f} ms")
    data()


def data() -> None:
    """The same on Old Faithful (standardized): mini-batches of 32, then the batch size on an axis."""
    start = (-1.0, 1.5)
    boxes = [(1e-4, 1.0, 0.0, 0.99), (1e-3, 1.0, 0.5, 0.99), (1e-2, 1.0, 0.8, 0.99)]
    runs, builds, _ = zip(*(once(b, "faithful", start=start, batch_size=32) for b in boxes))
    print("Sweep: Adam on Old Faithful, 64 x 64 (lr x beta1) x 500 steps, batch size 32")
    print(f"  batched runs   : median {statistics.median(runs) * 1e3:6.1f} ms")
    print(f"  heatmap + JSON : median {statistics.median(builds) * 1e3:6.1f} ms")
    boxes = [(1e-4, 1.0, 1, 218), (1e-3, 1.0, 4, 64)]
    runs, builds, _ = zip(*(once(b, "faithful", "batch_size", start=start) for b in boxes))
    print("Sweep: Adam on Old Faithful, lr x batch size (64 x whole numbers, one call per batch size) x 500 steps")
    sizes = [len(sweep.axis("batch_size", b[2], b[3], 64)) for b in boxes]
    print("  batched runs   : " + ", ".join(f"{r * 1e3:.0f} ms ({b[2]}..{b[3]}: {k} sizes)" for r, b, k in zip(runs, boxes, sizes)))
    print(f"  heatmap + JSON : median {statistics.median(builds) * 1e3:6.1f} ms")



def browser(moves: int = 4) -> None:
    """Click 'Refine' on the Sweep page in headless Chromium; time until the new heatmap is drawn."""
    from playwright.sync_api import sync_playwright

    from i18n import t
    from tests.e2e.harness import (
        ROOT,
        StreamlitServer,
        launch_browser,
        open_app,
        wait_idle,
    )

    with StreamlitServer("app.py", cwd=ROOT) as server, sync_playwright() as p:
        b = launch_browser(p)
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        open_app(page, server.url + "/sweep", chart_key="sweep_chart")
        # Count completed Plotly draws of the heatmap, to know when the new one is on screen.
        page.evaluate(
            """() => { window.__draws = 0; const gd = document.querySelector('.st-key-sweep_chart .js-plotly-plot');
                       new MutationObserver(() => {}).observe(document.body, {childList: true, subtree: true});
                       document.addEventListener('plotly_afterplot', () => window.__draws++, true);
                       if (gd && gd.on) gd.on('plotly_afterplot', () => window.__draws++); }"""
        )
        times = []
        for _ in range(moves):
            before = page.locator("[data-testid=stAlertContentInfo]").first.inner_text()
            t0 = time.perf_counter()
            page.get_by_role("button", name=t("sw.refine", "en")).click()
            page.wait_for_function(
                """(old) => { const e = document.querySelector('[data-testid=stAlertContentInfo]');
                               const gd = document.querySelector('.st-key-sweep_chart .js-plotly-plot');
                               return e && e.innerText !== old && gd && gd._fullData && gd._fullData.length; }""",
                arg=before,
                timeout=120_000,
            )
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            times.append(time.perf_counter() - t0)
            wait_idle(page)
        b.close()
    print(f"  browser, click 'Refine' -> new 64 x 64 heatmap drawn: median {statistics.median(times) * 1e3:6.0f} ms"
          f" (min {min(times) * 1e3:.0f}, max {max(times) * 1e3:.0f}, {len(times)} clicks; bar <= 1000 ms)")


if __name__ == "__main__":
    main()
    browser()
