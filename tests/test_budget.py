"""The server's two bounds (ui/cache.py): memos bounded by bytes, and a work budget per page.

Memos hold values up to a byte bound, least recently used out first, and count a value's
bytes as they are (checked against tracemalloc, which sees NumPy's buffers). A page's runs
get as many steps as the surface's cost model says fit in ``RUN_BUDGET_S``; a capped page
says so. Every cost here is injected: nothing asserts how fast this machine is.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import figures
import landscapes
import optimizers
from i18n import t
from ui import cache, compute
from ui.cache import RunCost, nbytes, shared

APP = str(Path(__file__).resolve().parents[1] / "app.py")


# -- memos bounded by bytes ----------------------------------------------------------------------


def test_a_memo_over_its_byte_bound_drops_the_least_recently_used():
    calls = []

    @shared(max_bytes=3000, size=len)
    def blob(name: str) -> bytes:
        calls.append(name)
        return name.encode() * 1000  # 1000 bytes for a one-letter name

    blob("a"), blob("b"), blob("c")
    assert blob.stats() == (3, 3000)
    blob("a")  # "b" is now the least recently used
    blob("d")
    assert blob.stats() == (3, 3000)
    blob("a"), blob("c"), blob("d")  # still held: no new computation
    assert calls == ["a", "b", "c", "d"]
    blob("b")  # was dropped: computed again, and "a" (least recent now) leaves for it
    assert calls[-1] == "b" and blob.stats() == (3, 3000)
    blob("c"), blob("d"), blob("b")
    assert calls == ["a", "b", "c", "d", "b"]


def test_a_value_larger_than_the_whole_bound_is_returned_but_not_kept():
    calls = []

    @shared(max_bytes=500, size=len)
    def blob(n: int) -> bytes:
        calls.append(n)
        return b"x" * n

    assert blob(100) == b"x" * 100
    assert len(blob(1000)) == 1000
    assert blob.stats() == (1, 100)
    blob(1000)
    assert calls == [100, 1000, 1000]


def test_a_memo_may_also_bound_its_entries():
    @shared(max_entries=2, max_bytes=10**9)
    def ident(x):
        return x

    ident(1), ident(2), ident(3)
    assert ident.stats()[0] == 2


def test_every_app_memo_has_a_byte_bound_from_the_one_configuration():
    from ui import lessons_view, sweep_view

    total = cache.MEMO_BUDGET_MB * 2**20
    memos = [
        (cache.surface, "surface"), (cache.contour, "contour"), (cache.trajectory, "trajectory"), (cache._averaged_path, "averaged"),
        (cache.schedule_factors, "schedule"), (cache.run_cost, "run_cost"),
        (compute._path_payloads, "path_payloads"), (compute._readouts_table, "readouts"),
        (sweep_view.cached_grid, "other"), (lessons_view.outcome, "other"),
    ]  # fmt: skip
    for memo, share in memos:
        assert memo.max_bytes == int(cache.MEMO_SHARES[share] * total)
    assert abs(sum(cache.MEMO_SHARES[share] for _, share in memos) - 1.0) < 1e-9  # together: the budget


def test_sizes_count_arrays_strings_and_containers():
    a = np.zeros(1000)
    assert nbytes(a) == 8000 + 112
    view = a[:10]
    assert nbytes(view) == 8000 + 112  # a view keeps the whole buffer alive
    assert nbytes((a, view, a[5:])) == sys.getsizeof((1, 2, 3)) + 8000 + 112  # one buffer, counted once
    d = {"k": "v" * 100, "b": b"z" * 50}
    assert nbytes(d) == sys.getsizeof(d) + sum(sys.getsizeof(x) for x in ("k", "v" * 100, "b", b"z" * 50))


def _retained(make):
    """Bytes still allocated (Python objects and NumPy buffers) after ``make()``, with the result alive."""
    make()  # once first: whatever it caches on the way is not the value's
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        value = make()
        gc.collect()
        return value, tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_a_runs_size_matches_what_it_holds():
    surface = landscapes.get("rosenbrock")
    tr, held = _retained(lambda: optimizers.run(surface, "adam", start=(-1.5, 2.0), steps=2000, noise=1.0, average="polyak"))
    assert held > 100_000
    assert 0.8 * held <= nbytes(tr) <= 1.25 * held


def test_a_path_figures_size_matches_what_it_holds():
    surface = landscapes.get("himmelblau")
    grid = figures.grid(surface, 150)
    trs = [optimizers.run(surface, o, start=(-0.5, 0.0), steps=1500, noise=1.0) for o in ("sgd", "adam")]
    runs = [figures.Run(tr.optimizer, tr.optimizer, tr.points, tr.losses) for tr in trs]
    spec = figures.path_figure(surface, grid, runs, compute.fig_labels("en"), start=(-0.5, 0.0))
    # The figure shares parts made before it (the surface layer's packed grid, cached frames), so
    # what it holds is measured on a copy of its own, every string and number a new object.
    copy, held = _retained(lambda: _fresh(spec))
    assert held > 100_000
    assert 0.8 * held <= nbytes(copy) <= 1.25 * held
    assert nbytes(spec) <= nbytes(copy)  # an object the figure uses in several places counts once


def _fresh(v):
    if isinstance(v, dict):
        return {_fresh(k): _fresh(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_fresh(x) for x in v)
    if isinstance(v, str):
        return (v + " ")[:-1]  # a new str object, not the same one
    if isinstance(v, float):
        return float(repr(v))
    if isinstance(v, np.ndarray):
        return v.copy()
    return v


def test_a_surfaces_estimate_grows_with_its_expression():
    small, large = landscapes.get("saddle"), landscapes.get("beale")
    assert cache.surface_bytes(small) < cache.surface_bytes(large) < 2**20


# -- the work budget per page ----------------------------------------------------------------------


def test_steps_within_the_budget():
    light = [RunCost(1e-4, 5e-6)] * 6  # 6 runs x 3000 steps: 0.09 s
    assert compute.steps_within(light, 3000, 0.8) == 3000
    heavy = [RunCost(0.0, 2**-10)]  # 0.8 s / 0.98 ms = 819 steps: two significant digits
    assert compute.steps_within(heavy, 3000, 0.8) == 810
    assert compute.steps_within([RunCost(0.01, 1.3e-3)], 3000, 0.8) == 600  # (0.8 - 0.01) / 1.3e-3 = 607
    assert compute.steps_within([RunCost(0.0, 2**-11)] * 2, 3000, 0.8) == 810  # the runs together
    assert compute.steps_within([RunCost(0.0, 1e-4)], 3000, 0.8) == 3000  # 0.3 s: fits
    assert compute.steps_within([RunCost(0.0, 0.35e-3)], 3000, 0.8) == 2200  # 2285: two digits
    assert compute.steps_within([RunCost(0.0, 1.0)], 3000, 0.8) == cache.MIN_STEPS


def test_quantized_costs_give_the_same_cap_for_nearby_measurements():
    assert cache.quantized(0.0) == 0.0
    for v in (1e-6, 3.3e-5, 1e-3, 0.2):
        q = cache.quantized(v)
        assert v <= q < v * 2 ** (1 / cache.COST_BINS_PER_OCTAVE) * (1 + 1e-12)
        assert cache.quantized(q) == q
    # Two measurements of one surface 3% apart, inside one bin: the same cap.
    a, b = cache.quantized(1.0e-3), cache.quantized(1.03e-3)
    assert a == b
    assert compute.steps_within([RunCost(0.0, a)], 3000) == compute.steps_within([RunCost(0.0, b)], 3000)


@pytest.fixture
def injected_cost(monkeypatch):
    """Replace the probe by a cost model chosen per surface name; the memo starts empty and is left empty."""
    costs: dict[str, RunCost] = {}
    measured: list[tuple] = []

    def measure(s, optimizer, batch_size=None, memory=None):
        measured.append((s.name, optimizer, batch_size, memory))
        return costs[s.name]

    monkeypatch.setattr(cache, "measure_run_cost", measure)
    cache.run_cost.clear()
    yield costs, measured
    cache.run_cost.clear()


def test_the_cap_is_measured_once_per_surface_and_optimizer(injected_cost):
    costs, measured = injected_cost
    costs["rosenbrock"] = RunCost(0.0, 0.9e-3)
    key = ("rosenbrock", (), "", "")
    first = [cache.run_cost(key, "adam") for _ in range(3)]
    assert first[0] == first[1] == first[2] == RunCost(0.0, cache.quantized(0.9e-3))
    assert measured == [("rosenbrock", "adam", None, None)]
    cache.run_cost(key, "lbfgs", None, 10), cache.run_cost(key, "lbfgs", None, 20)  # L-BFGS: per memory
    assert len(measured) == 3


def _page(query: dict, lang: str = "en") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in {**query, "lang": lang}.items():
        at.query_params[k] = v
    return at.run()


def _budget_notices(at: AppTest) -> list[str]:
    return [i.value for i in at.info if "3000" in i.value]


SLOW_LINK = {"landscape": "rosenbrock", "optimizers": ["adam", "lbfgs"], "steps": "3000", "noise": "1.0", "seed": "7"}


def _notice(lang: str, steps: int, ms: str) -> str:
    return t("pg.budget_notice", lang, steps=steps, requested=3000, ms=ms, budget=f"{cache.RUN_BUDGET_S:g}")


def test_a_slow_surface_gets_capped_steps_and_says_so(injected_cost):
    costs, _ = injected_cost
    costs["rosenbrock"] = RunCost(0.0, 2**-11)  # two optimizers: 0.98 ms a step -> 0.8 s holds 819: 810
    at = _page(SLOW_LINK)
    assert not at.exception
    assert at.slider(key="inspect").max == 810  # the longest run: 810 steps
    assert _budget_notices(at) == [_notice("en", 810, "0.98")]
    assert at.slider(key="steps").value == 3000  # the control (and so the link) keeps what was asked for
    # Another rerun (the notice is not a one-off) and the same page in Chinese.
    at.run()
    assert len(_budget_notices(at)) == 1 and at.slider(key="inspect").max == 810
    zh = _page(SLOW_LINK, "zh")
    assert _budget_notices(zh) == [_notice("zh", 810, "0.98")]


def test_a_light_surface_is_not_capped(injected_cost):
    costs, _ = injected_cost
    costs["rosenbrock"] = RunCost(1e-4, 5e-6)
    at = _page(SLOW_LINK)
    assert not at.exception
    assert at.slider(key="inspect").max == 3000
    assert _budget_notices(at) == []


def test_no_notice_when_every_run_stopped_before_the_cap(injected_cost):
    costs, _ = injected_cost
    costs["bowl"] = RunCost(0.0, 2**-9)  # cap: 0.8 s / 1.95 ms = 409: 400 steps; SGD on the bowl converges long before
    at = _page({"landscape": "bowl", "optimizers": ["sgd"], "steps": "3000"})
    assert not at.exception
    assert compute.steps_within([RunCost(0.0, 2**-9)], 3000) == 400
    assert at.slider(key="inspect").max < 400
    assert _budget_notices(at) == []


def test_the_cap_is_the_same_for_the_same_link(injected_cost):
    costs, measured = injected_cost
    costs["rosenbrock"] = RunCost(0.0, 2**-11)
    caps = [_page(SLOW_LINK).slider(key="inspect").max for _ in range(2)]
    assert caps == [810, 810]
    assert len(measured) == 2  # adam and lbfgs, once each for both pages


def test_a_capped_run_is_the_start_of_the_run_asked_for():
    # The schedule stays the one for the steps asked for (cosine over 3000), so the first
    # 800 steps are those of the full run, bit for bit.
    key = ("rosenbrock", (("a", 1.0), ("b", 100.0)), "", "")
    schedule = ("cosine", 0, (("period", 3000),))
    full = cache.trajectory(key, "adam", (("lr", 0.03),), (-1.5, 2.0), 3000, schedule, 1.0, 3, "none")
    capped = cache.trajectory(key, "adam", (("lr", 0.03),), (-1.5, 2.0), 800, schedule, 1.0, 3, "none")
    assert capped.steps == 800
    np.testing.assert_array_equal(capped.points, full.points[:801])


@pytest.mark.parametrize("name", optimizers.names())
def test_the_probe_takes_every_step_where_a_real_run_would_stop(name):
    # Rosenbrock from its minimum: a real run converges at once; the probe's stand-in never does.
    surface = landscapes.get("rosenbrock")
    probe = optimizers.run(cache._StandIn(surface, (1.0, 1.0)), name, start=(1.0, 1.0), steps=20, tol=0.0)
    assert optimizers.run(surface, name, start=(1.0, 1.0), steps=20).steps == 0
    assert probe.steps == 20 and probe.status == "max_steps"


def test_the_probe_follows_its_stand_in_not_the_surface(monkeypatch):
    # The stand-in pays for the surface's f and gradient but steps on its own bowl,
    # 0.5 |x - c|^2 with c = start + (1, 1): plain gradient descent there is
    # x_k = c + (1 - lr)^k (start - c), whatever the surface (Rosenbrock bends the path away).
    # On the float path, as a real run of one optimizer: that is the cost it measures.
    from optimizers import runner

    surface = landscapes.get("rosenbrock")
    start, lr = np.array([-1.5, 2.0]), 1e-3
    batched = runner._loop
    monkeypatch.setattr(runner, "_loop", lambda *args: pytest.fail("the probe gave way to the batched loop"))
    probe = optimizers.run(cache._StandIn(surface, tuple(start)), "sgd", start=tuple(start), steps=20, tol=0.0, lr=lr)
    monkeypatch.setattr(runner, "_loop", batched)
    c = start + 1.0
    expected = c + (1 - lr) ** np.arange(21)[:, None] * (start - c)
    np.testing.assert_allclose(probe.points, expected, rtol=1e-12)
    real = optimizers.run(surface, "sgd", start=tuple(start), steps=20, lr=lr)
    assert np.abs(real.points[-1] - expected[-1]).max() > 1e-3


def test_the_probe_runs_mini_batches_on_a_data_surface():
    surface = landscapes.get("iris")
    cost = cache.measure_run_cost(surface, "newton", batch_size=2)
    assert cost.step_s > 0 and cost.setup_s >= 0


def _scenario(name: str, opts: tuple[str, ...], steps: int = 3000):
    from ui.state import Scenario

    return Scenario(name, (), opts, {o: () for o in opts}, (0.5, 0.5), steps, ("constant", 0, ()), 0.0, 0, "none")


def _concurrency(monkeypatch, scenarios, wait) -> int:
    """Compute ``scenarios`` in threads at once, each run replaced by ``wait()``; the most runs seen at once."""
    import threading

    active, most, lock = [0], [0], threading.Lock()

    def run(*args):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        try:
            wait()
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(cache, "trajectory", run)
    threads = [threading.Thread(target=compute.compute, args=(sc,)) for sc in scenarios]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    return most[0]


def test_heavy_pages_compute_their_runs_one_at_a_time(injected_cost, monkeypatch):
    import threading

    costs, _ = injected_cost
    costs["rosenbrock"] = RunCost(0.0, 2**-11)  # 3000 steps: capped to 0.8 s, above HEAVY_RUNS_S
    assert compute.step_budget(_scenario("rosenbrock", ("adam",))).seconds > cache.HEAVY_RUNS_S
    pause = threading.Event()
    assert _concurrency(monkeypatch, [_scenario("rosenbrock", ("adam",))] * 4, lambda: pause.wait(0.05)) == cache.HEAVY_SLOTS


def test_light_pages_do_not_wait_for_heavy_ones(injected_cost, monkeypatch):
    import threading

    costs, _ = injected_cost
    costs["bowl"] = RunCost(1e-4, 5e-6)
    assert compute.step_budget(_scenario("bowl", ("adam",))).seconds < cache.HEAVY_RUNS_S
    together = threading.Barrier(3, timeout=20)  # passes only if all three runs are in it at once
    assert _concurrency(monkeypatch, [_scenario("bowl", ("adam",))] * 3, together.wait) == 3


# -- the race's lane: one page at a time -----------------------------------------------------------

ROSENBROCK = ("rosenbrock", (), "", "")


@pytest.fixture
def lane(monkeypatch):
    """A fresh lane for the test (a slot a broken test kept is not the next one's); surfaces stubbed:
    compiled ones are recorded, a typed one fails as a busy worker would."""
    import threading

    monkeypatch.setattr(compute, "_LANE", threading.BoundedSemaphore(cache.LANE_SLOTS))
    compiled = []

    def surface(*key):
        compiled.append(key)
        if key[0] == "custom":
            raise landscapes.ExpressionError("busy", transient=True)

    monkeypatch.setattr(cache, "surface", surface)
    return compiled


def _threads(*targets) -> list[BaseException]:
    """Run ``targets`` in threads at once; what they raised."""
    import threading

    raised = []

    def caught(f):
        try:
            f()
        except BaseException as e:  # noqa: BLE001 - reported to the test
            raised.append(e)

    threads = [threading.Thread(target=caught, args=(f,)) for f in targets]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    return raised


def _lane_slots_free() -> int:
    """How many slots of the lane a newcomer could take now (each taken is given back)."""
    taken = 0
    while taken <= cache.LANE_SLOTS and compute._LANE.acquire(blocking=False):
        taken += 1
    for _ in range(taken):
        compute._LANE.release()
    return taken


def test_the_race_is_drawn_one_page_at_a_time(lane):
    import threading

    assert cache.LANE_SLOTS == 1
    ready = threading.Barrier(4, timeout=20)  # all four ask at once
    active, most, lock, pause = [0], [0], threading.Lock(), threading.Event()

    def page():
        ready.wait()
        with compute.lane(ROSENBROCK):
            with lock:
                active[0] += 1
                most[0] = max(most[0], active[0])
            pause.wait(0.05)
            with lock:
                active[0] -= 1

    assert not _threads(*[page] * 4)
    assert most[0] == 1
    assert _lane_slots_free() == cache.LANE_SLOTS


def test_the_lane_is_entered_once_per_thread_and_given_back_on_an_error(lane, monkeypatch):
    monkeypatch.setattr(cache, "LANE_WAIT_S", 60.0)  # a second wait for the slot it holds would not end in time
    inside = []

    def nested():
        with compute.lane(ROSENBROCK), compute.lane(ROSENBROCK):
            inside.append(_lane_slots_free())
            raise RuntimeError("a run failed")

    raised = _threads(nested)
    assert inside == [0] and [type(e) for e in raised] == [RuntimeError]
    assert _lane_slots_free() == cache.LANE_SLOTS


def test_a_heavy_page_computes_outside_the_lane(lane, injected_cost, monkeypatch):
    import threading

    costs, _ = injected_cost
    costs["rosenbrock"] = RunCost(0.0, 2**-11)  # heavy: see test_heavy_pages_compute_their_runs_one_at_a_time
    costs["bowl"] = RunCost(1e-4, 5e-6)
    monkeypatch.setattr(cache, "LANE_WAIT_S", 60.0)  # the light page gets in only if the heavy one stepped out
    heavy_in, both = threading.Event(), threading.Barrier(2, timeout=20)  # passes only if both are on at once

    def heavy_run(*args):
        heavy_in.set()
        both.wait()

    monkeypatch.setattr(cache, "trajectory", heavy_run)
    heavy, light = _scenario("rosenbrock", ("adam",)), _scenario("bowl", ("adam",))

    def heavy_page():
        with compute.lane(heavy.surface):
            compute.compute(heavy)

    def light_page():
        heavy_in.wait(20)  # the heavy page took the lane first, and is computing
        with compute.lane(light.surface):
            both.wait()

    assert not _threads(heavy_page, light_page)
    assert _lane_slots_free() == cache.LANE_SLOTS


def test_a_page_that_waits_too_long_in_the_lane_lets_the_next_one_in(lane, monkeypatch):
    import threading

    monkeypatch.setattr(cache, "LANE_WAIT_S", 0.05)
    inside, next_in, stuck_left, seen = threading.Event(), threading.Event(), threading.Event(), []

    def stuck():  # holds the lane until the next page got in (or 20 s)
        with compute.lane(ROSENBROCK):
            inside.set()
            next_in.wait(20)
            stuck_left.set()

    def newcomer():
        inside.wait(20)
        with compute.lane(ROSENBROCK):
            seen.append(stuck_left.is_set())
            next_in.set()

    assert not _threads(stuck, newcomer)  # a slot given back twice would raise
    assert seen == [False]  # in beside the stuck page, not after it
    assert _lane_slots_free() == cache.LANE_SLOTS


def test_the_surface_is_compiled_before_the_wait_for_the_lane(lane):
    import threading

    inside, release, compiled_first = threading.Event(), threading.Event(), []
    other = ("himmelblau", (), "", "")

    def holder():
        with compute.lane(ROSENBROCK):
            inside.set()
            release.wait(20)

    def newcomer():
        inside.wait(20)
        with compute.lane(other):
            compiled_first.append(release.is_set())

    def releaser():
        inside.wait(20)
        for _ in range(2000):  # until the newcomer's surface is compiled, while the lane is still held
            if other in lane:
                break
            threading.Event().wait(0.01)
        release.set()

    assert not _threads(holder, newcomer, releaser)
    assert other in lane and compiled_first == [True]
    assert lane.index(other) > lane.index(ROSENBROCK)


def test_a_typed_function_that_fails_to_compile_skips_the_lane(lane):
    """Its race asks the worker again: that wait must not hold the lane."""
    typed = ("custom", (), "x**2 + y**2", "")
    free = []

    def page():
        with compute.lane(typed):
            free.append(_lane_slots_free())

    assert not _threads(page)
    assert lane == [typed] and free == [cache.LANE_SLOTS]


def test_the_typed_function_verdicts_are_bounded_by_bytes(monkeypatch):
    from types import SimpleNamespace

    from landscapes.expression import surface as ES

    def built(text, window):  # a stand-in for the worker's answer: 16 KB + 30 bytes a character of code
        code = SimpleNamespace(f="x" * 100, grad="", hess="", value_and_grad="")
        return SimpleNamespace(analysis=SimpleNamespace(code=code, latex={"gradient_latex": ""}))

    monkeypatch.setattr(ES, "_run_worker", built)
    monkeypatch.setattr(ES, "_CACHE_BYTES", 2 * (16 * 1024 + 3000))
    window = ((-3.0, 3.0), (-3.0, 3.0))
    ES.clear_cache()
    try:
        for text in ("a", "b", "a", "c"):  # "b" is the least recently used when "c" comes
            ES._compile_in_sandbox(text, window)
        assert [k[0] for k in ES._cache] == ["a", "c"]
        assert sum(ES._sizes.values()) == 2 * (16 * 1024 + 3000)
    finally:
        ES.clear_cache()
