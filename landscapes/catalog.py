"""The built-in surfaces, each chosen for one lesson it teaches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import sympy as sp

from . import data as _data
from .core import X, Y, Landscape, Window, symbol


@dataclass(frozen=True)
class Entry:
    build: Callable[..., sp.Expr]  # parameter symbols -> expression
    defaults: dict[str, float]
    ranges: dict[str, tuple[float, float]]  # allowed values of each parameter
    window: Window
    title: dict[str, str]
    description: dict[str, str]
    log_colors: bool = False
    hints: dict = field(default_factory=dict)
    # A data surface (see landscapes.data): teaching values per input scaling; ``hints``
    # are those of the default scaling.
    scaled_hints: dict = field(default_factory=dict)

    @property
    def is_data(self) -> bool:
        return bool(self.scaled_hints)


def _bowl(condition, angle):
    # Rotate the axes of 1/2 (u^2 + condition * v^2) by `angle` degrees.
    t = angle * sp.pi / 180
    u = sp.cos(t) * X + sp.sin(t) * Y
    v = -sp.sin(t) * X + sp.cos(t) * Y
    return (u**2 + condition * v**2) / 2


def _rastrigin(A):
    return 2 * A + X**2 - A * sp.cos(2 * sp.pi * X) + Y**2 - A * sp.cos(2 * sp.pi * Y)


# Teaching values for a typed function (nothing is known about it: moderate rates).
TYPED_HINTS = {"hyper": {"sgd": {"lr": 0.05}, "momentum": {"lr": 0.02}, "nesterov": {"lr": 0.02}, "adagrad": {"lr": 0.3}, "rmsprop": {"lr": 0.02}, "adam": {"lr": 0.05}}}

# Each surface's teaching values live in its hints: the start, the steps, and per optimizer
# the hyperparameters that show its lesson there ("hyper"; the rest follow the optimizer's defaults).
CATALOG: dict[str, Entry] = {
    "bowl": Entry(
        build=_bowl,
        defaults={"condition": 10.0, "angle": 0.0},
        ranges={"condition": (1.0, 100.0), "angle": (-90.0, 90.0)},
        window=((-4.0, 4.0), (-3.0, 3.0)),
        title={"en": "Elongated bowl", "zh": "狭长碗形"},
        description={
            "en": "A quadratic valley far steeper across than along: plain SGD bounces between the walls.",
            "zh": "垂直于谷底的方向远比沿谷底的方向陡峭的二次山谷：普通 SGD 会在两侧谷壁之间来回弹跳。",
        },
        hints={"start": (-3.5, 1.5), "steps": 60, "hyper": {"sgd": {"lr": 0.15}, "momentum": {"lr": 0.015, "momentum": 0.8}, "nesterov": {"lr": 0.015, "momentum": 0.8}, "adagrad": {"lr": 0.7}, "rmsprop": {"lr": 0.07}, "adam": {"lr": 0.2}}},
    ),
    "saddle": Entry(
        build=lambda: X**2 - Y**2,
        defaults={},
        ranges={},
        window=((-2.0, 2.0), (-2.0, 2.0)),
        title={"en": "Saddle", "zh": "鞍点"},
        description={
            "en": "Zero gradient at the origin, yet downhill along y: a minimum one way, a maximum the other.",
            "zh": "原点梯度为零，但沿 y 方向仍在下坡：一个方向是极小，另一个方向是极大。",
        },
        hints={"start": (-1.8, 0.01), "steps": 60, "hyper": {"sgd": {"lr": 0.05}, "momentum": {"lr": 0.02}, "nesterov": {"lr": 0.02}, "adagrad": {"lr": 0.3}, "rmsprop": {"lr": 0.03}, "adam": {"lr": 0.05}}},
    ),
    "rosenbrock": Entry(
        build=lambda a, b: (a - X) ** 2 + b * (Y - X**2) ** 2,
        defaults={"a": 1.0, "b": 100.0},
        ranges={"a": (-1.5, 1.5), "b": (1.0, 200.0)},  # (a, a^2) stays in the window
        window=((-2.0, 2.0), (-1.0, 3.0)),
        title={"en": "Rosenbrock", "zh": "Rosenbrock 香蕉函数"},
        description={
            "en": "A curved, narrow banana valley: easy to fall into, slow to follow to its end at (a, a^2).",
            "zh": "弯曲狭窄的香蕉形山谷：很容易落入，却很难沿谷底走到终点 (a, a^2)。",
        },
        log_colors=True,
        hints={"start": (-1.5, 2.0), "steps": 1000, "hyper": {"sgd": {"lr": 0.0005}, "momentum": {"lr": 0.0003}, "nesterov": {"lr": 0.0003}, "adagrad": {"lr": 0.3}, "rmsprop": {"lr": 0.005}, "adam": {"lr": 0.03}}},
    ),
    "monkey_saddle": Entry(
        build=lambda: X**3 - 3 * X * Y**2,
        defaults={},
        ranges={},
        window=((-2.0, 2.0), (-2.0, 2.0)),
        title={"en": "Monkey saddle", "zh": "猴鞍面"},
        description={
            "en": "Three valleys meet at a flat point whose Hessian is zero: second-order tests say nothing there.",
            "zh": "三条山谷交汇于一个平坦点，那里的海森矩阵为零：二阶判别法在此失效。",
        },
        hints={"start": (0.5, 0.1), "steps": 60, "hyper": {"sgd": {"lr": 0.05}, "momentum": {"lr": 0.02}, "nesterov": {"lr": 0.02}, "adagrad": {"lr": 0.1}, "rmsprop": {"lr": 0.02}, "adam": {"lr": 0.05}}},
    ),
    "beale": Entry(
        build=lambda: (sp.Rational(3, 2) - X + X * Y) ** 2
        + (sp.Rational(9, 4) - X + X * Y**2) ** 2
        + (sp.Rational(21, 8) - X + X * Y**3) ** 2,
        defaults={},
        ranges={},
        window=((-4.5, 4.5), (-4.5, 4.5)),
        title={"en": "Beale", "zh": "Beale 函数"},
        description={
            "en": "Flat plains and sharp ridges, with the minimum at (3, 0.5) in a narrow corner.",
            "zh": "平坦的平原与陡峭的山脊并存，极小值 (3, 0.5) 藏在狭窄的角落里。",
        },
        log_colors=True,
        hints={"start": (1.0, 1.5), "steps": 500, "hyper": {"sgd": {"lr": 0.001}, "momentum": {"lr": 0.0005}, "nesterov": {"lr": 0.0005}, "adagrad": {"lr": 0.3}, "rmsprop": {"lr": 0.01}, "adam": {"lr": 0.03}}},
    ),
    "himmelblau": Entry(
        build=lambda: (X**2 + Y - 11) ** 2 + (X + Y**2 - 7) ** 2,
        defaults={},
        ranges={},
        window=((-5.0, 5.0), (-5.0, 5.0)),
        title={"en": "Himmelblau", "zh": "Himmelblau 函数"},
        description={
            "en": "Four equally good minima: where a run ends depends on where it starts.",
            "zh": "四个同样好的极小值：最终落在哪里取决于从哪里出发。",
        },
        log_colors=True,
        hints={"start": (-0.5, 0.0), "steps": 300, "hyper": {"sgd": {"lr": 0.01}, "momentum": {"lr": 0.003}, "nesterov": {"lr": 0.003}, "adagrad": {"lr": 0.5}, "rmsprop": {"lr": 0.03}, "adam": {"lr": 0.1}}},
    ),
    "rastrigin": Entry(
        build=_rastrigin,
        defaults={"A": 10.0},
        ranges={"A": (0.0, 20.0)},
        window=((-5.12, 5.12), (-5.12, 5.12)),
        title={"en": "Rastrigin", "zh": "Rastrigin 函数"},
        description={
            "en": "An egg-crate of local minima around one global minimum: local methods get trapped.",
            "zh": "全局极小值周围布满蛋托状的局部极小值：局部方法很容易被困住。",
        },
        hints={"start": (3.2, 2.4), "steps": 300, "hyper": {"sgd": {"lr": 0.003}, "momentum": {"lr": 0.001}, "nesterov": {"lr": 0.001}, "adagrad": {"lr": 0.3}, "rmsprop": {"lr": 0.02}, "adam": {"lr": 0.05}}},
    ),
    "six_hump_camel": Entry(
        build=lambda: (4 - sp.Rational(21, 10) * X**2 + X**4 / 3) * X**2 + X * Y + (-4 + 4 * Y**2) * Y**2,
        defaults={},
        ranges={},
        window=((-2.0, 2.0), (-1.1, 1.1)),
        title={"en": "Six-hump camel", "zh": "六峰驼背函数"},
        description={
            "en": "Six local minima, two of them global, separated by saddles.",
            "zh": "六个局部极小值（其中两个是全局极小），彼此之间隔着鞍点。",
        },
        hints={"start": (-1.5, 0.8), "steps": 300, "hyper": {"sgd": {"lr": 0.01}, "momentum": {"lr": 0.005}, "nesterov": {"lr": 0.005}, "adagrad": {"lr": 0.2}, "rmsprop": {"lr": 0.01}, "adam": {"lr": 0.03}}},
    ),
    "plateau": Entry(
        build=lambda width: 1 - sp.exp(-(X**2) / width**2) + Y**2 / 2,
        defaults={"width": 4.0},
        ranges={"width": (1.0, 8.0)},
        window=((-14.0, 14.0), (-3.0, 3.0)),
        title={"en": "Plateau", "zh": "平台"},
        description={
            "en": "Almost flat far from the well: plain SGD barely moves, while methods that rescale the gradient keep going.",
            "zh": "远离中心的区域几乎平坦：普通 SGD 几乎不动，而对梯度做缩放的方法仍能继续前进。",
        },
        hints={"start": (12.0, 2.0), "steps": 300, "hyper": {"sgd": {"lr": 0.5}, "momentum": {"lr": 0.1}, "nesterov": {"lr": 0.1}, "adagrad": {"lr": 0.5}, "rmsprop": {"lr": 0.05}, "adam": {"lr": 0.1}}},
    ),
    "cliff_valley": Entry(
        # A steep wall (softplus) drops onto a long, gently sloping valley floor.
        build=lambda wall: 2 * sp.log(1 + sp.exp(3 * (X - wall))) + X**2 / 200 + Y**2 / 2,
        defaults={"wall": 8.0},
        ranges={"wall": (4.0, 10.0)},
        window=((-4.0, 12.0), (-3.0, 3.0)),
        title={"en": "Cliff and flat valley", "zh": "悬崖与平坦长谷"},
        description={
            "en": "A steep wall above a long, gently sloping valley floor: AdaGrad remembers the wall's big gradients and stalls on the floor; RMSProp forgets them and keeps moving.",
            "zh": "陡峭的崖壁下是一条缓缓倾斜的长谷：AdaGrad 记住了崖壁上的大梯度，在谷底停滞；RMSProp 会忘掉它们并继续前进。",
        },
        hints={"start": (11.0, 2.0), "steps": 300, "hyper": {"sgd": {"lr": 0.3}, "momentum": {"lr": 0.1}, "nesterov": {"lr": 0.1}, "adagrad": {"lr": 1.0}, "rmsprop": {"lr": 0.1, "alpha": 0.9}, "adam": {"lr": 0.1}}},
    ),
}

# ---------------------------------------------------------------------------
# Models on data (landscapes.data). The train/test split of every dataset: rows
# shuffled by numpy.random.default_rng(0).permutation, the first 20% (rounded) are
# the test split. Old Faithful: 218 train / 54 test; iris versicolor/virginica:
# 80 train / 20 test.
# ---------------------------------------------------------------------------

def _data_entry(name: str, title, description, scaled_hints) -> Entry:
    spec = _data.SPECS[name]
    return Entry(
        build=None, defaults={}, ranges={}, window=spec.windows[spec.default_scaling],
        title=title, description=description, log_colors=True,
        hints=scaled_hints[spec.default_scaling], scaled_hints=scaled_hints,
    )  # fmt: skip


CATALOG.update(
    {
        "faithful": _data_entry(
            "faithful",
            {"en": "Old Faithful: linear regression", "zh": "老忠实泉：线性回归"},
            {
                "en": "Mean squared error of eruption time ≈ w·waiting + b on 218 eruptions of the Old Faithful geyser: a quadratic bowl whose shape depends on how the input is scaled.",
                "zh": "用 w·等待时间 + b 预测老忠实泉 218 次喷发时长的均方误差：一个二次碗，其形状取决于输入如何缩放。",
            },
            {
                "standardized": {"start": (-1.0, 1.5), "steps": 100, "hyper": {"sgd": {"lr": 0.2}, "momentum": {"lr": 0.05, "momentum": 0.8}, "nesterov": {"lr": 0.05, "momentum": 0.8}, "adagrad": {"lr": 0.5}, "rmsprop": {"lr": 0.02}, "adam": {"lr": 0.1}}},
                "centered": {"start": (-0.05, 1.5), "steps": 200, "hyper": {"sgd": {"lr": 0.005}, "momentum": {"lr": 0.001, "momentum": 0.8}, "nesterov": {"lr": 0.001, "momentum": 0.8}, "adagrad": {"lr": 0.5}, "rmsprop": {"lr": 0.02}, "adam": {"lr": 0.1}}},
                "raw": {"start": (0.0, -6.0), "steps": 300, "hyper": {"sgd": {"lr": 0.00015}, "momentum": {"lr": 0.00003, "momentum": 0.8}, "nesterov": {"lr": 0.00003, "momentum": 0.8}, "adagrad": {"lr": 0.5}, "rmsprop": {"lr": 0.02}, "adam": {"lr": 0.1}}},
            },
        ),
        "iris": _data_entry(
            "iris",
            {"en": "Iris: logistic regression", "zh": "鸢尾花：逻辑回归"},
            {
                "en": "Mean cross-entropy of p(virginica) = σ(w·petal length + b) against versicolor on 80 iris flowers: the classes overlap, so the minimum is finite.",
                "zh": "在 80 朵鸢尾花上，用 p(维吉尼亚) = σ(w·花瓣长度 + b) 区分维吉尼亚鸢尾与变色鸢尾的平均交叉熵：两类有重叠，所以极小值是有限的。",
            },
            {
                "standardized": {"start": (-1.0, -4.0), "steps": 300, "hyper": {"sgd": {"lr": 5.0}, "momentum": {"lr": 1.0, "momentum": 0.9}, "nesterov": {"lr": 1.0, "momentum": 0.9}, "adagrad": {"lr": 1.0}, "rmsprop": {"lr": 0.1}, "adam": {"lr": 0.3}}},
                "centered": {"start": (-1.0, -4.0), "steps": 300, "hyper": {"sgd": {"lr": 5.0}, "momentum": {"lr": 1.0, "momentum": 0.9}, "nesterov": {"lr": 1.0, "momentum": 0.9}, "adagrad": {"lr": 1.0}, "rmsprop": {"lr": 0.1}, "adam": {"lr": 0.3}}},
                "raw": {"start": (0.0, 0.0), "steps": 500, "hyper": {"sgd": {"lr": 0.1}, "momentum": {"lr": 0.02, "momentum": 0.9}, "nesterov": {"lr": 0.02, "momentum": 0.9}, "adagrad": {"lr": 1.0}, "rmsprop": {"lr": 0.1}, "adam": {"lr": 0.3}}},
            },
        ),
        "tanh_unit": _data_entry(
            "tanh_unit",
            {"en": "One tanh unit (Old Faithful)", "zh": "单个 tanh 神经元（老忠实泉）"},
            {
                "en": "The smallest non-convex network, a·tanh(b·waiting) + c on standardised Old Faithful data: a saddle at the zero initialisation (0, 0) between two mirror-image minima.",
                "zh": "最小的非凸网络 a·tanh(b·等待时间) + c（输入已标准化）：零初始化 (0, 0) 处是鞍点，两侧是互为镜像的两个极小值。",
            },
            {
                "standardized": {"start": (0.12, -0.08), "steps": 300, "hyper": {"sgd": {"lr": 0.1}, "momentum": {"lr": 0.05, "momentum": 0.9}, "nesterov": {"lr": 0.05, "momentum": 0.9}, "adagrad": {"lr": 0.3}, "rmsprop": {"lr": 0.02}, "adam": {"lr": 0.05}}},
            },
        ),
    }
)


def names() -> list[str]:
    """The catalog's surface names, in teaching order."""
    return list(CATALOG)


