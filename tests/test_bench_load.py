"""bench.load's plan of a class: which move each session makes in each round, each session's
own link, what a surface parameter move changes, and the arguments it refuses.

No server here: the load runs themselves print figures (``python -m bench.load``).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from bench import load
from bench.wsclient import BENCHMARK_QUERY
from landscapes import catalog
from ui import settings as S

MIX = ("adam_lr", "steps", "start")


def test_mix_rotates_by_session_and_round():
    # Written out by hand: each session starts one kind further and moves on one per round.
    expected = {
        0: ["adam_lr", "steps", "start", "adam_lr"],
        1: ["steps", "start", "adam_lr", "steps"],
        2: ["start", "adam_lr", "steps", "start"],
        3: ["adam_lr", "steps", "start", "adam_lr"],
    }
    for session, kinds in expected.items():
        assert [load.move_kind(MIX, session, r) for r in range(4)] == kinds


@pytest.mark.parametrize("sessions", [3, 4, 10, 31])
def test_every_round_holds_every_kind(sessions):
    mix = ("adam_lr", "steps", "start", "p_a")[: min(4, sessions)]
    for r in range(20):
        kinds = [load.move_kind(mix, i, r) for i in range(sessions)]
        assert set(kinds) == set(mix)
        # As even as the class allows: no kind made by more than one session over another.
        counts = [kinds.count(k) for k in mix]
        assert max(counts) - min(counts) <= 1


def test_moves_per_session_counts_the_busiest_session():
    assert load.moves_per_session(MIX, "adam_lr", 20) == 7  # rounds 0, 3, ..., 18 for session 0
    assert load.moves_per_session(MIX, "start", 20) == 7  # rounds 1, 4, ..., 19 for session 1
    assert load.moves_per_session(MIX, "adam_lr", 3) == 1
    assert load.moves_per_session(("adam_lr",), "adam_lr", 15) == 15
    assert load.moves_per_session(("steps",), "adam_lr", 20) == 0


@pytest.mark.parametrize("surface", [n for n, e in catalog.CATALOG.items() if not e.is_data])
def test_own_starts_are_distinct_and_inside_the_window(surface):
    (xlo, xhi), (ylo, yhi) = catalog.CATALOG[surface].window
    starts = [load.own_start(i, surface) for i in range(load.MAX_SESSIONS)]
    assert len(set(starts)) == load.MAX_SESSIONS
    assert starts == [load.own_start(i, surface) for i in range(load.MAX_SESSIONS)]  # the same every run
    for x, y in starts:
        assert (round(x, 3), round(y, 3)) == (x, y)  # what the start's inputs show (format %.3f)
        # Inside the window, also after every ``start`` move the most rounds allow (+0.01 each).
        assert xlo < x and x + load.MAX_INTERACTIONS * load.START_MOVE < xhi
        assert ylo < y < yhi


def test_session_links():
    base = dict(parse_qsl(BENCHMARK_QUERY, keep_blank_values=True))
    same = load.session_query(BENCHMARK_QUERY, 5)
    assert parse_qsl(same) == parse_qsl(BENCHMARK_QUERY)  # without --vary: the benchmark link itself

    own = dict(parse_qsl(load.session_query(BENCHMARK_QUERY, 5, vary=True)))
    assert (float(own["x0"]), float(own["y0"])) == load.own_start(5, "rosenbrock")
    assert {k: v for k, v in own.items() if k not in ("x0", "y0")} == base

    surfaces = ("rosenbrock", "himmelblau")
    links = [dict(parse_qsl(load.session_query(BENCHMARK_QUERY, i, surfaces, vary=True))) for i in range(4)]
    assert [q["landscape"] for q in links] == ["rosenbrock", "himmelblau", "rosenbrock", "himmelblau"]
    assert (float(links[3]["x0"]), float(links[3]["y0"])) == load.own_start(3, "himmelblau")
    assert all(q["steps"] == "1000" and q["optimizers"] for q in links)

    plan = load.app_plan(4, MIX, BENCHMARK_QUERY, surfaces, vary=True)
    assert [plan.surface(i) for i in range(4)] == ["rosenbrock", "himmelblau"] * 2
    # One warm-up per surface, on its plain link: no session's own start is computed before it opens.
    assert [dict(parse_qsl(q)) for q in plan.warm] == [dict(base, landscape=s) for s in surfaces]


def test_surface_parameter_moves_toward_the_wider_side():
    assert load.surface_parameter("rosenbrock") == ("p_a", -1)  # a = 1 in [-1.5, 1.5]
    assert load.surface_parameter("rastrigin") == ("p_A", 1)  # A = 10 in [0, 20]: as much room each way, up
    assert load.surface_parameter("bowl") == ("p_condition", 1)  # no a: condition = 10 in [1, 100]
    assert load.surface_parameter("plateau") == ("p_width", 1)  # width = 4 in [1, 8]
    assert load.surface_parameter("himmelblau") is None


def refused(argv: list[str], capsys) -> str:
    ap = load.parser()
    with pytest.raises(SystemExit) as stop:
        load.check_args(ap, ap.parse_args(argv))
    assert stop.value.code == 2
    return capsys.readouterr().err


def accepted(argv: list[str]) -> None:
    ap = load.parser()
    load.check_args(ap, ap.parse_args(argv))


def test_arguments_refused(capsys):
    assert "known: adam_lr, steps, start, p_a" in refused(["--widget", "adam_lr,clicks"], capsys)
    assert "at most once" in refused(["--widget", "steps,adam_lr,steps"], capsys)
    assert "himmelblau has no parameter" in refused(["--widget", "p_a", "--surfaces", "rosenbrock,himmelblau"], capsys)
    assert "faithful has no parameter" in refused(["--scenario", "data", "--widget", "p_a"], capsys)
    assert "unknown surface 'faithful'" in refused(["--surfaces", "faithful"], capsys)
    assert "--surfaces applies to the benchmark" in refused(["--scenario", "data", "--surfaces", "bowl"], capsys)
    assert "--replicas" in refused(["--replicas", "9"], capsys)
    assert "--replicas" in refused(["--replicas", "0"], capsys)
    assert "--sessions" in refused(["--sessions", "10", "201"], capsys)
    assert "--interactions" in refused(["--interactions", "21", "--widget", "steps"], capsys)
    assert "adam_lr: 16 moves" in refused(["--interactions", "16"], capsys)


def test_adam_lr_moves_bounded_by_the_options_on_each_surface(capsys):
    # Himmelblau's Adam starts at 0.1: counted here from the options themselves.
    above = sum(o > 0.1 for o in S.LR_OPTIONS)
    assert above == 12
    accepted(["--widget", "adam_lr", "--interactions", "12", "--surfaces", "himmelblau"])
    assert "there are 12 options one way" in refused(["--widget", "adam_lr", "--interactions", "13", "--surfaces", "himmelblau"], capsys)
    # In a mix of two, 20 rounds are 10 moves of each kind per session.
    accepted(["--widget", "adam_lr,steps", "--interactions", "20", "--surfaces", "rosenbrock,himmelblau"])
    accepted(["--widget", "adam_lr,steps,start,p_a", "--interactions", "20", "--vary", "--replicas", "8"])
    accepted(["--widget", "adam_lr", "--interactions", "15"])


def test_the_default_rounds_fit_every_mix_and_surface():
    def rounds(argv):
        ap = load.parser()
        args = ap.parse_args(argv)
        load.check_args(ap, args)  # refuses what a session could not play one way
        return args.interactions

    assert rounds([]) == rounds(["--widget", "adam_lr,steps,start", "--vary", "--bare"]) == 12
    # Counted from the options: Adam's lr on the bowl has 10 options in its tighter direction.
    lr = S.default_hyperparameter("adam", "lr", "bowl")
    i = S.LR_OPTIONS.index(lr)
    assert min(i, len(S.LR_OPTIONS) - 1 - i) == 10
    assert rounds(["--surfaces", "bowl"]) == 10  # Adam's lr alone: one move per round
    assert rounds(["--surfaces", "bowl", "--widget", "adam_lr,steps"]) == 12  # 6 of the 12 rounds
    for surface in load.formula_surfaces():
        assert 1 <= rounds(["--surfaces", surface]) <= 12
    assert rounds(["--interactions", "20", "--widget", "steps"]) == 20  # what is asked, when given


def test_a_stagger_longer_than_the_deadline_is_refused(capsys):
    # 12 rounds of two pages, 40 s each: 960 s of stagger alone.
    assert "960 s, not within --deadline 900 s" in refused(["--spread", "40", "--bare"], capsys)
    accepted(["--spread", "40"])  # 480 s
    accepted(["--spread", "40", "--bare", "--deadline", "1200"])


def test_table_adds_each_kind_and_the_bare_page():
    def level(sessions, p95, bare_p95):
        r = load.LevelResult(sessions, 5, ",".join(MIX), p95=p95, p50=p95 / 2, max=p95, wall_s=10.0, rss_max_mb=300.0)
        r.kind_p95 = {"adam_lr": 0.25, "steps": 0.5, "start": p95}
        r.bare_p95, r.ratio, r.bare = bare_p95, p95 / bare_p95, {}
        return r

    out = load.table([level(10, 0.6, 0.4), level(30, 1.5, 0.5)]).splitlines()
    head = out[0].split()
    for column in ("p95", "adam_lr", "steps", "start", "bare", "ratio", "bar"):
        assert column in head
    assert out[2].split()[-2:] == ["0.40", "1.5x"]  # 10 sessions: no bar
    # 30 sessions: p95 1.5 s is within 2 s, but 3x the bare page's is not within 2x.
    assert out[3].split()[-4:] == ["1.50", "0.50", "3.0x", "MISSED"]
    assert load.table([level(30, 0.9, 0.5)]).split()[-2:] == ["1.8x", "ok"]
