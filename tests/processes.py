"""Start the real ``hotline`` command in a subprocess and talk to it on loopback."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from hotline.channels.phone.baresip_process import quiet_port

ROOT = Path(__file__).resolve().parents[1]


def hotline_bin() -> str:
    found = Path(sys.executable).with_name("hotline")
    return str(found) if found.exists() else (shutil.which("hotline") or "hotline")


def free_port() -> int:
    """A free loopback TCP port, outside the range other programs' connections take theirs."""
    return quiet_port()


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        {
            "HOTLINE_DATA_DIR": str(data_dir),
            "PYTHONPATH": str(ROOT),
            "HOTLINE_LOG_LEVEL": "WARNING",
            # the suite's administrators sign in with a password alone unless a test asks
            "HOTLINE_REQUIRE_TOTP": "false",
        }
    )
    env.update(extra)
    return env


def add_user(data_dir: Path, name: str, role: str, *extra: str) -> str:
    """``hotline user add`` as an operator runs it; returns the password it shows once."""
    added = subprocess.run(
        [hotline_bin(), "user", "add", name, role, *extra],
        env=env_for(data_dir),
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(r"shown once\): (\S+)", added.stdout)
    assert found, added.stdout
    return found[1]


class Served:
    """``hotline serve`` on a free port; ``stdout`` holds what it printed before it was ready."""

    def __init__(self, data_dir: Path, port: int | None = None, **env: str) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [hotline_bin(), "serve", "--port", str(self.port)],
            env=env_for(data_dir, **env),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stdout = ""
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise RuntimeError(f"hotline serve exited {self.proc.returncode}:\n{out}\n{err}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError("hotline serve did not become healthy")

    def kill9(self) -> tuple[str, str]:
        self.proc.kill()
        return self.proc.communicate(timeout=10)

    def stop(self) -> tuple[str, str]:
        self.proc.terminate()
        try:
            return self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            return self.kill9()


def wait_for(predicate, timeout: float = 30, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
