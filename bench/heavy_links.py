"""Heavy legal links against one server: the CPU each page costs it, and what a light page waits meanwhile.

The corpus (:func:`corpus`) is what a visitor can put in a link without breaking a
rule: every Playground optimizer at the most steps the slider offers (3000), noise
so that no run stops early, an average, a schedule and every overlay, on

- the catalog surfaces (noise 0.3..10, a seed per link),
- typed heavy functions (products of ten ``tan`` factors, nested compositions; a
  coefficient per link, so each is a new function for the server and its workers),
- the data surfaces on small mini-batches (1..8 examples, each scaling).

Every link is distinct: nothing one page computed is cached for the next.

1. **CPU per page**: a fresh server, warmed by the plain page; each link is opened
   by its own websocket session (``bench/wsclient.py``), one at a time. The server
   process's CPU time (``/proc``) from connect to ``script_finished`` (plus 0.2 s for
   what the event loop sends after) is the page's cost; the typed-function workers'
   CPU is counted apart (they are other processes; the bar is about the server's).
2. **A plain page under heavy load**: ten sessions open heavy links at once, each
   going on to its next one as soon as its page finished (``--rounds`` each), while
   another session opens the plain page (the benchmark link) in a fresh session,
   again and again until the heavy sessions are done. Its p95 is the figure.

Run: ``python -m bench.heavy_links`` (``--links 30 --heavy 10 --rounds 3``).
Bars (issue 16): no page above 1.5 s of server CPU; the plain page's p95 under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import numpy as np

import optimizers
from bench.proctree import children_cpu, own_cpu
from bench.server import StreamlitServer
from bench.wsclient import BENCHMARK_QUERY, Session, checked

BAR_PAGE_CPU_S = 1.5
BAR_PLAIN_P95_S = 1.0
ALL_OPTIMIZERS = tuple(optimizers.names())

_CATALOG = ("rosenbrock", "beale", "himmelblau", "rastrigin", "six_hump_camel", "plateau", "cliff_valley", "monkey_saddle", "saddle", "bowl")
_NOISES = ("1.0", "3.0", "10.0", "0.3")  # as the select slider writes them
_TYPED = (
    # Ten tan factors (the case): the Hessian alone is ~0.2 ms per point.
    "tan(x/{a})*tan(y/{b})*tan((x+y)/{a})*tan((x-y)/{b})*tan(x/{b}+y/{a})*tan(x*y/{a})*tan((x^2+y)/{b})"
    "*tan((x+y^2)/{a})*tan((x^2-y^2)/{b})*tan((x^3+y^3)/{a})",
    "tan(x+{a})*tan(y+{b})*tan(x*y+{a})*tan(x^2+y+{b})*tan(x+y^2+{a})*tan(x^2-y^2+{b})*tan(x^2*y+{a})"
    "*tan(x*y^2+{b})*tan(x^3+y^3+{a})*tan(x^2+y^2+{b})",
    "sin(exp(cos(x*y/{a})))*tanh(sinh(x/{b})+cosh(y/{a}))*atan(exp(sin(x^2/{b}+y)))+log(1+exp(sin(x*{a})*cos(y*{b})))^2",
    "exp(sin(x/{a})*cos(y/{b}))^3*atan(tanh(x*y/{a})+sinh(y/{b}))*sqrt(1+(x^2+y^2)/{a})*cos(exp(sin(x+y)/{b}))",
)
_DATA = (("faithful", "standardized"), ("faithful", "raw"), ("iris", "standardized"), ("iris", "centered"), ("tanh_unit", "standardized"))
_BATCHES = ("1", "2", "4", "8")


def _all_optimizers() -> list[tuple[str, str]]:
    return [("optimizers", o) for o in ALL_OPTIMIZERS]


def _heavy_settings(i: int) -> list[tuple[str, str]]:
    """Steps at the slider's top, an average, a schedule, every overlay; ``seed`` makes the link distinct."""
    return [
        ("steps", "3000"), ("seed", str(i)), ("average", ("polyak", "ema")[i % 2]),
        ("schedule", ("cosine", "cyclical", "constant")[i % 3]),
        ("field", "true"), ("eigen", "true"), ("taylor", "true"),
    ]  # fmt: skip


