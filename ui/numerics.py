"""NumPy's floating-point settings for what the app runs, in one place.

Overflow, log(0), 0/0 and the like are reported in words (a run's status, NaN in a readout,
a domain notice), so NumPy's RuntimeWarnings never reach the server's log or a visitor.
``np.errstate`` holds only inside its ``with`` block (and per thread), so it has to wrap each
entry point Streamlit calls: the page (``ui/router.py``) and every fragment. A fragment's own
rerun (a move in the Playground's hyperparameter panel) is called by Streamlit directly, not
through the page, so the page's errstate does not cover it: :func:`fragment` wraps the
function itself, so both its run inside the page and its reruns are covered.

The numeric code is written so as not to warn in the first place where it can (norms by
``np.hypot``, float32 packing that checks the range, curvature that does not compute with a
non-finite Hessian); code generated from a typed function cannot be, which is what this is for.
"""

from __future__ import annotations

import functools

import numpy as np
import streamlit as st


def quiet() -> np.errstate:
    """The app's errstate: every floating-point event is left to the result (inf, NaN), never warned about."""
    return np.errstate(all="ignore")


def fragment(func=None, **options):
    """``st.fragment`` (with its ``options``: ``key``, ``run_every``, ...) whose every run is under :func:`quiet`.

    The errstate sits inside the fragment, around the function: Streamlit stores and reruns
    what ``st.fragment`` wrapped. ``functools.wraps`` keeps the function's name, from which
    Streamlit derives the fragment's id."""

    def decorate(fn):
        @functools.wraps(fn)
        def quietly(*args, **kwargs):
            with quiet():
                return fn(*args, **kwargs)

        return st.fragment(quietly, **options)

    return decorate if func is None else decorate(func)
