"""The process-wide memo behind the app's caches (ui/cache.py ``shared``).

Sessions are threads of one process: when a class moves the same slider at once,
every session asks for the same run or figure at the same moment, and it must be
computed once. A failure must not be remembered, and old entries must make room.
"""

from __future__ import annotations

import threading
import time

import pytest

from reference import assert_same_run as _same_run
from ui.cache import shared


def test_a_value_is_computed_once_and_then_shared():
    calls = []

    @shared(max_entries=4)
    def square(x):
        calls.append(x)
        return [x * x]  # a new object per computation: sharing means the same object

    first = square(3)
    assert square(3) is first and first == [9]
    assert square(4) == [16]
    assert calls == [3, 4]


def test_sessions_asking_at_the_same_moment_wait_for_one_computation():
    calls = []
    started = threading.Event()

    @shared(max_entries=4)
    def slow(x):
        calls.append(x)
        started.set()
        time.sleep(0.2)
        return object()

    results = []
    threads = [threading.Thread(target=lambda: results.append(slow("run"))) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=10)
    assert started.is_set()
    assert calls == ["run"]
    assert len(results) == 8 and all(r is results[0] for r in results)


def test_a_failure_is_not_remembered():
    attempts = []

    @shared(max_entries=4)
    def flaky(x):
        attempts.append(x)
        if len(attempts) == 1:
            raise ValueError("busy")
        return x + 1

    with pytest.raises(ValueError, match="busy"):
        flaky(1)
    assert flaky(1) == 2 and flaky(1) == 2
    assert attempts == [1, 1]


def test_the_least_recently_used_entry_makes_room():
    calls = []

    @shared(max_entries=2)
    def ident(x):
        calls.append(x)
        return x

    ident("a"), ident("b"), ident("a"), ident("c")  # "b" is now the least recently used
    ident("a"), ident("c")
    assert calls == ["a", "b", "c"]
    ident("b")
    assert calls == ["a", "b", "c", "b"]
    ident.clear()
    ident("a")
    assert calls[-1] == "a" and len(calls) == 5


def test_a_key_function_names_values_whose_arguments_are_not_hashable():
    @shared(max_entries=4, key=lambda name, payload: name)
    def build(name, payload):
        return {"name": name, "n": len(payload)}

    a = build("view-1", {"runs": [1, 2, 3]})
    assert build("view-1", {"runs": []}) is a  # same name, same value
    assert build("view-2", {"runs": []})["n"] == 1


def test_the_process_wide_caches_use_one_memo_mechanism():
    # Every process-wide cache of the app is a ui.cache.shared memo (shared objects, no
    # copy per hit), not Streamlit's st.cache_data (which unpickles a copy on every hit).
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for path in [*root.joinpath("ui").glob("*.py"), *root.joinpath("pages").glob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr in ("cache_data", "cache_resource")}
        assert not used, f"{path.name} uses st.{used.pop()}: use ui.cache.shared"


def test_what_a_shared_memo_hands_out_cannot_be_changed_by_one_session():
    from ui import lessons_view, sweep_view

    result = lessons_view.outcome("zigzag")
    with pytest.raises(ValueError):
        result.trajectories[0][0].points[0, 0] = 99.0
    with pytest.raises(TypeError):
        result.numbers["sgd"] = 0.0
    grid = sweep_view.cached_grid("bowl", "adam", "lr", "beta1", (1e-3, 0.1, 0.5, 0.9), 4, 10, False)
    with pytest.raises(ValueError):
        grid.final_loss[0, 0] = 0.0


def test_fewer_steps_of_a_kept_run_are_its_prefix_not_a_new_run(monkeypatch):
    import numpy as np

    import optimizers
    from ui import cache

    real, calls = optimizers.run, []

    def counted(*args, **kw):
        calls.append(kw["steps"])
        return real(*args, **kw)

    monkeypatch.setattr(optimizers, "run", counted)
    key = ("rosenbrock", (("a", 1.0), ("b", 100.0)), "", "")
    constant = ("constant", 0, ())
    args = lambda steps, start=(-1.25, 1.75): (key, "adam", (("lr", 0.03),), start, steps, constant, 0.5, 8, "polyak")  # noqa: E731
    cache.trajectory(*args(600))
    shorter = cache.trajectory(*args(455))
    assert calls == [600]  # the slider moved down: nothing computed
    expected = real(cache.surface(*key), "adam", start=(-1.25, 1.75), steps=455, noise=0.5, seed=8, average="polyak", lr=0.03)
    _same_run(shorter, expected)
    cache.trajectory(*args(700))  # more steps than any kept run: computed
    cache.trajectory(*args(455, start=(-1.25, 1.5)))  # another start: another run
    assert calls == [600, 700, 455]


def test_fewer_steps_on_mini_batches_are_the_prefix_too(monkeypatch):
    import optimizers
    from ui import cache

    real, calls = optimizers.run, []
    monkeypatch.setattr(optimizers, "run", lambda *a, **kw: calls.append(kw["steps"]) or real(*a, **kw))
    key = ("faithful", (), "", "standardized")
    run = lambda steps: cache.trajectory(key, "sgd", (("lr", 0.05),), (-1.0, 1.5), steps, ("constant", 0, ()), 0.0, 4, "none", 8)  # noqa: E731
    run(120)
    shorter = run(47)
    assert calls == [120]
    _same_run(shorter, real(cache.surface(*key), "sgd", start=(-1.0, 1.5), steps=47, seed=4, batch_size=8, lr=0.05))


def test_an_averaged_path_is_computed_once_per_run(monkeypatch):
    import optimizers
    from ui import cache

    real, averaged = optimizers.Trajectory.with_average, []
    monkeypatch.setattr(optimizers.Trajectory, "with_average", lambda self, *a, **kw: averaged.append(a) or real(self, *a, **kw))
    key = ("rosenbrock", (("a", 1.0), ("b", 100.0)), "", "")
    run = lambda: cache.trajectory(key, "adam", (("lr", 0.02),), (-1.375, 1.875), 400, ("constant", 0, ()), 0.0, 0, "ema")  # noqa: E731
    first, again = run(), run()  # a rerun of the page asks again
    assert len(averaged) == 1
    assert again.averaged is first.averaged