def catalog_link(i: int) -> str:
    pairs = [("landscape", _CATALOG[i % len(_CATALOG)]), *_all_optimizers(), *_heavy_settings(i), ("noise", _NOISES[i % len(_NOISES)])]
    return urlencode(pairs)


def typed_link(i: int) -> str:
    # Two coefficients from the index: a new function per link (the worker and the server compile it).
    a, b = 2 + (i % 41) / 10, 2.05 + (i // 41 % 41) / 10
    text = _TYPED[i % len(_TYPED)].format(a=f"{a:g}", b=f"{b:g}")
    pairs = [("landscape", "custom"), ("fx", text), *_all_optimizers(), *_heavy_settings(i), ("noise", "1.0")]
    return urlencode(pairs)


def data_link(i: int) -> str:
    name, scaling = _DATA[i % len(_DATA)]
    pairs = [("landscape", name), ("scaling", scaling), ("batch_size", _BATCHES[i // len(_DATA) % len(_BATCHES)]), *_all_optimizers(), *_heavy_settings(i)]
    return urlencode(pairs)


def corpus(n: int, first: int = 0) -> list[str]:
    """``n`` distinct heavy links, the three kinds in turn; ``first`` shifts the indices (another distinct set)."""
    kinds = (catalog_link, typed_link, data_link)
    return [kinds[i % 3](i // 3 + first) for i in range(n)]


def kind(query: str) -> str:
    return "typed" if "landscape=custom" in query else "data" if "batch_size=" in query else "catalog"


@dataclass
class Page:
    kind: str
    query: str
    seconds: float
    server_cpu_s: float
    worker_cpu_s: float
    error: str = ""


@dataclass
class Report:
    pages: list[Page] = field(default_factory=list)
    plain: list[float] = field(default_factory=list)
    heavy_under_load: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    load_server_cpu_s: float = 0.0
    load_wall_s: float = 0.0


async def open_page(url: str, query: str, timeout: float) -> float:
    async with Session(url, query, timeout=timeout) as s:
        return checked(await s.open()).seconds


async def cpu_per_page(srv: StreamlitServer, links: list[str], timeout: float, report: Report) -> None:
    pid = srv.proc.pid
    for q in links:
        c0, w0, t0 = own_cpu(pid), children_cpu(pid), time.perf_counter()
        error = ""
        try:
            await open_page(srv.ws_url, q, timeout)
        except Exception as e:  # noqa: BLE001 - reported with the page
            error = f"{type(e).__name__}: {e}"[:200]
        wall = time.perf_counter() - t0
        await asyncio.sleep(0.2)  # what the event loop still sends after script_finished
        page = Page(kind(q), q, wall, own_cpu(pid) - c0, children_cpu(pid) - w0, error)
        report.pages.append(page)
        flag = "  " + error if error else ""
        print(f"  {page.kind:<8} server CPU {page.server_cpu_s:5.2f} s, workers {page.worker_cpu_s:5.2f} s, wall {wall:5.2f} s{flag}", flush=True)


async def plain_under_load(srv: StreamlitServer, heavy: list[list[str]], plain: str, timeout: float, report: Report) -> None:
    """Each list of ``heavy`` is one session's links, opened one after the other; all lists at once.
    Meanwhile a plain page is opened again and again, each time by a new session."""
    done = asyncio.Event()

    async def heavy_session(links: list[str]) -> None:
        for q in links:
            try:
                report.heavy_under_load.append(await open_page(srv.ws_url, q, timeout))
            except Exception as e:  # noqa: BLE001
                report.errors.append(f"heavy {kind(q)}: {type(e).__name__}")

    async def plain_session() -> None:
        while not done.is_set():
            try:
                report.plain.append(await open_page(srv.ws_url, plain, timeout))
            except Exception as e:  # noqa: BLE001
                report.errors.append(f"plain: {type(e).__name__}")
            await asyncio.sleep(0.05)

    c0, t0 = own_cpu(srv.proc.pid), time.perf_counter()
    watcher = asyncio.create_task(plain_session())
    await asyncio.gather(*(heavy_session(links) for links in heavy))
    done.set()
    await watcher
    report.load_server_cpu_s = own_cpu(srv.proc.pid) - c0
    report.load_wall_s = time.perf_counter() - t0


def summary(report: Report) -> str:
    lines = []
    by_kind: dict[str, list[Page]] = {}
    for p in report.pages:
        by_kind.setdefault(p.kind, []).append(p)
    if report.pages:
        lines.append(f"{'kind':<8} {'pages':>5} {'server CPU median':>18} {'max':>6} {'workers max':>12} {'wall max':>9}")
        for k, pages in sorted(by_kind.items()):
            cpu = [p.server_cpu_s for p in pages]
            lines.append(
                f"{k:<8} {len(pages):>5} {np.median(cpu):>16.2f} s {max(cpu):>5.2f} s {max(p.worker_cpu_s for p in pages):>10.2f} s"
                f" {max(p.seconds for p in pages):>7.2f} s"
            )
        worst = max(report.pages, key=lambda p: p.server_cpu_s)
        over = sum(p.server_cpu_s > BAR_PAGE_CPU_S for p in report.pages)
        lines.append(f"heaviest page: {worst.server_cpu_s:.2f} s of server CPU ({worst.kind}: /?{worst.query[:160]}...)")
        lines.append(f"pages above {BAR_PAGE_CPU_S:g} s of server CPU: {over} of {len(report.pages)}")
    if report.plain:
        p50, p95 = np.percentile(report.plain, [50, 95])
        lines.append(
            f"plain page while heavy sessions ran: {len(report.plain)} opens, p50 {p50:.2f} s, p95 {p95:.2f} s, max {max(report.plain):.2f} s"
            f" (bar p95 < {BAR_PLAIN_P95_S:g} s)"
        )
    if report.heavy_under_load:
        h50, h95 = np.percentile(report.heavy_under_load, [50, 95])
        lines.append(
            f"heavy pages meanwhile: {len(report.heavy_under_load)}, p50 {h50:.2f} s, p95 {h95:.2f} s, max {max(report.heavy_under_load):.2f} s;"
            f" server CPU {report.load_server_cpu_s:.1f} s in {report.load_wall_s:.1f} s"
        )
    if report.errors:
        lines.append(f"errors: {report.errors}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.heavy_links", description=__doc__.split("\n\n")[0])
    ap.add_argument("--links", type=int, default=30, help="heavy links opened one at a time for the CPU per page (default 30)")
    ap.add_argument("--heavy", type=int, default=10, help="heavy sessions at once in the second part (default 10; 0 skips it)")
    ap.add_argument("--rounds", type=int, default=2, help="links each heavy session opens in turn (default 2)")
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds one page may take")
    ap.add_argument("--json", help="also write every page's figures to this file")
    args = ap.parse_args(argv)
    if not (0 <= args.links <= 600 and 0 <= args.heavy <= 50 and 1 <= args.rounds <= 10):
        ap.error("--links 0..600, --heavy 0..50, --rounds 1..10")

    report = Report()
    with StreamlitServer() as srv:
        asyncio.run(open_page(srv.ws_url, BENCHMARK_QUERY, args.timeout))  # imports, the plain page's runs
        if args.links:
            print(f"CPU per page, {args.links} heavy links one at a time:", flush=True)
            asyncio.run(cpu_per_page(srv, corpus(args.links), args.timeout, report))
        if args.heavy:
            # Links no page above opened: nothing of theirs is cached.
            fresh = corpus(args.heavy * args.rounds, first=args.links + 1000)
            per_session = [fresh[i :: args.heavy] for i in range(args.heavy)]
            print(f"\n{args.heavy} heavy sessions at once, {args.rounds} links each, and a plain page meanwhile ...", flush=True)
            asyncio.run(plain_under_load(srv, per_session, BENCHMARK_QUERY, args.timeout, report))
        tracebacks = srv.log_text().count("Traceback")
        if tracebacks:
            report.errors.append(f"server log: {tracebacks} tracebacks")
    print()
    print(summary(report))
    if args.json:
        Path(args.json).write_text(json.dumps(asdict(report), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
