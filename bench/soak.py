"""Soak: many distinct links against one server, its memory (and its workers') every 50 links.

Each link is opened by its own websocket session (``bench/wsclient.py``), ``--concurrency``
at a time, and none repeats, so every page adds runs, figures and (typed functions)
surfaces to the server's memos: what they hold must stay within their byte bounds
(``ui/cache.py``, ``MEMO_BUDGET_MB``) and the process must not keep growing.

- ``--kind heavy``: the heavy legal links of ``bench/heavy_links.py`` (all nine optimizers at
  3000 steps; catalog surfaces with noise, typed heavy functions, data surfaces on small batches);
- ``--kind light``: one to three optimizers for 100-1000 steps on the catalog surfaces, each
  from its own start;
- ``--kind mixed``: the two in turn.

Every 50 links: the server's RSS and its child processes' (the typed-function workers,
``/proc``), summed. At the end: the peak, and the change over the last half of the links;
then, after ``--idle`` seconds without a session (the closed tabs' sessions expire after
``server.disconnectedSessionTTL``, 120 s), one more sample: what the server keeps for good.

Run: ``python -m bench.soak --links 1000 --kind heavy``.
Bar (issue 16): 1000 distinct heavy links, server plus workers <= 600 MB, flat over the last 500.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.heavy_links import corpus, kind
from bench.proctree import children, children_cpu, own_cpu, tree_rss_mb
from bench.server import StreamlitServer
from bench.wsclient import BENCHMARK_QUERY, Session, checked

BAR_MB = 600
EVERY = 50
_LIGHT = ("rosenbrock", "beale", "himmelblau", "rastrigin", "six_hump_camel", "bowl", "saddle", "monkey_saddle")
_LIGHT_SETS = (("adam",), ("sgd", "momentum"), ("adam", "rmsprop", "nesterov"))


def light_link(i: int) -> str:
    """One to three optimizers, 100-1000 steps; the start makes the link distinct."""
    pairs = [("landscape", _LIGHT[i % len(_LIGHT)])] + [("optimizers", o) for o in _LIGHT_SETS[i % 3]]
    pairs += [("steps", str(100 * (1 + i % 10))), ("x0", f"{-1.5 + (i % 211) * 0.013:.3f}"), ("y0", f"{1.0 + (i // 211) * 0.017:.3f}")]
    return urlencode(pairs)


def links(n: int, which: str) -> list[str]:
    if which == "heavy":
        return corpus(n)
    if which == "light":
        return [light_link(i) for i in range(n)]
    heavy = corpus((n + 1) // 2)
    return [heavy[i // 2] if i % 2 == 0 else light_link(i // 2) for i in range(n)]


async def soak(srv: StreamlitServer, queries: list[str], concurrency: int, timeout: float, idle: float = 0.0) -> dict:
    pid = srv.proc.pid
    samples: list[dict] = []
    errors: dict[str, int] = {}
    t0 = time.perf_counter()
    cpu0, wcpu0 = own_cpu(pid), children_cpu(pid)

    def sample(done: int) -> None:
        server, workers = tree_rss_mb(pid)
        row = {
            "links": done, "server_mb": server, "workers_mb": workers, "total_mb": server + workers,
            "workers": len(children(pid)), "minutes": (time.perf_counter() - t0) / 60,
            "server_cpu_s": own_cpu(pid) - cpu0, "worker_cpu_s": children_cpu(pid) - wcpu0,
        }  # fmt: skip
        samples.append(row)
        print(
            f"{done:>6} links  server {server:6.0f} MB  workers {workers:6.0f} MB ({row['workers']})  total {row['total_mb']:6.0f} MB"
            f"  {row['minutes']:5.1f} min  errors {sum(errors.values())}",
            flush=True,
        )

    async def one(q: str) -> None:
        try:
            async with Session(srv.ws_url, q, timeout=timeout) as s:
                checked(await s.open())
        except Exception as e:  # noqa: BLE001 - counted and reported
            name = f"{kind(q) if 'optimizers=lbfgs' in q else 'light'}: {type(e).__name__}"
            errors[name] = errors.get(name, 0) + 1

    sample(0)
    for lo in range(0, len(queries), EVERY):
        batch = queries[lo : lo + EVERY]
        sem = asyncio.Semaphore(concurrency)

        async def gated(q: str) -> None:
            async with sem:
                await one(q)

        await asyncio.gather(*(gated(q) for q in batch))
        sample(lo + len(batch))
    if idle > 0:
        # Closed tabs' sessions (their state, their messages) are kept for server.disconnectedSessionTTL;
        # after it, what is left is what the memos and the interpreter hold.
        await asyncio.sleep(idle)
        server, workers = tree_rss_mb(pid)
        samples.append({"links": len(queries), "after_idle_s": idle, "server_mb": server, "workers_mb": workers, "total_mb": server + workers})
        print(f"after {idle:.0f} s idle: server {server:.0f} MB, workers {workers:.0f} MB, total {server + workers:.0f} MB", flush=True)
    return {"samples": samples, "errors": errors}


def verdict(samples: list[dict]) -> str:
    samples = [s for s in samples if "after_idle_s" not in s]
    peak = max(s["total_mb"] for s in samples)
    last = samples[-1]["links"]
    half = [s for s in samples if s["links"] >= last / 2]
    lo, hi = min(s["total_mb"] for s in half), max(s["total_mb"] for s in half)
    drift = half[-1]["total_mb"] - half[0]["total_mb"]
    return (
        f"peak server + workers {peak:.0f} MB (bar {BAR_MB} MB); over the last {last - half[0]['links']} links: "
        f"{half[0]['total_mb']:.0f} -> {half[-1]['total_mb']:.0f} MB (change {drift:+.0f} MB, range {lo:.0f}-{hi:.0f} MB); "
        f"server at its peak {max(s['server_mb'] for s in samples):.0f} MB"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    ap.add_argument("--links", type=int, default=1000, help="distinct links (default 1000)")
    ap.add_argument("--kind", choices=["heavy", "light", "mixed"], default="heavy")
    ap.add_argument("--concurrency", type=int, default=2, help="sessions open at once (default 2)")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds one page may take")
    ap.add_argument("--idle", type=float, default=130.0, help="seconds to wait after the last link before a last sample (default 130: the sessions' 120 s TTL and some)")
    ap.add_argument("--json", help="also write the samples to this file")
    args = ap.parse_args(argv)
    if not (1 <= args.links <= 5000 and 1 <= args.concurrency <= 20):
        ap.error("--links 1..5000, --concurrency 1..20")

    with StreamlitServer() as srv:
        asyncio.run(soak(srv, [BENCHMARK_QUERY], 1, args.timeout))  # imports and the worker pool: the baseline
        print(f"{args.links} distinct {args.kind} links, {args.concurrency} at a time:", flush=True)
        result = asyncio.run(soak(srv, links(args.links, args.kind), args.concurrency, args.timeout, args.idle))
        tracebacks = srv.log_text().count("Traceback")
    print()
    print(verdict(result["samples"]))
    if result["errors"] or tracebacks:
        print(f"errors: {result['errors']}; tracebacks in the server log: {tracebacks}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
