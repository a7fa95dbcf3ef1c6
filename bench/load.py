"""Load test: N concurrent sessions on the benchmark scenario against one Streamlit process.

For each N it starts a fresh ``streamlit run app.py`` on a free loopback port (with the
repository's ``.streamlit/config.toml``; ``--replicas 2``: two of them behind nginx,
rendered from deploy/nginx.conf, sessions connecting from 127.0.N.1 so that ip_hash
spreads them), warms it with one session, then:

1. opens N sessions at once on the benchmark link (``BENCHMARK_QUERY``) and waits for
   each first run to finish;
2. plays ``--interactions`` rounds: in each round every session makes one move, all at the
   same moment by default (a class following the teacher's "now move Adam's learning
   rate one notch"; ``--spread S`` staggers them uniformly over S seconds instead):
   ``adam_lr`` moves one option at a time, one way (even sessions up, odd ones down), or
   ``--widget steps`` moves the steps slider down 5 at a time. Moves go one way only, so
   no figure repeats and the browser-side message cache cannot answer for the server.
   Latency: send of the rerun -> ``script_finished``;
3. stops the server.

It samples the server's RSS (``/proc/PID/status`` VmRSS, every 0.1 s) and CPU time, the CPU
that everything else on the machine took meanwhile (a busy machine skews the figures), counts
errors (connect/timeout failures, runs that did not finish cleanly, exception elements,
tracebacks in the server log) and prints a table. Everything is bounded: at most 200
sessions, 20 interactions, a per-run timeout and a per-level deadline; only 127.0.0.1.

Run: ``python -m bench.load --sessions 10 30 60``
Bar (issue "Classroom delivery"): 30 sessions at p95 <= 2 s, no errors, RSS <= 1 GB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from bench.server import ROOT, StreamlitServer
from bench.wsclient import BENCHMARK_QUERY, Session, checked

# A class on a model's loss surface: three optimizers, mini-batches of 16, the data panel.
DATA_QUERY = "landscape=faithful&optimizers=sgd&optimizers=momentum&optimizers=adam&batch_size=16&steps=300"
SCENARIOS = {"benchmark": BENCHMARK_QUERY, "data": DATA_QUERY}
MAX_SESSIONS = 200
MAX_INTERACTIONS = 20
BAR = {"sessions": 30, "p95_s": 2.0, "rss_mb": 1024}


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat): to see who else used the machine."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass
class LevelResult:
    sessions: int
    interactions: int
    widget: str
    replicas: int = 1
    open_p50: float = float("nan")
    open_p95: float = float("nan")
    p50: float = float("nan")
    p95: float = float("nan")
    max: float = float("nan")
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    rss_start_mb: float = 0.0
    rss_max_mb: float = 0.0
    server_cpu_s: float = 0.0
    cpu_per_rerun_ms: float = float("nan")
    mb_per_interaction: float = float("nan")
    largest_msg_mb: float = 0.0
    warmup_s: float = 0.0
    wall_s: float = 0.0
    client_cpu_s: float = 0.0  # this load generator's own CPU: it shares the machine
    other_cpu_s: float = 0.0  # CPU used by anything else on the machine during the level (noise)

    def meets_bar(self) -> bool:
        return self.p95 <= BAR["p95_s"] and self.errors == 0 and self.rss_max_mb <= BAR["rss_mb"]


async def _interaction(s: Session, widget: str, direction: int):
    if widget == "adam_lr":
        return checked(await s.move_panel("adam_lr", direction))
    return checked(await s.set_slider("steps", s.slider_value("steps") - 5))


async def run_level(
    servers: list[StreamlitServer],
    n: int,
    interactions: int,
    widget: str,
    spread: float,
    timeout: float,
    entry: str | None = None,
    query: str = BENCHMARK_QUERY,
) -> LevelResult:
    """N sessions against ``entry`` (a websocket URL; default: the one server's)."""
    res = LevelResult(n, interactions, widget, replicas=len(servers))
    errors: dict[str, int] = {}
    entry = entry or servers[0].ws_url
    # Behind the proxy, session i connects from 127.0.(i+1).1: ip_hash spreads those.
    source = (lambda i: f"127.0.{i % 250 + 1}.1") if entry != servers[0].ws_url else (lambda i: None)

    def err(kind: str) -> None:
        errors[kind] = errors.get(kind, 0) + 1

    def cpu() -> float:
        return sum(srv.cpu_seconds() for srv in servers)

    # Warm-up: a first session per server compiles the surface and fills the shared caches.
    t0 = time.perf_counter()
    for srv in servers:
        async with Session(srv.ws_url, query, timeout=timeout) as s:
            checked(await s.open())
    res.warmup_s = time.perf_counter() - t0
    res.rss_start_mb = sum(srv.rss_mb() for srv in servers)

    sessions = [Session(entry, query, local_addr=source(i), timeout=timeout) for i in range(n)]
    alive: list[Session] = []
    opens: list[float] = []

    async def open_one(s: Session):
        try:
            await s.connect()
            opens.append(checked(await s.open()).seconds)
            alive.append(s)
        except Exception as e:  # noqa: BLE001 - counted, reported
            err(f"open: {type(e).__name__}")

    cpu0 = cpu()
    client0 = time.process_time()
    busy0 = machine_busy_seconds()
    t_start = time.perf_counter()
    await asyncio.gather(*(open_one(s) for s in sessions))

    latencies: list[float] = []
    received: list[int] = []
    largest = 0
    rng = random.Random(0)
    cpu_interact0 = cpu()
    for _ in range(interactions):

        async def one(i: int, s: Session):
            nonlocal largest
            if spread:
                await asyncio.sleep(rng.uniform(0, spread))
            try:
                r = await _interaction(s, widget, 1 if i % 2 == 0 else -1)
                latencies.append(r.seconds)
                received.append(r.bytes)
                largest = max(largest, r.largest)
            except Exception as e:  # noqa: BLE001 - counted, reported
                err(f"interaction: {type(e).__name__}")
                alive.remove(s)  # its stream may hold a half-read run: leave it out from now on
                await s.close()

        await asyncio.gather(*(one(i, s) for i, s in enumerate(sessions) if s in alive))
    cpu_interact = cpu() - cpu_interact0
    res.wall_s = time.perf_counter() - t_start
    res.server_cpu_s = cpu() - cpu0
    res.client_cpu_s = time.process_time() - client0
    res.other_cpu_s = max(0.0, machine_busy_seconds() - busy0 - res.server_cpu_s - res.client_cpu_s)
    await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)

    tracebacks = sum(srv.log_text().count("Traceback") for srv in servers)
    if tracebacks:
        errors["server log: Traceback"] = tracebacks
    if opens:
        res.open_p50, res.open_p95 = (float(v) for v in np.percentile(opens, [50, 95]))
    if latencies:
        res.p50, res.p95 = (float(v) for v in np.percentile(latencies, [50, 95]))
        res.max = float(max(latencies))
        res.cpu_per_rerun_ms = 1e3 * cpu_interact / len(latencies)
        res.mb_per_interaction = float(np.mean(received)) / 1e6
        res.largest_msg_mb = largest / 1e6
    res.errors = sum(errors.values())
    res.error_kinds = errors
    return res


