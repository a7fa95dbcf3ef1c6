"""A minimal Streamlit browser stand-in: speaks the app's websocket protocol, renders nothing.

What the frontend does, reduced to what load and routing tests need:

- connect to ``/_stcore/stream`` with subprotocols ``["streamlit", <xsrf>, <session id>]``
  (the third entry asks the server to resume a disconnected session);
- send ``BackMsg.rerun_script`` (a ``ClientState``) with the page's query string, the
  value of every widget on the page (what the frontend's widget manager holds: defaults,
  values the server set, the user's moves), and the hashes of the large messages it
  already holds (Streamlit's forward-message cache: the server then sends a reference,
  not the element; this client keeps every hash it saw, enough for short sessions);
  moving a widget drawn inside an ``st.fragment`` names that fragment
  (``ClientState.fragment_id``, from the widget's delta), so only it reruns;
- read ``ForwardMsg``s until ``script_finished``: ``new_session`` carries the session id,
  deltas carry the widgets (their ids are in ``new_element.<widget>.id``), the
  hyperparameters panel (a component: its data, and the id its reports go to) and any
  ``exception`` element, ``page_info_changed`` carries the URL the app wrote;
- a change in the hyperparameters panel goes as the browser sends it: a one-shot trigger
  (``json_trigger_value``) with the rerun of the panel's fragment;
- a slider or number input moved (``set_slider``, ``set_number``) goes as its new value in
  the widget states, and, for a widget bound to the URL (its ``query_param_key``), in the
  query string the rerun carries.

Used by ``bench/load.py`` and ``tests/test_scaleout.py``. Loopback only: callers pass
the URL of a server they started themselves.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from ui import hyper_panel
from ui.live_chart import COMPONENT_NAME as LIVE_CHART

BENCHMARK_QUERY = (
    "landscape=rosenbrock&optimizers=sgd&optimizers=momentum&optimizers=nesterov"
    "&optimizers=adagrad&optimizers=rmsprop&optimizers=adam&steps=1000"
)

# Element types whose protos carry a widget ``id``.
_WIDGETS = {"slider", "selectbox", "multiselect", "number_input", "checkbox", "radio"}


def trigger_id(component_id: str) -> str:
    """The widget id a component's triggers go to (Streamlit's bidi components: internal prefix, id, "__events")."""
    return f"$$STREAMLIT_INTERNAL_KEY_{component_id}__events"


class ScriptError(RuntimeError):
    """The run did not finish cleanly: compile error or an exception element."""


@dataclass
class Widget:
    id: str
    kind: str  # proto field name: slider, selectbox, ...
    proto: object  # the element's proto (for options, min/max/step)
    fragment_id: str = ""  # the st.fragment the widget was drawn in: moving it reruns only that


@dataclass
class RunResult:
    seconds: float
    messages: int
    bytes: int
    largest: int
    status: str
    exceptions: list[str]


@dataclass
class Session:
    """One browser tab: ``async with Session(url, query) as s: await s.open()``, then moves."""

    url: str
    query: str
    local_addr: str | None = None  # source address (127.x.y.z) to connect from
    origin: str | None = None  # the Origin header a browser on this page would send
    resume_id: str | None = None  # a session id to resume, as the frontend does on reconnect
    headers: dict[str, str] | None = None  # e.g. the browser's Cookie header
    timeout: float = 120.0
    ws: object = None
    session_id: str = ""
    widgets: dict[str, Widget] = field(default_factory=dict)  # by user key
    states: dict[str, tuple[str, object]] = field(default_factory=dict)  # widget id -> (WidgetState field, value)
    panels: dict[str, Widget] = field(default_factory=dict)  # components by user key; proto: their data (dict)
    triggers: dict[str, str] = field(default_factory=dict)  # sent with the next rerun only, as the browser does
    cached: set[str] = field(default_factory=set)
    open_result: RunResult | None = None

    async def connect(self) -> "Session":
        protocols = ["streamlit", "xsrf-placeholder"] + ([self.resume_id] if self.resume_id else [])
        kwargs: dict = {"local_addr": (self.local_addr, 0)} if self.local_addr else {}
        if self.origin:
            kwargs["origin"] = self.origin
        if self.headers:
            kwargs["additional_headers"] = self.headers
        self.ws = await asyncio.wait_for(
            websockets.connect(
                self.url,
                subprotocols=protocols,
                max_size=64 * 2**20,
                compression=None,
                open_timeout=self.timeout,
                ping_interval=None,
                **kwargs,
            ),
            self.timeout,
        )
        return self

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    async def __aenter__(self) -> "Session":
        return await self.connect()

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # -- protocol ---------------------------------------------------------------

    def _rerun_msg(self, fragment_id: str = "") -> bytes:
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query
        cs.fragment_id = fragment_id
        cs.page_script_hash = ""
        cs.page_name = ""
        for wid, (kind, value) in self.states.items():
            w = cs.widget_states.widgets.add()
            w.id = wid
            if kind == "double_array_value":
                w.double_array_value.data[:] = value
            elif kind == "string_array_value":
                w.string_array_value.data[:] = value
            elif kind == "int_array_value":
                w.int_array_value.data[:] = value
            else:
                setattr(w, kind, value)
        for wid, payload in self.triggers.items():
            w = cs.widget_states.widgets.add()
            w.id = wid
            w.json_trigger_value = payload
        self.triggers = {}
        cs.cached_message_hashes[:] = sorted(self.cached)
        return msg.SerializeToString()

    async def rerun(self, fragment_id: str = "") -> RunResult:
        """Send one rerun (of one fragment, as the browser does for a widget drawn in one) and
        read until the script finishes; the latency is send -> script_finished."""
        payload = self._rerun_msg(fragment_id)
        t0 = time.perf_counter()
        await self.ws.send(payload)
        n = nbytes = largest = 0
        exceptions: list[str] = []
        deadline = t0 + self.timeout
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), max(0.0, deadline - time.perf_counter()))
            n += 1
            nbytes += len(raw)
            largest = max(largest, len(raw))
            fm = ForwardMsg()
            fm.ParseFromString(raw)
            kind = fm.WhichOneof("type")
            if fm.metadata.cacheable and fm.hash:
                self.cached.add(fm.hash)
            if kind == "new_session":
                self.session_id = fm.new_session.initialize.session_id
            elif kind == "page_info_changed":
                self.query = fm.page_info_changed.query_string
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                etype = el.WhichOneof("type")
                if etype == "exception":
                    exceptions.append(f"{el.exception.type}: {el.exception.message}")
                elif etype in _WIDGETS:
                    self._learn(etype, getattr(el, etype), fm.delta.fragment_id)
                elif etype == "bidi_component" and el.bidi_component.component_name == hyper_panel.COMPONENT_NAME:
                    proto = el.bidi_component
                    key = proto.id.rsplit("-", 1)[-1]
                    self.panels[key] = Widget(proto.id, etype, json.loads(proto.bytes), fm.delta.fragment_id)
                    # The browser holds each component's state (a JSON map, empty here) and sends it
                    # with every rerun; without it the server reads no trigger for the component.
                    self.states.setdefault(proto.id, ("json_value", "{}"))
                elif etype == "bidi_component" and el.bidi_component.component_name == LIVE_CHART:
                    proto = el.bidi_component  # its data (the figure) is not parsed: only its id is needed
                    key = proto.id.rsplit("-", 1)[-1]
                    self.panels[key] = Widget(proto.id, etype, None, fm.delta.fragment_id)
                    self.states.setdefault(proto.id, ("json_value", "{}"))
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(fm.script_finished)
                if status == "FINISHED_EARLY_FOR_RERUN":
                    # A callback asked for another run (st.rerun, e.g. of one fragment): the
                    # move is done when that one finishes, as the browser sees it.
                    continue
                return RunResult(time.perf_counter() - t0, n, nbytes, largest, status, exceptions)

    def _learn(self, etype: str, proto, fragment_id: str = "") -> None:
        """Record a widget and, like the frontend's widget manager, its value.

        The browser holds every widget's value and sends them all with each rerun: the
        default when the widget first appears, a value the server sets (``set_value``),
        or what the user chose.
        """
        wid = proto.id
        if not wid:
            return
        key = wid.rsplit("-", 1)[-1] if wid.startswith("$$ID-") else wid
        self.widgets[key] = Widget(wid, etype, proto, fragment_id)
        if wid in self.states and not proto.set_value:
            return
        if etype == "slider" and proto.type == proto.Type.SELECT_SLIDER:
            value = list(proto.raw_value) if proto.set_value else [proto.options[int(i)] for i in proto.default]
            self.states[wid] = ("string_array_value", value)
        elif etype == "slider":
            self.states[wid] = ("double_array_value", list(proto.value if proto.set_value else proto.default))
        elif etype in ("selectbox", "radio"):
            if proto.set_value:
                self.states[wid] = ("string_value", proto.raw_value)
            elif proto.HasField("default"):
                self.states[wid] = ("string_value", proto.options[proto.default])
        elif etype == "multiselect":
            value = list(proto.raw_values) if proto.set_value else [proto.options[i] for i in proto.default]
            self.states[wid] = ("string_array_value", value)
        elif etype == "number_input":
            value = proto.value if proto.set_value else proto.default
            integer = proto.data_type == proto.DataType.INT
            self.states[wid] = ("int_value", int(value)) if integer else ("double_value", float(value))
        elif etype == "checkbox":
            self.states[wid] = ("bool_value", bool(proto.value if proto.set_value else proto.default))

    # -- user actions -----------------------------------------------------------

    async def open(self) -> RunResult:
        """Load the page: the first rerun, with the link's query string and no widget values."""
        self.open_result = await self.rerun()
        return self.open_result

    def _set_url(self, key: str, value: str) -> None:
        # What the frontend does for a widget bound to the URL.
        pairs = [(k, v) for k, v in parse_qsl(self.query, keep_blank_values=True) if k != key]
        self.query = urlencode(pairs + [(key, value)])

    def _panel_item(self, control: str, panel: str) -> dict:
        groups = self.panels[panel].proto["groups"]
        return next(it for g in groups for it in g["items"] if it["key"] == control)

    def _panel_scale(self, item: dict, panel: str) -> list[str]:
        return self.panels[panel].proto["scales"][item["scale"]]

    def panel_value(self, control: str, panel: str = "hyper_panel") -> str:
        """The text a panel shows for ``control`` (``adam_lr``)."""
        item = self._panel_item(control, panel)
        return self._panel_scale(item, panel)[item["index"]]

    async def move_panel(self, control: str, steps: int = 1, panel: str = "hyper_panel") -> RunResult:
        """Move a panel's scale ``steps`` options (negative: left), as an arrow key would: the
        panel sends a numbered report of the change and the page reruns the panel's fragment."""
        item = self._panel_item(control, panel)
        i = item["index"] + steps
        if not 0 <= i < len(self._panel_scale(item, panel)):
            raise ValueError(f"{control}: no option {steps:+d} from here")
        comp = self.panels[panel]
        # As the browser: a numbered report of every change not yet confirmed (here just this one).
        report = {"seq": comp.proto.get("applied", 0) + 1, "changes": {control: i}}
        self.triggers[trigger_id(comp.id)] = json.dumps([{"event": "change", "value": report}])
        return await self.rerun(comp.fragment_id)

    async def click_chart(self, x: float, y: float, chart: str = "path_chart") -> RunResult:
        """Click the live chart ``chart`` at (x, y) in its axes' units, as the browser reports a
        click on the contour (the component's ``click`` trigger, ``ui/assets/live_chart.js``)."""
        comp = self.panels[chart]
        self.triggers[trigger_id(comp.id)] = json.dumps([{"event": "click", "value": {"x": x, "y": y}}])
        return await self.rerun(comp.fragment_id)

    def slider_value(self, key: str) -> float:
        return float(self.states[self.widgets[key].id][1][0])

    async def set_slider(self, key: str, value: float) -> RunResult:
        """Move slider ``key`` to ``value``; a slider bound to the URL writes it there, as the browser does."""
        w = self.widgets[key]
        proto = w.proto
        if not proto.min <= value <= proto.max:
            raise ValueError(f"{key}: {value} outside [{proto.min}, {proto.max}]")
        self.states[w.id] = ("double_array_value", [float(value)])
        if proto.query_param_key:
            self._set_url(proto.query_param_key, f"{value:g}")
        return await self.rerun(w.fragment_id)

    def number_value(self, key: str) -> float:
        """The value number input ``key`` holds (a float, also for an integer input)."""
        return float(self.states[self.widgets[key].id][1])

    async def set_number(self, key: str, value: float) -> RunResult:
        """Type ``value`` into number input ``key`` and commit it (Enter or leaving the box): the
        browser sends it as the widget's ``double_value`` (``int_value`` for an integer input) and,
        for an input bound to the URL, writes it there."""
        w = self.widgets[key]
        proto = w.proto
        if (proto.has_min and value < proto.min) or (proto.has_max and value > proto.max):
            raise ValueError(f"{key}: {value} outside [{proto.min}, {proto.max}]")
        integer = proto.data_type == proto.DataType.INT
        self.states[w.id] = ("int_value", int(value)) if integer else ("double_value", float(value))
        if proto.query_param_key:
            self._set_url(proto.query_param_key, f"{int(value)}" if integer else f"{value:g}")
        return await self.rerun(w.fragment_id)


def checked(result: RunResult) -> RunResult:
    """Raise unless the run finished successfully without an exception element."""
    if result.status not in ("FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY") or result.exceptions:
        raise ScriptError(f"{result.status}: {'; '.join(result.exceptions) or 'no exception element'}")
    return result
