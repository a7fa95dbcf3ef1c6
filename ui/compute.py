"""The Playground's compute layer: runs, figures and readouts for settled values, memoized for the process.

Between the state layer (``ui/controls.py``: what the user set, settled from the link,
the session and the panel's report) and the draw layer (``ui/views.py``: only places
elements). Everything here is a function of plain values and is shared by every
session that shows the same view (a class moving the same slider computes it once).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import threading
from html import escape
from typing import NamedTuple

import numpy as np

import figures
import landscapes
import optimizers
from i18n import t
from optimizers import schedules
from optimizers.formulas import gradient_rule, update_rule

from . import cache
from . import settings as S
from .state import Scenario, presenting
from .live_chart import payloads

PATH_CHART = "path_chart"


class StepBudget(NamedTuple):
    """How many steps a page's runs take: all that were asked for, or as many as fit in the budget."""

    steps: int  # what every run is given
    requested: int  # what the controls say (and the link keeps)
    step_ms: float  # the cost model's CPU per step, the chosen optimizers together
    seconds: float  # the cost model's CPU for all the runs at ``steps``

    @property
    def capped(self) -> bool:
        return self.steps < self.requested


def steps_within(costs: list[cache.RunCost], requested: int, budget_s: float = cache.RUN_BUDGET_S) -> int:
    """The most steps, up to ``requested``, that runs costing ``costs`` take within ``budget_s``
    together: two significant digits (740, 1700), at least ``cache.MIN_STEPS``.

    Every run is counted at its full length: whether one stops early is known only after it ran,
    and the cap must be known before (and be the same for the same link)."""
    setup = sum(c.setup_s for c in costs)
    per_step = sum(c.step_s for c in costs)
    if per_step <= 0 or setup + per_step * requested <= budget_s:
        return requested
    fit = max(int((budget_s - setup) / per_step), 0)
    unit = 10 ** max(len(str(fit)) - 2, 0)  # keep two significant digits
    return max(min(fit - fit % unit, requested), cache.MIN_STEPS)


def _memory(sc: Scenario, opt: str):
    """L-BFGS's memory (its per-step cost grows with it); None for the others."""
    return dict(sc.hyper.get(opt, ())).get("memory") if opt == "lbfgs" else None


def step_budget(sc: Scenario) -> StepBudget:
    """The steps ``sc``'s runs take within the server's budget per page (``cache.RUN_BUDGET_S``),
    from the surface's cost model (measured once per surface and optimizer)."""
    costs = [cache.run_cost(sc.surface, opt, sc.batch_size, _memory(sc, opt)) for opt in sc.optimizers]
    steps = steps_within(costs, sc.steps)
    return StepBudget(steps, sc.steps, 1e3 * sum(c.step_s for c in costs), sum(c.seconds(steps) for c in costs))


def budgeted(sc: Scenario) -> Scenario:
    """``sc`` with the steps its runs take. The schedule stays the one for the steps asked for,
    so a capped run is the first steps of the run asked for, not a shorter run of its own."""
    steps = step_budget(sc).steps
    return sc if steps == sc.steps else dataclasses.replace(sc, steps=steps)


def budget_notice(sc: Scenario, runs: dict) -> StepBudget | None:
    """The budget, when it stopped a run shown (one that would have gone on); None otherwise.
    A run that converged or diverged before the cap is the run asked for: no notice for it."""
    budget = step_budget(sc)
    if budget.capped and any(tr.status == "max_steps" and tr.steps == budget.steps for tr in runs.values()):
        return budget
    return None


_HEAVY_GATE = threading.BoundedSemaphore(cache.HEAVY_SLOTS)
_LANE = threading.BoundedSemaphore(cache.LANE_SLOTS)
_IN_LANE = threading.local()  # .held: this thread (a session's script) holds a slot of the lane


def _holds_lane() -> bool:
    return getattr(_IN_LANE, "held", False)


def _take_lane() -> None:
    """Wait for a slot, at most ``cache.LANE_WAIT_S``; ``held`` says whether one was taken."""
    _IN_LANE.held = _LANE.acquire(timeout=cache.LANE_WAIT_S)


def _give_lane_back() -> None:
    _IN_LANE.held = False
    _LANE.release()


