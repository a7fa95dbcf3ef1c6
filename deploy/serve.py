"""One host, one Streamlit process per core, nginx in front: the container's entry point.

    python -m deploy.serve [--port 8501] [--address 0.0.0.0]

Starts N ``streamlit run app.py`` replicas on free loopback ports, waits until each
answers ``/_stcore/health``, then runs nginx on ADDRESS:PORT, rendered from
``deploy/nginx.conf`` (sticky by client address, ``ip_hash``) or
``deploy/nginx-cookie.conf`` (sticky by a per-browser cookie). With N = 1 it becomes
Streamlit itself on ADDRESS:PORT (exec), without nginx.

Environment:
  DESCENT_LAB_REPLICAS  N: a whole number 1..64; unset, empty or ``auto``: the usable cores
  DESCENT_LAB_STICKY    ``ip`` (default, ip_hash) or ``cookie``

Usable cores: the CPUs this process may run on (``os.sched_getaffinity``), cut to the
tightest CPU quota of its cgroup and its ancestors (cgroup v2 ``cpu.max``; v1
``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``), rounded down, at least 1. One Streamlit
process keeps at most about one core busy (one interpreter lock), so processes beyond
the cores only take turns, and a fractional core is left to nginx and the typed-function
workers.

Supervision: SIGTERM or SIGINT is passed to every child as SIGTERM, and the entry point
exits 0 once no child is left (SIGKILL after ``GRACE`` s). If a child exits on its own,
the others are stopped and it exits 1, so that the container's restart policy starts it
afresh. On Linux it is a child subreaper (a worker orphaned by a replica comes back to
it and is stopped too), and each child gets SIGTERM should the entry point itself die.

Standard library only: the image holds no test or bench tools. Runs as any user: nginx
gets its own prefix, pid file and temp directories in a fresh temporary directory, and
its logs come out on this process's stdout (through a pipe of its own, see ``pump``).
"""

from __future__ import annotations

import argparse
import ctypes
import math
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = {"ip": ROOT / "deploy" / "nginx.conf", "cookie": ROOT / "deploy" / "nginx-cookie.conf"}
REPLICAS_ENV = "DESCENT_LAB_REPLICAS"
STICKY_ENV = "DESCENT_LAB_STICKY"
MAX_REPLICAS = 64
GRACE = 8.0  # seconds from SIGTERM to SIGKILL; `docker stop` waits 10 s before its own SIGKILL
BOOT_TIMEOUT = 300.0  # seconds for every replica to answer its health check
POLL = 0.2

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


# --- How many replicas -------------------------------------------------------------------


def parse_cpu_max(text: str) -> float | None:
    """Cores a cgroup v2 ``cpu.max`` text allows ("QUOTA PERIOD" in microseconds); None when unlimited ("max ...")."""
    fields = text.split()
    if not fields or fields[0] == "max":
        return None
    quota = int(fields[0])
    period = int(fields[1]) if len(fields) > 1 else 100_000
    if quota <= 0 or period <= 0:
        return None
    return quota / period


def usable_cores(affinity: int, cpu_max: list[str]) -> int:
    """Whole cores for Streamlit processes: ``affinity`` CPUs cut to the tightest quota among
    the ``cpu_max`` texts (see ``parse_cpu_max``), rounded down, at least 1."""
    cores = float(affinity)
    for text in cpu_max:
        limit = parse_cpu_max(text)
        if limit is not None:
            cores = min(cores, limit)
    return max(1, math.floor(cores))


def cgroup_dirs(proc_self_cgroup: str, mount: str = "/sys/fs/cgroup") -> list[str]:
    """The cgroup v2 directories that may cap this process, its own first, then each ancestor
    up to ``mount`` (from the "0::PATH" line of /proc/self/cgroup; ``mount`` alone without one).
    Inside a container with its own cgroup namespace the path is "/" and ``mount`` is its cgroup."""
    parts: list[str] = []
    for line in proc_self_cgroup.splitlines():
        if line.startswith("0::"):
            parts = [p for p in line[3:].strip().split("/") if p]
            break
    return [os.path.join(mount, *parts[:i]) for i in range(len(parts), -1, -1)]


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


def cpu_quotas() -> list[str]:
    """Every CPU quota that applies to this process, as cpu.max texts (v1 quotas converted)."""
    texts = [t for d in cgroup_dirs(_read("/proc/self/cgroup") or "") if (t := _read(os.path.join(d, "cpu.max")))]
    for d in ("/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"):
        quota, period = _read(f"{d}/cpu.cfs_quota_us"), _read(f"{d}/cpu.cfs_period_us")
        if quota and period:
            texts.append(f"{'max' if quota.strip().startswith('-') else quota.strip()} {period.strip()}")
    return texts


