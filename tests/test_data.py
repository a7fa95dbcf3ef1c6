"""The data surfaces (Old Faithful, iris, one tanh unit) and mini-batch runs on them.

Every expected value here is computed independently of the code under test: the CSVs
are read with the ``csv`` module, the split is redone from
``numpy.random.default_rng(0).permutation(n)``, and losses, gradients and Hessians are
written out per example in plain Python (``math``) or NumPy. The mini-batch stream is
reimplemented from its documented contract (one ``rng.permutation(n)`` per epoch from
``numpy.random.default_rng(seed)``, first ``(n // m) * m`` entries cut into batches).
"""

from __future__ import annotations

import csv
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import landscapes
import optimizers
from landscapes import catalog
from landscapes import data as ldata

DATASETS = Path(__file__).resolve().parent.parent / "landscapes" / "datasets"
SCALINGS = ("raw", "centered", "standardized")


# ---------------------------------------------------------------------------
# The data, read by hand
# ---------------------------------------------------------------------------


def _faithful_csv() -> tuple[list[float], list[float]]:
    """(waiting, eruptions) of all 272 rows, in file order."""
    with open(DATASETS / "faithful.csv", newline="") as fh:
        reader = csv.reader(fh)
        assert next(reader) == ["eruptions", "waiting"]
        rows = [(float(e), float(w)) for e, w in reader]
    return [w for _, w in rows], [e for e, _ in rows]


def _iris_csv() -> tuple[list[float], list[float]]:
    """(petal length, 1 for virginica / 0 for versicolor) of the 100 rows of classes 1 and 2."""
    with open(DATASETS / "iris.csv", newline="") as fh:
        reader = csv.reader(fh)
        assert next(reader) == ["150", "4", "setosa", "versicolor", "virginica"]
        rows = [r for r in reader]
    assert len(rows) == 150
    kept = [r for r in rows if r[4] in ("1", "2")]
    return [float(r[2]) for r in kept], [1.0 if r[4] == "2" else 0.0 for r in kept]


def _split(n: int) -> tuple[list[int], list[int]]:
    order = [int(i) for i in np.random.default_rng(0).permutation(n)]
    n_test = round(0.2 * n)
    return sorted(order[n_test:]), sorted(order[:n_test])


def _mean(values) -> float:
    values = list(values)
    return math.fsum(values) / len(values)


class Hand:
    """A dataset's split and scaling, by hand: plain lists of floats."""

    def __init__(self, x_all, y_all, scaling):
        self.train_rows, self.test_rows = _split(len(x_all))
        raw_train = [x_all[i] for i in self.train_rows]
        self.mean = _mean(raw_train)
        self.sd = math.sqrt(_mean((v - self.mean) ** 2 for v in raw_train))
        shift, scale = {"raw": (0.0, 1.0), "centered": (self.mean, 1.0), "standardized": (self.mean, self.sd)}[scaling]
        used = [(v - shift) / scale for v in x_all]
        self.x_train = [used[i] for i in self.train_rows]
        self.y_train = [y_all[i] for i in self.train_rows]
        self.x_test = [used[i] for i in self.test_rows]
        self.y_test = [y_all[i] for i in self.test_rows]


def faithful_hand(scaling):
    return Hand(*_faithful_csv(), scaling)


def iris_hand(scaling):
    return Hand(*_iris_csv(), scaling)


# Per-example losses and derivatives, written out by hand (p, q are the plane's two coordinates).
def mse_loss(w, b, x, y):
    return (w * x + b - y) ** 2


def mse_grad(w, b, x, y):
    r = w * x + b - y
    return 2 * r * x, 2 * r


def mse_hess(w, b, x, y):
    return 2 * x * x, 2 * x, 2.0


def _sig(z):
    return 1.0 / (1.0 + math.exp(-z))


def bce_loss(w, b, x, y):
    p = _sig(w * x + b)
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


def bce_grad(w, b, x, y):
    e = _sig(w * x + b) - y
    return e * x, e


def bce_hess(w, b, x, y):
    p = _sig(w * x + b)
    v = p * (1 - p)
    return v * x * x, v * x, v


def tanh_funcs(c):
    def loss(a, b, x, y):
        return (a * math.tanh(b * x) + c - y) ** 2

    def grad(a, b, x, y):
        t = math.tanh(b * x)
        r = a * t + c - y
        return 2 * r * t, 2 * r * a * (1 - t * t) * x

    def hess(a, b, x, y):
        # d/da (2 r t) = 2 t^2;  d/db (2 r t) = 2 (a (1-t^2) x) t + 2 r (1-t^2) x;
        # d/db (2 r a (1-t^2) x) = 2 (a (1-t^2) x)^2 + 2 r a x * (-2 t (1-t^2) x).
        t = math.tanh(b * x)
        s = 1 - t * t
        r = a * t + c - y
        return 2 * t * t, 2 * a * s * x * t + 2 * r * s * x, 2 * (a * s * x) ** 2 - 4 * r * a * t * s * x * x

    return loss, grad, hess


def mean_loss(loss, p, q, xs, ys):
    return _mean(loss(p, q, x, y) for x, y in zip(xs, ys))


