"""Each optimizer's update rule in LaTeX, exactly as :mod:`optimizers.rules` computes it."""

UPDATE_RULES: dict[str, str] = {
    "sgd": r"x_{t+1} = x_t - \eta\, g_t",
    "momentum": r"v_{t+1} = \mu\, v_t + g_t,\quad x_{t+1} = x_t - \eta\, v_{t+1},\quad v_0 = 0",
    "nesterov": r"v_{t+1} = \mu\, v_t - \eta\, \nabla f(x_t + \mu\, v_t),\quad x_{t+1} = x_t + v_{t+1}",
    "adagrad": r"s_{t+1} = s_t + g_t^2,\quad x_{t+1} = x_t - \eta\, \frac{g_t}{\sqrt{s_{t+1}} + \epsilon}",
    "rmsprop": r"s_{t+1} = \alpha\, s_t + (1-\alpha)\, g_t^2,\quad x_{t+1} = x_t - \eta\, \frac{g_t}{\sqrt{s_{t+1}} + \epsilon}",
    "adam": r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\ v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\ "
    r"x_t = x_{t-1} - \eta\, \frac{m_t / (1-\beta_1^t)}{\sqrt{v_t / (1-\beta_2^t)} + \epsilon}",
    "newton": r"x_{t+1} = x_t - \eta\, H(x_t)^{-1} g_t,\quad \eta = 1",
    "saddle_free_newton": r"H = V\Lambda V^\top,\quad x_{t+1} = x_t - \eta\, \left(V|\Lambda|V^\top\right)^{-1} g_t",
    "lbfgs": r"d_k = -H_k g_k\ \text{(two-loop recursion over the last } m \text{ pairs)},\quad "
    r"x_{k+1} = x_k + \alpha_k d_k,\ \alpha_k: f(x_k+\alpha d_k) \le f(x_k) + c_1 \alpha\, g_k^\top d_k",
}