@contextlib.contextmanager
def lane(surface_key: tuple):
    """Where the Playground's race is drawn: ``cache.LANE_SLOTS`` pages at a time, the others
    wait their turn without holding the interpreter; one that has waited ``cache.LANE_WAIT_S``
    goes in beside them. Re-entering it from the thread that holds a slot is a no-op.

    Nothing inside should wait on anything but the CPU. So the surface (``surface_key``, as
    ``Scenario.surface`` with the values the race will use) is compiled before the wait, where a
    typed function evicted since the page drew it waits for its worker; one that fails to
    compile (busy, or wrong) skips the lane, since the race would ask the worker again; and a
    heavy page steps out while it waits for, and computes, its runs (:func:`heavy_gate`)."""
    if _holds_lane():
        yield
        return
    try:
        cache.surface(*surface_key)
    except landscapes.ExpressionError:  # said where the page draws the surface, as always
        yield
        return
    _take_lane()
    try:
        yield
    finally:
        if _holds_lane():  # not after a wait that timed out, here or in _out_of_lane
            _give_lane_back()


@contextlib.contextmanager
def _out_of_lane():
    """The block outside the lane, when this thread holds a slot: given back, then taken again
    (not when the block raised: the lane's own exit would give it back at once)."""
    if not _holds_lane():
        yield
        return
    _give_lane_back()
    yield
    _take_lane()


@contextlib.contextmanager
def heavy_gate(budget: StepBudget):
    """Where heavy runs wait for their turn (``cache.HEAVY_SLOTS`` pages at a time), out of the
    :func:`lane` meanwhile; light ones go straight on. Taken before any memo's lock, so nobody
    holds a run's lock while waiting here."""
    if budget.seconds <= cache.HEAVY_RUNS_S:
        yield
        return
    with _out_of_lane(), _HEAVY_GATE:
        yield


def compute(sc: Scenario) -> dict:
    """One cached run per selected optimizer, within the budget (:func:`budgeted`)."""
    budget = step_budget(sc)
    sc = sc if budget.steps == sc.steps else dataclasses.replace(sc, steps=budget.steps)
    with heavy_gate(budget):
        return {
            opt: cache.trajectory(
                sc.surface, opt, sc.hyper[opt], sc.start, sc.steps, sc.schedule, sc.noise, sc.seed, sc.average, sc.batch_size
            )
            for opt in sc.optimizers
        }


def fig_labels(lg: str, log: bool = False) -> dict[str, str]:
    keys = ["start", "step", "loss", "lr", "lr_factor", "minimum", "saddle", "maximum", "eigen", "effective_lr", "second", "first", "gradient_step", "actual_step"]
    labels = {k: t(f"fig.{k}", lg) for k in keys}
    labels["colorbar"] = t("fig.colorbar_log" if log else "fig.colorbar", lg)
    labels["loss_title"] = t("pg.loss_title", lg)
    return labels


def surface_labels(surface, lg: str, labels: dict[str, str]) -> dict[str, str]:
    """``labels`` with the words that depend on the surface: a data surface's loss L(w, b),
    its data panel's axes and the loss panel's title (training solid, test dotted)."""
    data = getattr(surface, "data", None)
    if data is None:
        return labels
    a, b = surface.axes
    return {
        **labels,
        "loss": f"L({a}, {b})",
        "loss_title": t("pg.loss_title_data", lg),
        "data_train": t("fig.data_train", lg),
        "data_test": t("fig.data_test", lg),
        "data_x": t(f"data.{data.x_name}", lg),
        "data_y": t(f"data.{data.y_name}", lg),
        "test_loss": t("fig.test_loss", lg),
    }


def as_runs(runs: dict, lg: str, averaged: bool = False) -> list[figures.Run]:
    out = []
    for opt, tr in runs.items():
        out.append(figures.Run(opt, t(f"opt.{opt}", lg), tr.points, tr.losses, tr.test_losses))
        if averaged and tr.averaged is not None:
            out.append(figures.Run(opt, t("fig.averaged", lg, name=t(f"opt.{opt}", lg)), tr.averaged, tr.losses))
    return out


def size() -> dict:
    """Figure sizes for the screen, or for a projector in presenter mode.

    In presenter mode the browser fits the figure to the window (``figures.path_figure``'s
    ``fit_window``): 20 px text in a 1080 px window, 16 px at least (a 720 px one), the
    contour and the loss panel sharing the height 7 : 3; ``height`` and ``loss_height``
    are that share, and the sizes where no browser lays it out (an exported file).
    """
    if not presenting():
        return {"loss_height": 240}
    fit = {"window": 1080, "min_font": 16, "min_panels": 200}
    return {"font_size": 20, "height": 700, "line_width": 5, "loss_height": 300, "fit_window": fit}


