"""What each Playground control costs the server per move: one session, its own start.

A class where every student explores on their own (issue 17) moves every control, not
only the learning rate, and no two sessions share a run. This opens the benchmark link
(Rosenbrock, six optimizers, 1000 steps) from a start no other run used, then moves each
control ``--moves`` times, one way (so no figure repeats and neither the server's memos nor
the browser's message cache answer for it), and prints per control: the server's CPU per
move (the process's user + system time, so the event loop's work on the messages counts),
the latency (send -> script finished), the bytes received, and whether the move reran the
whole page or one fragment.

Run: ``python -m bench.bench_controls`` (``--moves 8``). Needs nothing but the app: it
starts its own server on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys

from bench.server import StreamlitServer
from bench.wsclient import BENCHMARK_QUERY, Session, checked
from optimizers import schedules
from ui import settings as S

START = (-1.234, 1.876)  # a start no other run on the server used


async def _select(s: Session, key: str, option: str):
    w = s.widgets[key]
    s.states[w.id] = ("string_value", option)
    if w.proto.query_param_key:
        s._set_url(w.proto.query_param_key, option)
    return await s.rerun(w.fragment_id)


async def _select_slider(s: Session, key: str, option: str):
    w = s.widgets[key]
    s.states[w.id] = ("string_array_value", [option])
    if w.proto.query_param_key:
        s._set_url(w.proto.query_param_key, option)
    return await s.rerun(w.fragment_id)


async def _toggle(s: Session, key: str, on: bool):
    w = s.widgets[key]
    s.states[w.id] = ("bool_value", on)
    if w.proto.query_param_key:
        s._set_url(w.proto.query_param_key, "true" if on else "false")
    return await s.rerun(w.fragment_id)


def _moves(n: int) -> dict:
    """Each control's ``i``-th move (0-based), one way."""
    sched = [x for x in schedules.names() if x != "constant"]
    noise = [str(v) for v in S.NOISE_OPTIONS[1:]]  # the options as the select slider sends them
    return {
        "adam_lr (panel)": lambda s, i: s.move_panel("adam_lr", 1),
        "inspect step (fragment)": lambda s, i: s.set_slider("inspect", s.slider_value("inspect") + 7),
        "overlay toggle (fragment)": lambda s, i: _toggle(s, "field", i % 2 == 0),
        "steps down": lambda s, i: s.set_slider("steps", s.slider_value("steps") - 5),
        "steps up": lambda s, i: s.set_slider("steps", s.slider_value("steps") + 5),
        "start x0 typed": lambda s, i: s.set_number("x0", START[0] + 0.01 * (i + 1)),
        "start clicked": lambda s, i: s.click_chart(START[0] - 0.01 * (i + 1), START[1]),
        "seed": lambda s, i: s.set_number("seed", i + 1),
        "noise": lambda s, i: _select_slider(s, "noise", noise[i % len(noise)]),
        "schedule": lambda s, i: _select(s, "schedule", sched[i % len(sched)]),
        "warm-up": lambda s, i: s.set_slider("warmup", s.slider_value("warmup") + S.WARMUP_STEP),
        "averaging": lambda s, i: _select(s, "average", ("polyak", "ema")[i % 2]),
        "surface parameter a": lambda s, i: s.set_slider("p_a", s.slider_value("p_a") + s.widgets["p_a"].proto.step),
    }


async def measure(srv: StreamlitServer, moves: int) -> list[tuple[str, float, float, float, str]]:
    rows = []
    query = f"{BENCHMARK_QUERY}&x0={START[0]}&y0={START[1]}"
    async with Session(srv.ws_url, query) as warm:  # compile the surface, fill the cost model
        checked(await warm.open())
    for name, move in _moves(moves).items():
        async with Session(srv.ws_url, query + f"&seed={len(rows) * 100 + 50}") as s:
            checked(await s.open())
            cpu, lat, size, scope = [], [], [], ""
            for i in range(moves):
                c0 = srv.cpu_seconds()
                r = checked(await move(s, i))
                cpu.append(srv.cpu_seconds() - c0)
                lat.append(r.seconds)
                size.append(r.bytes)
                scope = "fragment" if r.status == "FINISHED_FRAGMENT_RUN_SUCCESSFULLY" else "page"
            rows.append((name, 1e3 * sum(cpu) / moves, 1e3 * statistics.median(lat), statistics.median(size) / 1e6, scope))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_controls", description=__doc__.split("\n\n")[0])
    ap.add_argument("--moves", type=int, default=8, help="moves per control (default 8)")
    args = ap.parse_args(argv)
    if not 1 <= args.moves <= 10:
        ap.error("--moves must be within 1..10")
    srv = StreamlitServer()
    srv.start(wait=False)
    try:
        srv.wait_ready(60)
        rows = asyncio.run(measure(srv, args.moves))
    finally:
        srv.stop()
        srv.cleanup()
    print(f"One session, its own start, the benchmark link; {args.moves} moves per control")
    print(f"{'control':<28} {'CPU/move ms':>11} {'latency ms':>10} {'MB/move':>8}  reruns")
    for name, cpu, lat, mb, scope in rows:
        print(f"{name:<28} {cpu:>11.0f} {lat:>10.0f} {mb:>8.3f}  {scope}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
