"""The former home of the worker processes, kept so that ``landscapes.sandbox.NAME`` keeps working.

The worker is :mod:`landscapes.expression.worker`, its pool
:mod:`landscapes.expression.pool`, and what they send each other
:mod:`landscapes.expression.reply`. These are re-exported names: to change a
setting, set it on the module that defines it.
"""

from __future__ import annotations

from .expression.pool import (
    GRACE,
    MAX_IDLE,
    MAX_JOBS,
    MAX_WORKERS,
    QUEUE_TIMEOUT,
    SPARES,
    STARTUP_TIMEOUT,
    WorkerPool,
    pool,
    run_job,
    warm_up,
)
from .expression.reply import Analysis, Ready, Reply, Request
from .expression.worker import CPU_BACKSTOP, MEMORY_LIMIT, analyse

__all__ = [
    "CPU_BACKSTOP",
    "GRACE",
    "MAX_IDLE",
    "MAX_JOBS",
    "MAX_WORKERS",
    "MEMORY_LIMIT",
    "QUEUE_TIMEOUT",
    "SPARES",
    "STARTUP_TIMEOUT",
    "Analysis",
    "Ready",
    "Reply",
    "Request",
    "WorkerPool",
    "analyse",
    "pool",
    "run_job",
    "warm_up",
]
