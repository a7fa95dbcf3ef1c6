"""Loss surfaces of real models on real data: the plane is the model's two parameters.

A :class:`DataLandscape` is a :class:`~landscapes.core.Landscape` whose f is a
model's mean loss over a training split of a real dataset, with (x, y) the model's
two parameters. ``f``, ``grad`` and ``hessian`` are the exact full-batch training
loss and its derivatives, written out by hand per model (checked against sympy and
finite differences in the tests); :meth:`DataLandscape.loss` is the same loss on
any subset, and :meth:`DataLandscape.batch_value_and_grad` /
:meth:`~DataLandscape.batch_hessian` / :meth:`~DataLandscape.batch_loss` the
loss of one mini-batch per run, which is what ``optimizers.run(...,
batch_size=m)`` steps on.

The datasets ship in ``landscapes/datasets`` (sources in the README). Each has one
fixed split: the rows are shuffled by ``numpy.random.default_rng(SPLIT_SEED)``, the
first ``round(TEST_FRACTION * n)`` of that order form the test split, the rest the
training split (both kept in file order). The input x can be used ``raw``,
``centered`` (minus the training mean) or ``standardized`` (minus the training mean,
over the training standard deviation, ``ddof=0``); the targets are never scaled.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ClassVar, NamedTuple

import numpy as np
import sympy as sp

from .core import X, Y, Landscape

SCALINGS = ("raw", "centered", "standardized")
SPLIT_SEED = 0
TEST_FRACTION = 0.2
DATA_DIR = Path(__file__).parent / "datasets"

# Points per chunk when f is evaluated on a grid: a (chunk, n) temporary stays near 1 MB.
_CHUNK = 4096


@dataclass(frozen=True, eq=False)
class Data:
    """A dataset's split as one model uses it (inputs after scaling), 1-D float64 arrays."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    train_rows: np.ndarray  # row numbers in the CSV file (0 = first data row)
    test_rows: np.ndarray
    scaling: str
    shift: float  # x used = (x raw - shift) / scale
    scale: float
    x_name: str
    y_name: str

    @property
    def n_train(self) -> int:
        return len(self.x_train)

    @property
    def n_test(self) -> int:
        return len(self.x_test)


def split_rows(n: int, seed: int = SPLIT_SEED, test_fraction: float = TEST_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, test rows), each sorted: the first round(test_fraction n) of a seeded permutation are the test rows."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(test_fraction * n))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


@functools.lru_cache(maxsize=None)
def _csv(name: str) -> np.ndarray:
    return np.loadtxt(DATA_DIR / f"{name}.csv", delimiter=",", skiprows=1, dtype=np.float64)


def faithful_columns() -> tuple[np.ndarray, np.ndarray]:
    """Old Faithful: (waiting time in minutes, eruption time in minutes), all 272 rows."""
    table = _csv("faithful")
    return table[:, 1].copy(), table[:, 0].copy()


# Iris: versicolor (label 0) against virginica (label 1) on petal length. Their petal
# lengths overlap (versicolor 3.0-5.1 cm, virginica 4.5-6.9 cm), so no threshold separates
# them and the cross-entropy has a finite minimum; setosa would be separable (its loss
# keeps falling as the weights grow, with no minimum).
IRIS_CLASSES = (1, 2)
IRIS_FEATURE = 2  # column: petal length (cm)


def iris_columns() -> tuple[np.ndarray, np.ndarray]:
    """Iris versicolor (0) and virginica (1): (petal length in cm, label), 100 rows in file order."""
    table = _csv("iris")
    keep = np.isin(table[:, 4], IRIS_CLASSES)
    return table[keep, IRIS_FEATURE].copy(), (table[keep, 4] == IRIS_CLASSES[1]).astype(np.float64)


def make_data(x: np.ndarray, y: np.ndarray, scaling: str, x_name: str, y_name: str) -> Data:
    """Split (x, y) and scale x by the training split's statistics."""
    if scaling not in SCALINGS:
        raise ValueError(f"Unknown scaling {scaling!r}; choose one of: {', '.join(SCALINGS)}")
    train, test = split_rows(len(x))
    mean, sd = float(np.mean(x[train])), float(np.std(x[train]))
    shift, scale = {"raw": (0.0, 1.0), "centered": (mean, 1.0), "standardized": (mean, sd)}[scaling]
    used = (x - shift) / scale
    return Data(
        x_train=used[train], y_train=y[train], x_test=used[test], y_test=y[test],
        train_rows=train, test_rows=test, scaling=scaling, shift=shift, scale=scale,
        x_name=x_name, y_name=y_name,
    )  # fmt: skip


