"""A Streamlit server on loopback for the benchmarks and the tests, and the process helpers around it.

One class serves every caller: the load tool (several replicas, RSS sampled),
the browser benchmarks and the browser tests (a script of their choice, the
log read back on failure), and the scale-out test. It runs with the
repository's ``.streamlit/config.toml`` (the app as deployed), bound to
127.0.0.1 on a free port.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc: subprocess.Popen | None) -> None:
    """TERM, then KILL if it has not exited within 10 s (servers here shut down fast on TERM)."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def wait_http_ok(url: str, timeout: float, alive=lambda: True) -> str:
    """GET ``url`` until it answers 200; return the body. Gives up early once ``alive()`` is false."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline and alive():
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return r.read().decode()
        except Exception as e:  # noqa: BLE001 - not up yet
            last = e
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f} s ({last})")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Loopback:
    """Streamlit's HTTP and websocket endpoints on 127.0.0.1:``port`` (a server, or a proxy in front of some)."""

    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/_stcore/stream"


class StreamlitServer(Loopback):
    """``streamlit run <script>`` on 127.0.0.1:``port``; a context manager, or ``start``/``stop``.

    The log goes to a file in a temporary folder (``log_path``), kept until
    ``cleanup`` so that a failing test can still show it.
    """

    def __init__(
        self,
        script: str = "app.py",
        cwd: str | Path = ROOT,
        port: int | None = None,
        extra_args: tuple[str, ...] = (),
        log_dir: str | None = None,
    ):
        self.script = script
        self.cwd = Path(cwd)
        self.port = port or free_port()
        self.extra_args = tuple(extra_args)
        self._tmp = None if log_dir else tempfile.TemporaryDirectory(prefix="descent-lab-server-")
        self.log_path = Path(log_dir or self._tmp.name) / f"streamlit-{self.port}.log"
        self.proc: subprocess.Popen | None = None
        self._log = None
        self._sampling = False
        self.rss_samples: list[float] = []

    def start(self, timeout: float = 90, wait: bool = True) -> "StreamlitServer":
        """Spawn the server; with ``wait``, return once ``/_stcore/health`` answers."""
        cmd = [
            sys.executable, "-m", "streamlit", "run", self.script,
            "--server.port", str(self.port), "--server.address", "127.0.0.1",
            *self.extra_args,
        ]  # fmt: skip
        self._log = open(self.log_path, "wb")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(cmd, cwd=self.cwd, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        return self.wait_ready(timeout) if wait else self

    def wait_ready(self, timeout: float = 90) -> "StreamlitServer":
        try:
            wait_http_ok(self.url + "/_stcore/health", timeout, alive=lambda: self.proc.poll() is None)
        except TimeoutError:
            code = self.proc.poll()
            self.stop()
            why = f"exited with {code}" if code is not None else f"not healthy after {timeout:.0f} s"
            raise RuntimeError(f"streamlit on port {self.port} {why}:\n{self.log_text()[-3000:]}") from None
        return self

    def stop(self) -> None:
        self._sampling = False
        stop_process(self.proc)
        if self._log:
            self._log.close()
            self._log = None

    def cleanup(self) -> None:
        if self._tmp:
            self._tmp.cleanup()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        return self.log_text()[offset:]

    def rss_mb(self) -> float:
        return rss_mb(self.proc.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.proc.pid)

    def sample_rss(self, every: float = 0.1) -> None:
        """Sample VmRSS in a background thread until ``stop``."""
        self._sampling = True

        def loop():
            while self._sampling and self.proc.poll() is None:
                try:
                    self.rss_samples.append(self.rss_mb())
                except OSError:
                    break
                time.sleep(every)

        threading.Thread(target=loop, daemon=True).start()

    def __enter__(self) -> "StreamlitServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        self.cleanup()