def affinity_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def replica_count(setting: str | None, cores: int) -> int:
    """N from DESCENT_LAB_REPLICAS: unset, empty or "auto" -> ``cores`` (at most 64); else a whole number 1..64."""
    if setting is None or setting.strip().lower() in ("", "auto"):
        return min(cores, MAX_REPLICAS)
    text = setting.strip()
    if not re.fullmatch(r"[0-9]{1,3}", text) or not 1 <= int(text) <= MAX_REPLICAS:
        raise ValueError(f"{REPLICAS_ENV}={setting!r}: give a whole number from 1 to {MAX_REPLICAS}, or 'auto'")
    return int(text)


def template_for(setting: str | None) -> Path:
    """The nginx template for DESCENT_LAB_STICKY: "ip" (default) or "cookie"."""
    key = (setting or "ip").strip().lower() or "ip"
    if key not in TEMPLATES:
        raise ValueError(f"{STICKY_ENV}={setting!r}: give 'ip' (sticky by client address) or 'cookie'")
    return TEMPLATES[key]


# --- The nginx configuration ---------------------------------------------------------------


def render(template: str, **values: str) -> str:
    """Fill the template's ``${NAME}``s, as ``envsubst '${NAME} ...'`` does; every name must be given."""
    names = set(re.findall(r"\$\{(\w+)\}", template))
    if names != set(values):
        raise ValueError(f"template variables {sorted(names)} != given {sorted(values)}")
    for name, value in values.items():
        template = template.replace("${" + name + "}", value)
    return template


def upstream_servers(addresses: list[str]) -> str:
    """The upstream block's ``server`` directives (the templates' ``${UPSTREAM_SERVERS}``), one per
    replica, on one line: the name also appears in the templates' comments, which a line break
    would end."""
    if not addresses:
        raise ValueError("an upstream needs at least one replica")
    return " ".join(f"server {a} max_fails=3 fail_timeout=10s;" for a in addresses)


def nginx_config(template: str, listen: str, replicas: list[str], run_dir: str, log_dir: str, workers: str = "auto") -> str:
    """A template rendered for nginx on ``listen`` in front of ``replicas`` (host:port strings)."""
    return render(
        template,
        LISTEN=listen,
        UPSTREAM_SERVERS=upstream_servers(replicas),
        RUN_DIR=run_dir,
        LOG_DIR=log_dir,
        WORKER_PROCESSES=workers,
    )


def nginx_binary() -> str | None:
    """Debian's nginx lives in /usr/sbin, which an unprivileged user's PATH may lack."""
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None)


def log_dir(run_dir: Path) -> Path:
    """nginx's log directory: access.log and error.log linked to nginx's stdout and stderr, as
    the official nginx image does (a container's logs are its output)."""
    logs = run_dir / "logs"
    logs.mkdir()
    os.symlink("/dev/stdout", logs / "access.log")
    os.symlink("/dev/stderr", logs / "error.log")
    return logs


def pump(source, fd: int = 1) -> threading.Thread:
    """Copy ``source`` (a pipe's read end) to ``fd`` until end of file, in a daemon thread.

    nginx opens its log files by name, and /dev/stdout then reopens its stdout: a pipe
    another user created (the container runtime's, when this runs unprivileged) refuses
    that, while a pipe this process made is its own. Should ``fd`` fail, the lines are
    still read and dropped, so that nginx never blocks on a full pipe."""

    def run() -> None:
        writable = True
        while chunk := source.read1(65536):
            if writable:
                try:
                    os.write(fd, chunk)
                except OSError:
                    writable = False

    thread = threading.Thread(target=run, name="nginx-log", daemon=True)
    thread.start()
    return thread


# --- Processes -------------------------------------------------------------------------------


def free_ports(n: int) -> list[int]:
    """``n`` distinct loopback ports that are free now (all bound at once, then released)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def streamlit_command(port: int, address: str) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address", address]


def _prctl():
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: no subreaper, no parent-death signal
        return None


def _die_with(parent: int):
    """A preexec function: the child gets SIGTERM when ``parent`` dies (Linux)."""
    prctl = _prctl()

    def arm() -> None:
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # died before the line above
            os.kill(os.getpid(), signal.SIGTERM)

    return arm


def raise_open_files(want: int = 65536) -> None:
    """Lift this process's soft limit on open files toward ``want`` (the children inherit it).

    Each open tab holds two descriptors in nginx (browser and replica) and one in a
    replica; an unprivileged shell's usual soft limit of 1024 would cap nginx near 500
    tabs, below its 4096 worker_connections."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def _own_children() -> list[int]:
    """Live children of this process, orphans reparented to it included (Linux /proc)."""
    me, out = os.getpid(), []
    for task in Path(f"/proc/{me}/task").glob("*/children"):
        try:
            out += [int(c) for c in task.read_text().split()]
        except OSError:
            continue
    return out


