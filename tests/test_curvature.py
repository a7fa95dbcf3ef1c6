"""Curvature analysis of 2x2 Hessians and the second-order Taylor model, against hand values."""

from __future__ import annotations

import math

import numpy as np
import pytest

import landscapes
from reference import bowl_f, bowl_grad, bowl_hess, rosen_f, rosen_grad, rosen_hess

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def _rotated(l1, l2, degrees):
    """R diag(l1, l2) R^T; column k of R = eigenvector of l_k."""
    t = math.radians(degrees)
    r = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    return r @ np.diag([l1, l2]) @ r.T, r


def _assert_same_direction(v, w):
    # Eigenvectors are defined up to sign.
    assert abs(abs(float(np.dot(v, w))) - 1.0) < 1e-12, (v, w)


def test_diagonal_matrix():
    info = landscapes.analyze(np.diag([4.0, 1.0]))
    np.testing.assert_allclose(info.eigenvalues, [1.0, 4.0])  # ascending
    _assert_same_direction(info.eigenvectors[:, 0], [0.0, 1.0])
    _assert_same_direction(info.eigenvectors[:, 1], [1.0, 0.0])
    assert info.determinant == 4.0
    assert info.condition == pytest.approx(4.0)
    assert info.kind == "minimum"


@pytest.mark.parametrize(
    "l1, l2, degrees, kind",
    [
        (-1.0, 3.0, 30.0, "saddle"),
        (0.5, 8.0, -60.0, "minimum"),
        (-5.0, -2.0, 110.0, "maximum"),
        (0.0, 2.0, 45.0, "degenerate"),
        (-3.0, 0.0, 10.0, "degenerate"),
    ],
)
def test_rotated_matrix(l1, l2, degrees, kind):
    h, r = _rotated(l1, l2, degrees)
    info = landscapes.analyze(h)
    np.testing.assert_allclose(info.eigenvalues, [l1, l2], atol=1e-12)
    _assert_same_direction(info.eigenvectors[:, 0], r[:, 0])
    _assert_same_direction(info.eigenvectors[:, 1], r[:, 1])
    for k in range(2):  # H v = lambda v, |v| = 1
        v = info.eigenvectors[:, k]
        np.testing.assert_allclose(h @ v, info.eigenvalues[k] * v, atol=1e-12)
        assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-14)
    assert info.determinant == pytest.approx(l1 * l2, abs=1e-12)
    big, small = max(abs(l1), abs(l2)), min(abs(l1), abs(l2))
    if small == 0:
        # A zero eigenvalue may come back as ~1e-16: the condition number is then inf or huge.
        assert info.condition > 1e12
    else:
        assert info.condition == pytest.approx(big / small, rel=1e-12)
    assert info.kind == kind
    assert landscapes.classify(h) == kind


def test_exact_zero_eigenvalue_has_infinite_condition():
    info = landscapes.analyze(np.diag([0.0, 2.0]))
    assert info.condition == np.inf
    assert info.kind == "degenerate"
    zero = landscapes.analyze(np.zeros((2, 2)))
    assert zero.kind == "degenerate" and zero.determinant == 0.0
    np.testing.assert_array_equal(zero.eigenvalues, [0.0, 0.0])


def test_condition_uses_magnitudes():
    info = landscapes.analyze(np.diag([-4.0, 2.0]))
    assert info.condition == pytest.approx(2.0)
    assert info.determinant == -8.0


def test_tiny_relative_eigenvalue_counts_as_zero():
    assert landscapes.classify(np.diag([1e-12, 5.0])) == "degenerate"
    assert landscapes.classify(np.diag([-1e-12, 5.0])) == "degenerate"
    assert landscapes.classify(np.diag([1e-6, 5.0])) == "minimum"
    assert landscapes.classify(np.diag([1e-6, 5.0]), tol=1e-3) == "degenerate"


def test_non_finite_hessian_is_degenerate():
    h = np.array([[np.nan, 0.0], [0.0, 1.0]])
    assert landscapes.classify(h) == "degenerate"
    assert landscapes.classify(np.array([[np.inf, 0.0], [0.0, 1.0]])) == "degenerate"


def test_batched_shapes_and_values():
    rng = np.random.default_rng(0)
    lam = rng.uniform(-5, 5, size=(3, 4, 2))
    ang = rng.uniform(-180, 180, size=(3, 4))
    hs = np.empty((3, 4, 2, 2))
    for i in range(3):
        for j in range(4):
            hs[i, j], _ = _rotated(lam[i, j, 0], lam[i, j, 1], ang[i, j])
    info = landscapes.analyze(hs)
    assert info.eigenvalues.shape == (3, 4, 2)
    assert info.eigenvectors.shape == (3, 4, 2, 2)
    assert info.determinant.shape == (3, 4)
    assert info.condition.shape == (3, 4)
    assert info.kind.shape == (3, 4)
    assert landscapes.classify(hs).shape == (3, 4)
    np.testing.assert_allclose(info.eigenvalues, np.sort(lam, axis=-1), atol=1e-12)
    np.testing.assert_allclose(info.determinant, lam[..., 0] * lam[..., 1], atol=1e-12)
    absl = np.abs(lam)
    np.testing.assert_allclose(info.condition, absl.max(-1) / absl.min(-1), rtol=1e-9)
    for i in range(3):
        for j in range(4):
            lo, hi = sorted(lam[i, j])
            expected = "minimum" if lo > 0 else "maximum" if hi < 0 else "saddle"
            assert info.kind[i, j] == expected
            single = landscapes.analyze(hs[i, j])
            assert single.kind == info.kind[i, j]
            np.testing.assert_allclose(single.eigenvalues, info.eigenvalues[i, j], atol=1e-14)


