"""Waiting for another thread or process in tests: a guard against hanging, never a measure of speed."""

from __future__ import annotations

import time


def wait_until(condition, what: str, patience: float = 60.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``patience`` seconds."""
    deadline = time.monotonic() + patience
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(what)
        time.sleep(0.01)
