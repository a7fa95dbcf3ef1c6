"""The Formulas view's update rules: the LaTeX follows the settings (fragments typed by hand)."""

from __future__ import annotations

import pytest

import optimizers
from optimizers.formulas import gradient_rule, number, update_rule

INF = float("inf")


def lines(latex: str) -> list[str]:
    """The rule's lines (the last one is the values)."""
    assert latex.startswith(r"\begin{gathered} ") and latex.endswith(r" \end{gathered}")
    out: list[str] = []
    for part in latex[len(r"\begin{gathered} ") : -len(r" \end{gathered}")].split(r" \\ "):
        if out and out[-1].count(r"\begin{cases}") > out[-1].count(r"\end{cases}"):
            out[-1] += r" \\ " + part  # a row of a cases block, not a line of the rule
        else:
            out.append(part)
    return out


def test_numbers_by_hand():
    assert [number(v) for v in (0.03, 1, 10, 0.0003, 1e-8, 2.5e-5, 1e-10, INF, 5)] == [
        "0.03", "1", "10", "0.0003", "10^{-8}", r"2.5\times10^{-5}", "10^{-10}", r"\infty", "5",
    ]  # fmt: skip


def test_sgd():
    assert lines(update_rule("sgd", {"lr": 0.03})) == [r"x_{t+1} = x_t - \eta\, g_t", r"\eta = 0.03"]
    assert lines(update_rule("sgd", (("lr", 0.03),), scheduled=True))[0] == r"x_{t+1} = x_t - \eta_t\, g_t"


def test_momentum_in_torch_form():
    rule, values = lines(update_rule("momentum", {"lr": 0.02, "momentum": 0.5}))
    assert rule == r"v_{t+1} = \mu\, v_t + g_t,\quad x_{t+1} = x_t - \eta\, v_{t+1},\quad v_0 = 0"
    assert values == r"\eta = 0.02,\quad \mu = 0.5"
    assert r"x_{t+1} = x_t - \eta_t\, v_{t+1}" in update_rule("momentum", {}, scheduled=True)


def test_nesterov_in_sutskever_form():
    rule, values = lines(update_rule("nesterov", {"lr": 0.05, "momentum": 0.7}))
    assert rule == r"v_{t+1} = \mu\, v_t - \eta\, \nabla f(x_t + \mu\, v_t),\quad x_{t+1} = x_t + v_{t+1},\quad v_0 = 0"
    assert values == r"\eta = 0.05,\quad \mu = 0.7"
    # Under a schedule and with noise: the step's rate, the step's sample of the loss.
    assert r"\eta_t\, \nabla f_t(x_t + \mu\, v_t)" in update_rule("nesterov", {}, scheduled=True, noisy=True)


def test_adagrad_and_rmsprop_put_eps_outside_the_root():
    rule, values = lines(update_rule("adagrad", {"lr": 0.5, "eps": 1e-6}))
    assert rule == r"s_{t+1} = s_t + g_t^2,\quad x_{t+1} = x_t - \eta\, \frac{g_t}{\sqrt{s_{t+1}} + \epsilon},\quad s_0 = 0"
    assert values == r"\eta = 0.5,\quad \epsilon = 10^{-6}"
    rule, values = lines(update_rule("rmsprop", {"lr": 0.003, "alpha": 0.9, "eps": 1e-4}))
    assert rule.startswith(r"s_{t+1} = \alpha\, s_t + (1-\alpha)\, g_t^2,\quad ")
    assert r"\frac{g_t}{\sqrt{s_{t+1}} + \epsilon}" in rule
    assert values == r"\eta = 0.003,\quad \alpha = 0.9,\quad \epsilon = 0.0001"


def test_adam_with_and_without_bias_correction():
    on = lines(update_rule("adam", {"lr": 0.03, "beta1": 0.8, "beta2": 0.99, "eps": 1e-8, "bias_correction": True}))
    assert on[0] == r"m_{t+1} = \beta_1 m_t + (1-\beta_1)\, g_t,\quad v_{t+1} = \beta_2 v_t + (1-\beta_2)\, g_t^2,\quad m_0 = v_0 = 0"
    assert on[1] == (
        r"\hat m_{t+1} = \frac{m_{t+1}}{1-\beta_1^{t+1}},\quad \hat v_{t+1} = \frac{v_{t+1}}{1-\beta_2^{t+1}},\quad "
        r"x_{t+1} = x_t - \eta\, \frac{\hat m_{t+1}}{\sqrt{\hat v_{t+1}} + \epsilon}"
    )
    assert on[2] == r"\eta = 0.03,\quad \beta_1 = 0.8,\quad \beta_2 = 0.99,\quad \epsilon = 10^{-8}"
    off = lines(update_rule("adam", {"lr": 0.03, "bias_correction": False}))
    assert off[0] == on[0]
    assert off[1] == r"x_{t+1} = x_t - \eta\, \frac{m_{t+1}}{\sqrt{v_{t+1}} + \epsilon}"
    assert off[2] == r"\eta = 0.03,\quad \beta_1 = 0.9,\quad \beta_2 = 0.999,\quad \epsilon = 10^{-8}"  # the defaults
    assert r"\hat" not in update_rule("adam", {"bias_correction": False})


