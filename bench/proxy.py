"""nginx in front of Streamlit replicas, from the template deploy/nginx.conf (tests and load runs).

``Nginx`` renders the template into a temporary directory (config, pid file, logs,
temp files all there) and runs ``nginx -p DIR -c DIR/nginx.conf -g 'daemon off;'`` as a
child process, on a free loopback port. Debian's ``nginx`` package provides the binary.
The rendering is the container entry point's (``deploy.serve``), so both fill the
templates the same way.

``python -m bench.proxy [--replicas 1 2 3]`` runs that entry point as the image does, on
a free loopback port, and prints the seconds until its health answers through nginx, the
memory of each process it started, and the seconds from SIGTERM to its exit.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.proctree import children
from bench.server import Loopback, free_port, rss_mb, stop_process, wait_http_ok
from deploy.serve import nginx_binary, nginx_config

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "nginx.conf"


class Nginx(Loopback):
    """nginx on 127.0.0.1:``port`` balancing over ``replicas`` (host:port strings, one or more)."""

    def __init__(self, replicas: list[str], template: Path = TEMPLATE):
        if not replicas:
            raise ValueError("nginx needs at least one replica")
        self.binary = nginx_binary()
        if self.binary is None:
            raise FileNotFoundError("nginx is not installed (apt-get install nginx; .ci/run installs it)")
        self.replicas = list(replicas)
        self.template = template
        self.port = free_port()
        self._tmp = tempfile.TemporaryDirectory(prefix="descent-lab-nginx-")
        self.dir = Path(self._tmp.name)
        # nginx's workers run as an unprivileged user when the master is root: let them in.
        os.chmod(self.dir, 0o755)
        self.conf = self.dir / "nginx.conf"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 20) -> "Nginx":
        d = str(self.dir)
        self.conf.write_text(nginx_config(self.template.read_text(), f"127.0.0.1:{self.port}", self.replicas, d, d))
        check = subprocess.run([self.binary, "-t", "-p", d, "-c", str(self.conf)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t rejected the rendered config:\n{check.stderr}")
        with open(self.dir / "nginx.out", "wb") as out:
            self.proc = subprocess.Popen(
                [self.binary, "-p", d, "-c", str(self.conf), "-g", "daemon off;"], stdout=out, stderr=subprocess.STDOUT
            )
        try:
            wait_http_ok(self.url + "/_stcore/health", timeout)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"nginx did not come up:\n{self.output()}\n{self.error_log()}")
        return self

    def stop(self) -> None:
        stop_process(self.proc)  # TERM: fast shutdown of nginx's master and its workers

    def _read(self, name: str) -> str:
        try:
            return (self.dir / name).read_text(errors="replace")
        except OSError:
            return ""

    def output(self) -> str:
        return self._read("nginx.out")

    def error_log(self) -> str:
        return self._read("error.log")

    def access_log(self) -> str:
        return self._read("access.log")

    def __enter__(self) -> "Nginx":
        return self.start()

    def close(self) -> None:
        """Stop nginx and remove its directory (config, logs)."""
        self.stop()
        self._tmp.cleanup()

    def __exit__(self, *exc) -> None:
        self.close()


def measure_entry_point(replicas: int, sticky: str = "ip") -> dict:
    """Run ``python -m deploy.serve`` with ``replicas`` processes on a free port: seconds until
    its health answers through nginx, RSS of each process it started, seconds from SIGTERM to exit."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="descent-lab-entry-") as tmp:
        env = dict(os.environ, DESCENT_LAB_REPLICAS=str(replicas), DESCENT_LAB_STICKY=sticky, TMPDIR=tmp)
        t0 = time.monotonic()
        with open(Path(tmp) / "serve.out", "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "deploy.serve", "--port", str(port), "--address", "127.0.0.1"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            wait_http_ok(f"http://127.0.0.1:{port}/_stcore/health", 180, alive=lambda: proc.poll() is None)
            ready = time.monotonic() - t0
            rss: dict[str, float] = {}
            for pid in [proc.pid, *children(proc.pid)]:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                if b"streamlit" in cmdline:  # with one replica, the entry point itself
                    name, tree = f"streamlit {pid}", [pid]
                elif cmdline.startswith(b"nginx"):
                    name, tree = "nginx (master and workers)", [pid, *children(pid)]
                else:
                    name, tree = "entry point", [pid]
                rss[name] = sum(rss_mb(p) for p in tree)
            t1 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(60)
            stopped = time.monotonic() - t1
        finally:
            stop_process(proc)
    return {"replicas": replicas, "ready_s": ready, "rss_mb": rss, "stop_s": stopped, "exit": code}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The container entry point (deploy/serve.py): start-up, memory, shutdown.")
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--sticky", choices=["ip", "cookie"], default="ip")
    args = parser.parse_args(argv)
    for n in args.replicas:
        r = measure_entry_point(n, args.sticky)
        parts = ", ".join(f"{k} {v:.0f} MB" for k, v in r["rss_mb"].items())
        print(f"{n} replica(s): healthy after {r['ready_s']:.1f} s; RSS {parts}; SIGTERM -> exit {r['exit']} in {r['stop_s']:.2f} s")


if __name__ == "__main__":
    main()
