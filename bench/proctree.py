"""A server and its child processes (the typed-function workers), read from Linux /proc.

The workers are separate processes: memory and CPU figures for "the server" count
them too, or a memo moved into a worker would look like a saving. A worker is
replaced after a number of jobs; the CPU of one that has exited and been reaped
is in its parent's ``cutime``/``cstime``, so nothing is lost between samples.
"""

from __future__ import annotations

import os
from pathlib import Path

from bench.server import rss_mb

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (every thread's children)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:  # the thread exited meanwhile
            continue
    return sorted(set(out))


def own_cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid`` itself (not its children)."""
    f = _stat(pid)
    return (int(f[11]) + int(f[12])) / _TICK


def children_cpu(pid: int) -> float:
    """CPU seconds of ``pid``'s children: those still alive, and those it has reaped."""
    f = _stat(pid)
    total = (int(f[13]) + int(f[14])) / _TICK
    for c in children(pid):
        try:
            g = _stat(c)
        except OSError:  # exited between the listing and the read
            continue
        total += (int(g[11]) + int(g[12]) + int(g[13]) + int(g[14])) / _TICK
    return total


def tree_rss_mb(pid: int) -> tuple[float, float]:
    """(RSS of ``pid``, RSS of its live children summed), in MB."""
    kids = 0.0
    for c in children(pid):
        try:
            kids += rss_mb(c)
        except OSError:
            continue
    return rss_mb(pid), kids
