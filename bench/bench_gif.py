"""The Export panel's "Download GIF" on the benchmark link in headless Chromium: time, size, page blocking.

    python -m bench.bench_gif [--runs 3] [--viewport 1400x1000 ...]

Per run (one page per viewport, the runs one after the other on it): click to the
download offered, in the page's clock; the file's size, its width x height and image
count; the longest main-thread task while it encoded and their sum (PerformanceObserver
"longtask": tasks over 50 ms), the page's responsiveness. Prints figures, asserts
nothing. Bar (issue 17): under 5 MB. The machine may be shared: load averages are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from bench.server import ROOT, StreamlitServer
from tests.e2e.harness import LOAD_TIMEOUT_MS, launch_browser, open_app

sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))  # the browser test imports its harness by name
from test_gif_export import BENCH_LINK, parse_gif  # the test's own GIF reader

_LONG_TASKS = """() => {
  window.__longTasks = [];
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); })
    .observe({type: 'longtask', buffered: false});
}"""


def one_export(page, tmp: str) -> dict:
    page.evaluate("() => { window.__longTasks = []; window.__gifStart = performance.now(); }")
    button = page.locator(".dl-gif button")
    with page.expect_download(timeout=LOAD_TIMEOUT_MS) as download:
        button.click()
    took = page.evaluate("() => performance.now() - window.__gifStart")
    path = os.path.join(tmp, "race.gif")
    download.value.save_as(path)
    with open(path, "rb") as f:
        data = f.read()
    gif = parse_gif(data)
    page.wait_for_function("() => !document.querySelector('.dl-gif button').disabled")
    tasks = page.evaluate("() => window.__longTasks.slice()")
    return {"ms": took, "bytes": len(data), "size": (gif["width"], gif["height"]), "images": len(gif["images"]), "longest": max(tasks, default=0), "blocked": sum(tasks)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--viewport", nargs="+", default=["1400x1000"], help="WIDTHxHEIGHT, one page each")
    args = ap.parse_args()
    import tempfile

    from playwright.sync_api import sync_playwright

    print(f"load averages before: {os.getloadavg()}")
    server = StreamlitServer("app.py", cwd=ROOT).start()
    try:
        with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
            browser = launch_browser(p)
            for viewport in args.viewport:
                w, h = (int(v) for v in viewport.split("x"))
                context = browser.new_context(viewport={"width": w, "height": h}, accept_downloads=True)
                page = context.new_page()
                open_app(page, server.url + BENCH_LINK)
                chart = page.evaluate("() => { const L = document.querySelector('.st-key-path_chart .js-plotly-plot')._fullLayout; return [L.width, L.height]; }")
                page.evaluate(_LONG_TASKS)
                page.get_by_role("button", name="Take it home").click()
                page.locator(".dl-gif button").wait_for(timeout=LOAD_TIMEOUT_MS)
                runs = []
                for _ in range(args.runs):
                    runs.append(one_export(page, tmp))
                    r = runs[-1]
                    print(f"  {viewport}: {r['ms'] / 1000:.2f} s, {r['bytes'] / 1e6:.2f} MB, {r['size'][0]} x {r['size'][1]} px, {r['images']} images, longest task {r['longest']:.0f} ms, {r['blocked']:.0f} ms in long tasks")
                    time.sleep(1)
                print(
                    f"viewport {viewport}, chart {chart[0]} x {chart[1]} CSS px: median {statistics.median(r['ms'] for r in runs) / 1000:.2f} s click to download, "
                    f"{runs[0]['bytes'] / 1e6:.2f} MB (bar 5 MB), longest task median {statistics.median(r['longest'] for r in runs):.0f} ms"
                )
                context.close()
            browser.close()
    finally:
        server.stop()
    print(f"load averages after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