def parameter_ranges(name: str) -> dict[str, tuple[float, float]]:
    """Allowed values of each parameter of catalog surface ``name``."""
    return dict(_entry(name).ranges)


def parameter_defaults(name: str) -> dict[str, float]:
    return dict(_entry(name).defaults)


def _entry(name: str) -> Entry:
    try:
        return CATALOG[name]
    except KeyError:
        raise ValueError(f"Unknown landscape {name!r}; choose one of: {', '.join(CATALOG)}") from None


def is_data(name: str) -> bool:
    """Whether ``name`` is a model on data (``landscapes.data``), with a ``scaling`` option."""
    return name in CATALOG and CATALOG[name].is_data


def scalings(name: str) -> tuple[str, ...]:
    """The input scalings a data surface offers (first: its default); () for a formula surface."""
    if not is_data(name):
        return ()
    spec = _data.SPECS[name]
    return (spec.default_scaling,) + tuple(s for s in spec.scalings if s != spec.default_scaling)


def hints(name: str, scaling: str | None = None) -> dict:
    """Surface ``name``'s teaching values (start, steps, per-optimizer hyperparameters);
    for a data surface, those of ``scaling`` (default: its default scaling)."""
    entry = _entry(name)
    if entry.is_data and scaling in entry.scaled_hints:
        return entry.scaled_hints[scaling]
    return entry.hints