# ---------------------------------------------------------------------------
# Models: per-example loss and its derivatives in the two parameters (p, q).
# Each function broadcasts p, q against the data x, y.
# ---------------------------------------------------------------------------


class Model(NamedTuple):
    """A two-parameter model and its per-example loss, with exact derivatives.

    ``loss(p, q, x, y)`` is the loss of each example; ``grad`` returns its
    derivatives (d/dp, d/dq); ``hess`` its second derivatives (pp, pq, qq);
    ``predict(p, q, x)`` the model's output (for the logistic model, the
    probability of label 1). ``latex`` is the mean training loss as a formula
    in the parameters, ``per_example`` the loss of one example.
    """

    kind: str
    params: tuple[str, str]
    predict: Callable
    loss: Callable
    grad: Callable
    hess: Callable
    latex: str
    gradient_latex: str
    hessian_latex: str


def linear_mse() -> Model:
    """Linear regression, squared error: ``(w x + b - y)^2``; mean squared error over the examples."""

    def predict(w, b, x):
        return w * x + b

    def loss(w, b, x, y):
        r = w * x + b - y
        return r * r

    def grad(w, b, x, y):
        r2 = 2.0 * (w * x + b - y)
        return r2 * x, r2

    def hess(w, b, x, y):
        ones = np.ones_like(w * x)
        return 2.0 * x * x * ones, 2.0 * x * ones, 2.0 * ones

    return Model(
        "linear", ("w", "b"), predict, loss, grad, hess,
        latex=r"\frac{1}{n}\sum_{i=1}^{n}\left(w\,x_i + b - y_i\right)^2",
        gradient_latex=r"\frac{2}{n}\sum_{i=1}^{n}\left(w\,x_i + b - y_i\right)\begin{bmatrix} x_i \\ 1 \end{bmatrix}",
        hessian_latex=r"\frac{2}{n}\sum_{i=1}^{n}\begin{bmatrix} x_i^2 & x_i \\ x_i & 1 \end{bmatrix}",
    )  # fmt: skip


def _sigmoid(z):
    # sigma(z) = (1 + tanh(z/2)) / 2: finite for every z, and three operations instead of an
    # exp of -|z| per branch; where sigma is below about 1e-17 it rounds to 0 (a gradient
    # sigma - y off by less than that).
    return 0.5 + 0.5 * np.tanh(0.5 * z)


def logistic_bce() -> Model:
    """Logistic regression, binary cross-entropy: ``p = sigmoid(w x + b)``,
    loss ``-y log p - (1-y) log(1-p) = softplus(z) - y z`` with ``z = w x + b``."""

    def predict(w, b, x):
        return _sigmoid(w * x + b)

    def loss(w, b, x, y):
        z = w * x + b
        return np.logaddexp(0.0, z) - y * z

    def grad(w, b, x, y):
        e = _sigmoid(w * x + b) - y
        return e * x, e

    def hess(w, b, x, y):
        s = _sigmoid(w * x + b)
        v = s * (1.0 - s)
        return v * x * x, v * x, v

    return Model(
        "logistic", ("w", "b"), predict, loss, grad, hess,
        latex=r"\frac{1}{n}\sum_{i=1}^{n}\Big[\log\!\left(1+e^{z_i}\right) - y_i z_i\Big],\quad z_i = w\,x_i + b",
        gradient_latex=r"\frac{1}{n}\sum_{i=1}^{n}\left(\sigma(z_i) - y_i\right)\begin{bmatrix} x_i \\ 1 \end{bmatrix}",
        hessian_latex=r"\frac{1}{n}\sum_{i=1}^{n}\sigma(z_i)\left(1-\sigma(z_i)\right)\begin{bmatrix} x_i^2 & x_i \\ x_i & 1 \end{bmatrix}",
    )  # fmt: skip