def mean_grad(grad, p, q, xs, ys):
    parts = [grad(p, q, x, y) for x, y in zip(xs, ys)]
    return np.array([_mean(g[0] for g in parts), _mean(g[1] for g in parts)])


def mean_hess(hess, p, q, xs, ys):
    parts = [hess(p, q, x, y) for x, y in zip(xs, ys)]
    hpp, hpq, hqq = (_mean(h[i] for h in parts) for i in range(3))
    return np.array([[hpp, hpq], [hpq, hqq]])


def tanh_hand():
    hand = faithful_hand("standardized")
    c = _mean(hand.y_train)
    return hand, c, tanh_funcs(c)


def hand_model(name, scaling):
    """(hand split, per-example loss, grad, hess-or-None) of a data surface."""
    if name == "faithful":
        return faithful_hand(scaling), mse_loss, mse_grad, None
    if name == "iris":
        return iris_hand(scaling), bce_loss, bce_grad, bce_hess
    hand, _, (loss, grad, hess) = tanh_hand()
    return hand, loss, grad, hess


def lsq(xs, ys):
    """Least squares (w, b) by the normal equations, Cramer's rule."""
    sxx, sx, sxy, sy = _mean(x * x for x in xs), _mean(xs), _mean(x * y for x, y in zip(xs, ys)), _mean(ys)
    det = sxx - sx * sx
    return (sxy - sx * sy) / det, (sxx * sy - sx * sxy) / det


def cond_of_moments(xs):
    """Condition number of 2 [[E x^2, E x], [E x, 1]] from its closed-form eigenvalues."""
    a, b, d = 2 * _mean(x * x for x in xs), 2 * _mean(xs), 2.0
    mid, rad = (a + d) / 2, math.sqrt(((a - d) / 2) ** 2 + b * b)
    return (mid + rad) / (mid - rad)


def hand_newton(grad, hess, start, iterations=50):
    p = np.array(start, dtype=float)
    for _ in range(iterations):
        p = p - np.linalg.solve(hess(*p), grad(*p))
    return p


DATA_SURFACES = [("faithful", s) for s in SCALINGS] + [("iris", s) for s in SCALINGS] + [("tanh_unit", "standardized")]


# ---------------------------------------------------------------------------
# The datasets, the split and the scaling
# ---------------------------------------------------------------------------


def test_csvs_match_the_documented_facts():
    waiting, eruptions = _faithful_csv()
    assert len(waiting) == 272
    mean_w = _mean(waiting)
    assert mean_w == pytest.approx(70.897, abs=5e-4)
    assert math.sqrt(_mean((v - mean_w) ** 2 for v in waiting)) == pytest.approx(13.570, abs=5e-4)
    assert _mean(eruptions) == pytest.approx(3.488, abs=5e-4)
    w, b = lsq(waiting, eruptions)
    assert w == pytest.approx(0.075628, abs=5e-7) and b == pytest.approx(-1.874016, abs=5e-7)
    petal, label = _iris_csv()
    assert len(petal) == 100 and sum(label) == 50


@pytest.mark.parametrize("name, n, n_train, n_test", [("faithful", 272, 218, 54), ("iris", 100, 80, 20)])
def test_one_seeded_split_about_80_20(name, n, n_train, n_test):
    train, test = _split(n)
    assert (len(train), len(test)) == (n_train, n_test)
    for scaling in SCALINGS:
        d = landscapes.get(name, scaling=scaling).data
        assert (d.n_train, d.n_test) == (n_train, n_test)
        assert d.train_rows.tolist() == train and d.test_rows.tolist() == test
        assert set(d.train_rows.tolist()).isdisjoint(d.test_rows.tolist())
        assert sorted(d.train_rows.tolist() + d.test_rows.tolist()) == list(range(n))
        for arr in (d.x_train, d.y_train, d.x_test, d.y_test):
            assert arr.dtype == np.float64 and arr.ndim == 1