def test_hessians_of_a_path_in_one_call():
    surface = landscapes.get("rosenbrock")
    path = np.array([[-1.5, 2.0], [0.0, 0.0], [1.0, 1.0], [0.0, 0.005]])
    info = landscapes.analyze(surface.hessian(path))
    for k, (x, y) in enumerate(path):
        h = rosen_hess(x, y)
        assert info.determinant[k] == pytest.approx(np.linalg.det(h), rel=1e-9, abs=1e-9)
    # det = 4b + 8 b^2 (x^2 - y) by hand: 400 at the origin, 0 at (0, 1/(2b))
    assert info.determinant[1] == pytest.approx(400.0)
    assert info.determinant[3] == pytest.approx(0.0, abs=1e-9)
    assert list(info.kind[:3]) == ["minimum", "minimum", "minimum"]
    assert info.kind[3] == "degenerate"


# -- Taylor model -----------------------------------------------------------------


def test_taylor_model_is_exact_for_a_quadratic():
    surface = landscapes.get("bowl", condition=5.0, angle=30.0)
    p = np.array([1.3, -0.7])
    model = landscapes.taylor_model(surface, p)
    np.testing.assert_array_equal(model.center, p)
    assert model.value == pytest.approx(bowl_f(1.3, -0.7, 5.0, 30.0), rel=1e-14)
    np.testing.assert_allclose(model.gradient, bowl_grad(1.3, -0.7, 5.0, 30.0), rtol=1e-13)
    np.testing.assert_allclose(model.hessian, bowl_hess(5.0, 30.0), rtol=1e-13, atol=1e-14)
    rng = np.random.default_rng(1)
    q = rng.uniform(-4, 4, size=(6, 2))
    expected = np.array([bowl_f(a, b, 5.0, 30.0) for a, b in q])
    np.testing.assert_allclose(model(q), expected, rtol=1e-12, atol=1e-12)
    assert model(q).shape == (6,)
    np.testing.assert_allclose(model.stationary_point, [0.0, 0.0], atol=1e-12)


def test_taylor_model_of_rosenbrock_against_hand_expansion():
    surface = landscapes.get("rosenbrock")
    x, y = -0.5, 0.8
    model = landscapes.taylor_model(surface, (x, y))
    g = np.array(rosen_grad(x, y))
    h = rosen_hess(x, y)
    assert model.value == pytest.approx(rosen_f(x, y), rel=1e-14)
    d = np.array([0.01, -0.02])
    q = rosen_f(x, y) + g @ d + 0.5 * d @ h @ d
    assert float(model(np.array([x, y]) + d)) == pytest.approx(q, rel=1e-12)
    # Agrees with f to third order near the center.
    for eps in (1e-2, 1e-3):
        e = eps * np.array([0.6, 0.8])
        assert abs(float(model(np.array([x, y]) + e)) - rosen_f(x + e[0], y + e[1])) < 1e3 * eps**3
    # Stationary point = Newton target p - H^-1 g, solved by hand (Cramer's rule).
    det = h[0, 0] * h[1, 1] - h[0, 1] * h[1, 0]
    step = np.array([h[1, 1] * g[0] - h[0, 1] * g[1], h[0, 0] * g[1] - h[1, 0] * g[0]]) / det
    np.testing.assert_allclose(model.stationary_point, [x, y] - step, rtol=1e-12)


def test_saddle_model_stationary_point_is_the_saddle():
    model = landscapes.taylor_model(landscapes.get("saddle"), [1.0, 1.0])
    np.testing.assert_allclose(model.stationary_point, [0.0, 0.0], atol=1e-15)


def test_singular_model_has_no_stationary_point():
    model = landscapes.taylor_model(landscapes.get("monkey_saddle"), [0.0, 0.0])
    assert model.stationary_point is None
    # Rosenbrock's Hessian is singular on y = x^2 + 1/(2b).
    model = landscapes.taylor_model(landscapes.get("rosenbrock"), [0.0, 0.005])
    assert model.stationary_point is None


def test_zero_threshold_is_tol_times_max_of_one_and_the_largest_magnitude():
    # Issue 13 point 12: the docstring and the code agree on tol * max(1, |lambda|max).
    # diag(3e-9, 0.2): relative to 0.2 alone (tol * 0.2 = 2e-9) 3e-9 would count as
    # a curvature (a minimum); against max(1, 0.2) = 1 it is below 1e-8: degenerate.
    from landscapes.curvature import classify

    assert classify(np.diag([3e-9, 0.2])) == "degenerate"
    # Above 1 the threshold is relative: 5e-8 against 10 (threshold 1e-7) is zero, against 2 (2e-8) it is not.
    assert classify(np.diag([5e-8, 10.0])) == "degenerate"
    assert classify(np.diag([5e-8, 2.0])) == "minimum"
    assert "max(1, |lambda|max)" in classify.__doc__