def get(name: str, scaling: str | None = None, **params: float) -> Landscape:
    """The catalog surface ``name``, with any parameter overridden by keyword.

    A model on data (``faithful``, ``iris``, ``tanh_unit``) takes ``scaling``:
    "raw", "centered" or "standardized" (the default; tanh_unit offers only that).
    Raises ValueError for an unknown name, an unknown parameter, a value outside
    the parameter's range, or a scaling the surface does not offer.
    """
    entry = _entry(name)
    if entry.is_data:
        if params:
            raise ValueError(f"{name} has no surface parameters (allowed: scaling)")
        return _data.build(
            name, scaling, description=entry.description, title=entry.title, log_colors=entry.log_colors,
            hints=hints(name, scaling if scaling is not None else _data.SPECS[name].default_scaling),
        )  # fmt: skip
    if scaling is not None:
        raise ValueError(f"scaling applies only to the data surfaces ({', '.join(n for n in CATALOG if CATALOG[n].is_data)}), not {name}")
    unknown = set(params) - set(entry.defaults)
    if unknown:
        allowed = ", ".join(entry.defaults) or "none"
        raise ValueError(f"Unknown parameter(s) for {name}: {', '.join(sorted(unknown))} (allowed: {allowed})")
    values = {**entry.defaults, **{k: float(v) for k, v in params.items()}}
    for k, v in values.items():
        lo, hi = entry.ranges[k]
        if not lo <= v <= hi:
            raise ValueError(f"Invalid {k} for {name}: {v} (allowed range [{lo}, {hi}])")
    expr = entry.build(*(symbol(k) for k in entry.defaults))
    return Landscape(
        name=name,
        expr=expr,
        params=values,
        window=entry.window,
        description=entry.description,
        title=entry.title,
        log_colors=entry.log_colors,
        hints=entry.hints,
    )
