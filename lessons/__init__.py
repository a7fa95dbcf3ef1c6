"""Lessons: each claim of the lecture notes as live runs on the core, a measured number and a Playground preset."""

from .catalog import ALL_CLAIMS, LESSONS, get
from .core import SEEDS, Lesson, Outcome, Panel, RunSpec, noisy, over_seeds, preset, run, run_panel, scaling, surface, with_seed

__all__ = [
    "ALL_CLAIMS",
    "LESSONS",
    "SEEDS",
    "Lesson",
    "Outcome",
    "Panel",
    "RunSpec",
    "get",
    "noisy",
    "over_seeds",
    "preset",
    "run",
    "run_panel",
    "scaling",
    "surface",
    "with_seed",
]
