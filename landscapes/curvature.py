"""What the Hessian says about a point: eigen-decomposition, classification, Taylor model.

Every function takes Hessians of shape (..., 2, 2), so one call analyses a single
point or every point of a path.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

KINDS = ("minimum", "maximum", "saddle", "degenerate")


class Curvature(NamedTuple):
    """The local curvature at one or many points (leading shape ``...``)."""

    eigenvalues: np.ndarray  # (..., 2), ascending
    eigenvectors: np.ndarray  # (..., 2, 2), column k belongs to eigenvalues[..., k]
    determinant: np.ndarray  # (...)
    condition: np.ndarray  # (...) |lambda|max / |lambda|min, inf where an eigenvalue is 0
    kind: np.ndarray  # (...) strings from KINDS


def eigen(hessian) -> tuple[np.ndarray, np.ndarray]:
    """Ascending eigenvalues and unit eigenvectors of symmetric 2x2 matrices."""
    h = np.asarray(hessian, dtype=np.float64)
    # A Hessian with an inf or NaN entry (where f overflows or is undefined) has no eigenvalues:
    # they are NaN, and it is never computed with (inf - inf would be a warning, not an answer).
    finite = np.all(np.isfinite(h), axis=(-2, -1))
    h = np.where(finite[..., None, None], h, 0.0)
    # Symmetric by construction; this guards rounding. Halved before adding: no overflow for
    # entries near the largest float (halving is exact above the subnormals: 0.5 * (h + h^T) to the bit).
    h = 0.5 * h + 0.5 * np.swapaxes(h, -1, -2)
    vals, vecs = np.linalg.eigh(h)
    vals = np.where(finite[..., None], vals, np.nan)
    return vals, vecs


def classify(hessian, tol: float = 1e-8) -> np.ndarray:
    """"minimum", "maximum", "saddle" or "degenerate" for each Hessian.

    An eigenvalue counts as zero when its magnitude is at most
    ``tol * max(1, |lambda|max)``: relative to the stronger curvature when that
    exceeds 1, and ``tol`` outright on a nearly flat patch (every curvature
    below 1), where a tiny curvature is noise, not a shape. A point with a zero
    eigenvalue is degenerate, whatever the other one says. What a student sees:
    "degenerate" only where one curvature is at least 1/tol (1e8) times weaker
    than the other, or both are below tol; the readout shows the eigenvalues.
    """
    vals, _ = eigen(hessian)
    scale = np.maximum(np.max(np.abs(vals), axis=-1), 1.0)
    zero = np.abs(vals) <= tol * scale[..., None]
    lo, hi = vals[..., 0], vals[..., 1]
    kind = np.full(lo.shape, "degenerate", dtype=object)
    kind[(lo > 0) & ~zero[..., 0]] = "minimum"
    kind[(hi < 0) & ~zero[..., 1]] = "maximum"
    kind[(lo < 0) & (hi > 0) & ~zero.any(axis=-1)] = "saddle"
    kind[~np.isfinite(lo) | ~np.isfinite(hi)] = "degenerate"
    return kind.astype(str)


def analyze(hessian, tol: float = 1e-8) -> Curvature:
    """Eigenvalues, eigenvectors, determinant, condition number and kind of each Hessian."""
    h = np.asarray(hessian, dtype=np.float64)
    vals, vecs = eigen(h)
    # Past the largest float a product is +-inf, and inf - inf is NaN: IEEE's answers, which
    # the readout shows as they are, so NumPy need not warn about them.
    with np.errstate(over="ignore", invalid="ignore"):
        det = h[..., 0, 0] * h[..., 1, 1] - h[..., 0, 1] * h[..., 1, 0]
    big = np.max(np.abs(vals), axis=-1)
    small = np.min(np.abs(vals), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cond = np.where(small > 0, big / np.where(small > 0, small, 1.0), np.inf)
    return Curvature(vals, vecs, det, cond, classify(h, tol))


class TaylorModel(NamedTuple):
    """q(p) = f0 + g.(p - center) + 1/2 (p - center)^T H (p - center)."""

    center: np.ndarray  # (2,)
    value: float
    gradient: np.ndarray  # (2,)
    hessian: np.ndarray  # (2, 2)

    def __call__(self, points) -> np.ndarray:
        d = np.asarray(points, dtype=np.float64) - self.center
        return self.value + d @ self.gradient + 0.5 * np.einsum("...i,ij,...j->...", d, self.hessian, d)

    @property
    def stationary_point(self) -> np.ndarray | None:
        """Where the model's gradient vanishes (the Newton step's target), None if H is singular."""
        det = np.linalg.det(self.hessian)
        if not np.isfinite(det) or abs(det) < 1e-12 * max(1.0, np.abs(self.hessian).max() ** 2):
            return None
        return self.center - np.linalg.solve(self.hessian, self.gradient)


def taylor_model(landscape, point) -> TaylorModel:
    """The second-order Taylor expansion of ``landscape`` at one ``point``."""
    p = np.asarray(point, dtype=np.float64).reshape(2)
    return TaylorModel(
        center=p,
        value=float(landscape.f(p)),
        gradient=landscape.grad(p),
        hessian=landscape.hessian(p),
    )
