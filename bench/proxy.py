"""nginx in front of Streamlit replicas, from the template deploy/nginx.conf (tests and load runs).

``Nginx`` renders the template into a temporary directory (config, pid file, logs,
temp files all there) and runs ``nginx -p DIR -c DIR/nginx.conf -g 'daemon off;'`` as a
child process, on a free loopback port. Debian's ``nginx`` package provides the binary.
The rendering is the container entry point's (``deploy.serve``), so both fill the
templates the same way.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from bench.server import Loopback, free_port, stop_process, wait_http_ok
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
