"""Basins of attraction (the start as a sweep axis, the ``basin`` metric) and success over seeds.

Expected ends come from outside the code under test: Himmelblau's four minima as published
(Himmelblau 1972; (3, 2) exactly), the saddle x^2 - y^2 whose stable manifold is the x axis,
runs made one at a time with ``optimizers.run``, and Wilson intervals from the literature.
"""

from __future__ import annotations

import numpy as np
import pytest

import landscapes
import optimizers
import sweep

# Himmelblau's minima, f = 0 at each (literature values, to 6 decimals).
HIMMELBLAU = {
    "NE": (3.0, 2.0),
    "NW": (-2.805118, 3.131312),
    "SW": (-3.779310, -3.283186),
    "SE": (3.584428, -1.848126),
}


def minimum_index(result, point) -> int:
    """The index in ``result.minima`` of the minimum at ``point`` (the minima's order is the code's)."""
    d = np.hypot(*(np.asarray(result.minima) - point).T)
    assert d.min() < 1e-4, f"{point} is not among the minima {result.minima}"
    return int(np.argmin(d))


@pytest.mark.parametrize("corner", list(HIMMELBLAU))
def test_starts_near_each_himmelblau_minimum_end_in_its_basin(corner):
    mx, my = HIMMELBLAU[corner]
    # A 4 x 4 grid of starts within 0.4 of the minimum, plain gradient descent.
    s = sweep.run("himmelblau", "sgd", "x0", "y0", (mx - 0.4, mx + 0.4, my - 0.4, my + 0.4), n=4, steps=300, fixed={"lr": 0.01})
    assert s.starts_swept and s.basin.shape == (4, 4)
    assert np.all(s.basin == minimum_index(s, (mx, my)))
    shares = {sh.code: sh.count for sh in s.shares()}
    assert shares[minimum_index(s, (mx, my))] == 16 and sum(shares.values()) == 16


def test_a_start_on_the_saddles_stable_manifold_ends_at_the_saddle_and_one_off_it_leaves():
    # f = x^2 - y^2: on the x axis the gradient has no y part, so gradient descent slides to (0, 0);
    # any y != 0 grows by (1 + 2 lr) a step and leaves the window.
    s = sweep.run("saddle", "sgd", "x0", "y0", (1.0, 1.5, -0.5, 0.5), n=3, steps=200, fixed={"lr": 0.05})
    assert list(s.y) == [-0.5, 0.0, 0.5]
    assert np.all(s.basin[1] == sweep.SADDLE)  # y0 = 0: on the stable manifold
    assert np.all(s.basin[[0, 2]] != sweep.SADDLE)
    assert len(s.minima) == 0


def test_a_diverged_run_and_a_run_still_on_its_way_get_their_own_codes():
    bowl = landscapes.get("bowl")
    # lr 0.3 on the bowl (curvature 10 across): |1 - 3| > 1, the iterates blow up.
    blown = sweep.run("bowl", "sgd", "x0", "y0", (1.0, 2.0, 1.0, 2.0), n=2, steps=200, fixed={"lr": 0.3})
    assert np.all(blown.basin == sweep.DIVERGED)
    # Two steps of lr 1e-4 from the window's corner: nowhere near the minimum at (0, 0).
    slow = sweep.run("bowl", "sgd", "x0", "y0", (3.5, 4.0, 2.5, 3.0), n=2, steps=2, fixed={"lr": 1e-4})
    assert np.all(slow.basin == sweep.MOVING)
    assert np.allclose(bowl.minima, [[0.0, 0.0]])


def test_a_run_that_stops_outside_the_window_is_not_called_still_moving():
    # Newton on Rastrigin from (-3.76, -5.12), the window's bottom edge: the quadratic model
    # of a cosine bump sends it to a stationary point near (-5.97, -4.97), outside the window
    # [-5.12, 5.12]^2, where it converges in a few steps.
    s = sweep.run("rastrigin", "newton", "x0", "y0", (-3.76, -3.75, -5.12, -5.1), n=2, steps=50)
    single = optimizers.run(landscapes.get("rastrigin"), "newton", start=(-3.76, -5.12), steps=50)
    assert single.status == "converged" and single.points[-1][0] < -5.12
    assert (s.x[0], s.y[0], s.status[0, 0]) == (-3.76, -5.12, "converged")
    assert s.basin[0, 0] == sweep.STOPPED
    assert sweep.STOPPED in [sh.code for sh in s.shares()]


def test_an_anisotropic_window_measures_the_radius_along_each_side():
    # Old Faithful, raw inputs: the window is about 0.25 wide and 13 tall. A point a twentieth
    # of the height above the minimum (0.65 in b) is within a tenth of each side: at the minimum.
    f = landscapes.get("faithful", scaling="raw")
    (x_lo, x_hi), (y_lo, y_hi) = f.window
    m = f.minima[0]
    near = m + np.array([0.0, (y_hi - y_lo) / 20])
    far = m + np.array([(x_hi - x_lo) / 5, 0.0])
    codes = sweep.basins(f, np.array([near, far]), np.array(["max_steps", "max_steps"]))
    assert codes.tolist() == [0, sweep.MOVING]


