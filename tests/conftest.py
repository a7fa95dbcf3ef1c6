"""Test set-up: the repository's packages import from any working directory.

The hand-written reference formulas live in tests/reference.py (not here: the
browser tests have a conftest of their own, and two modules both named
``conftest`` would shadow each other when imported by name).
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
