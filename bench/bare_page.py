"""The comparison page for bench/bench_browser.py: one slider, one 200 x 200 contour.

The least a Streamlit page with a Plotly contour can do per slider move; the
benchmark holds the real app's latency against this floor.
Run: streamlit run bench/bare_page.py
"""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

k = st.slider("k", 0.0, 10.0, 1.0, step=0.1, key="k")
xs = np.linspace(-3.0, 3.0, 200)
gx, gy = np.meshgrid(xs, xs)
z = (np.sin(k * gx) * np.cos(gy) + 0.1 * k * gx * gy).astype(np.float32)
fig = go.Figure(go.Contour(x=xs, y=xs, z=z))
fig.update_layout(height=500, margin={"l": 40, "r": 20, "t": 20, "b": 40})
st.plotly_chart(fig, key="bare_chart", theme=None)
