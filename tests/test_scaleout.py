"""Scale-out: two Streamlit replicas behind nginx, rendered from deploy/nginx.conf.

The test starts everything itself on free loopback ports and stops it: two
``streamlit run app.py`` replicas and ``nginx -p TMP -c TMP/nginx.conf -g 'daemon off;'``
(Debian's ``nginx`` package; ``.ci/run`` installs it). Through nginx it checks health,
a static asset, and browser-like sessions on the benchmark link, each from its own
client address (127.0.N.1: loopback answers on all of 127/8, and ``ip_hash`` keys on
the first three octets, so these are four different "clients"):

- the websocket upgrade goes through: the run finishes, moves of Adam's learning rate
  finish, with the Origin header a browser sends (Streamlit compares it with Host);
- a session is sticky: nginx's access log names one replica per client address, and a
  reconnect with the session's id resumes the same session (the same id comes back),
  which only the replica holding it can do (the other replica answers with a new id);
- both replicas serve: the clients are spread over both, and each answers its health.
"""

from __future__ import annotations

import asyncio
import http.client
import re
import time

import pytest

from bench.server import StreamlitServer
from bench.proxy import TEMPLATE, Nginx, nginx_binary
from bench.wsclient import BENCHMARK_QUERY, Session, checked

# ip_hash on 127.0.N.x sends odd N to the first server line, even N to the second.
CLIENTS = ["127.0.1.1", "127.0.2.1", "127.0.3.1", "127.0.4.1"]

pytestmark = pytest.mark.timeout(150)


def run_async(coro):
    """asyncio.run in a thread of its own: in a full test run the browser tests'
    Playwright keeps an event loop running in the main thread."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def request(port: int, path: str, source: str = "127.0.0.1", headers: dict | None = None) -> tuple[int, bytes, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read(), {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()


def get(port: int, path: str, source: str = "127.0.0.1") -> tuple[int, bytes]:
    return request(port, path, source)[:2]


@pytest.fixture(scope="module")
def replicas():
    if nginx_binary() is None:
        pytest.fail("nginx is not installed (apt-get install nginx; .ci/run installs it)")
    servers = [StreamlitServer() for _ in range(2)]
    try:
        for r in servers:
            r.start(wait=False)  # both boot at once
        for r in servers:
            r.wait_ready(60)
        yield servers
    finally:
        for r in servers:
            r.stop()
            r.cleanup()


@pytest.fixture(scope="module")
def stack(replicas):
    """deploy/nginx.conf: ip_hash."""
    with Nginx([f"127.0.0.1:{r.port}" for r in replicas]) as nginx:
        yield {"port": nginx.port, "replicas": replicas, "nginx": nginx}


@pytest.fixture(scope="module")
def cookie_stack(replicas):
    """deploy/nginx-cookie.conf: hash of a per-browser cookie."""
    with Nginx([f"127.0.0.1:{r.port}" for r in replicas], template=TEMPLATE.with_name("nginx-cookie.conf")) as nginx:
        yield {"port": nginx.port, "replicas": replicas, "nginx": nginx}


async def _client_visit(port: int, source: str, cookie: str | None = None) -> dict:
    """One browser: open the benchmark link, move Adam's lr twice, drop the connection, reconnect."""
    url = f"ws://127.0.0.1:{port}/_stcore/stream"
    origin = f"http://127.0.0.1:{port}"
    headers = {"Cookie": cookie} if cookie else None
    s = Session(url, BENCHMARK_QUERY, local_addr=source, origin=origin, headers=headers, timeout=60)
    async with s:
        checked(await s.open())
        first_id = s.session_id
        for _ in range(2):
            checked(await s.move_panel("adam_lr", 1))
        lr = s.panel_value("adam_lr")
    # Reconnect as the frontend does after a dropped connection: same widget values, resume by id.
    s.resume_id = first_id
    async with s:
        checked(await s.rerun())
        resumed_id = s.session_id
    return {"source": source, "cookie": cookie, "first": first_id, "resumed": resumed_id, "lr": lr}


def test_health_and_static_assets_through_nginx(stack):
    port = stack["port"]
    for source in CLIENTS:
        assert get(port, "/_stcore/health", source) == (200, b"ok")
    status, page = get(port, "/")
    assert status == 200 and b"<html" in page.lower()
    # The page's script bundle, through the proxy, byte for byte as the replica serves it.
    src = re.search(rb'src="\.?/?(static/js/[^"]+\.js)"', page)
    assert src, "no script bundle in the index page"
    asset = "/" + src.group(1).decode()
    via_proxy = get(port, asset)
    direct = get(stack["replicas"][0].port, asset)
    assert via_proxy[0] == 200 and via_proxy[1] == direct[1]