@pytest.mark.parametrize("name", ["faithful", "iris"])
@pytest.mark.parametrize("scaling", SCALINGS)
def test_inputs_are_scaled_by_training_statistics_targets_never(name, scaling):
    hand = faithful_hand(scaling) if name == "faithful" else iris_hand(scaling)
    d = landscapes.get(name, scaling=scaling).data
    np.testing.assert_allclose(d.x_train, hand.x_train, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(d.x_test, hand.x_test, rtol=1e-13, atol=1e-13)
    assert d.y_train.tolist() == hand.y_train and d.y_test.tolist() == hand.y_test
    if scaling == "raw":
        assert d.x_train.tolist() == hand.x_train  # exactly the file's numbers
    else:
        assert abs(_mean(d.x_train)) < 1e-12  # centred on the training mean...
        assert abs(_mean(d.x_test)) > 1e-3  # ...not on the test split's
    if scaling == "standardized":
        assert _mean(v * v for v in d.x_train) == pytest.approx(1.0, rel=1e-12)  # population sd 1


def test_training_statistics_of_old_faithful():
    hand = faithful_hand("standardized")
    d = landscapes.get("faithful", scaling="standardized").data
    assert d.shift == pytest.approx(hand.mean, rel=1e-14) and d.scale == pytest.approx(hand.sd, rel=1e-14)
    # Training-split statistics differ from the all-rows facts (70.897, 13.570), but not by much.
    assert hand.mean == pytest.approx(70.897, abs=1.0) and hand.mean != pytest.approx(70.897, abs=1e-3)
    assert hand.sd == pytest.approx(13.570, abs=0.5)


def test_catalog_entries_and_scaling_options():
    for name in ("faithful", "iris", "tanh_unit"):
        assert name in landscapes.names() and catalog.is_data(name)
    assert not catalog.is_data("bowl") and catalog.scalings("bowl") == ()
    assert catalog.scalings("faithful")[0] == "standardized" and set(catalog.scalings("faithful")) == set(SCALINGS)
    assert set(catalog.scalings("iris")) == set(SCALINGS)
    assert catalog.scalings("tanh_unit") == ("standardized",)
    assert catalog.hints("faithful", "raw")["start"] != catalog.hints("faithful", "standardized")["start"]
    assert catalog.hints("faithful") == catalog.hints("faithful", "standardized")
    assert landscapes.get("faithful").scaling == "standardized"


def test_scaling_errors():
    with pytest.raises(ValueError) as err:
        landscapes.get("faithful", scaling="bogus")
    for allowed in SCALINGS:
        assert allowed in str(err.value)
    assert "bogus" in str(err.value)
    for bad in ("raw", "centered"):
        with pytest.raises(ValueError, match="standardized"):
            landscapes.get("tanh_unit", scaling=bad)
    with pytest.raises(ValueError):
        landscapes.get("bowl", scaling="raw")
    assert landscapes.get("tanh_unit", scaling="standardized").scaling == "standardized"


# ---------------------------------------------------------------------------
# Old Faithful: linear regression, mean squared error
# ---------------------------------------------------------------------------

FAITHFUL_POINTS = {
    "raw": [(0.0, 0.0), (0.075, -1.9), (-0.02, 3.0), (0.15, -7.5)],
    "centered": [(0.0, 0.0), (0.07, 3.5), (-0.1, 1.0), (0.2, 6.0)],
    "standardized": [(0.0, 0.0), (1.0, 3.5), (-1.2, 5.5), (2.7, 1.3)],
}


def _grid(scaling):
    (x0, x1), (y0, y1) = landscapes.get("faithful", scaling=scaling).window
    gx, gy = np.meshgrid(np.linspace(x0, x1, 4), np.linspace(y0, y1, 3))
    return np.stack([gx, gy], axis=-1)  # (3, 4, 2)


@pytest.mark.parametrize("scaling", SCALINGS)
def test_faithful_loss_and_gradient_by_hand(scaling):
    L = landscapes.get("faithful", scaling=scaling)
    hand = faithful_hand(scaling)
    pts = FAITHFUL_POINTS[scaling]
    f = L.f(np.array(pts))
    g = L.grad(np.array(pts))
    for k, (w, b) in enumerate(pts):
        assert f[k] == pytest.approx(mean_loss(mse_loss, w, b, hand.x_train, hand.y_train), rel=1e-12)
        np.testing.assert_allclose(g[k], mean_grad(mse_grad, w, b, hand.x_train, hand.y_train), rtol=1e-11, atol=1e-11)
        v, g0, g1 = L.value_and_grad_at(w, b)
        assert v == pytest.approx(f[k], rel=1e-14) and (g0, g1) == pytest.approx(tuple(g[k]), rel=1e-14, abs=1e-14)
    # At (0, 0) the loss is the mean of y^2 over the training rows.
    assert float(L.f(np.array([0.0, 0.0]))) == pytest.approx(_mean(y * y for y in hand.y_train), rel=1e-13)

    grid = _grid(scaling)
    fg, gg, hg = L.f(grid), L.grad(grid), L.hessian(grid)
    assert fg.shape == (3, 4) and gg.shape == (3, 4, 2) and hg.shape == (3, 4, 2, 2)
    for i in range(3):
        for j in range(4):
            w, b = grid[i, j]
            assert fg[i, j] == pytest.approx(mean_loss(mse_loss, w, b, hand.x_train, hand.y_train), rel=1e-12)
            np.testing.assert_allclose(gg[i, j], mean_grad(mse_grad, w, b, hand.x_train, hand.y_train), rtol=1e-11, atol=1e-10)


@pytest.mark.parametrize("scaling", SCALINGS)
def test_faithful_hessian_is_twice_the_moment_matrix(scaling):
    L = landscapes.get("faithful", scaling=scaling)
    xs = faithful_hand(scaling).x_train
    expected = 2 * np.array([[_mean(x * x for x in xs), _mean(xs)], [_mean(xs), 1.0]])
    h = L.hessian(np.array(FAITHFUL_POINTS[scaling]))
    for k in range(len(FAITHFUL_POINTS[scaling])):
        np.testing.assert_allclose(h[k], expected, rtol=1e-12, atol=1e-12)
    if scaling == "raw":
        assert expected[0, 0] == pytest.approx(2 * (70.9**2 + 13.6**2), rel=0.03)  # 2 E x^2, ~1.04e4


@pytest.mark.parametrize("scaling", SCALINGS)
def test_faithful_minimum_is_the_least_squares_solution(scaling):
    L = landscapes.get("faithful", scaling=scaling)
    hand = faithful_hand(scaling)
    w, b = lsq(hand.x_train, hand.y_train)
    cps = L.critical_points
    assert len(cps) == 1 and cps[0].kind == "minimum"
    assert cps[0].point == pytest.approx((w, b), rel=1e-9)
    assert cps[0].value == pytest.approx(mean_loss(mse_loss, w, b, hand.x_train, hand.y_train), rel=1e-9)
    # Scaling reparametrises the same lines: one slope per raw minute, the same predictions.
    raw_w, raw_b = lsq(faithful_hand("raw").x_train, hand.y_train)
    slope = {"raw": raw_w, "centered": raw_w, "standardized": raw_w * hand.sd}[scaling]
    assert w == pytest.approx(slope, rel=1e-10)
    if scaling != "raw":
        assert b == pytest.approx(_mean(hand.y_train), rel=1e-12)
    assert raw_w == pytest.approx(0.0766, abs=5e-4) and raw_b == pytest.approx(-1.930, abs=5e-3)  # vs 0.0756, -1.874 on all rows


# README facts (all 272 rows) and the training split's values, by hand.
CONDITION_FACTS = {"raw": 1.47e5, "centered": 184.0, "standardized": 1.0}
CONDITION_TRAIN = {"raw": 1.55e5, "centered": 178.6, "standardized": 1.0}


@pytest.mark.parametrize("scaling", SCALINGS)
def test_faithful_condition_number_at_the_minimum(scaling):
    L = landscapes.get("faithful", scaling=scaling)
    waiting, _ = _faithful_csv()
    m = _mean(waiting)
    sd = math.sqrt(_mean((v - m) ** 2 for v in waiting))
    all_rows = {"raw": waiting, "centered": [v - m for v in waiting], "standardized": [(v - m) / sd for v in waiting]}[scaling]
    assert cond_of_moments(all_rows) == pytest.approx(CONDITION_FACTS[scaling], rel=5e-3)
    train = cond_of_moments(faithful_hand(scaling).x_train)
    assert train == pytest.approx(CONDITION_TRAIN[scaling], rel=5e-3)

    point = np.array(L.critical_points[0].point)
    ev = np.linalg.eigvalsh(L.hessian(point))
    got = float(ev.max() / ev.min())
    assert got == pytest.approx(train, rel=1e-6)
    assert ldata.condition_number(L, point) == pytest.approx(train, rel=1e-6)
    # Against the all-rows facts: the 218-row split moves the raw figure by 5.4%, the centred by 3%.
    assert got == pytest.approx(CONDITION_FACTS[scaling], rel=0.06)
    if scaling == "standardized":
        assert got == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("scaling", SCALINGS)
def test_loss_on_any_subset(scaling):
    L = landscapes.get("faithful", scaling=scaling)
    hand = faithful_hand(scaling)
    grid = _grid(scaling)
    xs, ys = hand.x_train[5:15], hand.y_train[5:15]
    got = L.loss(grid, np.array(xs), np.array(ys))
    assert got.shape == (3, 4)
    test = L.test_loss(grid)
    full = L.loss(grid, L.data.x_train, L.data.y_train)
    for i in range(3):
        for j in range(4):
            w, b = grid[i, j]
            assert got[i, j] == pytest.approx(mean_loss(mse_loss, w, b, xs, ys), rel=1e-12)
            assert test[i, j] == pytest.approx(mean_loss(mse_loss, w, b, hand.x_test, hand.y_test), rel=1e-12)
    np.testing.assert_allclose(full, L.f(grid), rtol=1e-11)  # per example vs sufficient statistics
    one = L.loss(np.array([1.0, 2.0]), [3.0], [4.0])
    assert np.shape(one) == () and float(one) == pytest.approx((1.0 * 3.0 + 2.0 - 4.0) ** 2)


# ---------------------------------------------------------------------------
# Iris: logistic regression, binary cross-entropy
# ---------------------------------------------------------------------------

IRIS_POINTS = {
    "raw": [(0.0, 0.0), (1.0, -5.0), (8.0, -40.0), (-0.5, 2.0)],
    "centered": [(0.0, 0.0), (3.0, 0.5), (-1.0, -2.0), (10.0, 1.0)],
    "standardized": [(0.0, 0.0), (5.0, 0.3), (-1.0, -4.0), (9.0, -2.0)],
}


@pytest.mark.parametrize("scaling", SCALINGS)
def test_iris_cross_entropy_gradient_and_hessian_by_hand(scaling):
    L = landscapes.get("iris", scaling=scaling)
    hand = iris_hand(scaling)
    pts = np.array(IRIS_POINTS[scaling])
    f, g, h = L.f(pts), L.grad(pts), L.hessian(pts)
    for k, (w, b) in enumerate(IRIS_POINTS[scaling]):
        assert f[k] == pytest.approx(mean_loss(bce_loss, w, b, hand.x_train, hand.y_train), rel=1e-11)
        np.testing.assert_allclose(g[k], mean_grad(bce_grad, w, b, hand.x_train, hand.y_train), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(h[k], mean_hess(bce_hess, w, b, hand.x_train, hand.y_train), rtol=1e-10, atol=1e-12)
    assert f[0] == pytest.approx(math.log(2), rel=1e-14)  # p = 1/2 everywhere at (0, 0)
    test = L.test_loss(pts)
    for k, (w, b) in enumerate(IRIS_POINTS[scaling]):
        assert test[k] == pytest.approx(mean_loss(bce_loss, w, b, hand.x_test, hand.y_test), rel=1e-11)


def test_iris_classes_overlap_on_petal_length():
    hand = iris_hand("raw")
    versicolor = [x for x, y in zip(hand.x_train, hand.y_train) if y == 0]
    virginica = [x for x, y in zip(hand.x_train, hand.y_train) if y == 1]
    assert len(versicolor) + len(virginica) == 80 and versicolor and virginica
    assert max(versicolor) > min(virginica)  # no threshold separates them
    petal, label = _iris_csv()
    assert max(x for x, y in zip(petal, label) if y == 0) == 5.1
    assert min(x for x, y in zip(petal, label) if y == 1) == 4.5


@pytest.mark.parametrize("scaling", SCALINGS)
def test_iris_minimum_is_finite(scaling):
    L = landscapes.get("iris", scaling=scaling)
    hand = iris_hand(scaling)
    expected = hand_newton(
        lambda w, b: mean_grad(bce_grad, w, b, hand.x_train, hand.y_train),
        lambda w, b: mean_hess(bce_hess, w, b, hand.x_train, hand.y_train),
        (0.0, 0.0),
        iterations=30,
    )
    cps = L.critical_points
    assert len(cps) == 1 and cps[0].kind == "minimum"
    point = np.array(cps[0].point)
    assert np.all(np.isfinite(point))
    np.testing.assert_allclose(point, expected, rtol=1e-7)
    assert np.linalg.norm(mean_grad(bce_grad, *point, hand.x_train, hand.y_train)) < 1e-9
    ev = np.linalg.eigvalsh(mean_hess(bce_hess, *point, hand.x_train, hand.y_train))
    assert ev[0] > 1e-5 * ev[1] > 0  # positive definite (raw petal length: condition ~1.4e4)
    # Same minimum loss in every scaling (a reparametrisation), well below log 2.
    raw = hand_newton(
        lambda w, b: mean_grad(bce_grad, w, b, iris_hand("raw").x_train, hand.y_train),
        lambda w, b: mean_hess(bce_hess, w, b, iris_hand("raw").x_train, hand.y_train),
        (0.0, 0.0),
        iterations=30,
    )
    assert cps[0].value == pytest.approx(mean_loss(bce_loss, *raw, iris_hand("raw").x_train, hand.y_train), rel=1e-9)
    assert cps[0].value < 0.5 * math.log(2)
    if scaling == "standardized":
        assert point[0] == pytest.approx(raw[0] * hand.sd, rel=1e-7)


# ---------------------------------------------------------------------------
# One tanh unit: a saddle between two mirror minima
# ---------------------------------------------------------------------------


def test_tanh_unit_loss_and_gradient_by_hand():
    L = landscapes.get("tanh_unit")
    hand, c, (loss, grad, hess) = tanh_hand()
    assert L.data.scaling == "standardized"
    np.testing.assert_allclose(L.data.x_train, hand.x_train, rtol=1e-13, atol=1e-13)
    assert c == pytest.approx(3.49, abs=0.05)
    pts = [(0.0, 0.0), (1.0, 1.0), (-1.3, 0.7), (2.0, -1.5), (0.05, -0.05)]
    f, g, h = L.f(np.array(pts)), L.grad(np.array(pts)), L.hessian(np.array(pts))
    for k, (a, b) in enumerate(pts):
        assert f[k] == pytest.approx(mean_loss(loss, a, b, hand.x_train, hand.y_train), rel=1e-12)
        np.testing.assert_allclose(g[k], mean_grad(grad, a, b, hand.x_train, hand.y_train), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(h[k], mean_hess(hess, a, b, hand.x_train, hand.y_train), rtol=1e-10, atol=1e-12)
    # At (0, 0) the prediction is c: the loss is the training variance of y.
    assert f[0] == pytest.approx(_mean((y - c) ** 2 for y in hand.y_train), rel=1e-12)


def test_tanh_unit_saddle_at_zero_and_mirror_minima():
    L = landscapes.get("tanh_unit")
    hand, c, (loss, grad, hess) = tanh_hand()
    g0 = L.grad(np.array([0.0, 0.0]))
    assert g0.tolist() == [0.0, 0.0]  # exactly
    h0 = L.hessian(np.array([0.0, 0.0]))
    # [[0, h], [h, 0]] with h = 2 mean((c - y) x): eigenvalues +-h.
    off = 2 * _mean((c - y) * x for x, y in zip(hand.x_train, hand.y_train))
    np.testing.assert_allclose(h0, [[0.0, off], [off, 0.0]], atol=1e-12)
    ev = np.linalg.eigvalsh(h0)
    assert ev[0] < -1 and ev[1] > 1 and ev[0] == pytest.approx(-ev[1], rel=1e-12)

    cps = L.critical_points
    saddles = [cp for cp in cps if cp.kind == "saddle"]
    minima = sorted((cp for cp in cps if cp.kind == "minimum"), key=lambda cp: cp.point[0])
    assert len(saddles) == 1 and saddles[0].point == pytest.approx((0.0, 0.0), abs=1e-12)
    assert len(minima) == 2
    expected = hand_newton(
        lambda a, b: mean_grad(grad, a, b, hand.x_train, hand.y_train),
        lambda a, b: mean_hess(hess, a, b, hand.x_train, hand.y_train),
        (1.5, 1.0),
        iterations=25,
    )
    assert expected[0] > 0 and expected[1] > 0
    np.testing.assert_allclose(minima[1].point, expected, rtol=1e-7)
    np.testing.assert_allclose(minima[0].point, -expected, rtol=1e-7)
    a, b = expected
    f_min = mean_loss(loss, a, b, hand.x_train, hand.y_train)
    assert float(L.f(np.array([a, b]))) == pytest.approx(float(L.f(np.array([-a, -b]))), rel=1e-14)
    assert minima[0].value == pytest.approx(f_min, rel=1e-9) and minima[1].value == pytest.approx(f_min, rel=1e-9)
    f_saddle = mean_loss(loss, 0.0, 0.0, hand.x_train, hand.y_train)
    assert f_min < 0.2 * f_saddle
    for p in (expected, -expected):
        assert np.all(np.linalg.eigvalsh(mean_hess(hess, *p, hand.x_train, hand.y_train)) > 0)


# ---------------------------------------------------------------------------
# Finite differences on every surface
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name, scaling", DATA_SURFACES)
def test_derivatives_against_finite_differences(name, scaling):
    L = landscapes.get(name, scaling=scaling)
    (x0, x1), (y0, y1) = L.window
    rng = np.random.default_rng(7)
    pts = np.stack([rng.uniform(x0, x1, 6), rng.uniform(y0, y1, 6)], axis=-1)
    hx, hy = 1e-5 * (x1 - x0), 1e-5 * (y1 - y0)
    ex, ey = np.array([hx, 0.0]), np.array([0.0, hy])
    fd_grad = np.stack([(L.f(pts + ex) - L.f(pts - ex)) / (2 * hx), (L.f(pts + ey) - L.f(pts - ey)) / (2 * hy)], -1)
    g = L.grad(pts)
    scale = np.abs(g).max() + 1.0
    np.testing.assert_allclose(g, fd_grad, atol=1e-6 * scale)
    fd_h = np.stack([(L.grad(pts + ex) - L.grad(pts - ex)) / (2 * hx), (L.grad(pts + ey) - L.grad(pts - ey)) / (2 * hy)], -2)
    h = L.hessian(pts)
    np.testing.assert_allclose(h, fd_h, atol=1e-6 * (np.abs(h).max() + 1.0))
    np.testing.assert_array_equal(h, np.swapaxes(h, -1, -2))


# ---------------------------------------------------------------------------
# Mini-batches
# ---------------------------------------------------------------------------


def hand_batches(n, m, seed, steps):
    rng = np.random.default_rng(seed)
    per_epoch = n // m
    rows = []
    while len(rows) < steps:
        perm = rng.permutation(n)[: per_epoch * m]
        rows.extend(perm.reshape(per_epoch, m).tolist())
    return np.array(rows[:steps])


@pytest.mark.parametrize(
    "name, scaling, start, lr",
    [
        ("faithful", "standardized", (-1.0, 1.5), 0.1),
        ("faithful", "raw", (0.0, -6.0), 0.00015),
        ("iris", "centered", (-1.0, -4.0), 2.0),
        ("tanh_unit", "standardized", (0.05, -0.05), 0.1),
    ],
)
def test_minibatch_sgd_and_momentum_paths_by_hand(name, scaling, start, lr):
    L = landscapes.get(name, scaling=scaling)
    hand, _, grad, _ = hand_model(name, scaling)
    steps, m = 30, 16
    for opt, mu in (("sgd", None), ("momentum", 0.8)):
        kw = {"lr": lr} if mu is None else {"lr": lr, "momentum": mu}
        t = optimizers.run(L, opt, start, steps, batch_size=m, seed=11, tol=0.0, **kw)
        assert t.steps == steps and t.batches.shape == (steps, m)
        np.testing.assert_array_equal(t.batches, hand_batches(L.data.n_train, m, 11, steps))
        p = np.array(start, dtype=float)
        v = np.zeros(2)
        for k in range(steps):
            idx = t.batches[k].tolist()
            gb = mean_grad(grad, p[0], p[1], [hand.x_train[i] for i in idx], [hand.y_train[i] for i in idx])
            if mu is None:
                p = p - lr * gb
            else:
                v = mu * v + gb
                p = p - lr * v
            np.testing.assert_allclose(t.points[k + 1], p, rtol=1e-10, atol=1e-10)
        # A batch gradient is not the full gradient: the path leaves the full-batch one.
        full = optimizers.run(L, opt, start, steps, tol=0.0, **kw)
        assert np.abs(full.points[-1] - t.points[-1]).max() > 1e-6
        assert full.batches is None


@pytest.mark.parametrize("m", [109, 2])
def test_each_epoch_is_a_permutation_when_m_divides_n(m):
    L = landscapes.get("faithful")
    n = L.data.n_train
    assert n == 218 and n % m == 0
    per_epoch = n // m
    steps = 2 * per_epoch
    t = optimizers.run(L, "sgd", (-1.0, 1.5), steps, batch_size=m, seed=4, lr=0.001, tol=0.0)
    assert t.batches.shape == (steps, m)
    epochs = t.batches.reshape(2, per_epoch * m)
    for e in range(2):
        assert sorted(epochs[e].tolist()) == list(range(n))
    assert epochs[0].tolist() != epochs[1].tolist()  # reshuffled every epoch


def test_epochs_drop_the_last_partial_batch():
    L = landscapes.get("faithful")
    t = optimizers.run(L, "sgd", (-1.0, 1.5), 39, batch_size=16, seed=9, lr=0.001, tol=0.0)
    assert 218 // 16 == 13 and t.batches.shape == (39, 16)
    for e in range(3):
        epoch = t.batches[13 * e : 13 * (e + 1)]
        for row in epoch:
            assert len(set(row.tolist())) == 16
        assert len(set(epoch.ravel().tolist())) == 208
        assert set(epoch.ravel().tolist()) <= set(range(218))
    np.testing.assert_array_equal(t.batches, hand_batches(218, 16, 9, 39))


def test_batches_follow_the_seed():
    L = landscapes.get("iris")
    runs = [optimizers.run(L, "adam", (-1.0, -4.0), 25, batch_size=8, seed=s, lr=0.1, tol=0.0) for s in (5, 5, 6)]
    np.testing.assert_array_equal(runs[0].batches, runs[1].batches)
    np.testing.assert_array_equal(runs[0].points, runs[1].points)
    assert not np.array_equal(runs[0].batches, runs[2].batches)
    assert not np.array_equal(runs[0].points, runs[2].points)
    np.testing.assert_array_equal(runs[2].batches, hand_batches(80, 8, 6, 25))
    # The stream depends on the seed alone, not the optimizer.
    sgd = optimizers.run(L, "sgd", (0.0, 0.0), 25, batch_size=8, seed=5, lr=0.1, tol=0.0)
    np.testing.assert_array_equal(sgd.batches, runs[0].batches)


@pytest.mark.parametrize("name, opt", [("faithful", "sgd"), ("iris", "momentum"), ("tanh_unit", "adam"), ("faithful", "newton")])
def test_a_run_of_a_batch_is_the_single_run_with_its_seed(name, opt):
    L = landscapes.get(name)
    starts = np.array([[-1.0, 1.5], [0.5, 2.0], [2.0, 4.0]]) if name == "faithful" else np.array([[0.3, -0.2], [-1.0, -1.0], [1.0, 0.5]])
    seeds = np.array([3, 17, 3])
    batch = optimizers.run_batch(L, opt, starts, 20, batch_size=10, seed=seeds, history=True, lr=0.05, tol=0.0)
    for i in range(3):
        single = optimizers.run(L, opt, starts[i], 20, batch_size=10, seed=int(seeds[i]), lr=0.05, tol=0.0)
        got = batch.trajectory(i)
        np.testing.assert_array_equal(got.batches, single.batches)
        np.testing.assert_array_equal(got.points, single.points)
        np.testing.assert_array_equal(got.losses, single.losses)
        np.testing.assert_array_equal(got.test_losses, single.test_losses)
    np.testing.assert_array_equal(batch.trajectory(0).batches, batch.trajectory(2).batches)
    assert not np.array_equal(batch.trajectory(0).batches, batch.trajectory(1).batches)


@pytest.mark.parametrize("opt", ["sgd", "adam", "newton", "lbfgs", "momentum", "saddle_free_newton"])
@pytest.mark.parametrize("name", ["faithful", "iris", "tanh_unit"])
def test_full_training_size_is_the_full_batch_run(opt, name):
    L = landscapes.get(name)
    hint = catalog.hints(name)
    lr = hint["hyper"].get(opt, {}).get("lr")
    kw = {} if lr is None else {"lr": lr}
    full = optimizers.run(L, opt, hint["start"], 40, **kw)
    same = optimizers.run(L, opt, hint["start"], 40, batch_size=L.data.n_train, seed=3, **kw)
    np.testing.assert_array_equal(same.points, full.points)
    np.testing.assert_array_equal(same.losses, full.losses)
    assert same.status == full.status
    assert same.batches.shape == (same.steps, L.data.n_train)
    for row in same.batches:
        assert sorted(row.tolist()) == list(range(L.data.n_train))


@pytest.mark.parametrize("name, scaling", DATA_SURFACES)
def test_test_losses_are_the_test_split_loss_at_every_point(name, scaling):
    L = landscapes.get(name, scaling=scaling)
    hand, loss, _, _ = hand_model(name, scaling)
    hint = catalog.hints(name, scaling)
    lr = hint["hyper"]["sgd"]["lr"]
    for kw in ({"batch_size": 8, "seed": 2}, {}):
        t = optimizers.run(L, "sgd", hint["start"], 12, lr=lr, tol=0.0, **kw)
        assert t.test_losses.shape == (t.steps + 1,)
        for k, (p, q) in enumerate(t.points):
            assert t.test_losses[k] == pytest.approx(mean_loss(loss, p, q, hand.x_test, hand.y_test), rel=1e-11)
            assert t.losses[k] == pytest.approx(mean_loss(loss, p, q, hand.x_train, hand.y_train), rel=1e-11)


@pytest.mark.parametrize("bad", [0, 219, 2.5, "a", True, -1, float("nan"), float("inf")])
def test_bad_batch_sizes(bad):
    L = landscapes.get("faithful")
    with pytest.raises(ValueError, match="1 to 218"):
        optimizers.run(L, "sgd", (0.0, 0.0), 5, batch_size=bad)
    with pytest.raises(ValueError, match="1 to 218"):
        optimizers.run_batch(L, "sgd", np.zeros((2, 2)), 5, batch_size=bad)


def test_batch_size_where_it_does_not_apply():
    iris = landscapes.get("iris")
    with pytest.raises(ValueError, match="1 to 80"):
        optimizers.run(iris, "sgd", (0.0, 0.0), 5, batch_size=81)
    with pytest.raises(ValueError, match="batch_size"):
        optimizers.run(landscapes.get("bowl"), "sgd", (1.0, 1.0), 5, batch_size=8)
    with pytest.raises(ValueError, match="noise"):
        optimizers.run(iris, "sgd", (0.0, 0.0), 5, batch_size=8, noise=0.1)
    # Whole numbers in other types are fine and mean the same batch size.
    a = optimizers.run(iris, "sgd", (0.0, 0.0), 5, batch_size=8, seed=1)
    for same in (8.0, np.int64(8)):
        b = optimizers.run(iris, "sgd", (0.0, 0.0), 5, batch_size=same, seed=1)
        np.testing.assert_array_equal(a.points, b.points)


@pytest.mark.parametrize("name, scaling", DATA_SURFACES)
def test_every_optimizer_runs_with_small_batches(name, scaling):
    L = landscapes.get(name, scaling=scaling)
    hint = catalog.hints(name, scaling)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for opt in optimizers.names():
            kw = dict(hint["hyper"].get(opt, {}))
            t = optimizers.run(L, opt, hint["start"], 40, batch_size=8, seed=1, **kw)
            assert t.batches.shape == (t.steps, 8), opt
            assert np.all(np.isfinite(t.losses)) and np.all(np.isfinite(t.test_losses)), opt
            assert t.status != "diverged", opt
            assert np.isfinite(t.final_loss)


def _newton_step(h, g, saddle_free=False, damping=1e-3, max_step=10.0):
    if saddle_free:
        vals, vecs = np.linalg.eigh(h)
        d = -vecs @ ((vecs.T @ g) / (np.abs(vals) + damping))
    else:
        d = -np.linalg.solve(h + damping * np.eye(2), g)
    length = math.hypot(*d)
    return d * (max_step / length) if length > max_step else d


@pytest.mark.parametrize(
    "name, scaling, start, capped",
    [
        ("iris", "standardized", (1.0, 0.0), False),
        ("iris", "standardized", (-1.0, -4.0), True),
        ("tanh_unit", "standardized", (0.3, 0.8), False),
        ("faithful", "raw", (0.0, -6.0), False),
        ("iris", "raw", (0.0, 0.0), True),
    ],
)
@pytest.mark.parametrize("opt", ["newton", "saddle_free_newton"])
def test_newton_first_step_uses_the_batch_hessian(name, scaling, start, capped, opt):
    L = landscapes.get(name, scaling=scaling)
    hand, _, grad, hess = hand_model(name, scaling)
    if hess is None:
        hess = mse_hess
    t = optimizers.run(L, opt, start, 1, batch_size=8, seed=21)
    idx = t.batches[0].tolist()
    xs, ys = [hand.x_train[i] for i in idx], [hand.y_train[i] for i in idx]
    g = mean_grad(grad, *start, xs, ys)
    h = mean_hess(hess, *start, xs, ys)
    d = _newton_step(h, g, saddle_free=opt == "saddle_free_newton")
    step = t.points[1] - np.array(start)
    np.testing.assert_allclose(step, d, rtol=1e-9, atol=1e-12)
    assert (math.hypot(*step) == pytest.approx(10.0, rel=1e-12)) == capped
    # The full batch's Hessian and gradient would have stepped elsewhere.
    full = _newton_step(
        mean_hess(hess, *start, hand.x_train, hand.y_train),
        mean_grad(grad, *start, hand.x_train, hand.y_train),
        saddle_free=opt == "saddle_free_newton",
    )
    assert np.abs(full - step).max() > 1e-3
