"""Load test: N concurrent sessions on the Playground against fresh Streamlit servers.

For each level (``--sessions 10 30 60``: N) it starts a fresh ``streamlit run app.py`` on a
free loopback port (with the repository's ``.streamlit/config.toml``; ``--replicas R``: R of
them behind nginx, rendered from deploy/nginx.conf, session i connecting from 127.0.(i+1).1
so that ip_hash spreads them), with ``--bare`` as many fresh servers (behind nginx as well
when several) running ``bench/bare_page.py`` (one slider, one 200 x 200 contour: the floor
of a Streamlit page with a chart) beside them; warms each with one session per surface, then:

1. opens N sessions at once, each on its link (by default the benchmark link,
   ``BENCHMARK_QUERY``, for all), and waits for each first run to finish; then the bare
   page's N sessions the same way;
2. plays ``--interactions`` rounds (``DEFAULT_ROUNDS``, 12, unless the mix allows fewer): in
   each round every session makes one move, all at the same moment by default (``--spread S``
   staggers them uniformly over S seconds instead).
   Latency: send of the rerun -> ``script_finished``. With ``--bare`` the two pages take
   turns, round by round (the app first in even rounds, the bare page first in odd ones):
   this host's speed drifts over seconds, so two pages measured one after the other would
   be compared on two machines; interleaved, each round of one meets the machine the
   other's round met a second before;
3. stops the servers and reports, with ``--bare``, the ratio of the two p95s.

What the sessions do:

- ``--widget`` names the kinds of move, one or a comma-separated mix
  (``--widget adam_lr,steps,start,p_a``); session i in round r makes the kind
  ``mix[(i + r) % len(mix)]``, so that (with at least as many sessions as kinds) every round
  holds every kind. Each kind moves one way only, so no figure repeats and the browser-side
  message cache cannot answer for the server:

  - ``adam_lr``: Adam's learning rate, one option in the hyperparameter panel (a rerun of the
    panel's fragment; even sessions up, odd ones down);
  - ``steps``: the steps slider, down 5;
  - ``start``: types the start's x0 (its number input), +0.01;
  - ``p_a``: the surface parameter ``a`` (Rosenbrock's), one slider step toward the wider
    side of its range; on a surface without ``a``, its first parameter; a surface without
    parameters is refused.

- ``--vary``: every session opens a link of its own start (``x0``, ``y0``: distinct per
  session, inside the surface's window, the same for the same session index in every run);
  without it every session opens the same link, and the sessions making the same kind of
  move in a round make the same move (``adam_lr``: even ones up, odd ones down), as a class following
  the teacher's "now move Adam's learning rate" does. With it, the typed starts stay
  distinct too (each session keeps its own ``y0``).
- ``--surfaces rosenbrock,himmelblau``: session i opens surface i mod the list's length
  (benchmark scenario only).
- ``--bare``: the bare page's sessions move its slider ``k`` one step up per round, the same
  number of sessions and rounds as the app's.

It samples each server's RSS (``/proc/PID/status`` VmRSS, every 0.1 s) and CPU time, the CPU
that everything else on the machine took meanwhile (a busy machine skews the figures), counts
errors (connect/timeout failures, runs that did not finish cleanly, exception elements,
tracebacks in the server log) and prints a table: one row per level, the p95 of each kind of
move when the mix has several, and with ``--bare`` the bare page's p95 and the ratio.
Everything is bounded: at most 200 sessions, 20 interactions (15 moves of ``adam_lr`` per
session), 8 replicas, a per-run timeout (``--timeout``) and a per-level deadline
(``--deadline``); servers and nginx listen on 127.0.0.1 only.

Run: ``python -m bench.load --sessions 10 30 60`` (the class in step), or
``python -m bench.load --sessions 10 30 60 --vary --widget adam_lr,steps,start --bare``
(a class where everyone explores on their own, against the bare page).
Bars: 30 sessions at p95 <= 2 s, no errors, RSS <= 1 GB (issue "Classroom delivery"); with
``--bare``, also app p95 <= 2x the bare page's (issue 17).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import numpy as np

from bench.server import ROOT, StreamlitServer
from bench.wsclient import BENCHMARK_QUERY, RunResult, Session, checked
from landscapes import catalog
from ui import settings as S

# A class on a model's loss surface: three optimizers, mini-batches of 16, the data panel.
DATA_QUERY = "landscape=faithful&optimizers=sgd&optimizers=momentum&optimizers=adam&batch_size=16&steps=300"
SCENARIOS = {"benchmark": BENCHMARK_QUERY, "data": DATA_QUERY}
MAX_SESSIONS = 200
MAX_INTERACTIONS = 20
# A p95 is the tail of a few rounds: over 5 rounds of 30 sessions it is the 8th slowest of 150
# moves, which one slow round of this host decides. Back-to-back runs of the same code gave the
# bare page 0.18-0.35 s and the ratio 1.4-2.0x; over 20 rounds, 1.8x three times in a row.
DEFAULT_ROUNDS = 12
MAX_ADAM_LR_MOVES = 15  # the options above the benchmark's 0.03
MAX_REPLICAS = 8
MAX_SURFACES = 4
BAR = {"sessions": 30, "p95_s": 2.0, "rss_mb": 1024, "ratio": 2.0}

# The kinds of move --widget may mix, each one way only (see the module docstring).
KINDS = {
    "adam_lr": "Adam's learning rate, one option in the panel (even sessions up, odd down)",
    "steps": "the steps slider, down 5",
    "start": "types the start's x0, +0.01",
    "p_a": "the surface parameter a (else the surface's first), one slider step",
}
STEPS_MOVE = 5
START_MOVE = 0.01
SURFACE_PARAMETER = "a"
BARE_SCRIPT = ROOT / "bench" / "bare_page.py"
BARE_KIND = "k"  # the bare page's one slider, one step up per move
# The plastic number: (i / g, i / g^2) mod 1 is the R2 low-discrepancy sequence, spreading
# any number of starts evenly over the window without two of them close together.
_PLASTIC = 1.324717957244746


def parse_mix(text: str) -> tuple[str, ...]:
    """``--widget``'s value: the kinds of move, comma-separated, each known and named once."""
    mix = tuple(k.strip() for k in text.split(","))
    unknown = [k for k in mix if k not in KINDS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown kind of move {', '.join(map(repr, unknown))}; known: {', '.join(KINDS)}")
    if len(set(mix)) < len(mix):
        raise argparse.ArgumentTypeError(f"each kind of move at most once: {text!r}")
    return mix


def formula_surfaces() -> list[str]:
    return [name for name, entry in catalog.CATALOG.items() if not entry.is_data]


def parse_surfaces(text: str) -> tuple[str, ...]:
    """``--surfaces``' value: 1 to MAX_SURFACES distinct catalog surfaces (formula ones)."""
    names = tuple(n.strip() for n in text.split(","))
    known = formula_surfaces()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown surface {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
    if len(set(names)) < len(names) or len(names) > MAX_SURFACES:
        raise argparse.ArgumentTypeError(f"1 to {MAX_SURFACES} distinct surfaces: {text!r}")
    return names


def move_kind(mix: tuple[str, ...], session: int, round_: int) -> str:
    """The kind of move session ``session`` makes in round ``round_``: the mix rotates by one per
    session and per round, so any len(mix) consecutive sessions make every kind in every round."""
    return mix[(session + round_) % len(mix)]


def moves_per_session(mix: tuple[str, ...], kind: str, rounds: int) -> int:
    """The most moves of ``kind`` any one session makes in ``rounds`` rounds (0 if not in the mix)."""
    if kind not in mix:
        return 0
    return max(sum(move_kind(mix, i, r) == kind for r in range(rounds)) for i in range(len(mix)))


def own_start(session: int, surface: str) -> tuple[float, float]:
    """Session ``session``'s start on ``surface`` under ``--vary``: the R2 sequence's point
    ``session + 1`` over the window less a tenth of it at each side (and, on the right, the room
    the ``start`` moves take), to the 3 decimals the start inputs show."""
    (xlo, xhi), (ylo, yhi) = catalog.CATALOG[surface].window
    u = (0.5 + (session + 1) / _PLASTIC) % 1.0
    v = (0.5 + (session + 1) / _PLASTIC**2) % 1.0
    mx, my = 0.1 * (xhi - xlo), 0.1 * (yhi - ylo)
    x = xlo + mx + u * (xhi - xlo - 2 * mx - MAX_INTERACTIONS * START_MOVE)
    y = ylo + my + v * (yhi - ylo - 2 * my)
    return round(x, 3), round(y, 3)


def surface_parameter(surface: str) -> tuple[str, int] | None:
    """What ``p_a`` moves on ``surface``: (the slider's key, +1 or -1: toward the wider side of its
    range from the default); the parameter ``a``, else the surface's first; None without any."""
    defaults = catalog.parameter_defaults(surface)
    if not defaults:
        return None
    name = SURFACE_PARAMETER if SURFACE_PARAMETER in defaults else next(iter(defaults))
    lo, hi = catalog.parameter_ranges(surface)[name]
    return S.param_key(name), (-1 if defaults[name] - lo > hi - defaults[name] else 1)


def default_rounds(mix: tuple[str, ...], surfaces: tuple[str, ...]) -> int:
    """``DEFAULT_ROUNDS``, or fewer when a session of ``mix`` could not make that many moves of
    Adam's lr one way on one of ``surfaces`` (Adam's lr alone on the bowl: 10)."""
    room = min([MAX_ADAM_LR_MOVES] + [adam_lr_room(s) for s in surfaces])
    return max(n for n in range(1, DEFAULT_ROUNDS + 1) if moves_per_session(mix, "adam_lr", n) <= room)


def adam_lr_room(surface: str) -> int:
    """How many options Adam's learning rate has on ``surface`` in its tighter direction from its
    default (even sessions move up, odd ones down)."""
    i = S.LR_OPTIONS.index(S.default_hyperparameter("adam", "lr", surface))
    return min(i, len(S.LR_OPTIONS) - 1 - i)


def session_query(base: str, session: int, surfaces: tuple[str, ...] = (), vary: bool = False) -> str:
    """The link session ``session`` opens: ``base``, on surface ``session`` mod ``surfaces`` when
    given, with its own start (``x0``, ``y0``) under ``vary``."""
    pairs = parse_qsl(base)
    surface = surfaces[session % len(surfaces)] if surfaces else dict(pairs)["landscape"]
    pairs = [("landscape", surface)] + [(k, v) for k, v in pairs if k not in ("landscape", "x0", "y0")]
    if vary:
        x, y = own_start(session, surface)
        pairs += [("x0", f"{x:g}"), ("y0", f"{y:g}")]
    return urlencode(pairs)


@dataclass(frozen=True)
class Plan:
    """What a class does in one level: the page, each session's link, the moves of each round."""

    page: str  # "app" or "bare"
    mix: tuple[str, ...]
    queries: tuple[str, ...]  # session i opens /?queries[i]
    warm: tuple[str, ...]  # the links opened once per server before the level (one per surface)
    script: str = "app.py"

    def kind(self, session: int, round_: int) -> str:
        return move_kind(self.mix, session, round_)

    def surface(self, session: int) -> str | None:
        return dict(parse_qsl(self.queries[session])).get("landscape")


def app_plan(n: int, mix: tuple[str, ...], base: str, surfaces: tuple[str, ...] = (), vary: bool = False) -> Plan:
    queries = tuple(session_query(base, i, surfaces, vary) for i in range(n))
    warm = tuple(session_query(base, i, surfaces) for i in range(max(1, len(surfaces))))
    return Plan("app", mix, queries, warm)


def bare_plan(n: int) -> Plan:
    return Plan("bare", (BARE_KIND,), ("",) * n, ("",), str(BARE_SCRIPT))


async def _step_slider(s: Session, key: str, sign: int) -> RunResult:
    """Move slider ``key`` one of its steps up (``sign`` +1) or down (-1)."""
    value = s.slider_value(key) + sign * s.widgets[key].proto.step
    return await s.set_slider(key, round(value, 9))


async def make_move(s: Session, kind: str, session: int, surface: str | None) -> RunResult:
    """Session ``session`` (on ``surface``) makes one move of ``kind``; raise unless its run finishes cleanly."""
    if kind == "adam_lr":
        return checked(await s.move_panel("adam_lr", 1 if session % 2 == 0 else -1))
    if kind == "steps":
        return checked(await s.set_slider("steps", s.slider_value("steps") - STEPS_MOVE))
    if kind == "start":
        return checked(await s.set_number("x0", round(s.number_value("x0") + START_MOVE, 3)))
    if kind == "p_a":
        key, sign = surface_parameter(surface)
        return checked(await _step_slider(s, key, sign))
    if kind == BARE_KIND:
        return checked(await _step_slider(s, BARE_KIND, 1))
    raise ValueError(f"unknown kind of move {kind!r}")


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
    widget: str  # the mix, comma-separated
    replicas: int = 1
    page: str = "app"
    vary: bool = False
    surfaces: str = ""
    open_p50: float = float("nan")
    open_p95: float = float("nan")
    p50: float = float("nan")
    p95: float = float("nan")
    max: float = float("nan")
    kind_p95: dict[str, float] = field(default_factory=dict)  # p95 of each kind of move
    kind_mb: dict[str, float] = field(default_factory=dict)  # mean MB received per move of each kind
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
    bare_p95: float = float("nan")  # --bare: the bare page's p95, same sessions and rounds
    ratio: float = float("nan")  # p95 / bare_p95
    bare: dict | None = None  # --bare: the bare page's whole LevelResult

    def meets_bar(self) -> bool:
        ratio_ok = math.isnan(self.ratio) or self.ratio <= BAR["ratio"]
        return self.p95 <= BAR["p95_s"] and self.errors == 0 and self.rss_max_mb <= BAR["rss_mb"] and ratio_ok

    def others_percent(self) -> float:
        """Share of the machine other processes took during the level: above ~10% the figures are noisy."""
        return 100 * self.other_cpu_s / (self.wall_s * (os.cpu_count() or 1)) if self.wall_s else float("nan")


class _Level:
    """One page's class in a level: its servers, its plan's sessions, what they measured."""

    def __init__(self, servers: list[StreamlitServer], plan: Plan, interactions: int, timeout: float, entry: str | None):
        self.servers, self.plan, self.timeout = servers, plan, timeout
        self.res = LevelResult(len(plan.queries), interactions, ",".join(plan.mix), replicas=len(servers), page=plan.page)
        self.errors: dict[str, int] = {}
        self.entry = entry or servers[0].ws_url
        # Behind the proxy, session i connects from 127.0.(i+1).1: ip_hash spreads those.
        source = (lambda i: f"127.0.{i % 250 + 1}.1") if self.entry != servers[0].ws_url else (lambda i: None)
        self.sessions = [Session(self.entry, q, local_addr=source(i), timeout=timeout) for i, q in enumerate(plan.queries)]
        self.alive: list[Session] = []
        self.opens: list[float] = []
        self.latencies: dict[str, list[float]] = {k: [] for k in plan.mix}
        self.received: dict[str, list[int]] = {k: [] for k in plan.mix}
        self.largest = 0
        self.rng = random.Random(0)
        self.cpu_moves = 0.0  # server CPU during this page's rounds
        self.cpu_client = 0.0
        self.cpu_other = 0.0

    def err(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def cpu(self) -> float:
        return sum(srv.cpu_seconds() for srv in self.servers)

    async def warm(self) -> None:
        """A first session per server and surface compiles the surface and fills the shared caches."""
        t0 = time.perf_counter()
        for srv in self.servers:
            for query in self.plan.warm:
                async with Session(srv.ws_url, query, timeout=self.timeout) as s:
                    checked(await s.open())
        self.res.warmup_s = time.perf_counter() - t0
        self.res.rss_start_mb = sum(srv.rss_mb() for srv in self.servers)

    async def timed(self, step) -> float:
        """Run ``step()`` (sessions opening, or one round) and book its wall time, this page's server
        CPU, this client's CPU and everything else's (the other pages' idle servers count as other)."""
        cpu0, client0, busy0, t0 = self.cpu(), time.process_time(), machine_busy_seconds(), time.perf_counter()
        await step()
        wall = time.perf_counter() - t0
        server, client = self.cpu() - cpu0, time.process_time() - client0
        self.res.wall_s += wall
        self.res.server_cpu_s += server
        self.cpu_client += client
        self.cpu_other += max(0.0, machine_busy_seconds() - busy0 - server - client)
        return server

    async def open_all(self) -> None:
        async def open_one(s: Session):
            try:
                await s.connect()
                self.opens.append(checked(await s.open()).seconds)
                self.alive.append(s)
            except Exception as e:  # noqa: BLE001 - counted, reported
                self.err(f"open: {type(e).__name__}")

        await asyncio.gather(*(open_one(s) for s in self.sessions))

    async def play_round(self, r: int, spread: float) -> None:
        """Round ``r``: every live session makes its move, all at once (or staggered over ``spread`` s)."""
        plan = self.plan

        async def one(i: int, s: Session):
            if spread:
                await asyncio.sleep(self.rng.uniform(0, spread))
            kind = plan.kind(i, r)
            try:
                result = await make_move(s, kind, i, plan.surface(i))
                self.latencies[kind].append(result.seconds)
                self.received[kind].append(result.bytes)
                self.largest = max(self.largest, result.largest)
            except Exception as e:  # noqa: BLE001 - counted, reported
                self.err(f"{kind}: {type(e).__name__}")
                self.alive.remove(s)  # its stream may hold a half-read run: leave it out from now on
                await s.close()

        await asyncio.gather(*(one(i, s) for i, s in enumerate(self.sessions) if s in self.alive))

    async def finish(self) -> LevelResult:
        res, plan = self.res, self.plan
        await asyncio.gather(*(s.close() for s in self.sessions), return_exceptions=True)
        res.client_cpu_s, res.other_cpu_s = self.cpu_client, self.cpu_other
        tracebacks = sum(srv.log_text().count("Traceback") for srv in self.servers)
        if tracebacks:
            self.errors["server log: Traceback"] = tracebacks
        if self.opens:
            res.open_p50, res.open_p95 = (float(v) for v in np.percentile(self.opens, [50, 95]))
        every = [t for k in plan.mix for t in self.latencies[k]]
        if every:
            res.p50, res.p95 = (float(v) for v in np.percentile(every, [50, 95]))
            res.max = float(max(every))
            res.cpu_per_rerun_ms = 1e3 * self.cpu_moves / len(every)
            res.mb_per_interaction = float(np.mean([b for k in plan.mix for b in self.received[k]])) / 1e6
            res.largest_msg_mb = self.largest / 1e6
            res.kind_p95 = {k: float(np.percentile(v, 95)) for k, v in self.latencies.items() if v}
            res.kind_mb = {k: float(np.mean(v)) / 1e6 for k, v in self.received.items() if v}
        res.errors = sum(self.errors.values())
        res.error_kinds = self.errors
        return res


async def run_levels(levels: list[_Level], interactions: int, spread: float) -> list[LevelResult]:
    """Several pages' classes in one level, their rounds interleaved: each page's sessions open in
    turn, then round r of every page in turn (the first page first in even rounds, last in odd
    ones), so that each page's moves meet the same machine: on a shared host its speed drifts
    over seconds, and two pages measured one after the other would compare two machines."""
    for level in levels:
        await level.warm()
    for level in levels:
        await level.timed(level.open_all)
    for r in range(interactions):
        for level in levels if r % 2 == 0 else levels[::-1]:
            level.cpu_moves += await level.timed(lambda: level.play_round(r, spread))
    return [await level.finish() for level in levels]


def measure(
    plans: list[Plan],
    interactions: int,
    spread: float,
    timeout: float,
    deadline: float,
    app_dir: str | Path = ROOT,
    replicas: int = 1,
) -> list[LevelResult]:
    """One level of each plan, on fresh servers running ``plan.script`` (one process, or
    ``replicas`` of them behind nginx: deploy/nginx.conf, through bench.proxy), all up at once
    and their rounds interleaved (:func:`run_levels`)."""
    fleets = [[StreamlitServer(script=plan.script, cwd=app_dir) for _ in range(replicas)] for plan in plans]
    proxies = []

    def failed(plan: Plan, why: str) -> LevelResult:
        return LevelResult(len(plan.queries), interactions, ",".join(plan.mix), replicas, plan.page, errors=1, error_kinds={why: 1})

    try:
        for srv in (srv for fleet in fleets for srv in fleet):
            srv.start(wait=False)
        for srv in (srv for fleet in fleets for srv in fleet):
            srv.wait_ready(60)
            srv.sample_rss()
        try:
            levels = []
            for plan, fleet in zip(plans, fleets):
                entry = None
                if replicas > 1:
                    from bench.proxy import Nginx

                    proxies.append(Nginx([f"127.0.0.1:{srv.port}" for srv in fleet]).start())
                    entry = proxies[-1].ws_url
                levels.append(_Level(fleet, plan, interactions, timeout, entry))
            results = asyncio.run(asyncio.wait_for(run_levels(levels, interactions, spread), deadline))
        except TimeoutError:  # asyncio's too, since Python 3.11
            results = [failed(plan, f"level deadline {deadline:.0f} s") for plan in plans]
        except Exception as e:  # noqa: BLE001 - e.g. the warm-up session failed: report, go on
            results = [failed(plan, f"{type(e).__name__}: {e}") for plan in plans]
            for srv in (srv for fleet in fleets for srv in fleet):
                print(f"server log (last lines):\n{srv.log_text()[-3000:]}", file=sys.stderr)
        # Sum of each process's peak: what the machine must hold at worst.
        for res, fleet in zip(results, fleets):
            res.rss_max_mb = sum(max(srv.rss_samples or [srv.rss_mb()]) for srv in fleet)
        return results
    finally:
        for proxy in proxies:
            proxy.close()
        for srv in (srv for fleet in fleets for srv in fleet):
            srv.stop()
            srv.cleanup()


def table(results: list[LevelResult]) -> str:
    """One row per level: the app's figures, the p95 of each kind when the mix has several, and
    (when measured) the bare page's p95 and the ratio."""
    kinds = results[0].widget.split(",") if results else []
    per_kind = kinds if len(kinds) > 1 else []
    bare = any(r.bare is not None for r in results)
    head = (
        f"{'sessions':>8} {'open p50':>9} {'open p95':>9} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'errors':>6} "
        f"{'RSS max MB':>10} {'CPU/rerun ms':>12} {'MB/move':>8} {'others %':>8}"
        + "".join(f" {'p95 ' + k:>11}" for k in per_kind)
        + (f" {'bare p95':>8} {'ratio':>6}" if bare else "")
        + "  bar"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        bar = ("ok" if r.meets_bar() else "MISSED") if r.sessions == BAR["sessions"] else ""
        lines.append(
            f"{r.sessions:>8} {r.open_p50:>9.2f} {r.open_p95:>9.2f} {r.p50:>7.2f} {r.p95:>7.2f} {r.max:>7.2f} {r.errors:>6} "
            f"{r.rss_max_mb:>10.0f} {r.cpu_per_rerun_ms:>12.0f} {r.mb_per_interaction:>8.2f} {r.others_percent():>8.0f}"
            + "".join(f" {r.kind_p95.get(k, float('nan')):>11.2f}" for k in per_kind)
            + (f" {r.bare_p95:>8.2f} {r.ratio:>5.1f}x" if bare else "")
            + f"  {bar}"
        )
    return "\n".join(lines)


def describe(r: LevelResult) -> str:
    """One line on a finished level: latency, memory, where the CPU went, each kind, errors."""
    kinds = ", ".join(f"{k} {r.kind_p95[k]:.2f} s / {r.kind_mb[k]:.2f} MB" for k in r.kind_p95)
    extra = f"  errors: {r.error_kinds}" if r.errors else ""
    return (
        f"p50 {r.p50:.2f} s, p95 {r.p95:.2f} s, RSS max {r.rss_max_mb:.0f} MB "
        f"(warm-up {r.warmup_s:.1f} s, level {r.wall_s:.1f} s, CPU: server {r.server_cpu_s:.1f} s, "
        f"load client {r.client_cpu_s:.1f} s, everything else {r.other_cpu_s:.1f} s); "
        f"p95 / MB per move: {kinds}{extra}"
    )


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, nargs="+", default=[10, 30, 60], help="concurrent sessions per level")
    ap.add_argument(
        "--interactions", type=int, default=None,
        help=f"rounds: moves per session (default {DEFAULT_ROUNDS}, or as many as every session's mix can make one way)",
    )  # fmt: skip
    ap.add_argument(
        "--widget", type=parse_mix, default=("adam_lr",), metavar="KIND[,KIND...]",
        help="what each move changes, one kind or a mix (session i in round r: mix[(i + r) %% len(mix)]): "
        + "; ".join(f"{k}: {v}" for k, v in KINDS.items()),
    )  # fmt: skip
    ap.add_argument("--vary", action="store_true", help="every session opens a link with its own start (x0, y0)")
    ap.add_argument(
        "--surfaces", type=parse_surfaces, default=(), metavar="NAME[,NAME...]",
        help="session i opens surface i mod the list's length (benchmark scenario; e.g. rosenbrock,himmelblau)",
    )  # fmt: skip
    ap.add_argument("--bare", action="store_true", help="also run each level against bench/bare_page.py and print the ratio of p95s")
    ap.add_argument("--spread", type=float, default=0.0, help="stagger each round's moves over this many seconds (default 0: all at once)")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds one run may take before it counts as an error")
    ap.add_argument("--deadline", type=float, default=900.0, help="seconds one level (app or bare page) may take in all")
    ap.add_argument("--replicas", type=int, default=1, help=f"1 to {MAX_REPLICAS}: that many servers behind nginx (deploy/nginx.conf)")
    ap.add_argument("--app-dir", default=str(ROOT), help="directory to run app.py from (default: this checkout)")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument(
        "--scenario", choices=sorted(SCENARIOS), default="benchmark",
        help="benchmark: the Playground benchmark link (Rosenbrock, six optimizers); data: Old Faithful with mini-batches and the data panel",
    )  # fmt: skip
    return ap


def check_args(ap: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """The bounds, and that every session can make every move of its mix one way to the end;
    sets the default rounds (``default_rounds``) when none were given."""
    if not all(1 <= n <= MAX_SESSIONS for n in args.sessions):
        ap.error(f"--sessions must be within 1..{MAX_SESSIONS}")
    if not 1 <= args.replicas <= MAX_REPLICAS:
        ap.error(f"--replicas must be within 1..{MAX_REPLICAS}")
    if args.surfaces and args.scenario != "benchmark":
        ap.error("--surfaces applies to the benchmark scenario only")
    surfaces = args.surfaces or (dict(parse_qsl(SCENARIOS[args.scenario]))["landscape"],)
    if args.interactions is None:
        args.interactions = default_rounds(args.widget, surfaces)
    if not 1 <= args.interactions <= MAX_INTERACTIONS:
        ap.error(f"--interactions must be within 1..{MAX_INTERACTIONS}")
    staggered = args.spread * args.interactions * (2 if args.bare else 1)  # the pages' rounds take turns
    if staggered >= args.deadline:
        rounds = f"{args.interactions} rounds" + (" of both pages" if args.bare else "")
        ap.error(f"--spread {args.spread:g} s over {rounds} is {staggered:g} s, not within --deadline {args.deadline:g} s")
    lr_moves = moves_per_session(args.widget, "adam_lr", args.interactions)
    if lr_moves > MAX_ADAM_LR_MOVES:
        ap.error(f"adam_lr: {lr_moves} moves per session; at most {MAX_ADAM_LR_MOVES} (the options above the benchmark's 0.03)")
    for surface in surfaces:
        if lr_moves > adam_lr_room(surface):
            lr = S.default_hyperparameter("adam", "lr", surface)
            ap.error(f"adam_lr: {lr_moves} moves per session, but from {lr:g} on {surface} there are {adam_lr_room(surface)} options one way")
        if "p_a" in args.widget and surface_parameter(surface) is None:
            with_parameters = [n for n in formula_surfaces() if surface_parameter(n)]
            ap.error(f"p_a: {surface} has no parameter to move; surfaces with one: {', '.join(with_parameters)}")


def header(args: argparse.Namespace) -> str:
    """What the run does, in one line: mix, vary, replicas, bare page."""
    mix = ",".join(args.widget)
    vary = "own starts" if args.vary else "off (one link for all)"
    if args.surfaces:
        vary += f", surfaces {','.join(args.surfaces)}"
    where = "one Streamlit process" if args.replicas == 1 else f"{args.replicas} Streamlit processes behind nginx (ip_hash)"
    return (
        f"mix {mix} (session i in round r: mix[(i + r) % {len(args.widget)}]); vary: {vary}; replicas: {args.replicas} ({where}); "
        f"bare page: {'yes' if args.bare else 'no'}; {args.interactions} rounds, spread {args.spread:g} s; {os.cpu_count()} cores"
    )


def main(argv: list[str] | None = None) -> int:
    ap = parser()
    args = ap.parse_args(argv)
    check_args(ap, args)
    base = SCENARIOS[args.scenario]
    print(f"Scenario: /?{base}")
    print(header(args) + "\n", flush=True)
    results = []
    for n in args.sessions:
        plans = [app_plan(n, args.widget, base, args.surfaces, args.vary)] + ([bare_plan(n)] if args.bare else [])
        r, *bare = measure(plans, args.interactions, args.spread, args.timeout, args.deadline, args.app_dir, args.replicas)
        r.vary, r.surfaces = args.vary, ",".join(args.surfaces)
        print(f"  {n} sessions: {describe(r)}", flush=True)
        if bare:
            b = bare[0]
            r.bare_p95, r.ratio, r.bare = b.p95, r.p95 / b.p95, asdict(b)
            print(f"  {n} sessions, bare page: {describe(b)}; others {b.others_percent():.0f}%", flush=True)
        results.append(r)
    print()
    print(table(results))
    print(
        f"\nbar: {BAR['sessions']} sessions at p95 <= {BAR['p95_s']:g} s, no errors, RSS <= {BAR['rss_mb']} MB"
        + (f", p95 <= {BAR['ratio']:g}x the bare page's" if args.bare else "")
    )
    print("others %: share of the machine's CPU that other processes used during the level (noise when large)")
    if args.bare:
        print("bare p95: bench/bare_page.py, the same sessions and rounds, its slider one step per move; ratio: p95 / bare p95")
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
