"""Slider-to-rendered latency in headless Chromium: the app on a scenario link (the benchmark link, or a data surface) vs a bare page.

    python -m bench.bench_browser [--moves 10] [--scenario benchmark|data]

Two servers: ``app.py`` opened on a scenario's link, and ``bench/bare_page.py`` (one
slider, one 200 x 200 contour). Scenarios (``--scenario``):

- ``benchmark`` (the default): the Playground benchmark link (Rosenbrock, six
  optimizers, 1000 steps);
- ``data``: a data surface (Old Faithful's linear regression, standardized inputs,
  mini-batches of 16) with three optimizers: the path chart then also draws the
  data panel (218 training and 54 test points, each optimizer's model line moved
  by the frames) and a test-loss curve per optimizer.

On each page one slider moves ONE WAY, one keyboard step at a time (Streamlit's
browser caches messages it has seen, so moving back would measure the cache).
App: Adam's learning rate (``adam_lr``, in the hyperparameters panel, its
"Adam · Hyperparameters" group opened first). Bare: its only slider.

Both pages are open at once and their moves interleave (a bare move, an app move, then
the other way round), so that both see the same moments of a shared machine whose speed
drifts from minute to minute; ``--sequential`` measures all of one page's moves, then
all of the other's.

Per move, all in the page's own clock (``performance.now``):
- rendered: key press -> script-state ``notRunning`` AND the first completed
  draw of the measured chart (``Plotly.react``, ``newPlot``, or ``animate``: the
  app's live path chart moves its traces with ``animate`` when only their points
  change), plus one animation frame for paint;
- settled: key press -> every chart re-render finished (Streamlit also remounts
  charts at the end of a run: a second full draw);
- websocket bytes received per move (counted in the page by a WebSocket hook);
- with ``--net`` only: server, the rerun request frame -> the move's last frame
  received, timed in Chromium's network stack (CDP), so a busy page main thread
  does not stretch it (off by default: relaying every payload costs CPU);
  plus the server process's CPU time per move (/proc) and, without any browser,
  the script time per rerun under AppTest. On a shared 2-core machine the wall
  time can be several times the CPU time: the server waits for a core while
  Chromium draws the charts that already arrived.

Prints figures, asserts nothing. Bars: app median rendered <= 1.5 x bare; app
median bytes per move <= 1 MB. The machine may be shared: load averages are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from bench.server import ROOT, StreamlitServer, cpu_seconds as process_cpu_seconds
from tests.e2e.harness import launch_browser, open_app

BENCH_LINK = (
    "/?landscape=rosenbrock&optimizers=sgd&optimizers=momentum&optimizers=nesterov"
    "&optimizers=adagrad&optimizers=rmsprop&optimizers=adam&steps=1000"
)
DATA_LINK = "/?landscape=faithful&optimizers=sgd&optimizers=momentum&optimizers=adam&batch_size=16"
# name -> (link, what the summary calls it); the app's moved control is Adam's learning rate in both.
SCENARIOS = {
    "benchmark": (BENCH_LINK, "app, benchmark link (Adam lr)"),
    "data": (DATA_LINK, "app, data link: Old Faithful, 3 optimizers, batch 16 (Adam lr)"),
}

# Installed before any page script: timestamps of websocket frames in the page's clock.
WS_HOOK = """
(() => {
  const Orig = window.WebSocket;
  window.__ws = [];
  const size = (d) => (d == null ? 0 : d.byteLength !== undefined ? d.byteLength : d.size !== undefined ? d.size : String(d).length);
  class Probed extends Orig {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => window.__ws.push([performance.now(), 'r', size(e.data)]));
    }
    send(d) { window.__ws.push([performance.now(), 's', size(d)]); return super.send(d); }
  }
  window.WebSocket = Probed;
})();
"""

# Installed after the first draw (Plotly is loaded lazily): script-state changes, key
# presses and every Plotly.react/newPlot/animate/purge with the st-key of the chart it draws.
PROBE = """() => {
  if (window.__probe) return true;
  const P = (window.__probe = {events: []});
  const now = () => performance.now();
  const app = document.querySelector('[data-testid=stApp]');
  new MutationObserver((recs) => {
    for (const r of recs) P.events.push({t: now(), kind: 'state', old: r.oldValue, v: r.target.getAttribute('data-test-script-state')});
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state'], attributeOldValue: true});
  document.addEventListener('keydown', (e) => P.events.push({t: now(), kind: 'key', v: e.key}), true);
  const keyOf = (gd) => {
    const c = gd && gd.closest && gd.closest('[class*="st-key-"]');
    return c ? [...c.classList].find((x) => x.startsWith('st-key-')).slice(7) : '?';
  };
  // Streamlit's Plotly (the bare page, the app's other charts) and the live chart's own instance.
  const own = window.__descentLabPlotly && window.__descentLabPlotly.instance;
  for (const Pl of [window.Plotly, own].filter((x, i, a) => x && a.indexOf(x) === i))
  for (const f of ['react', 'newPlot', 'animate', 'purge']) {
    const orig = Pl[f];
    Pl[f] = function (gd, ...rest) {
      const k = keyOf(gd);
      P.events.push({t: now(), kind: f + ':call', v: k});
      const r = orig.call(this, gd, ...rest);
      if (r && r.then) r.then(() => {
        P.events.push({t: now(), kind: f + ':done', v: k});
        requestAnimationFrame(() => P.events.push({t: now(), kind: f + ':paint', v: k}));
      });
      return r;
    };
  }
  return true;
}"""

# Summary of everything after the last key press; done once idle, all draws finished, and quiet.
STATUS = """([key, quiet]) => {
  const ev = window.__probe.events;
  let k = -1;
  for (let i = ev.length - 1; i >= 0; i--) if (ev[i].kind === 'key') { k = i; break; }
  if (k < 0) return null;
  const after = ev.slice(k + 1), t0 = ev[k].t;
  const first = (pred) => { const e = after.find(pred); return e ? e.t : null; };
  const last = (pred) => { const xs = after.filter(pred); return xs.length ? xs[xs.length - 1].t : null; };
  const tRun = first((e) => e.kind === 'state' && e.v === 'running');
  const tIdle = tRun === null ? null : first((e) => e.kind === 'state' && e.v === 'notRunning' && e.t >= tRun);
  const draw = (e, stage) => ['react', 'newPlot', 'animate'].some((f) => e.kind === f + ':' + stage);
  const calls = after.filter((e) => draw(e, 'call'));
  const pending = calls.length - after.filter((e) => draw(e, 'paint')).length;
  const mine = (e) => draw(e, 'paint') && e.v === key;
  const tLastAny = after.length ? after[after.length - 1].t : t0;
  const state = document.querySelector('[data-testid=stApp]').getAttribute('data-test-script-state');
  const ws = window.__ws.filter((w) => w[0] >= t0);
  const sent = ws.find((w) => w[1] === 's');
  const recvBeforeIdle = ws.filter((w) => w[1] === 'r' && (tIdle === null || w[0] <= tIdle));
  return {
    done: state === 'notRunning' && first(mine) !== null && pending <= 0 && now_() - tLastAny > quiet,
    t0, tRun, tIdle,
    firstPaint: first(mine), lastPaintMine: last(mine),
    lastPaintAny: last((e) => e.kind.endsWith(':paint')),
    draws: calls.map((e) => e.v + ':' + e.kind.split(':')[0]),
    tSent: sent ? sent[0] : null,
    tLastRecv: recvBeforeIdle.length ? recvBeforeIdle[recvBeforeIdle.length - 1][0] : null,
    wsBytesInPage: ws.filter((w) => w[1] === 'r').reduce((a, w) => a + w[2], 0),
  };
  function now_() { return performance.now(); }
}"""


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    i = q * (len(xs) - 1)
    lo, hi = int(i), min(int(i) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (i - lo)


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of process ``pid`` (Linux /proc), NaN where it cannot be read."""
    try:
        return process_cpu_seconds(pid)
    except (OSError, ValueError, IndexError, TypeError):
        return float("nan")


class PageUnderTest:
    """One page in its own browser context, opened and probed, its slider focused: ``move()``
    presses the slider's key once and measures that move."""

    def __init__(self, browser, url: str, chart_key: str, slider_css: str, expand: str | None = None, server_pid: int | None = None, with_net: bool = False):
        self.chart_key, self.server_pid = chart_key, server_pid
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.context.add_init_script(WS_HOOK)
        page = self.page = self.context.new_page()
        self.errors: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        # Network-level frame times (Chromium's network stack, not the page's busy main thread),
        # only with --net: the events carry every payload (base64, through the DevTools
        # protocol to Playwright and Python), which costs the shared 2 cores CPU in
        # proportion to the bytes and so slows the heavier page more than the bare one.
        self.net: list[tuple[float, str, int]] = []
        if with_net:
            cdp = self.context.new_cdp_session(page)
            cdp.on("Network.webSocketFrameSent", lambda e: self.net.append((e["timestamp"], "s", len(e["response"]["payloadData"]))))
            cdp.on("Network.webSocketFrameReceived", lambda e: self.net.append((e["timestamp"], "r", len(e["response"]["payloadData"]))))
            cdp.send("Network.enable")
        # The page's main-thread busy time (Chromium's own counters): cheap to read once per move.
        self.perf = self.context.new_cdp_session(page)
        self.perf.send("Performance.enable")

        t = time.perf_counter()
        open_app(page, url, chart_key=chart_key)
        self.load_s = time.perf_counter() - t
        self.load_bytes = page.evaluate("() => window.__ws.filter((w) => w[1] === 'r').reduce((a, w) => a + w[2], 0)")
        page.wait_for_timeout(1000)
        page.evaluate(PROBE)
        self.expanded = None
        if expand:
            group = page.locator("details").filter(has=page.locator("summary", has_text=expand))
            if group.get_attribute("open") is None:
                group.locator("summary").click()
            page.wait_for_timeout(500)
            self.expanded = group.get_attribute("open") is not None
        slider = page.locator(slider_css)
        slider.focus()
        # The value shown beside the slider: Streamlit's thumb label, or the panel's <output>.
        self.shown = slider.locator("xpath=ancestor::*[@data-testid='stSlider' or contains(@class, 'dl-hp-row')][1]").locator("[data-testid=stSliderThumbValue], output").first
        self.start_value = self.shown.inner_text()
        self.rows: list[dict] = []

    def _busy(self) -> dict[str, float]:
        m = {x["name"]: x["value"] for x in self.perf.send("Performance.getMetrics")["metrics"]}
        return {k: m.get(k, float("nan")) for k in ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")}

    def move(self) -> dict:
        page, net = self.page, self.net
        page.wait_for_timeout(300)
        n0, c0, b0 = len(net), cpu_seconds(self.server_pid), self._busy()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"(a) => ({STATUS})(a).done", arg=[self.chart_key, 400], polling=50, timeout=120_000)
        s = page.evaluate(STATUS, [self.chart_key, 400])
        page.wait_for_timeout(100)  # let Playwright deliver the last frame events
        b1 = self._busy()
        frames = net[n0:]
        sent = [f[0] for f in frames if f[1] == "s"]
        recv = [f[0] for f in frames if f[1] == "r" and sent and f[0] >= sent[0]]
        return {
            "rendered_ms": max(s["firstPaint"], s["tIdle"] or 0.0) - s["t0"],
            "settled_ms": max(s["lastPaintAny"] or 0.0, s["tIdle"] or 0.0) - s["t0"],
            "key_to_send_ms": (s["tSent"] - s["t0"]) if s["tSent"] is not None else float("nan"),
            "server_ms": (recv[-1] - sent[0]) * 1000 if sent and recv else float("nan"),
            "in_page_ms": (s["tLastRecv"] - s["tSent"]) if s["tSent"] is not None and s["tLastRecv"] is not None else float("nan"),
            "server_cpu_ms": (cpu_seconds(self.server_pid) - c0) * 1000,
            "page_busy_ms": (b1["TaskDuration"] - b0["TaskDuration"]) * 1000,
            "page_script_ms": (b1["ScriptDuration"] - b0["ScriptDuration"]) * 1000,
            "page_layout_ms": (b1["LayoutDuration"] + b1["RecalcStyleDuration"] - b0["LayoutDuration"] - b0["RecalcStyleDuration"]) * 1000,
            "idle_ms": (s["tIdle"] - s["t0"]) if s["tIdle"] is not None else float("nan"),
            "bytes": s["wsBytesInPage"],
            "draws": s["draws"],
            "timeline": [(round((f[0] - sent[0]) * 1000), f[1], f[2]) for f in frames] if sent else [],
            "marks": {k: round(s[k] - s["t0"]) for k in ("tSent", "tRun", "tIdle", "firstPaint", "lastPaintAny") if s[k] is not None},
            "value": self.shown.inner_text(),
        }

    def result(self) -> dict:
        end_value = self.shown.inner_text()
        self.context.close()
        return {"expanded": self.expanded, "load_s": self.load_s, "load_bytes": self.load_bytes, "rows": self.rows, "errors": self.errors, "from": self.start_value, "to": end_value}


def measure(pages: list[PageUnderTest], moves: int, warmup: int = 1, interleave: bool = True) -> list[dict]:
    """``moves`` measured moves per page (after ``warmup``), then each page's result.

    Interleaved (the default): a move of one page, then of the other, their order swapped
    each round, so that both see the same moments of a machine whose speed drifts. Else
    all of one page's moves, then all of the next one's.
    """
    if interleave:
        for i in range(warmup + moves):
            for p in pages if i % 2 == 0 else pages[::-1]:
                row = p.move()
                if i >= warmup:
                    p.rows.append(row)
    else:
        for p in pages:
            for i in range(warmup + moves):
                row = p.move()
                if i >= warmup:
                    p.rows.append(row)
    return [p.result() for p in pages]


def summarize(name: str, r: dict, show_timeline: bool = False) -> None:
    rows = r["rows"]
    col = lambda k: [x[k] for x in rows]  # noqa: E731
    if r["expanded"] is not None:
        print(f"\n(group opened before moving: {r['expanded']})", end="")
    print(f"\n{name}: first load {r['load_s']:.1f} s, {r['load_bytes'] / 1e6:.2f} MB; slider {r['from']} -> {r['to']} in {len(rows)} moves")
    for k, label in [
        ("rendered_ms", "rendered (idle + chart drawn)"),
        ("settled_ms", "settled (all charts redrawn)"),
        ("key_to_send_ms", "key -> rerun request sent"),
        ("server_ms", "server: request -> last frame (net)"),
        ("in_page_ms", "same, as the page's JS handled it"),
        ("server_cpu_ms", "server process CPU per move"),
        ("page_busy_ms", "page main thread busy per move"),
        ("page_script_ms", "  of which JavaScript"),
        ("page_layout_ms", "  of which style and layout"),
        ("idle_ms", "key -> notRunning"),
    ]:
        xs = [x for x in col(k) if x == x]
        if not xs:
            continue
        print(f"  {label:34s} median {statistics.median(xs):7.0f} ms   p90 {pct(xs, 0.9):7.0f} ms   min {min(xs):6.0f}   max {max(xs):6.0f}")
    b = col("bytes")
    print(f"  {'websocket bytes per move':34s} median {statistics.median(b) / 1e3:7.1f} kB   p90 {pct(b, 0.9) / 1e3:7.1f} kB")
    draws = rows[len(rows) // 2]["draws"]
    print(f"  chart draws per move: {len(draws)} ({', '.join(draws)})")
    if show_timeline:
        mid = rows[len(rows) // 2]
        print(f"  timeline of move {len(rows) // 2 + 1} (page clock from key, ms): {mid['marks']}")
        print("  websocket frames (ms after the request frame, direction, bytes): " + ", ".join(f"{t}{d}{n}" for t, d, n in mid["timeline"]))
    if r["errors"]:
        print(f"  page errors: {r['errors']}")


def script_times(moves: int, link: str = BENCH_LINK) -> dict[str, list[float]]:
    """Server-side script time per rerun, without browser or websocket (AppTest), same moves."""
    import sys
    from urllib.parse import parse_qs

    from streamlit.testing.v1 import AppTest

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from ui import settings as S

    out = {}
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in parse_qs(link[2:]).items():
        at.query_params[k] = v if len(v) > 1 else v[0]
    at.run()
    i = S.LR_OPTIONS.index(at.session_state["adam_lr"])
    times = []
    for _ in range(moves + 1):
        i = min(i + 1, len(S.LR_OPTIONS) - 1)
        t = time.perf_counter()
        at.session_state["adam_lr"] = S.LR_OPTIONS[i]  # the value the panel would report (AppTest cannot send its trigger)
        at.run()
        times.append((time.perf_counter() - t) * 1000)
    out["app"] = times[1:]
    at = AppTest.from_file(str(ROOT / "bench" / "bare_page.py"), default_timeout=60).run()
    k, times = at.slider(key="k").value, []
    for _ in range(moves + 1):
        k = round(k + 0.1, 1)
        t = time.perf_counter()
        at.slider(key="k").set_value(k).run()
        times.append((time.perf_counter() - t) * 1000)
    out["bare"] = times[1:]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--moves", type=int, default=10)
    ap.add_argument("--scenario", choices=sorted(SCENARIOS), default="benchmark", help="the app's link: the benchmark link (default) or a data surface with its data panel")
    ap.add_argument("--timeline", action="store_true", help="print one move's websocket frame timeline per page (implies --net)")
    ap.add_argument("--net", action="store_true", help="also time frames in Chromium's network stack (adds CPU load)")
    ap.add_argument("--sequential", action="store_true", help="all bare moves, then all app moves (as before 2026-11-27), not interleaved")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    link, app_name = SCENARIOS[args.scenario]
    print(f"load average at start: {loadavg()}  (cpus: {os.cpu_count()}); moves {'one page after the other' if args.sequential else 'interleaved'}")
    print(f"scenario {args.scenario}: {link}")
    with StreamlitServer("app.py", cwd=ROOT) as app, StreamlitServer("bench/bare_page.py", cwd=ROOT) as bare, sync_playwright() as p:
        browser = launch_browser(p)
        try:
            net = args.net or args.timeline
            pages = [
                PageUnderTest(browser, bare.url + "/", "bare_chart", ".st-key-k input[type=range]", server_pid=bare.proc.pid, with_net=net),
                PageUnderTest(
                    browser, app.url + link, "path_chart", ".st-key-hyper_panel input[name=adam_lr]",
                    expand="Adam · Hyperparameters", server_pid=app.proc.pid, with_net=net,
                ),
            ]  # fmt: skip
            res_bare, res_app = measure(pages, args.moves, interleave=not args.sequential)
        finally:
            browser.close()
    scripts = script_times(args.moves, link)
    print(f"load average at end:   {loadavg()}")
    summarize("bare page (bench/bare_page.py, 200x200 contour)", res_bare, args.timeline)
    summarize(app_name, res_app, args.timeline)

    med = lambda r, k: statistics.median(x[k] for x in r["rows"])  # noqa: E731
    print("\nscript time per rerun (AppTest, no browser, no websocket):")
    for name in ("bare", "app"):
        xs = scripts[name]
        print(f"  {name:5s} median {statistics.median(xs):6.0f} ms   p90 {pct(xs, 0.9):6.0f} ms")
    ratio = med(res_app, "rendered_ms") / med(res_bare, "rendered_ms")
    ratio_settled = med(res_app, "settled_ms") / med(res_bare, "settled_ms")
    mb = med(res_app, "bytes") / 1e6
    print("\nbars")
    print(f"  app / bare median rendered latency: {ratio:.2f}x  (bar <= 1.5x: {'PASS' if ratio <= 1.5 else 'FAIL'})")
    print(f"  app / bare median settled latency:  {ratio_settled:.2f}x")
    print(f"  app median websocket bytes per move: {mb:.3f} MB  (bar <= 1 MB: {'PASS' if mb <= 1.0 else 'FAIL'})")


if __name__ == "__main__":
    main()