def measure(
    n: int,
    interactions: int,
    widget: str,
    spread: float,
    timeout: float,
    deadline: float,
    app_dir: str | Path = ROOT,
    replicas: int = 1,
    query: str = BENCHMARK_QUERY,
) -> LevelResult:
    """One level on fresh servers: one process, or two behind nginx (deploy/nginx.conf)."""
    servers = [StreamlitServer(cwd=app_dir) for _ in range(replicas)]
    proxy = None
    try:
        for srv in servers:
            srv.start(wait=False)
        for srv in servers:
            srv.wait_ready(60)
            srv.sample_rss()
        entry = None
        if replicas == 2:
            from bench.proxy import Nginx

            proxy = Nginx([f"127.0.0.1:{srv.port}" for srv in servers]).start()
            entry = proxy.ws_url
        try:
            level = run_level(servers, n, interactions, widget, spread, timeout, entry, query)
            res = asyncio.run(asyncio.wait_for(level, deadline))
        except (asyncio.TimeoutError, TimeoutError):
            res = LevelResult(n, interactions, widget, replicas, errors=1, error_kinds={f"level deadline {deadline:.0f} s": 1})
        except Exception as e:  # noqa: BLE001 - e.g. the warm-up session failed: report, go on
            res = LevelResult(n, interactions, widget, replicas, errors=1, error_kinds={f"{type(e).__name__}: {e}": 1})
            for srv in servers:
                print(f"server log (last lines):\n{srv.log_text()[-3000:]}", file=sys.stderr)
        # Sum of each process's peak: what the machine must hold at worst.
        res.rss_max_mb = sum(max(srv.rss_samples or [srv.rss_mb()]) for srv in servers)
        return res
    finally:
        if proxy is not None:
            proxy.close()
        for srv in servers:
            srv.stop()
            srv.cleanup()


