"""Update rules: pure functions over a batch of runs.

Every optimizer is a pair of pure functions bundled in an :class:`Optimizer`
(the shape optax uses):

* ``init(params) -> state``: ``params`` has shape (B, 2), one row per run.
* ``update(grad, state, params, factor, oracle) -> (updates, state)``: the new
  point is ``params + updates``. ``grad`` is the (possibly noisy) gradient at
  ``params``, or at ``probe(state, params)`` for a rule that has a probe
  (Nesterov's look-ahead); the factory's own ``lr`` times ``factor`` (the
  schedule's factor at this step, 1 without one) is the step's rate; ``oracle``
  gives further evaluations for rules that need them (Newton's Hessian,
  L-BFGS's line search).

A rule marked ``elementwise`` treats each coordinate on its own and uses only
arithmetic and ``_sqrt``, so the runner can also call it with one coordinate
as a plain float: its single-run path, bit-identical to the batched one and
several times faster (as torch.optim keeps a single-tensor and a foreach path).

Each hyperparameter is a float or an array that broadcasts to (B, 1), so one
call can run a whole grid of settings. States are small NamedTuples; nothing
is mutated in place.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple, Protocol

import numpy as np

from . import declarations as H


class Oracle(Protocol):
    def f(self, points: np.ndarray) -> np.ndarray: ...
    def grad(self, points: np.ndarray) -> np.ndarray: ...  # noisy when noise is on
    def hessian(self, points: np.ndarray) -> np.ndarray: ...


class Optimizer(NamedTuple):
    init: Callable
    update: Callable
    # (state after a step, lr of that step) -> lr / (per-coordinate scale), the
    # effective step per unit of gradient; elementwise, so the runner applies it
    # once to the whole recorded history. None where the rule is not
    # per-coordinate (the runner then reports the ratio -update / grad).
    effective_lr: Callable | None = None
    # (state, params) -> where the gradient for the next step is taken, when
    # that is not params itself (Nesterov's look-ahead point).
    probe: Callable | None = None
    # probe and update also work on one coordinate given as floats.
    elementwise: bool = False
    # update evaluates the Hessian (oracle.hessian) once per step.
    hessian: bool = False
    # the state's ``singular`` field, once True, stops the run with status singular_hessian.
    stops_when_singular: bool = False


def check_unit(name: str, value):
    """A decay rate: 0 <= value < 1 (what the runner's ema_decay accepts too)."""
    return H.MOMENTUM._replace(name=name).check(value)


def _sqrt(x):
    """``np.sqrt``, or ``math.sqrt`` for one float: both correctly rounded, so the same bits,
    and a float stays a float (NumPy scalars make every later operation several times slower)."""
    return math.sqrt(x) if type(x) is float else np.sqrt(x)


# --------------------------------------------------------------------------
# First-order rules
# --------------------------------------------------------------------------


def _plain_lr(state, lr):
    return lr


class EmptyState(NamedTuple):
    pass


def sgd(lr: float = 0.01) -> Optimizer:
    r"""Plain gradient descent.

    .. math:: x_{t+1} = x_t - \eta\, g_t
    """
    lr = H.LR.check(lr)

    def init(params):
        return EmptyState()

    def update(grad, state, params, factor, oracle):
        return -(lr * factor) * grad, state

    return Optimizer(init, update, _plain_lr, elementwise=True)


class MomentumState(NamedTuple):
    velocity: np.ndarray  # v, the running sum of past gradients, starts at 0


def momentum(lr: float = 0.01, momentum: float = 0.9) -> Optimizer:
    r"""Heavy-ball momentum in PyTorch's form (``torch.optim.SGD(momentum=...)``).

    .. math::
        v_{t+1} = \mu\, v_t + g_t, \qquad x_{t+1} = x_t - \eta\, v_{t+1}, \qquad v_0 = 0

    With ``momentum=0`` this is exactly :func:`sgd`. ``v`` is in gradient units;
    the learning rate of the current step multiplies all of it (see
    :func:`nesterov` for the form that keeps it inside ``v``).
    """
    lr = H.LR.check(lr)
    mu = H.MOMENTUM.check(momentum)

    def init(params):
        return MomentumState(np.zeros_like(params))

    def update(grad, state, params, factor, oracle):
        v = mu * state.velocity + grad
        return -(lr * factor) * v, MomentumState(v)

    return Optimizer(init, update, _plain_lr, elementwise=True)


class NesterovState(NamedTuple):
    velocity: np.ndarray  # v, the last step taken (a displacement), starts at 0
    lookahead: np.ndarray  # x + mu * v, where the last step's gradient was taken
    lookahead_grad: np.ndarray  # the gradient taken there (as seen: noisy when noise is on)


def nesterov(lr: float = 0.01, momentum: float = 0.9) -> Optimizer:
    r"""Nesterov accelerated gradient in Sutskever's look-ahead form.

    .. math::
        v_{t+1} = \mu\, v_t - \eta\, \nabla f(x_t + \mu\, v_t), \qquad x_{t+1} = x_t + v_{t+1}, \qquad v_0 = 0

    The gradient is taken at the look-ahead point ``x + mu * v`` (recorded in
    the state with the gradient taken there, so both can be drawn), not at ``x``;
    it is the step's only gradient evaluation.

    The learning rate sits inside the velocity here (v is a displacement), while
    :func:`momentum` follows torch and puts it outside (v is in gradient units).
    Under a constant rate the two placements of the rate give the same points; under a schedule they
    differ, because Sutskever's v keeps the rates of past steps. torch's
    ``SGD(nesterov=True)`` is another form again: ``v = mu v + g(x)``,
    ``x -= lr (g(x) + mu v)``, the gradient taken at x.
    """
    lr = H.LR.check(lr)
    mu = H.MOMENTUM.check(momentum)

    def init(params):
        return NesterovState(np.zeros_like(params), params.copy(), np.zeros_like(params))

    def probe(state, params):
        return params + mu * state.velocity

    def update(grad, state, params, factor, oracle):  # grad: at the look-ahead point
        v = mu * state.velocity - (lr * factor) * grad
        return v, NesterovState(v, probe(state, params), grad)

    return Optimizer(init, update, _plain_lr, probe=probe, elementwise=True)


class AdaGradState(NamedTuple):
    sum_sq: np.ndarray  # s, the sum of squared gradients so far, starts at 0


def adagrad(lr: float = 0.1, eps: float = 1e-10) -> Optimizer:
    r"""AdaGrad (``torch.optim.Adagrad`` with no decay).

    .. math::
        s_{t+1} = s_t + g_t^2, \qquad x_{t+1} = x_t - \eta\, \frac{g_t}{\sqrt{s_{t+1}} + \epsilon}

    ``s`` only grows, so the step per coordinate only shrinks.
    """
    lr = H.LR.check(lr)
    eps = H.EPS.check(eps)

    def init(params):
        return AdaGradState(np.zeros_like(params))

    def update(grad, state, params, factor, oracle):
        s = state.sum_sq + grad * grad
        return -(lr * factor) * grad / (_sqrt(s) + eps), AdaGradState(s)

    return Optimizer(init, update, lambda state, lr: lr / (np.sqrt(state.sum_sq) + eps), elementwise=True)


class RMSPropState(NamedTuple):
    mean_sq: np.ndarray  # s, the decaying average of squared gradients, starts at 0


def rmsprop(lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8) -> Optimizer:
    r"""RMSProp (``torch.optim.RMSprop``, not centered, no momentum).

    .. math::
        s_{t+1} = \alpha\, s_t + (1 - \alpha)\, g_t^2, \qquad
        x_{t+1} = x_t - \eta\, \frac{g_t}{\sqrt{s_{t+1}} + \epsilon}
    """
    lr = H.LR.check(lr)
    alpha = H.ALPHA.check(alpha)
    eps = H.EPS.check(eps)

    def init(params):
        return RMSPropState(np.zeros_like(params))

    def update(grad, state, params, factor, oracle):
        s = alpha * state.mean_sq + (1 - alpha) * grad * grad
        return -(lr * factor) * grad / (_sqrt(s) + eps), RMSPropState(s)

    return Optimizer(init, update, lambda state, lr: lr / (np.sqrt(state.mean_sq) + eps), elementwise=True)


class AdamState(NamedTuple):
    count: np.ndarray  # t, steps taken so far (shape (B, 1))
    exp_avg: np.ndarray  # m, first moment, starts at 0
    exp_avg_sq: np.ndarray  # v, second moment, starts at 0
    beta1_power: np.ndarray  # beta1**t, kept by multiplication (a power per step per run is slow)
    beta2_power: np.ndarray  # beta2**t

    recorded = ("count", "exp_avg", "exp_avg_sq")


def adam(
    lr: float = 0.001,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    bias_correction: bool = True,
) -> Optimizer:
    r"""Adam in PyTorch's form (``torch.optim.Adam``); eps sits outside the square root.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \hat m_t = m_t / (1 - \beta_1^t), \qquad \hat v_t = v_t / (1 - \beta_2^t) \\
        x_t = x_{t-1} - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    With ``bias_correction=False`` the hats are dropped (``m`` and ``v`` are used
    as they are): because both start at zero, the first step is then about
    ``(1 - beta1) / sqrt(1 - beta2)`` = 3.16 times ``lr`` per coordinate,
    instead of exactly ``lr``.
    """
    lr = H.LR.check(lr)
    b1 = H.BETA1.check(beta1)
    b2 = H.BETA2.check(beta2)
    eps = H.EPS.check(eps)
    correct = bool(bias_correction)
    one_minus_b1, one_minus_b2 = 1 - b1, 1 - b2

    def init(params):
        z = np.zeros_like(params)
        ones = np.ones_like(params)
        return AdamState(np.zeros(params.shape[:-1] + (1,)), z, z, ones, ones)

    def corrections(state):
        """(1 - beta1^t, 1 - beta2^t) after the state's last step, or (1, 1) without bias correction."""
        if not correct:
            return 1.0, 1.0
        return 1 - state.beta1_power, 1 - state.beta2_power

    def update(grad, state, params, factor, oracle):
        m = b1 * state.exp_avg + one_minus_b1 * grad
        v = b2 * state.exp_avg_sq + one_minus_b2 * (grad * grad)
        new = AdamState(state.count + 1, m, v, state.beta1_power * b1, state.beta2_power * b2)
        bc1, bc2 = corrections(new)
        step = -(lr * factor) * m / (bc1 * (_sqrt(v) / _sqrt(bc2) + eps))
        return step, new

    def effective_lr(state, lr):
        if correct:
            bc1, bc2 = 1 - b1**state.count, 1 - b2**state.count
        else:
            bc1, bc2 = 1.0, 1.0
        return lr / (bc1 * (np.sqrt(state.exp_avg_sq) / np.sqrt(bc2) + eps))

    return Optimizer(init, update, effective_lr, elementwise=True)


# --------------------------------------------------------------------------
# Second-order rules
# --------------------------------------------------------------------------


class NewtonState(NamedTuple):
    singular: np.ndarray  # (B,) True once a run met a singular (damped) Hessian
    eigenvalues: np.ndarray  # (B, 2) of the Hessian H at the last step (before damping)
    capped: np.ndarray  # (B,) True when the last step was shortened to max_step


# A damped Hessian whose smallest |eigenvalue| is below this times max(1, largest |eigenvalue|)
# is singular (the max with 1: on a nearly flat patch every curvature counts as zero, not
# only the small ones relative to the largest).
SINGULAR_TOL = 1e-10


def _newton(lr, damping, max_step, saddle_free: bool, tol: float = SINGULAR_TOL) -> Optimizer:
    lr = H.LR.check(lr)
    damping = H.DAMPING.check(damping)
    max_step = H.MAX_STEP.check(max_step)

    def init(params):
        b = params.shape[:-1]
        return NewtonState(np.zeros(b, dtype=bool), np.zeros_like(params), np.zeros(b, dtype=bool))

    def update(grad, state, params, factor, oracle):
        h = oracle.hessian(params)
        finite = np.all(np.isfinite(h), axis=(-2, -1))
        h = np.where(finite[..., None, None], h, 0.0)
        vals, vecs = np.linalg.eigh(h)
        # H = V diag(vals) V^T; the step uses V diag(curv) V^T with each curvature
        # made positive (saddle-free: |vals|, so negative curvature is walked down)
        # and shifted by the damping lambda (Levenberg-Marquardt; Dauphin et al.'s |H| + lambda I).
        curv = (np.abs(vals) if saddle_free else vals) + damping  # damping: a float or (B, 2)
        scale = np.maximum(np.abs(curv).max(axis=-1), 1.0)
        singular = (np.abs(curv).min(axis=-1) <= tol * scale) | ~finite
        safe = np.where(singular[..., None], 1.0, curv)
        coords = np.einsum("...ik,...i->...k", vecs, grad) / safe  # V^T g / curv
        step = -(lr * factor) * np.einsum("...ik,...k->...i", vecs, coords)
        length = np.sqrt(step[..., 0] ** 2 + step[..., 1] ** 2)
        cap = max_step if np.ndim(max_step) == 0 else max_step[..., 0]
        capped = length > cap
        step = step * np.where(capped, cap / np.where(capped, length, 1.0), 1.0)[..., None]
        step = np.where(singular[..., None], 0.0, step)
        return step, NewtonState(state.singular | singular, vals, capped & ~singular)

    return Optimizer(init, update, None, hessian=True, stops_when_singular=True)


# The Newton methods' defaults: a small damping (|H| + 1e-3 I keeps a nearly flat or
# nearly singular Hessian from sending the point millions of units away) and a step cap.
NEWTON_DAMPING, NEWTON_MAX_STEP = H.DAMPING.default, H.MAX_STEP.default


def newton(lr: float = 1.0, damping: float = NEWTON_DAMPING, max_step: float = NEWTON_MAX_STEP) -> Optimizer:
    r"""Newton's method: jump to the stationary point of the local quadratic model (damped, capped).

    .. math::
        d_t = -\eta\, (H(x_t) + \lambda I)^{-1} g_t, \qquad
        x_{t+1} = x_t + d_t \min\!\left(1, \frac{R}{\lVert d_t \rVert}\right)

    with ``lr`` = eta (1 by default), ``damping`` = lambda (Levenberg-Marquardt)
    and ``max_step`` = R. ``damping=0, max_step=inf`` is the classic undamped
    Newton step ``-H^{-1} g``, which lands on a quadratic's stationary point in
    one step. It seeks zero gradient, not low loss, so a saddle attracts it. A
    damped Hessian whose smallest |eigenvalue| is below ``SINGULAR_TOL`` times
    max(1, largest) stops the run with status ``singular_hessian``.
    """
    return _newton(lr, damping, max_step, saddle_free=False)


def saddle_free_newton(lr: float = 1.0, damping: float = NEWTON_DAMPING, max_step: float = NEWTON_MAX_STEP) -> Optimizer:
    r"""Saddle-free Newton (Dauphin et al., 2014): Newton's step with |eigenvalues|, damped and capped.

    .. math::
        H = V \Lambda V^\top, \quad d_t = -\eta\, (V |\Lambda| V^\top + \lambda I)^{-1} g_t, \quad
        x_{t+1} = x_t + d_t \min\!\left(1, \frac{R}{\lVert d_t \rVert}\right)

    Along negative curvature it moves downhill instead of toward the saddle.
    ``damping`` is Dauphin et al.'s lambda; ``damping=0, max_step=inf`` is the
    undamped form.
    """
    return _newton(lr, damping, max_step, saddle_free=True)


class LBFGSState(NamedTuple):
    s: np.ndarray  # (B, m, 2) ring buffer of steps x_{k+1} - x_k
    y: np.ndarray  # (B, m, 2) ring buffer of gradient changes g_{k+1} - g_k
    rho: np.ndarray  # (B, m) 1 / (y . s); 0 marks an empty slot
    count: np.ndarray  # (B,) pairs stored so far (the newest is at (count - 1) % m)
    prev_grad: np.ndarray  # (B, 2) the gradient seen at the last step (NaN before the first)
    last_step: np.ndarray  # (B, 2) the last step taken, waiting for its gradient change (0: none)
    step_length: np.ndarray  # (B,) alpha accepted by the last line search (0: none found)

    recorded = ("count", "step_length")  # the ring buffers are not worth a history


# Armijo line search: sufficient-decrease constant, shrink factor, number of tries.
ARMIJO_C1, BACKTRACK, MAX_HALVINGS = 1e-4, 0.5, 30


def lbfgs(lr: float = 1.0, memory: int = 10) -> Optimizer:
    r"""L-BFGS: two-loop recursion over the last ``memory`` (s, y) pairs, then an Armijo line search.

    .. math::
        d_k = -H_k g_k \text{ (two-loop recursion, } H_0 = \tfrac{s^\top y}{y^\top y} I), \qquad
        x_{k+1} = x_k + \alpha_k d_k

    where ``alpha_k`` is the first of ``lr, lr/2, lr/4, ...`` (30 tries) with
    ``f(x + alpha d) <= f(x) + c1 * alpha * g.d``, ``c1 = 1e-4``. Each accepted
    iterate is one point of the path, and each step evaluates one gradient: the
    pair ``s = x_{k+1} - x_k``, ``y = g_{k+1} - g_k`` is stored when the next
    step's gradient arrives. With noise, the line search compares the values of
    the step's own sample of the loss and ``y`` mixes two samples, as torch's
    ``LBFGS`` does when each ``step()`` gets a new mini-batch. A pair with
    ``y.s <= 0`` is not stored (it would break positive definiteness); when ``d``
    is not a descent direction or no step is accepted, the memory is cleared and
    the next step starts again from ``-g``. With no memory, the first step is
    ``-g`` scaled to at most unit length.
    """
    lr = H.LR.check(lr)
    m = H.MEMORY.check(memory)
    c1 = ARMIJO_C1
    alphas = BACKTRACK ** np.arange(MAX_HALVINGS)  # candidate step lengths, largest first

    def init(params):
        b = params.shape[0]
        return LBFGSState(
            s=np.zeros((b, m, 2)),
            y=np.zeros((b, m, 2)),
            rho=np.zeros((b, m)),
            count=np.zeros(b, dtype=np.int64),
            prev_grad=np.full_like(params, np.nan),
            last_step=np.zeros_like(params),
            step_length=np.zeros(b),
        )

    def direction(g, state):
        q = g.copy()
        a = np.zeros(state.rho.shape)
        order = [(state.count - 1 - i) % m for i in range(m)]  # newest first
        rows = np.arange(g.shape[0])
        for i, k in enumerate(order):
            rho = np.where(i < state.count, state.rho[rows, k], 0.0)
            a[:, i] = rho * np.einsum("bi,bi->b", state.s[rows, k], q)
            q = q - a[:, i, None] * state.y[rows, k]
        newest = (state.count - 1) % m
        sy = np.einsum("bi,bi->b", state.s[rows, newest], state.y[rows, newest])
        yy = np.einsum("bi,bi->b", state.y[rows, newest], state.y[rows, newest])
        gamma = np.where((state.count > 0) & (yy > 0), sy / np.where(yy > 0, yy, 1.0), 1.0)
        r = gamma[:, None] * q
        for i, k in reversed(list(enumerate(order))):
            rho = np.where(i < state.count, state.rho[rows, k], 0.0)
            beta = rho * np.einsum("bi,bi->b", state.y[rows, k], r)
            r = r + state.s[rows, k] * (a[:, i] - beta)[:, None]
        d = -r
        # No curvature pairs yet: steepest descent, no longer than one unit.
        gnorm = np.linalg.norm(g, axis=-1)
        first = -g / np.maximum(gnorm, 1.0)[:, None]
        return np.where((state.count == 0)[:, None], first, d)

    def remember(grad, state):
        """The state with the last step's (s, y) pair stored, when it keeps H_k positive definite."""
        s = state.last_step
        y = grad - state.prev_grad
        sy = np.einsum("bi,bi->b", s, y)
        pending = np.any(s != 0, axis=-1) & np.all(np.isfinite(y), axis=-1)
        keep = pending & (sy > 1e-12 * np.maximum(np.linalg.norm(s, axis=-1) * np.linalg.norm(y, axis=-1), 1e-300))
        slot = state.count % m
        rows = np.arange(s.shape[0])
        new_s, new_y, new_rho = state.s.copy(), state.y.copy(), state.rho.copy()
        new_s[rows[keep], slot[keep]] = s[keep]
        new_y[rows[keep], slot[keep]] = y[keep]
        new_rho[rows[keep], slot[keep]] = 1.0 / sy[keep]
        count = np.where(keep, state.count + 1, state.count)
        return state._replace(s=new_s, y=new_y, rho=new_rho, count=count)

    def update(grad, state, params, factor, oracle):
        rate = np.broadcast_to(lr * factor, params.shape)[:, 0]  # (B,): this step's lr per run
        state = remember(grad, state)
        d = direction(grad, state)
        slope = np.einsum("bi,bi->b", grad, d)
        descent = slope < 0
        d = np.where(descent[:, None], d, -grad / np.maximum(np.linalg.norm(grad, axis=-1), 1.0)[:, None])
        slope = np.einsum("bi,bi->b", grad, d)
        f0 = oracle.f(params)
        steps = (rate[:, None] * alphas)[:, :, None] * d[:, None, :]  # (B, K, 2)
        trial = oracle.f(params[:, None, :] + steps)
        armijo = trial <= f0[:, None] + c1 * (rate[:, None] * alphas) * slope[:, None]
        armijo &= np.isfinite(trial)
        found = armijo.any(axis=1)
        first = np.argmax(armijo, axis=1)
        alpha = np.where(found, rate * alphas[first], 0.0)
        step = alpha[:, None] * d
        # A failed search or a non-descent direction: forget the history (and this step's pair).
        reset = ~found | ~descent
        count = np.where(reset, 0, state.count)
        rho = np.where(reset[:, None], 0.0, state.rho)
        last = np.where(reset[:, None], 0.0, step)
        return step, state._replace(rho=rho, count=count, prev_grad=grad, last_step=last, step_length=alpha)

    return Optimizer(init, update, None)
