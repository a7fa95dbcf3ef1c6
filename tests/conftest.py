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

# Hypothesis keeps an example database and caches under .hypothesis/ in the working
# directory: tests write nothing into the repository, so both go to a temporary folder.
import tempfile  # noqa: E402

from hypothesis import settings  # noqa: E402
from hypothesis.configuration import set_hypothesis_home_dir  # noqa: E402

set_hypothesis_home_dir(tempfile.mkdtemp(prefix="descent-lab-hypothesis-"))
settings.register_profile("no_database", database=None)
settings.load_profile("no_database")