def test_sessions_work_through_nginx_and_stick_to_one_replica(stack):
    port, replicas, nginx = stack["port"], stack["replicas"], stack["nginx"]

    async def all_clients():
        return await asyncio.gather(*(_client_visit(port, c) for c in CLIENTS))

    visits = run_async(all_clients())  # each client has its own timeouts

    for v in visits:
        assert v["first"], v
        assert v["lr"] == "0.07", v  # 0.03 -> 0.05 -> 0.07: both moves landed
        # Resumed by id: the reconnect reached the replica that holds the session.
        assert v["resumed"] == v["first"], f"{v['source']} lost its session on reconnect: {v}"

    # nginx writes a websocket's log line when it closes; all are closed now.
    replica_addrs = {f"127.0.0.1:{r.port}" for r in replicas}
    log = ""
    for _ in range(20):
        log = nginx.access_log()
        if all(f"{c} " in log and "/_stcore/stream" in log for c in CLIENTS):
            break
        time.sleep(0.1)
    used: dict[str, set[str]] = {c: set() for c in CLIENTS}
    for line in log.splitlines():
        m = re.match(r"(\S+) .*\"GET /_stcore/stream[^\"]*\" (\d+) .*upstream=(\S+)", line)
        if m and m.group(1) in used:
            assert m.group(2) == "101", line
            used[m.group(1)].add(m.group(3))
    for client, upstreams in used.items():
        assert len(upstreams) == 1, f"{client}'s websockets went to {upstreams}"
        assert upstreams <= replica_addrs
    assert set().union(*used.values()) == replica_addrs, f"not both replicas used: {used}"

    # Both replicas are up, each on its own.
    for r in replicas:
        assert get(r.port, "/_stcore/health") == (200, b"ok")


def test_a_session_cannot_resume_on_the_other_replica(stack):
    """Why stickiness matters: the replica that does not hold a session starts a new one."""
    replicas = stack["replicas"]

    async def go():
        async with Session(replicas[0].ws_url, BENCHMARK_QUERY, timeout=60) as s:
            checked(await s.open())
            held = s.session_id
        other = Session(replicas[1].ws_url, BENCHMARK_QUERY, resume_id=held, timeout=60)
        async with other:
            checked(await other.open())
        same = Session(replicas[0].ws_url, BENCHMARK_QUERY, resume_id=held, timeout=60)
        async with same:
            checked(await same.open())
        return held, other.session_id, same.session_id

    held, elsewhere, again = run_async(go())
    assert elsewhere and elsewhere != held
    assert again == held


def test_one_nat_address_many_browsers_spread_by_cookie_and_stick(cookie_stack):
    """A class behind one school NAT address: ip_hash would send all of it to one replica."""
    port, replicas, nginx = cookie_stack["port"], cookie_stack["replicas"], cookie_stack["nginx"]
    nat = "127.0.9.1"

    # A first visit gets a random affinity cookie; a browser that has one is not given another.
    status, _, headers = request(port, "/", nat)
    assert status == 200
    first = re.match(r"dl_affinity=([0-9a-f]{32});", headers.get("set-cookie", ""))
    assert first, headers.get("set-cookie")
    again = request(port, "/", nat, {"Cookie": f"dl_affinity={first.group(1)}"})[2]
    assert "dl_affinity" not in again.get("set-cookie", "")

    # Sixteen browsers, each with the cookie nginx hands it, load the page three times
    # (the access log names the replica of each load; health checks are not logged).
    cookies = [request(port, "/", nat)[2]["set-cookie"].split(";")[0] for _ in range(16)]
    for c in cookies:
        for _ in range(3):
            assert request(port, "/", nat, {"Cookie": c})[0] == 200

    # Four of them run the app over the websocket, drop the connection and resume.
    async def visits():
        return await asyncio.gather(*(_client_visit(port, nat, c) for c in cookies[:4]))

    for v in run_async(visits()):
        assert v["lr"] == "0.07", v
        assert v["resumed"] == v["first"], f"{v['cookie']} lost its session on reconnect: {v}"

    replica_addrs = {f"127.0.0.1:{r.port}" for r in replicas}
    used: dict[str, set[str]] = {c.split("=", 1)[1]: set() for c in cookies}
    for line in nginx.access_log().splitlines():
        m = re.match(r"\S+ .*upstream=(\S+) .*aff=([0-9a-f]+)$", line)
        if m and m.group(2) in used:
            used[m.group(2)].add(m.group(1))
    for cookie, upstreams in used.items():
        assert len(upstreams) == 1, f"browser {cookie} was sent to {upstreams}"
    # 16 random cookies all on one replica: odds 2 in 65536.
    assert set().union(*used.values()) == replica_addrs, used


@pytest.mark.parametrize("name", ["nginx.conf", "nginx-cookie.conf"])
def test_template_stream_location_keeps_host_upgrade_and_long_timeouts(name):
    """What the loopback run cannot show: Streamlit accepts any 127.0.0.1 Origin, so a
    proxy that dropped the port from Host would pass above and fail for real visitors."""
    text = TEMPLATE.with_name(name).read_text()
    block = re.search(r"location /_stcore/stream \{(.*?)\n        \}", text, re.S)
    assert block, "no websocket location in deploy/nginx.conf"
    body = block.group(1)
    for directive in (
        r"proxy_set_header\s+Host\s+\$http_host;",
        r"proxy_set_header\s+Upgrade\s+\$http_upgrade;",
        r"proxy_set_header\s+Connection\s+\$connection_upgrade;",
    ):
        assert re.search(directive, body), f"the websocket location lacks {directive}"
    assert re.search(r"proxy_http_version\s+1\.1;", text)  # the server block's, inherited
    timeout = re.search(r"proxy_read_timeout\s+(\d+)s;", body)
    assert timeout and int(timeout.group(1)) >= 3600
    assert re.search(r"upstream descent_lab \{\s*(ip_hash|hash \$dl_affinity consistent);", text)