def test_the_basin_metric_agrees_with_single_runs_over_a_coarse_grid():
    s = sweep.run("six_hump_camel", "momentum", "x0", "y0", (-2.0, 2.0, -1.1, 1.1), n=6, steps=300, fixed={"lr": 0.005})
    camel = landscapes.get("six_hump_camel")
    for iy, y0 in enumerate(s.y):
        for ix, x0 in enumerate(s.x):
            t = optimizers.run(camel, "momentum", start=(x0, y0), steps=300, lr=0.005)
            end = t.final_point
            d = np.hypot(*(s.minima - end).T)
            expected = int(np.argmin(d)) if d.min() < 0.1 else None
            if expected is not None:
                assert s.basin[iy, ix] == expected, (x0, y0, end)
            else:
                assert s.basin[iy, ix] < 0, (x0, y0, end)


def test_one_start_axis_with_a_hyperparameter_on_the_other():
    s = sweep.run("himmelblau", "sgd", "lr", "x0", (1e-3, 1e-2, -4.0, 4.0), n=3, steps=400, start=(0.0, 2.0))
    camel_free = landscapes.get("himmelblau")
    for iy, x0 in enumerate(s.y):
        for ix, lr in enumerate(s.x):
            t = optimizers.run(camel_free, "sgd", start=(x0, 2.0), steps=400, lr=float(lr))
            assert s.final_loss[iy, ix] == pytest.approx(t.final_loss, rel=1e-12, abs=1e-300)


def test_start_axes_span_the_window_and_a_box_is_cut_to_it():
    assert sweep.axis_range("x0", "six_hump_camel") == (-2.0, 2.0)
    assert sweep.axis_range("y0", "six_hump_camel") == (-1.1, 1.1)
    assert "x0" in sweep.sweepable("adam", "himmelblau") and "x0" not in sweep.sweepable("adam")
    assert not sweep.is_log("x0") and not sweep.is_whole("y0")
    s = sweep.run("himmelblau", "adam", "x0", "y0", (-9.0, 9.0, -1.0, 1.0), n=2, steps=5)
    assert s.box == (-5.0, 5.0, -1.0, 1.0)
    with pytest.raises(ValueError, match="window"):
        sweep.axis_range("x0")


def test_wilson_intervals_match_published_values():
    # Newcombe (1998), Statistics in Medicine 17:857, Table I: 81/263 -> 0.2553 to 0.3662;
    # 15/148 -> 0.0624 to 0.1605; 0/20 -> 0 to 0.1611; 1/29 -> 0.0061 to 0.1718.
    for (k, n), (lo, hi) in {(81, 263): (0.2553, 0.3662), (15, 148): (0.0624, 0.1605), (0, 20): (0.0, 0.1611), (1, 29): (0.0061, 0.1718)}.items():
        a, b = sweep.wilson_interval(k, n)
        assert (round(a, 4), round(b, 4)) == (lo, hi)


def test_seed_shares_match_runs_made_one_at_a_time():
    start, noise, lr, n = (-1.1, 0.75), 1.0, 0.01, 40  # beside the saddle between a local and a global minimum
    r = sweep.seeds("six_hump_camel", "sgd", start, n=n, steps=300, noise=noise, fixed={"lr": lr})
    camel = landscapes.get("six_hump_camel")
    counts: dict[int, int] = {}
    for seed in range(n):
        t = optimizers.run(camel, "sgd", start=start, steps=300, lr=lr, noise=noise, seed=seed)
        d = np.hypot(*(r.minima - t.final_point).T)
        k = int(np.argmin(d))
        assert d[k] < 0.2, (seed, t.final_point)
        assert r.basin[seed] == k and r.final_loss[seed] == pytest.approx(t.final_loss, rel=1e-12)
        counts[k] = counts.get(k, 0) + 1
    got = {sh.code: sh.count for sh in r.shares() if sh.count}
    assert got == counts and len(counts) >= 2, "noise should send some seeds to each side of the saddle"
    assert r.reached_global().count == sum(v for k, v in counts.items() if abs(camel.f(r.minima[k]) + 1.0316) < 1e-3)


def test_without_noise_every_seed_is_the_same_run():
    r = sweep.seeds("himmelblau", "adam", (-0.5, 0.0), n=25, steps=300, fixed={"lr": 0.1})
    assert len(set(r.basin.tolist())) == 1 and np.ptp(r.final_loss) == 0.0


def test_seeds_refuses_a_count_beyond_the_bound():
    with pytest.raises(ValueError, match="seeds"):
        sweep.seeds("himmelblau", "sgd", (0.0, 0.0), n=sweep.SEEDS_MAX + 1)