def tanh_unit(c: float) -> Model:
    """One hidden tanh unit without bias and a fixed output offset: ``a tanh(b x) + c``, squared error."""

    def predict(a, b, x):
        return a * np.tanh(b * x) + c

    def loss(a, b, x, y):
        r = a * np.tanh(b * x) + c - y
        return r * r

    def grad(a, b, x, y):
        t = np.tanh(b * x)
        r2 = 2.0 * (a * t + c - y)
        return r2 * t, r2 * a * (1.0 - t * t) * x

    def hess(a, b, x, y):
        # loss = r^2: H = 2 (grad r grad r^T + r hess r), with grad r = (t, a s x), s = 1 - t^2,
        # and hess r = [[0, s x], [s x, -2 a t s x^2]].
        t = np.tanh(b * x)
        s = 1.0 - t * t
        r = a * t + c - y
        asx = a * s * x
        return 2.0 * t * t, 2.0 * (t * asx + r * s * x), 2.0 * (asx * asx - 2.0 * r * a * t * s * x * x)

    return Model(
        "tanh", ("a", "b"), predict, loss, grad, hess,
        latex=r"\frac{1}{n}\sum_{i=1}^{n}\left(a\tanh(b\,x_i) + c - y_i\right)^2",
        gradient_latex=r"\frac{2}{n}\sum_{i=1}^{n} r_i\begin{bmatrix} t_i \\ a\,(1-t_i^2)\,x_i \end{bmatrix},\quad t_i = \tanh(b\,x_i),\ r_i = a\,t_i + c - y_i",
        hessian_latex=r"\frac{2}{n}\sum_{i=1}^{n}\begin{bmatrix} t_i^2 & (a t_i + r_i)(1-t_i^2)\,x_i \\ (a t_i + r_i)(1-t_i^2)\,x_i & a^2(1-t_i^2)^2x_i^2 - 2 r_i a t_i (1-t_i^2)\,x_i^2 \end{bmatrix}",
    )  # fmt: skip


# ---------------------------------------------------------------------------
# The landscape
# ---------------------------------------------------------------------------


def _columns(points) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    p = np.asarray(points, dtype=np.float64)
    if p.shape[-1:] != (2,):
        raise ValueError(f"points must have shape (..., 2), got {p.shape}")
    return p[..., 0], p[..., 1], p.shape[:-1]


