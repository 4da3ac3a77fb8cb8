"""What the phone tests' reports say of a baresip that stopped answering: beside each thread's
state (the line's own log), where each thread waits, function by function, when gdb is here
(deploy/test.sh installs it): baresip 1.0 once deadlocked under twenty calls in CI."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from hotline.channels.phone import baresip_process


def stacks_of(pid: int) -> str:
    """Each thread's stack in process ``pid`` ("" when gdb is missing or cannot attach)."""
    gdb = shutil.which("gdb")
    if gdb is None:
        return ""
    try:
        out = subprocess.run(
            [gdb, "-batch", "-nx", "-p", str(pid), "-ex", "thread apply all bt"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    frames = (line[:200] for line in out.splitlines() if line.startswith(("Thread ", "#")))
    return "\n".join(frames)


@pytest.fixture(autouse=True)
def baresip_stacks(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = baresip_process.threads_of
    monkeypatch.setattr(
        baresip_process, "threads_of", lambda pid: f"{plain(pid)}\n{stacks_of(pid)}".strip()
    )