def inspect_max(runs: dict) -> int:
    """The last step the paths view's inspect slider offers: the longest run's."""
    return max(1, max(tr.steps for tr in runs.values()))


def _path_key(sc: Scenario, lg: str, overlays: dict[str, bool], inspect_step: int | None) -> tuple:
    """Everything the path figure depends on: a class moving the same slider together shares one figure."""
    flags = tuple(sorted(k for k, on in overlays.items() if on))
    at_point = {"taylor", "eigen"} & set(flags)  # the overlays drawn at the inspected step
    # The steps the runs took: a cap measured anew (another cost) is another figure.
    return (budgeted(sc).key, lg, flags, inspect_step if at_point else None, presenting())


def _path_spec(sc: Scenario, runs: dict, lg: str, flags: tuple[str, ...], inspect_step: int | None) -> dict:
    """The path figure for ``sc``'s runs with the overlays ``flags``, as a dict."""
    surface = cache.surface(*sc.surface)
    grid = cache.contour(*sc.surface)
    labels = surface_labels(surface, lg, fig_labels(lg, grid.log))
    extra = []
    if "field" in flags:
        extra.append(figures.gradient_field_trace(surface, t("fig.field", lg)))
    point = _inspected_point(sc, runs, inspect_step)
    if "taylor" in flags:
        model = landscapes.taylor_model(surface, point)
        extra.append(figures.taylor_trace(surface, model, t("fig.taylor", lg)))
    if "eigen" in flags:
        curv = landscapes.analyze(surface.hessian(point))
        extra += figures.eigen_traces(surface, point, curv, labels)
    # The loss per step is a panel of the same figure: one chart to draw per move. The frames
    # go as a recipe the browser expands (a third of the bytes); the export expands it here.
    return figures.path_figure(surface, grid, as_runs(runs, lg, sc.average != "none"), labels, start=sc.start, overlays=extra, recipe=True, **size())


# ~0.07 MB each (the benchmark link), and only the views being shown right now matter. The figure as a dict is not
# kept: it holds several times its encoded bytes, in thousands of small objects.
@cache.shared(max_bytes=cache.memo_bytes("path_payloads"), key=lambda key, *rest: key)
def _path_payloads(key, make_spec, lg: str) -> tuple[bytes, bytes]:
    """The path chart's two layers as sent, made (``make_spec()``) and encoded once for every
    session showing ``key``'s figure."""
    texts = {"label": t("pg.chart_label", lg), "png_title": t("pg.chart_png", lg), "error_text": t("pg.chart_error", lg)}
    return payloads(make_spec(), PATH_CHART, figures.SURFACE_TRACES, True, "descent-lab.png", texts)


def _inspected_point(sc: Scenario, runs: dict, step: int | None) -> np.ndarray:
    if step is None or not runs:
        return np.asarray(sc.start, dtype=float)
    tr = next(iter(runs.values()))
    return tr.points[min(step, tr.steps)]


def readouts_html(sc: Scenario, runs: dict, lg: str, inspect_step: int | None) -> str:
    """The readouts table for ``sc``'s runs (memoized for every session showing the same view)."""
    return _readouts_table((budgeted(sc).key, lg, inspect_step), sc, runs, lg, inspect_step)


_TABLE_CSS = (
    "<style>.dl-readouts{border-collapse:collapse;width:100%;font-size:0.9em}"
    ".dl-readouts th,.dl-readouts td{text-align:left;padding:0.3rem 0.6rem;border-bottom:1px solid rgba(128,128,128,0.3)}"
    ".dl-readouts caption{text-align:left;font-weight:600;padding-bottom:0.4rem}</style>"
)


