"""Optimizers as pure, vectorized update rules, learning-rate schedules, and the runner."""

from . import schedules
from .declarations import STATE, Hyperparameter, declaration, hyperparameters
from .rules import Optimizer
from .runner import (
    STATUS_MESSAGES,
    STATUS_TABLE,
    STATUSES,
    Result,
    Status,
    Batch,
    Trajectory,
    defaults,
    make,
    names,
    run,
    run_batch,
    seed_matters,
)

__all__ = [
    "STATE",
    "Hyperparameter",
    "declaration",
    "hyperparameters",
    "STATUS_MESSAGES",
    "STATUS_TABLE",
    "STATUSES",
    "Result",
    "Status",
    "Batch",
    "Optimizer",
    "Trajectory",
    "defaults",
    "make",
    "names",
    "run",
    "run_batch",
    "seed_matters",
    "schedules",
]