def table(results: list[LevelResult]) -> str:
    head = (
        f"{'sessions':>8} {'open p50':>9} {'open p95':>9} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'errors':>6} "
        f"{'RSS max MB':>10} {'CPU/rerun ms':>12} {'MB/move':>8} {'others %':>8}  bar"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        bar = ("ok" if r.meets_bar() else "MISSED") if r.sessions == BAR["sessions"] else ""
        # Share of the machine other processes took during the level: above ~10% the figures are noisy.
        others = 100 * r.other_cpu_s / (r.wall_s * (os.cpu_count() or 1)) if r.wall_s else float("nan")
        lines.append(
            f"{r.sessions:>8} {r.open_p50:>9.2f} {r.open_p95:>9.2f} {r.p50:>7.2f} {r.p95:>7.2f} {r.max:>7.2f} {r.errors:>6} "
            f"{r.rss_max_mb:>10.0f} {r.cpu_per_rerun_ms:>12.0f} {r.mb_per_interaction:>8.2f} {others:>8.0f}  {bar}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, nargs="+", default=[10, 30, 60], help="concurrent sessions per level")
    ap.add_argument("--interactions", type=int, default=5, help="moves per session (default 5)")
    ap.add_argument("--widget", choices=["adam_lr", "steps"], default="adam_lr", help="what each move changes")
    ap.add_argument("--spread", type=float, default=0.0, help="stagger each round's moves over this many seconds (default 0: all at once)")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds one run may take before it counts as an error")
    ap.add_argument("--deadline", type=float, default=900.0, help="seconds one level may take in all")
    ap.add_argument("--replicas", type=int, choices=[1, 2], default=1, help="2: two servers behind nginx (deploy/nginx.conf)")
    ap.add_argument("--app-dir", default=str(ROOT), help="directory to run app.py from (default: this checkout)")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument(
        "--scenario", choices=sorted(SCENARIOS), default="benchmark",
        help="benchmark: the Playground benchmark link (Rosenbrock, six optimizers); data: Old Faithful with mini-batches and the data panel",
    )  # fmt: skip
    args = ap.parse_args(argv)
    if not all(1 <= n <= MAX_SESSIONS for n in args.sessions):
        ap.error(f"--sessions must be within 1..{MAX_SESSIONS}")
    if not 1 <= args.interactions <= MAX_INTERACTIONS:
        ap.error(f"--interactions must be within 1..{MAX_INTERACTIONS}")
    if args.widget == "adam_lr" and args.interactions > 15:
        ap.error("adam_lr has 15 options above the benchmark's 0.03: at most 15 moves")

    query = SCENARIOS[args.scenario]
    print(f"Scenario: /?{query}")
    where = "one Streamlit process" if args.replicas == 1 else "two Streamlit processes behind nginx (ip_hash)"
    print(f"{args.interactions} moves of {args.widget} per session, spread {args.spread:g} s; {where}; {os.cpu_count()} cores\n", flush=True)
    results = []
    for n in args.sessions:
        r = measure(n, args.interactions, args.widget, args.spread, args.timeout, args.deadline, args.app_dir, args.replicas, query)
        results.append(r)
        extra = f"  errors: {r.error_kinds}" if r.errors else ""
        print(
            f"  {n} sessions: p50 {r.p50:.2f} s, p95 {r.p95:.2f} s, RSS max {r.rss_max_mb:.0f} MB "
            f"(warm-up {r.warmup_s:.1f} s, level {r.wall_s:.1f} s, CPU: server {r.server_cpu_s:.1f} s, "
            f"load client {r.client_cpu_s:.1f} s, everything else {r.other_cpu_s:.1f} s){extra}",
            flush=True,
        )
    print()
    print(table(results))
    print(f"\nbar: {BAR['sessions']} sessions at p95 <= {BAR['p95_s']:g} s, no errors, RSS <= {BAR['rss_mb']} MB")
    print("others %: share of the machine's CPU that other processes used during the level (noise when large)")
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
