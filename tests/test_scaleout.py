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

The container's entry point (``python -m deploy.serve``) is run as the image runs it:
N replicas and nginx on free ports, its temporary directory under the test's, then
SIGTERM (or a replica's death) and no process of its tree left. The core-count rule and
the templates' rendering for any N are checked on hand-made inputs.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.proctree import children
from bench.proxy import TEMPLATE, Nginx, nginx_binary
from bench.server import ROOT, StreamlitServer, free_port, wait_http_ok
from bench.wsclient import BENCHMARK_QUERY, Session, checked
from deploy import serve

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


# --- N replicas: the templates and bench.proxy for any N ---------------------------------


@pytest.mark.parametrize("name", ["nginx.conf", "nginx-cookie.conf"])
@pytest.mark.parametrize("n", [1, 3])
def test_templates_render_for_any_number_of_replicas(tmp_path, name, n):
    """nginx itself (``nginx -t``) accepts the rendered file, whose upstream is exactly the replicas given."""
    if nginx_binary() is None:
        pytest.fail("nginx is not installed (apt-get install nginx; .ci/run installs it)")
    addresses = [f"127.0.0.1:{9000 + i}" for i in range(n)]
    text = serve.nginx_config(TEMPLATE.with_name(name).read_text(), "127.0.0.1:8999", addresses, str(tmp_path), str(tmp_path), "1")
    upstream = re.search(r"upstream descent_lab \{(.*?)\}", text, re.S).group(1)
    assert re.findall(r"server (\S+) max_fails=3 fail_timeout=10s;", upstream) == addresses
    assert "${" not in text and re.search(r"^worker_processes 1;$", text, re.M)
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    check = subprocess.run([nginx_binary(), "-t", "-p", str(tmp_path), "-e", "stderr", "-c", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_render_refuses_a_missing_or_unknown_variable():
    with pytest.raises(ValueError):
        serve.render("listen ${LISTEN}; ${UPSTREAM_SERVERS}", LISTEN="80")
    with pytest.raises(ValueError):
        serve.render("listen ${LISTEN};", LISTEN="80", EXTRA="1")
    with pytest.raises(ValueError):
        serve.upstream_servers([])


def test_nginx_in_front_of_one_replica(replicas):
    """bench.proxy.Nginx with a list of one: every client reaches that replica."""
    only = f"127.0.0.1:{replicas[1].port}"
    with Nginx([only]) as nginx:
        for source in CLIENTS:
            assert get(nginx.port, "/_stcore/health", source) == (200, b"ok")
            assert get(nginx.port, "/", source)[0] == 200
        for _ in range(20):  # nginx writes a request's log line just after its response
            sent = dict(re.findall(r'^(\S+) .*"GET / HTTP[^"]*" 200 .*upstream=(\S+)', nginx.access_log(), re.M))
            if len(sent) == len(CLIENTS):
                break
            time.sleep(0.1)
        assert sent == {c: only for c in CLIENTS}


# --- How many replicas the entry point starts -------------------------------------------------


@pytest.mark.parametrize(
    "affinity, cpu_max, expected",
    [
        (8, [], 8),  # no cgroup file: the CPUs the process may run on
        (8, ["max 100000\n"], 8),  # a cgroup without a quota
        (64, ["200000 100000\n"], 2),  # a container given 2 CPUs on a 64-core host
        (64, ["150000 100000\n"], 1),  # 1.5 CPUs: one whole core
        (64, ["350000 100000"], 3),
        (2, ["400000 100000"], 2),  # the affinity mask is tighter than the quota
        (16, ["max 100000", "300000 100000", "500000 100000"], 3),  # the tightest ancestor
        (16, ["500000 50000"], 10),  # another period: 10 CPUs
        (4, ["50000 100000"], 1),  # half a core: still one process
        (1, [], 1),
    ],
)
def test_usable_cores_from_affinity_and_cgroup_quota(affinity, cpu_max, expected):
    assert serve.usable_cores(affinity, cpu_max) == expected


def test_cgroup_dirs_walk_from_own_group_to_the_mount():
    assert serve.cgroup_dirs("0::/\n", "/cg") == ["/cg"]  # a container's own cgroup namespace
    assert serve.cgroup_dirs("12:cpu,cpuacct:/x\n0::/system.slice/app.service\n", "/cg") == [
        "/cg/system.slice/app.service",
        "/cg/system.slice",
        "/cg",
    ]
    assert serve.cgroup_dirs("", "/cg") == ["/cg"]  # no v2 line: the mount's own file only


@pytest.mark.parametrize(
    "setting, cores, expected",
    [(None, 3, 3), ("", 5, 5), ("auto", 2, 2), (" AUTO ", 2, 2), ("1", 8, 1), (" 4 ", 1, 4), ("64", 1, 64), (None, 200, 64)],
)
def test_replica_count_from_the_environment(setting, cores, expected):
    assert serve.replica_count(setting, cores) == expected


@pytest.mark.parametrize("setting", ["0", "65", "-1", "2.5", "two", "1e3", "0x2", "1000"])
def test_replica_count_refuses_what_is_not_a_whole_number_from_1_to_64(setting):
    with pytest.raises(ValueError, match="DESCENT_LAB_REPLICAS"):
        serve.replica_count(setting, 2)


def test_stickiness_setting_picks_the_template():
    assert serve.template_for(None).name == "nginx.conf"
    assert serve.template_for("ip").name == "nginx.conf"
    assert serve.template_for("Cookie").name == "nginx-cookie.conf"
    with pytest.raises(ValueError, match="DESCENT_LAB_STICKY"):
        serve.template_for("sticky")


# --- The entry point, run as the container runs it ------------------------------------------


def _tree(pid: int) -> dict[int, str]:
    """Every descendant of ``pid``: pid -> its start time (field 22 of /proc/PID/stat), to tell a reused pid."""
    out: dict[int, str] = {}
    todo = children(pid)
    while todo:
        p = todo.pop()
        try:
            out[p] = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[19]
            todo += children(p)
        except OSError:  # exited meanwhile
            continue
    return out


def _alive(pid: int, start: str) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19] == start
    except OSError:
        return False


class EntryPoint:
    """``python -m deploy.serve`` on a free loopback port, its temporary files under ``tmp``."""

    def __init__(self, tmp: Path, replicas: str, sticky: str = "ip"):
        self.tmp, self.port = tmp, free_port()
        self.out_path = tmp / "serve.out"
        env = dict(os.environ, DESCENT_LAB_REPLICAS=replicas, DESCENT_LAB_STICKY=sticky, TMPDIR=str(tmp), PYTHONUNBUFFERED="1")
        with open(self.out_path, "ab") as out:  # appending: nginx reopens this file as its access log
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "deploy.serve", "--port", str(self.port), "--address", "127.0.0.1"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def output(self) -> str:
        return self.out_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 120) -> None:
        try:
            wait_http_ok(f"http://127.0.0.1:{self.port}/_stcore/health", timeout, alive=lambda: self.proc.poll() is None)
        except TimeoutError:
            raise AssertionError(f"the entry point did not come up (exit {self.proc.poll()}):\n{self.output()[-3000:]}") from None

    def replicas(self) -> list[str]:
        m = re.search(r"descent-lab: \d+ Streamlit processes \(([^)]*)\) behind nginx", self.output())
        assert m, self.output()[-3000:]
        return m.group(1).split(", ")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def entry_point(tmp_path):
    started: list[EntryPoint] = []

    def start(replicas: str, sticky: str = "ip") -> EntryPoint:
        if nginx_binary() is None:
            pytest.fail("nginx is not installed (apt-get install nginx; .ci/run installs it)")
        started.append(EntryPoint(tmp_path, replicas, sticky))
        return started[-1]

    yield start
    for e in started:
        e.close()  # a failed test's leftovers; the tests themselves stop it by a signal


def test_entry_point_serves_two_replicas_behind_nginx_and_stops_on_sigterm(entry_point, tmp_path):
    ep = entry_point("2")
    ep.wait_ready()
    replicas = ep.replicas()
    assert len(replicas) == 2

    # nginx's own directory (config, pid, temp files) is under TMPDIR, rendered for two replicas.
    (run_dir,) = tmp_path.glob("descent-lab-nginx-*")
    conf = (run_dir / "nginx.conf").read_text()
    upstream = re.search(r"upstream descent_lab \{(.*?)\}", conf, re.S).group(1)
    assert re.findall(r"server (\S+) max_fails", upstream) == replicas and "ip_hash;" in upstream
    assert f"listen 127.0.0.1:{ep.port};" in conf

    # Health through nginx, from two client addresses that ip_hash sends to different replicas.
    two = CLIENTS[:2]
    for source in two:
        assert get(ep.port, "/_stcore/health", source) == (200, b"ok")

    async def visits():
        return await asyncio.gather(*(_client_visit(ep.port, c) for c in two))

    for v in run_async(visits()):
        assert v["lr"] == "0.07", v  # the run and both moves went through
        assert v["resumed"] == v["first"], f"{v['source']} lost its session on reconnect: {v}"

    # nginx's access log is the entry point's output: each client's websockets on one replica, both used.
    used: dict[str, set[str]] = {c: set() for c in two}
    for _ in range(20):
        used = {c: set() for c in two}
        for m in re.finditer(r"^(\S+) .*\"GET /_stcore/stream[^\"]*\" 101 .*upstream=(\S+)", ep.output(), re.M):
            if m.group(1) in used:
                used[m.group(1)].add(m.group(2))
        if all(len(u) for u in used.values()):
            break
        time.sleep(0.1)
    assert all(len(u) == 1 for u in used.values()), used
    assert set().union(*used.values()) == set(replicas), used

    # Two Streamlit processes and nginx's master are its children; SIGTERM stops the whole tree.
    tree = _tree(ep.proc.pid)
    direct = children(ep.proc.pid)
    cmdlines = [Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode() for p in direct]
    assert sorted("streamlit run app.py" in c for c in cmdlines) == [False, True, True], cmdlines
    assert sum(c.startswith("nginx: master") for c in cmdlines) == 1, cmdlines
    assert len(tree) > len(direct)  # nginx's worker, at least

    ep.proc.send_signal(signal.SIGTERM)
    assert ep.proc.wait(60) == 0, ep.output()[-3000:]
    assert [p for p, start in tree.items() if _alive(p, start)] == []
    assert not run_dir.exists()
    assert "signal 15: stopping" in ep.output()


def test_entry_point_exits_when_a_replica_dies(entry_point, tmp_path):
    """A child that dies takes the container down (its restart policy starts it afresh), no process left behind."""
    ep = entry_point("2", sticky="cookie")
    ep.wait_ready()
    (run_dir,) = tmp_path.glob("descent-lab-nginx-*")
    assert "hash $dl_affinity consistent;" in (run_dir / "nginx.conf").read_text()
    status, _, headers = request(ep.port, "/")
    assert status == 200 and headers.get("set-cookie", "").startswith("dl_affinity=")

    tree = _tree(ep.proc.pid)
    victim = next(p for p in children(ep.proc.pid) if b"streamlit" in Path(f"/proc/{p}/cmdline").read_bytes())
    os.kill(victim, signal.SIGKILL)
    assert ep.proc.wait(60) == 1, ep.output()[-3000:]
    assert [p for p, start in tree.items() if _alive(p, start)] == []
    assert re.search(r"streamlit:\d+ ended \(signal 9\): stopping the others", ep.output()), ep.output()[-3000:]


def test_entry_point_with_one_replica_is_streamlit_itself(entry_point):
    """DESCENT_LAB_REPLICAS=1: no nginx; the process becomes Streamlit on the public port."""
    ep = entry_point("1")
    ep.wait_ready()
    cmdline = Path(f"/proc/{ep.proc.pid}/cmdline").read_bytes().split(b"\0")
    assert b"streamlit" in cmdline and str(ep.port).encode() in cmdline
    assert not any(b"nginx" in Path(f"/proc/{p}/cmdline").read_bytes() for p in children(ep.proc.pid))
    ep.proc.send_signal(signal.SIGTERM)
    assert ep.proc.wait(30) == 0, ep.output()[-3000:]


def test_entry_point_refuses_a_bad_setting(tmp_path):
    env = dict(os.environ, DESCENT_LAB_REPLICAS="two", TMPDIR=str(tmp_path))
    r = subprocess.run([sys.executable, "-m", "deploy.serve", "--port", "1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "DESCENT_LAB_REPLICAS='two'" in r.stderr
    assert list(tmp_path.iterdir()) == []  # nothing started, nothing written
