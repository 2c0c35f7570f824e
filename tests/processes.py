"""Real processes on loopback for integration tests: `chroma run` and `convention-assistant serve`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx
from loopback import free_port

REPO = Path(__file__).resolve().parent.parent
CHROMA = Path(sys.executable).parent / "chroma"


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout_s: float, what: str) -> None:
    """Poll `url` until it answers 200; fail if the process died or the time is up."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode} before answering {url}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer {url} within {timeout_s:.0f} s")
        time.sleep(0.3)


class ChromaServer:
    """`chroma run` with its data under `path`, on a fixed loopback port so it can be restarted."""

    def __init__(self, path: Path, port: int | None = None) -> None:
        self.path, self.port = path, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ChromaServer:
        """Start the server and wait for its heartbeat."""
        self.proc = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_http(f"{self.url}/api/v2/heartbeat", self.proc, 60, "chroma run")
        return self

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and wait for it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)
        self.proc = None


def cli_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a CLI subprocess: offline models, its own data folder, CA_* settings."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", CA_DATA_DIR=str(data_dir))
    env.update({f"CA_{k.upper()}": v for k, v in settings.items()})
    return env


def run_cli(args: list[str], env: Mapping[str, str], timeout_s: float = 300,
            ) -> subprocess.CompletedProcess[str]:
    """Run `convention-assistant ARGS` to completion."""
    return subprocess.run([sys.executable, str(REPO / "cli.py"), *args], env=dict(env), cwd=REPO,
                          capture_output=True, text=True, timeout=timeout_s)


class AppProcess:
    """`convention-assistant serve` on a free loopback port."""

    def __init__(self, env: Mapping[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(REPO / "cli.py"), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=dict(env), cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def wait(self, timeout_s: float = 180) -> AppProcess:
        """Wait until the app answers its health check."""
        wait_http(f"{self.url}/widget/embed.js", self.proc, timeout_s, "convention-assistant serve")
        return self

    def stop(self) -> None:
        """Stop the app and close its log."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)
        self.log.close()
