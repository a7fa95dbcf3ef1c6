"""Lessons: each claim of the lecture notes as live runs on the core, a measured number and a Playground preset."""

from .catalog import ALL_CLAIMS, LESSONS, get
from .core import Lesson, Outcome, Panel, RunSpec, preset, run, run_panel

__all__ = ["ALL_CLAIMS", "LESSONS", "Lesson", "Outcome", "Panel", "RunSpec", "get", "preset", "run", "run_panel"]