@cache.shared(max_bytes=cache.memo_bytes("readouts"), key=lambda key, *rest: key)
def _readouts_table(key, sc: Scenario, runs: dict, lg: str, inspect_step: int | None) -> str:
    """The curvature at the start, each end and the inspected step, as an HTML table (shared, like the figure).

    HTML, not a Markdown table or a dataframe: on every move the browser would
    parse the Markdown again, and a dataframe's Arrow round trip costs more than
    the rest of this panel.
    """
    surface = cache.surface(*sc.surface)
    places = [(t("pg.readout.start", lg), np.asarray(sc.start, dtype=float))]
    if getattr(surface, "data", None) is not None:  # a model's loss: how round it is at its optimum
        places += [(t("pg.readout.minimum", lg), m) for m in surface.minima]
    for opt, tr in runs.items():
        places.append((t("pg.readout.end", lg, name=t(f"opt.{opt}", lg)), tr.points[-1]))
        if inspect_step is not None:
            k = min(inspect_step, tr.steps)
            places.append((t("pg.readout.step", lg, name=t(f"opt.{opt}", lg), step=k), tr.points[k]))
    pts = np.array([p for _, p in places])
    curv = landscapes.analyze(surface.hessian(pts))
    head = "".join(f"<th>{escape(t(f'pg.readout.{k}', lg))}</th>" for k in ("where", "point", "eigenvalues", "det", "cond", "kind"))
    rows = []
    for i, (where, p) in enumerate(places):
        lo, hi = curv.eigenvalues[i]
        cells = [where, f"({p[0]:.4g}, {p[1]:.4g})", f"{lo:.4g}, {hi:.4g}", f"{curv.determinant[i]:.4g}", f"{curv.condition[i]:.4g}", t(f"kind.{curv.kind[i]}", lg)]
        rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    caption = f"<caption>{escape(t('pg.readouts', lg))}</caption>"
    return f"{_TABLE_CSS}<table class='dl-readouts'>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def path_chart(sc: Scenario, runs: dict, lg: str, overlays: dict[str, bool], inspect_step: int | None):
    """``(make_spec, layers)``: the path figure's maker (a function of no arguments returning the
    figure as a dict: the exported file's) and its two layers as sent (shared by every session
    showing the same view; the figure is made only when they are not kept)."""
    key = _path_key(sc, lg, overlays, inspect_step)
    make_spec = functools.partial(_path_spec, sc, runs, lg, key[2], inspect_step)
    return make_spec, _path_payloads(key, make_spec, lg)


def schedule_image(schedule: S.ScheduleSetting, steps: int, lg: str) -> str:
    """The sidebar's plot of ``schedule``'s factor over ``steps`` steps (an SVG image)."""
    return figures.schedule_image(cache.schedule_factors(schedule, steps), fig_labels(lg), t("pg.schedule_title", lg))


def surface_spec(sc: Scenario, runs: dict, lg: str) -> dict:
    grid = cache.contour(*sc.surface)
    surface = cache.surface(*sc.surface)
    return figures.surface_figure(grid, as_runs(runs, lg), surface_labels(surface, lg, fig_labels(lg, grid.log)), axes=surface.axes)


def inside_specs(sc: Scenario, runs: dict, lg: str, step: int) -> tuple[dict, dict]:
    """The inside view's two figures: the paths with each rule's arrows at ``step``, and the internals."""
    surface = cache.surface(*sc.surface)
    grid = cache.contour(*sc.surface)
    labels = {**surface_labels(surface, lg, fig_labels(lg, grid.log)), **{k: t(f"fig.{k}", lg) for k in figures.INSIDE_LABELS}}
    # The runs as the figures take them (figures.curves.inside_quantities says what is plotted).
    inside = [
        {"key": opt, "label": t(f"opt.{opt}", lg), "trajectory": tr, "hyper": {**optimizers.defaults(opt), **dict(sc.hyper.get(opt, ()))}}
        for opt, tr in runs.items()
    ]
    overlays = figures.inside_overlays(inside, step, labels)
    chart = figures.path_figure(surface, grid, as_runs(runs, lg), labels, start=sc.start, overlays=overlays, max_frames=0)
    return chart, figures.internals_figure(inside, labels)


def formulas(sc: Scenario) -> dict[str, str]:
    """The LaTeX the formulas view shows: the gradient the rules see, each chosen rule with its
    settings, and the schedule's formula when the rate varies."""
    scheduled, noisy = S.is_scheduled(sc.schedule), sc.noise > 0 or sc.batch_size is not None
    out = {"gradient": gradient_rule(sc.noise, sc.batch_size)}
    out.update({opt: update_rule(opt, sc.hyper[opt], scheduled=scheduled, noisy=noisy) for opt in sc.optimizers})
    if scheduled:
        name, warmup, options = sc.schedule
        out["schedule"] = schedules.describe(name, warmup, **dict(options))
    return out
