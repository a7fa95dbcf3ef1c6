import sys, json
sys.path.insert(0, "tests")
from sweep_pages import sweep_page
import test_sweep_basins_page as T
from streamlit.testing.v1 import AppTest
at = sweep_page({**T.CAMEL, "sw_n": "8", "sw_seeds": "20"})
at.button(key="sw_seeds_open").click().run()
print([e.value for e in at.exception][:1], [w.value for w in at.warning])
print(dict(at.query_params))
print(at.session_state["x0"], at.session_state["optimizers"], [x.value for x in at.title])
at.run(); print(dict(at.query_params)); print([w.value for w in at.warning])
