"""The catalog surfaces: derivatives against finite differences, shapes, parameters, critical points."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

import landscapes
from reference import bowl_f, rosen_f, rosen_grad, rosen_hess

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

# Every catalog entry at its defaults, plus non-default parameter values.
CASES = [(name, {}) for name in landscapes.names()] + [
    ("bowl", {"condition": 7.0, "angle": 33.0}),
    ("rosenbrock", {"a": -1.3, "b": 37.0}),
    ("rastrigin", {"A": 3.0}),
    ("plateau", {"width": 2.5}),
]


def _ids(case):
    name, params = case
    return name + "".join(f"-{k}={v:g}" for k, v in params.items())


def _random_points(window, n, seed):
    (x0, x1), (y0, y1) = window
    rng = np.random.default_rng(seed)
    return np.stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)], axis=-1)


def _scalar_f(landscape, x, y):
    return float(landscape.f(np.array([x, y])))


def _fd_gradient(landscape, p, h=1e-5):
    x, y = p
    hx, hy = h * max(1.0, abs(x)), h * max(1.0, abs(y))
    return np.array(
        [
            (_scalar_f(landscape, x + hx, y) - _scalar_f(landscape, x - hx, y)) / (2 * hx),
            (_scalar_f(landscape, x, y + hy) - _scalar_f(landscape, x, y - hy)) / (2 * hy),
        ]
    )


def _fd_hessian(landscape, p, h=1e-5):
    x, y = p
    hx, hy = h * max(1.0, abs(x)), h * max(1.0, abs(y))
    g = lambda q: landscape.grad(np.array(q))  # noqa: E731
    col_x = (g([x + hx, y]) - g([x - hx, y])) / (2 * hx)  # d(grad)/dx = (fxx, fyx)
    col_y = (g([x, y + hy]) - g([x, y - hy])) / (2 * hy)  # d(grad)/dy = (fxy, fyy)
    return np.stack([col_x, col_y], axis=-1)


# -- derivatives ----------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_gradient_matches_central_differences(case):
    name, params = case
    surface = landscapes.get(name, **params)
    for p in _random_points(surface.window, 6, seed=len(name)):
        g = surface.grad(p)
        fd = _fd_gradient(surface, p)
        scale = 1.0 + np.abs(fd).max()
        assert np.all(np.abs(g - fd) <= 1e-6 * scale), (name, p, g, fd)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_hessian_matches_central_differences_of_gradient(case):
    name, params = case
    surface = landscapes.get(name, **params)
    for p in _random_points(surface.window, 6, seed=100 + len(name)):
        h = surface.hessian(p)
        fd = _fd_hessian(surface, p)
        scale = 1.0 + np.abs(fd).max()
        assert np.all(np.abs(h - fd) <= 1e-6 * scale), (name, p, h, fd)
        assert h[0, 1] == h[1, 0]


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_value_and_grad_agree_with_f_and_grad(case):
    name, params = case
    surface = landscapes.get(name, **params)
    pts = _random_points(surface.window, 7, seed=7)
    v, g = surface.value_and_grad(pts)
    np.testing.assert_allclose(v, surface.f(pts), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(g, surface.grad(pts), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_single_point_functions_are_bit_identical_to_the_array_ones(case):
    # The runner's single-run path evaluates on floats; its runs must equal the
    # batched ones exactly, so every value must match to the last bit.
    name, params = case
    surface = landscapes.get(name, **params)
    pts = _random_points(surface.window, 400, seed=11)
    v, g = surface.value_and_grad(pts)
    g_only = surface.grad(pts)
    for i, (x, y) in enumerate(pts.tolist()):
        fv, fx, fy = surface.value_and_grad_at(x, y)
        assert (float(fv), float(fx), float(fy)) == (v[i], g[i, 0], g[i, 1]), (name, x, y)
        gx, gy = surface.grad_at(x, y)
        assert (float(gx), float(gy)) == (g_only[i, 0], g_only[i, 1]), (name, x, y)


@pytest.mark.parametrize("text", ["x^2 + 3*y^2", "((x - y^2)^2 - 1)^2 + (x + 1)^2", "x^3 - 3*x*y^2", "sin(3*x)*cos(y) + 0.1*(x^2 + y^2)", "exp(-x^2 - y^2)", "sqrt(x^2 + y^2 + 1)", "tanh(x)*y^4 + x^(-2)"])
def test_single_point_functions_of_typed_surfaces_are_bit_identical(text):
    surface = landscapes.from_expression(text)
    pts = _random_points(((0.1, 2.0), (-2.0, 2.0)), 200, seed=5)
    v, g = surface.value_and_grad(pts)
    for i, (x, y) in enumerate(pts.tolist()):
        assert tuple(map(float, surface.value_and_grad_at(x, y))) == (v[i], g[i, 0], g[i, 1]), (text, x, y)


@pytest.mark.parametrize("name", ["rosenbrock", "himmelblau"])
def test_squares_of_sums_stay_float_operations_on_the_float_path(name):
    # Rosenbrock's (a - x)^2: as numpy.square on a float it costs a NumPy call and returns a
    # NumPy scalar; as a local times itself it is two float operations with the same bits.
    surface = landscapes.get(name)
    assert all(type(v) is float for v in surface.value_and_grad_at(0.3, -0.7))
    assert all(type(v) is float for v in surface.grad_at(0.3, -0.7))


@pytest.mark.parametrize("name", landscapes.names())
@pytest.mark.parametrize("lead", [(), (5,), (3, 4)], ids=["single", "5", "3x4"])
def test_shapes_and_dtype(name, lead):
    surface = landscapes.get(name)
    pts = _random_points(surface.window, int(np.prod(lead, dtype=int)), seed=3).reshape(lead + (2,))
    f, g, h = surface.f(pts), surface.grad(pts), surface.hessian(pts)
    assert f.shape == lead and g.shape == lead + (2,) and h.shape == lead + (2, 2)
    assert f.dtype == g.dtype == h.dtype == np.float64
    # Batched values are the pointwise values (up to the last bit: NumPy's
    # scalar and array loops may round differently).
    flat = pts.reshape(-1, 2)
    for i, q in enumerate(flat):
        idx = np.unravel_index(i, lead) if lead else ()
        np.testing.assert_allclose(f[idx], surface.f(q), rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(g[idx], surface.grad(q), rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(h[idx], surface.hessian(q), rtol=1e-14, atol=1e-14)


def test_integer_input_is_evaluated_as_float64():
    surface = landscapes.get("rosenbrock")
    assert surface.f([2, 3]).dtype == np.float64
    assert float(surface.f([2, 3])) == rosen_f(2.0, 3.0)
    np.testing.assert_array_equal(surface.grad([2, 3]), rosen_grad(2.0, 3.0))


def test_points_without_a_last_axis_of_two_are_rejected():
    surface = landscapes.get("bowl")
    for bad in (np.zeros(3), np.zeros((4, 3)), np.float64(1.0)):
        with pytest.raises(ValueError, match="shape"):
            surface.f(bad)
        with pytest.raises(ValueError, match="shape"):
            surface.grad(bad)


def test_constant_hessian_entries_broadcast():
    pts = _random_points(((-2, 2), (-1, 3)), 12, seed=1).reshape(3, 4, 2)
    h = landscapes.get("rosenbrock").hessian(pts)
    assert h.shape == (3, 4, 2, 2)
    np.testing.assert_array_equal(h[..., 1, 1], np.full((3, 4), 200.0))  # 2 b
    h50 = landscapes.get("rosenbrock", b=50).hessian(pts)
    np.testing.assert_array_equal(h50[..., 1, 1], np.full((3, 4), 100.0))
    # Every entry of the saddle's Hessian is constant.
    hs = landscapes.get("saddle").hessian(pts[0])
    np.testing.assert_array_equal(hs, np.broadcast_to([[2.0, 0.0], [0.0, -2.0]], (4, 2, 2)))
    # The bowl's Hessian is constant too: R^T diag(1, c) R.
    hb = landscapes.get("bowl", condition=4.0, angle=30.0).hessian(pts)
    t = math.radians(30.0)
    c, s = math.cos(t), math.sin(t)
    expected = np.array([[c * c + 4 * s * s, c * s - 4 * s * c], [c * s - 4 * s * c, s * s + 4 * c * c]])
    np.testing.assert_allclose(hb, np.broadcast_to(expected, (3, 4, 2, 2)), rtol=1e-13, atol=1e-13)


def test_rosenbrock_values_against_closed_form():
    for a, b in [(1.0, 100.0), (0.5, 10.0), (-1.5, 200.0)]:
        surface = landscapes.get("rosenbrock", a=a, b=b)
        for x, y in [(0.0, 0.0), (1.0, 0.0), (-1.5, 2.0), (0.3, -0.7)]:
            assert float(surface.f([x, y])) == pytest.approx(rosen_f(x, y, a, b), rel=1e-14)
            np.testing.assert_allclose(surface.grad([x, y]), rosen_grad(x, y, a, b), rtol=1e-13, atol=1e-12)
            np.testing.assert_allclose(surface.hessian([x, y]), rosen_hess(x, y, a, b), rtol=1e-13, atol=1e-12)
    # Parameters change values: f(0, 0) = a^2, f(1, 0) = (a - 1)^2 + b.
    assert float(landscapes.get("rosenbrock", a=1.5).f([0, 0])) == pytest.approx(2.25)
    assert float(landscapes.get("rosenbrock", a=0.5, b=3.0).f([1, 0])) == pytest.approx(3.25)


def test_bowl_condition_and_angle_change_values():
    assert float(landscapes.get("bowl").f([1.0, 1.0])) == pytest.approx(5.5)  # (1 + 10) / 2
    assert float(landscapes.get("bowl", condition=3).f([1.0, 1.0])) == pytest.approx(2.0)
    # angle 90: u = y, v = -x, so f = (y^2 + c x^2) / 2
    b90 = landscapes.get("bowl", condition=10, angle=90)
    assert float(b90.f([1.0, 0.0])) == pytest.approx(5.0)
    assert float(b90.f([0.0, 1.0])) == pytest.approx(0.5)
    # angle 45: (1, 1) lies on the u axis, so f = |(1,1)|^2 / 2 = 1 whatever the condition
    assert float(landscapes.get("bowl", condition=50, angle=45).f([1.0, 1.0])) == pytest.approx(1.0)
    for cond, ang in [(1.0, 0.0), (7.0, 33.0), (100.0, -60.0)]:
        surface = landscapes.get("bowl", condition=cond, angle=ang)
        for x, y in [(1.0, 2.0), (-3.0, 0.5)]:
            assert float(surface.f([x, y])) == pytest.approx(bowl_f(x, y, cond, ang), rel=1e-13)


@pytest.mark.parametrize(
    "name, params, word",
    [
        ("bowl", {"condition": 0.5}, "condition"),
        ("bowl", {"condition": 101.0}, "condition"),
        ("bowl", {"angle": 91.0}, "angle"),
        ("rosenbrock", {"a": 2.5}, "a"),
        ("rosenbrock", {"b": 0.0}, "b"),
        ("rosenbrock", {"b": float("nan")}, "b"),
        ("rastrigin", {"A": -1.0}, "A"),
        ("plateau", {"width": 9.0}, "width"),
    ],
)
def test_out_of_range_parameters_raise_naming_the_parameter(name, params, word):
    with pytest.raises(ValueError, match=rf"Invalid {word} for {name}.*allowed range"):
        landscapes.get(name, **params)


def test_range_endpoints_are_allowed():
    landscapes.get("bowl", condition=1.0, angle=-90.0)
    landscapes.get("bowl", condition=100.0, angle=90.0)
    landscapes.get("rastrigin", A=0.0)


def test_unknown_parameters_and_names_raise():
    with pytest.raises(ValueError, match="Unknown parameter.*steepness"):
        landscapes.get("bowl", steepness=2.0)
    with pytest.raises(ValueError, match="Unknown parameter.*a"):
        landscapes.get("saddle", a=1.0)
    with pytest.raises(ValueError, match="Unknown landscape 'volcano'"):
        landscapes.get("volcano")
    with pytest.raises(ValueError, match="Unknown landscape"):
        landscapes.parameter_ranges("volcano")


def test_parameter_tables():
    assert landscapes.parameter_defaults("rosenbrock") == {"a": 1.0, "b": 100.0}
    assert landscapes.parameter_ranges("bowl") == {"condition": (1.0, 100.0), "angle": (-90.0, 90.0)}
    assert landscapes.parameter_defaults("saddle") == {}


@pytest.mark.parametrize("name", landscapes.names())
def test_metadata(name):
    surface = landscapes.get(name)
    assert surface.name == name
    assert set(surface.description) == {"en", "zh"}
    assert all(isinstance(v, str) and v.strip() for v in surface.description.values())
    (x0, x1), (y0, y1) = surface.window
    assert x0 < x1 and y0 < y1
    for text in (surface.latex, surface.gradient_latex, surface.hessian_latex):
        assert isinstance(text, str) and text
    start = surface.hints.get("start")
    if start is not None:
        assert x0 <= start[0] <= x1 and y0 <= start[1] <= y1


def test_latex_of_the_saddle():
    surface = landscapes.get("saddle")
    assert surface.latex == "x^{2} - y^{2}"
    assert "2 x" in surface.gradient_latex and "- 2 y" in surface.gradient_latex
    assert "matrix" in surface.hessian_latex


def test_with_params():
    surface = landscapes.get("rosenbrock").with_params(a=0.5)
    assert float(surface.f([0.0, 0.0])) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="Unknown parameter.*zeta"):
        surface.with_params(zeta=1.0)


# -- critical points --------------------------------------------------------------


@pytest.mark.parametrize("a, b", [(1.0, 100.0), (0.5, 100.0), (-1.5, 10.0)])
def test_rosenbrock_minimum_is_exact(a, b):
    surface = landscapes.get("rosenbrock", a=a, b=b)
    (cp,) = [c for c in surface.critical_points if c.kind == "minimum"]
    expected = sp.nsimplify(a), sp.nsimplify(a) ** 2
    assert cp.exact == expected
    assert cp.point == (a, a * a)
    assert cp.value == 0.0
    np.testing.assert_array_equal(surface.minima, [[a, a * a]])


@pytest.mark.parametrize("condition, angle", [(10.0, 0.0), (3.0, 30.0), (100.0, -75.0)])
def test_bowl_minimum_at_origin(condition, angle):
    surface = landscapes.get("bowl", condition=condition, angle=angle)
    kinds = [c.kind for c in surface.critical_points]
    assert kinds == ["minimum"]
    np.testing.assert_allclose(surface.minima, [[0.0, 0.0]], atol=1e-12)
    assert surface.saddles.shape == (0, 2)


def test_saddle_at_origin():
    surface = landscapes.get("saddle")
    (cp,) = surface.critical_points
    assert cp.kind == "saddle" and cp.point == (0.0, 0.0)
    info = landscapes.analyze(surface.hessian([0.0, 0.0]))
    assert info.determinant == -4.0 and info.determinant < 0
    assert info.kind == "saddle"
    np.testing.assert_array_equal(surface.saddles, [[0.0, 0.0]])
    assert surface.minima.shape == (0, 2)


def test_himmelblau_has_four_minima():
    surface = landscapes.get("himmelblau")
    minima = surface.minima
    assert minima.shape == (4, 2)
    # Published locations (Himmelblau 1972); (3, 2) is exact.
    known = np.array([[3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848126]])
    for k in known:
        assert np.min(np.linalg.norm(minima - k, axis=1)) < 1e-5
    (exact,) = [c for c in surface.critical_points if c.point == (3.0, 2.0)]
    assert exact.kind == "minimum" and exact.exact == (3, 2)
    for q in minima:
        assert float(surface.f(q)) < 1e-20
    # The one local maximum, f = 181.617
    (mx,) = [c for c in surface.critical_points if c.kind == "maximum"]
    assert mx.point == pytest.approx((-0.270845, -0.923039), abs=1e-5)
    assert mx.value == pytest.approx(181.617, abs=1e-3)


def test_beale_minimum():
    surface = landscapes.get("beale")
    found = [c for c in surface.critical_points if c.kind == "minimum"]
    assert any(c.point == (3.0, 0.5) and c.exact == (3, sp.Rational(1, 2)) for c in found)
    # f(3, 1/2) = 0 by hand: 1.5 - 3 + 1.5 = 0, 2.25 - 3 + 0.75 = 0, 2.625 - 3 + 0.375 = 0
    assert float(surface.f([3.0, 0.5])) == 0.0
    np.testing.assert_array_equal(surface.grad([3.0, 0.5]), [0.0, 0.0])


def test_monkey_saddle_origin_is_degenerate():
    surface = landscapes.get("monkey_saddle")
    (cp,) = surface.critical_points
    assert cp.point == (0.0, 0.0) and cp.kind == "degenerate"
    np.testing.assert_array_equal(surface.hessian([0.0, 0.0]), np.zeros((2, 2)))
    # Hessian of x^3 - 3 x y^2 is [[6x, -6y], [-6y, -6x]]
    np.testing.assert_allclose(surface.hessian([0.5, -2.0]), [[3.0, 12.0], [12.0, -3.0]])
    assert surface.minima.shape == (0, 2) and surface.saddles.shape == (0, 2)


@pytest.mark.parametrize("name", landscapes.names())
def test_every_reported_critical_point_has_zero_gradient_and_right_kind(name):
    surface = landscapes.get(name)
    cps = surface.critical_points
    assert cps, name
    (x0, x1), (y0, y1) = surface.window
    for c in cps:
        x, y = c.point
        assert x0 - 1e-9 <= x <= x1 + 1e-9 and y0 - 1e-9 <= y <= y1 + 1e-9
        g = surface.grad(np.array(c.point))
        assert np.linalg.norm(g) <= 1e-6 * (1 + abs(c.value))
        eig = np.linalg.eigvalsh(surface.hessian(np.array(c.point)))
        if c.kind == "minimum":
            assert eig.min() > 0
        elif c.kind == "maximum":
            assert eig.max() < 0
        elif c.kind == "saddle":
            assert eig.min() < 0 < eig.max()
        else:
            assert c.kind == "degenerate"