@dataclass(frozen=True, eq=False)
class DataLandscape(Landscape):
    """A model's mean training loss on a dataset, as a surface over its two parameters.

    ``data`` holds the split as used (after scaling), ``model`` the per-example loss
    and its derivatives. ``f``, ``grad``, ``hessian`` are the full-batch mean over
    the training split; :meth:`loss` is the mean over any examples you pass.
    """

    data: Data = None  # type: ignore[assignment]
    model: Model = None  # type: ignore[assignment]
    scaling: str = "standardized"
    axes: tuple[str, str] = ("w", "b")
    symbolic: ClassVar[bool] = False  # no exact critical-point search: f is a sum over data
    # Each Newton start evaluates every example: 15 x 15 starts find the tanh unit's saddle and
    # both minima (and the convex models' one minimum) in a tenth of the 31 x 31 search's time.
    critical_grid: ClassVar[int] = 15

    def __post_init__(self) -> None:  # the expression is only a name; f is computed from the data
        pass

    # -- any subset ---------------------------------------------------------
    def loss(self, points, x, y) -> np.ndarray:
        """Mean loss over the examples (x, y) (1-D arrays) at ``points`` (..., 2) -> (...)."""
        return self._mean(self.model.loss, points, np.asarray(x, np.float64), np.asarray(y, np.float64))[0]

    def test_loss(self, points) -> np.ndarray:
        """Mean loss over the test split at ``points`` (..., 2) -> (...)."""
        return self.loss(points, self.data.x_test, self.data.y_test)

    def predict(self, points, x) -> np.ndarray:
        """The model's output at ``points`` (..., 2) for inputs ``x`` (n,) -> (..., n)."""
        p, q, _ = _columns(points)
        return self.model.predict(p[..., None], q[..., None], np.asarray(x, np.float64))

    def _mean(self, fn, points, x, y) -> tuple[np.ndarray, ...]:
        """Mean over the examples of each output of ``fn``, in chunks of points."""
        p, q, shape = _columns(points)
        p, q = p.reshape(-1), q.reshape(-1)
        parts = []
        for lo in range(0, max(len(p), 1), _CHUNK):
            out = fn(p[lo : lo + _CHUNK, None], q[lo : lo + _CHUNK, None], x, y)
            out = out if isinstance(out, tuple) else (out,)
            parts.append([np.broadcast_to(o, (len(p[lo : lo + _CHUNK]), len(x))).mean(axis=-1) for o in out])
        return tuple(np.concatenate(col).reshape(shape) for col in zip(*parts))

    # -- the full-batch training loss -----------------------------------------
    @functools.cached_property
    def _groups(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """The training set by distinct input: (x values, mean target at each, share of examples, offset).

        Exact, and several times fewer evaluations (Old Faithful's waiting times are whole
        minutes, iris's petal lengths millimetres): both losses are at most quadratic in the
        target y, so the examples sharing an x sum to their count times the loss at their mean
        target, plus, for a squared error, their spread around it (a constant ``offset``, which
        moves f but not its derivatives). Cross-entropy is linear in y: no offset.
        """
        x, y = self.data.x_train, self.data.y_train
        xu, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
        ybar = np.bincount(inverse, weights=y) / counts
        spread = y - ybar[inverse]
        offset = float(np.mean(spread * spread)) if self.model.kind != "logistic" else 0.0
        return xu, ybar, counts / len(x), offset

    def _weighted(self, fn, points) -> tuple[np.ndarray, ...]:
        """Each output of ``fn`` averaged over the training set through :attr:`_groups`, in chunks of points."""
        xu, ybar, share, _ = self._groups
        p, q, shape = _columns(points)
        p, q = p.reshape(-1), q.reshape(-1)
        parts = []
        for lo in range(0, max(len(p), 1), _CHUNK):
            out = fn(p[lo : lo + _CHUNK, None], q[lo : lo + _CHUNK, None], xu, ybar)
            # A row-wise sum, not a matrix product: BLAS may round a row differently with other
            # rows beside it, and a run of a batch must equal the same run alone, bit for bit.
            parts.append([np.add.reduce(o * share, axis=-1) for o in out])
        return tuple(np.concatenate(col).reshape(shape) for col in zip(*parts))

    def _value_and_parts(self, p, q, x, y):
        return (self.model.loss(p, q, x, y), *self.model.grad(p, q, x, y))

    @functools.cached_property
    def _moments(self) -> tuple[float, ...]:
        # The squared error of a linear model is a quadratic in (w, b): its sufficient
        # statistics give f, gradient and Hessian exactly, at any number of points at once.
        x, y = self.data.x_train, self.data.y_train
        return float(np.mean(x * x)), float(np.mean(x)), float(np.mean(x * y)), float(np.mean(y)), float(np.mean(y * y))

    def f(self, points) -> np.ndarray:
        if self.model.kind == "linear":
            w, b, _ = _columns(points)
            sxx, sx, sxy, sy, syy = self._moments
            return w * w * sxx + 2.0 * w * b * sx + b * b - 2.0 * w * sxy - 2.0 * b * sy + syy
        return self._weighted(lambda *a: (self.model.loss(*a),), points)[0] + self._groups[3]

    def grad(self, points) -> np.ndarray:
        if self.model.kind == "linear":
            w, b, shape = _columns(points)
            sxx, sx, sxy, sy, _ = self._moments
            out = np.empty(shape + (2,))
            out[..., 0] = 2.0 * (w * sxx + b * sx - sxy)
            out[..., 1] = 2.0 * (w * sx + b - sy)
            return out
        gp, gq = self._weighted(self.model.grad, points)
        return np.stack([gp, gq], axis=-1)

    def value_and_grad(self, points) -> tuple[np.ndarray, np.ndarray]:
        if self.model.kind == "linear":
            return np.asarray(self.f(points), dtype=np.float64), self.grad(points)
        v, gp, gq = self._weighted(self._value_and_parts, points)  # one pass shares the model's work
        return v + self._groups[3], np.stack([gp, gq], axis=-1)

    def value_and_grad_at(self, x: float, y: float) -> tuple[float, float, float]:
        v, g = self.value_and_grad(np.array([[x, y]], dtype=np.float64))
        return float(v[0]), float(g[0, 0]), float(g[0, 1])

    def grad_at(self, x: float, y: float) -> tuple[float, float]:
        g = self.grad(np.array([[x, y]], dtype=np.float64))
        return float(g[0, 0]), float(g[0, 1])

    def float_functions(self):
        return self.value_and_grad_at, self.grad_at, ()

    def inlinable_functions(self) -> None:
        """None: the float functions above call NumPy on the data; there is no generated body to inline."""
        return None

    def hessian(self, points) -> np.ndarray:
        _, _, shape = _columns(points)
        if self.model.kind == "linear":
            sxx, sx, _, _, _ = self._moments
            out = np.empty(shape + (2, 2))
            out[..., 0, 0], out[..., 0, 1], out[..., 1, 0], out[..., 1, 1] = 2.0 * sxx, 2.0 * sx, 2.0 * sx, 2.0
            return out
        hpp, hpq, hqq = self._weighted(self.model.hess, points)
        return _matrix(hpp, hpq, hqq)

    # -- one mini-batch per run ---------------------------------------------------
    # ``points`` is (B, ..., 2) and ``index`` (B, m) or (1, m): run b's batch is
    # training examples index[b] (all runs share one batch when index has one row).
    def _batch(self, points, index):
        p, q, shape = _columns(points)
        index = np.asarray(index)
        lead = (index.shape[0],) + (1,) * (len(shape) - 1)
        x = self.data.x_train[index].reshape(lead + index.shape[1:])
        y = self.data.y_train[index].reshape(lead + index.shape[1:])
        return p[..., None], q[..., None], x, y

    def batch_loss(self, points, index) -> np.ndarray:
        """Each run's mean loss over its batch: ``points`` (B, ..., 2), ``index`` (B or 1, m) -> (B, ...)."""
        p, q, x, y = self._batch(points, index)
        return self.model.loss(p, q, x, y).mean(axis=-1)

    def _batch_moments(self, index) -> tuple[np.ndarray, ...]:
        # Each batch's (mean x^2, mean x, mean x y, mean y), as (B or 1, 1) columns.
        x, y = self.data.x_train[index], self.data.y_train[index]
        m = x.shape[-1]
        add = np.add.reduce  # ndarray.mean's bookkeeping costs more than the sum of a few numbers
        return add(x * x, axis=-1) / m, add(x, axis=-1) / m, add(x * y, axis=-1) / m, add(y, axis=-1) / m

    def batch_value_and_grad(self, points, index) -> tuple[np.ndarray, np.ndarray]:
        """Each run's batch loss and its gradient at ``points`` (B, 2) -> (B,), (B, 2)."""
        return self.batch_loss(points, index), self.batch_grad(points, index)

    def batch_grad(self, points, index) -> np.ndarray:
        """Each run's gradient of its batch loss at ``points`` (B, 2) -> (B, 2)."""
        out = np.empty(np.shape(points))
        if self.model.kind == "linear":  # the batch's moments: O(m) per batch, not per run
            w, b, _ = _columns(points)
            sxx, sx, sxy, sy = self._batch_moments(index)
            out[..., 0] = 2.0 * (w * sxx + b * sx - sxy)
            out[..., 1] = 2.0 * (w * sx + b - sy)
            return out
        p, q, x, y = self._batch(points, index)
        gp, gq = self.model.grad(p, q, x, y)
        out[..., 0], out[..., 1] = gp.mean(axis=-1), gq.mean(axis=-1)
        return out

    def batch_hessian(self, points, index) -> np.ndarray:
        """Each run's Hessian of its batch loss at ``points`` (B, 2) -> (B, 2, 2)."""
        p, q, x, y = self._batch(points, index)
        shape = np.shape(points)[:-1] + (x.shape[-1],)
        hpp, hpq, hqq = (np.broadcast_to(h, shape).mean(axis=-1) for h in self.model.hess(p, q, x, y))
        return _matrix(hpp, hpq, hqq)

    # -- text -------------------------------------------------------------------
    @property
    def latex(self) -> str:
        return self.model.latex

    @property
    def gradient_latex(self) -> str:
        return self.model.gradient_latex

    @property
    def hessian_latex(self) -> str:
        return self.model.hessian_latex

    def with_params(self, **params: float) -> "DataLandscape":
        if params:
            raise ValueError(f"{self.name} has no surface parameters (its input scaling is set by scaling=...)")
        return self

    @functools.cached_property
    def _key(self) -> tuple:
        return (self.name, self.scaling, self.window)


def _matrix(hpp, hpq, hqq) -> np.ndarray:
    hpp = np.asarray(hpp, dtype=np.float64)
    out = np.empty(hpp.shape + (2, 2))
    out[..., 0, 0], out[..., 0, 1], out[..., 1, 0], out[..., 1, 1] = hpp, hpq, hpq, hqq
    return out


# ---------------------------------------------------------------------------
# The three data surfaces
# ---------------------------------------------------------------------------


class DataSpec(NamedTuple):
    """How to build one data landscape: its columns, model and per-scaling view windows."""

    columns: Callable[[], tuple[np.ndarray, np.ndarray]]
    model: Callable[[Data], Model]
    axes: tuple[str, str]
    x_name: str
    y_name: str
    windows: dict  # scaling -> window
    scalings: tuple[str, ...] = SCALINGS
    default_scaling: str = "standardized"


SPECS: dict[str, DataSpec] = {
    "faithful": DataSpec(
        columns=faithful_columns,
        model=lambda d: linear_mse(),
        axes=("w", "b"),
        x_name="waiting",
        y_name="eruptions",
        windows={
            "raw": ((-0.05, 0.2), (-8.0, 5.0)),
            "centered": ((-0.1, 0.25), (0.5, 6.5)),
            "standardized": ((-1.5, 3.0), (1.0, 6.0)),
        },
    ),
    "iris": DataSpec(
        columns=iris_columns,
        model=lambda d: logistic_bce(),
        axes=("w", "b"),
        x_name="petal_length",
        y_name="virginica",
        windows={
            "raw": ((-2.0, 16.0), (-80.0, 10.0)),
            "centered": ((-2.0, 16.0), (-6.0, 6.0)),
            "standardized": ((-2.0, 12.0), (-5.0, 5.0)),
        },
    ),
    "tanh_unit": DataSpec(
        columns=faithful_columns,
        # c is fixed at the training mean of y: the output offset is not learned.
        model=lambda d: tanh_unit(float(np.mean(d.y_train))),
        axes=("a", "b"),
        x_name="waiting",
        y_name="eruptions",
        windows={"standardized": ((-2.5, 2.5), (-2.0, 2.0))},
        scalings=("standardized",),
    ),
}


def build(name: str, scaling: str | None, **entry) -> DataLandscape:
    """The data landscape ``name`` with inputs scaled by ``scaling`` (default: the spec's)."""
    spec = SPECS[name]
    scaling = spec.default_scaling if scaling is None else scaling
    if scaling not in spec.scalings:
        raise ValueError(f"Invalid scaling for {name}: {scaling!r} (allowed: {', '.join(spec.scalings)})")
    data = _data(name, scaling)
    return DataLandscape(
        name=name,
        expr=sp.Function("L")(X, Y),  # a name only: f is computed from the data
        params={},
        window=spec.windows[scaling],
        data=data,
        model=spec.model(data),
        scaling=scaling,
        axes=spec.axes,
        **entry,
    )


@functools.lru_cache(maxsize=None)
def _data(name: str, scaling: str) -> Data:
    spec = SPECS[name]
    x, y = spec.columns()
    return make_data(x, y, scaling, spec.x_name, spec.y_name)


def condition_number(landscape: Landscape, point) -> float:
    """The Hessian's condition number |lambda|max / |lambda|min at ``point`` (inf where singular)."""
    ev = np.abs(np.linalg.eigvalsh(landscape.hessian(np.asarray(point, dtype=np.float64))))
    return float(ev.max() / ev.min()) if ev.min() > 0 else float("inf")


__all__ = [
    "SCALINGS",
    "Data",
    "DataLandscape",
    "Model",
    "SPECS",
    "build",
    "condition_number",
    "split_rows",
]