class Supervisor:
    """The children, the stop request a signal makes, and the reaping."""

    def __init__(self) -> None:
        self.children: dict[int, str] = {}  # pid -> name
        self.stop_signal: int | None = None
        self.signalled: set[int] = set()

    def on_signal(self, signum, _frame) -> None:
        self.stop_signal = signum  # the main loop acts on it within POLL s

    def spawn(self, name: str, cmd: list[str], piped: bool = False) -> int:
        """Start ``cmd``; its output goes to this process's stdout, through ``pump`` when ``piped``.

        Its preexec function runs between fork and exec, which is safe only while this
        process has one thread: nginx, the one child piped, is started last."""
        out = subprocess.PIPE if piped else None
        proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT if piped else None,
            start_new_session=True, preexec_fn=_die_with(os.getpid()),
        )  # fmt: skip
        if piped:
            pump(proc.stdout)
        proc.returncode = 0  # reaped here with os.waitpid, not by Popen: keep its destructor quiet
        self.children[proc.pid] = name
        return proc.pid

    def reap(self) -> tuple[int, str, int] | None:
        """Reap every exited child (orphans too); return (pid, name, status) of the first of ours, if any."""
        first = None
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return first
            if pid == 0:
                return first
            name = self.children.pop(pid, None)
            if name is not None and first is None:
                first = (pid, name, status)

    def _signal(self, pid: int, sig: int) -> None:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass

    def stop_all(self, grace: float = GRACE) -> None:
        """SIGTERM every child (and each orphan as it comes back), SIGKILL what is left after
        ``grace`` s; return once this process has no child at all."""
        deadline = time.monotonic() + grace
        while True:
            self.reap()
            try:
                left = _own_children()
            except OSError:  # no /proc: our own children only
                left = list(self.children)
            if not left and not self.children:
                return
            late = time.monotonic() > deadline
            for pid in left:
                if late:
                    self._signal(pid, signal.SIGKILL)
                elif pid not in self.signalled:
                    self.signalled.add(pid)
                    self._signal(pid, signal.SIGTERM)
            time.sleep(0.05)


def describe(status: int) -> str:
    """A wait status in words: "exit code N" or "signal N"."""
    code = os.waitstatus_to_exitcode(status)
    return f"signal {-code}" if code < 0 else f"exit code {code}"


def _say(text: str) -> None:
    print(f"descent-lab: {text}", flush=True)


def serve(replicas: int, template: Path, address: str, port: int) -> int:
    """Run ``replicas`` Streamlit processes behind nginx until a signal or a child's death; the exit status."""
    nginx = nginx_binary()
    if nginx is None:
        print("descent-lab: nginx is not installed (apt-get install nginx)", file=sys.stderr)
        return 1
    prctl = _prctl()
    if prctl is not None:
        prctl(_PR_SET_CHILD_SUBREAPER, 1)
    raise_open_files()
    sup = Supervisor()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, sup.on_signal)
    run_dir = Path(tempfile.mkdtemp(prefix="descent-lab-nginx-"))
    # When the entry point runs as root, nginx's workers run as an unprivileged user: let them in.
    os.chmod(run_dir, 0o755)
    try:
        ports = free_ports(replicas)
        for p in ports:
            sup.spawn(f"streamlit:{p}", streamlit_command(p, "127.0.0.1"))
        waiting, deadline = set(ports), time.monotonic() + BOOT_TIMEOUT
        while waiting and sup.stop_signal is None:
            died = sup.reap()
            if died:
                _say(f"{died[1]} ended during start-up ({describe(died[2])})")
                return 1
            if time.monotonic() > deadline:
                _say(f"replicas on ports {sorted(waiting)} not healthy after {BOOT_TIMEOUT:.0f} s")
                return 1
            waiting = {p for p in waiting if not healthy(p)}
            time.sleep(POLL)
        if sup.stop_signal is not None:
            return 0
        conf = run_dir / "nginx.conf"
        upstream = [f"127.0.0.1:{p}" for p in ports]
        text = nginx_config(template.read_text(), f"{address}:{port}", upstream, str(run_dir), str(log_dir(run_dir)), "1")
        conf.write_text(text)
        sup.spawn("nginx", [nginx, "-p", str(run_dir), "-e", "stderr", "-c", str(conf), "-g", "daemon off;"], piped=True)
        _say(f"{replicas} Streamlit processes ({', '.join(upstream)}) behind nginx on {address}:{port}, {template.name}")
        while sup.stop_signal is None:
            died = sup.reap()
            if died:
                _say(f"{died[1]} ended ({describe(died[2])}): stopping the others")
                return 1
            time.sleep(POLL)
        _say(f"signal {sup.stop_signal}: stopping")
        return 0
    finally:
        sup.stop_all()
        shutil.rmtree(run_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8501, help="public port (default 8501)")
    parser.add_argument("--address", default="0.0.0.0", help="public address (default 0.0.0.0)")
    args = parser.parse_args(argv)
    try:
        n = replica_count(os.environ.get(REPLICAS_ENV), usable_cores(affinity_count(), cpu_quotas()))
        template = template_for(os.environ.get(STICKY_ENV))
    except ValueError as e:
        print(f"descent-lab: {e}", file=sys.stderr)
        return 2
    if n == 1:
        os.chdir(ROOT)
        cmd = streamlit_command(args.port, args.address)
        os.execv(cmd[0], cmd)
    return serve(n, template, args.address, args.port)


if __name__ == "__main__":
    sys.exit(main())