def test_newton_damped_and_capped_or_plain():
    rule, values = lines(update_rule("newton", {"lr": 0.5, "damping": 0.01, "max_step": 2.0}))
    assert rule == (
        r"d_t = -\eta\, \left(H(x_t) + \lambda I\right)^{-1} g_t,\quad "
        r"x_{t+1} = x_t + d_t \min\!\left(1, \frac{R}{\lVert d_t \rVert}\right)"
    )
    assert values == r"\eta = 0.5,\quad \lambda = 0.01,\quad R = 2"
    rule, values = lines(update_rule("newton", {"lr": 1.0, "damping": 0.0, "max_step": INF}))
    assert rule == r"d_t = -\eta\, H(x_t)^{-1} g_t,\quad x_{t+1} = x_t + d_t"
    assert values == r"\eta = 1"
    # Damping without a cap, a cap without damping.
    assert lines(update_rule("newton", {"damping": 0.1, "max_step": INF}))[1] == r"\eta = 1,\quad \lambda = 0.1"
    rule, values = lines(update_rule("newton", {"damping": 0, "max_step": 3}))
    assert r"H(x_t)^{-1} g_t" in rule and r"\min\!\left(1, \frac{R}{\lVert d_t \rVert}\right)" in rule
    assert values == r"\eta = 1,\quad R = 3"


def test_newton_falls_back_to_the_optimizers_defaults():
    # lambda = 1e-3, R = 10 (rules.newton's signature), when the settings do not say.
    assert lines(update_rule("newton", {"lr": 0.5}))[1] == r"\eta = 0.5,\quad \lambda = 0.001,\quad R = 10"
    assert lines(update_rule("saddle_free_newton", ()))[1] == r"\eta = 1,\quad \lambda = 0.001,\quad R = 10"


def test_saddle_free_newton_uses_absolute_eigenvalues():
    rule, values = lines(update_rule("saddle_free_newton", {"lr": 0.3, "damping": 0.5, "max_step": 4}, scheduled=True))
    assert rule == (
        r"H(x_t) = V \Lambda V^\top,\quad d_t = -\eta_t\, \left(V|\Lambda|V^\top + \lambda I\right)^{-1} g_t,\quad "
        r"x_{t+1} = x_t + d_t \min\!\left(1, \frac{R}{\lVert d_t \rVert}\right)"
    )
    assert values == r"\eta = 0.3,\quad \lambda = 0.5,\quad R = 4"
    rule, values = lines(update_rule("saddle_free_newton", {"damping": 0, "max_step": INF}))
    assert r"d_t = -\eta\, \left(V|\Lambda|V^\top\right)^{-1} g_t,\quad x_{t+1} = x_t + d_t" in rule
    assert values == r"\eta = 1"


def test_lbfgs_memory_and_line_search():
    direction, pairs, search, values = lines(update_rule("lbfgs", {"lr": 0.5, "memory": 5}))
    assert r"-g_t / \max(1, \lVert g_t \rVert) & M_t = \emptyset" in direction and r"|M_t| \le m" in direction
    assert r"\gamma_t = \frac{s_k^\top y_k}{y_k^\top y_k}" in pairs
    # Armijo backtracking: eta, eta/2, ... (30 tries), c1 = 1e-4.
    assert search == (
        r"x_{t+1} = x_t + \alpha_t d_t,\quad \alpha_t = \eta\, 0.5^{j},\ j = \min\left\{j \in \{0, \dots, 29\} : "
        r"f(x_t + \eta\, 0.5^{j} d_t) \le f(x_t) + c_1\, \eta\, 0.5^{j}\, g_t^\top d_t\right\}"
    )
    assert values == r"\eta = 0.5,\quad m = 5,\quad c_1 = 0.0001"
    noisy = update_rule("lbfgs", {}, scheduled=True, noisy=True)
    assert r"f_t(x_t + \eta_t\, 0.5^{j} d_t) \le f_t(x_t)" in noisy


@pytest.mark.parametrize("name", optimizers.names())
def test_every_rule_names_its_rate_and_schedule(name):
    plain, scheduled = update_rule(name, {}), update_rule(name, {}, scheduled=True)
    assert r"\eta_t" not in plain and r"\eta_t" in scheduled
    assert lines(plain)[-1].startswith(r"\eta = ")


def test_unknown_names_raise():
    with pytest.raises(ValueError):
        update_rule("sgd", {"momentum": 0.9})
    with pytest.raises(ValueError):
        update_rule("nope", {})


def test_the_gradient_line():
    assert gradient_rule(0.0) == r"g_t = \nabla f(x_t)"
    noisy = gradient_rule(0.5)
    assert noisy.startswith(r"g_t = \nabla f_t(x_t) = \nabla f(x_t) + \sigma\,\xi_t,")
    assert r"f_t(x) = f(x) + \sigma\,\xi_t^\top x" in noisy and noisy.endswith(r"\sigma = 0.5")
