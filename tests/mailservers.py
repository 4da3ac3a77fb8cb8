"""Real mail servers for the e-mail tests, on loopback: Dovecot (Debian's dovecot-imapd) with a
throw-away configuration, mail directory and users; and an SMTP server (aiosmtpd) the test can
stop and start, which keeps what it received."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from tests.processes import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def _users() -> tuple[str, str, int, int]:
    """(login user, internal user, uid, gid) for Dovecot: its own accounts when we are root
    (Debian makes them), ourselves otherwise."""
    if os.geteuid() == 0:
        mail = pwd.getpwnam("dovecot")
        return "dovenull", "dovecot", mail.pw_uid, mail.pw_gid
    me = pwd.getpwuid(os.geteuid())
    return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid


@dataclass
class Dovecot:
    root: Path
    port: int
    process: subprocess.Popen[bytes]
    uid: int
    gid: int

    def add_user(self) -> tuple[str, str]:
        """A fresh mailbox account: (user, password)."""
        user, password = f"u{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
        # a file per user: Dovecot caches a passwd-file it has read within the same second
        (self.root / "users" / user).write_text(f"{user}:{{PLAIN}}{password}\n")
        return user, password

    def url(self, user: str, password: str, folder: str = "INBOX") -> str:
        return f"imap://{user}:{password}@127.0.0.1:{self.port}/{folder}"


CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = {uid}
default_login_user = {login}
default_internal_user = {internal}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class DovecotFailed(RuntimeError):
    """Dovecot did not start; the message holds its output and log."""


def start_dovecot() -> Dovecot:
    """Dovecot with a throw-away configuration on a free loopback port (``stop_dovecot`` ends
    it). Not under pytest's temporary folder: Dovecot's own users must be able to reach it."""
    root = Path(tempfile.mkdtemp(prefix="hotline-dovecot-"))
    login, internal, uid, gid = _users()
    for sub in ("run", "state", "mail", "home", "users"):
        (root / sub).mkdir()
    if os.geteuid() == 0:
        for sub in ("mail", "home"):
            os.chown(root / sub, uid, gid)
        root.chmod(0o755)
    port = free_port()
    conf = root / "dovecot.conf"
    conf.write_text(
        CONFIG.format(root=root, port=port, uid=uid, gid=gid, login=login, internal=internal)
    )
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 15
    while not _listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            output = process.stdout.read().decode() if process.stdout else ""
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            process.kill()
            raise DovecotFailed(f"Dovecot did not start: {output}\n{log}")
        time.sleep(0.1)
    return Dovecot(root, port, process, uid, gid)


def stop_dovecot(server: Dovecot) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
    shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    from tests.conftest import need

    need(Path(DOVECOT).exists(), "Dovecot (Debian package dovecot-imapd)")
    try:
        server = start_dovecot()
    except DovecotFailed as exc:
        pytest.fail(str(exc))
    yield server
    stop_dovecot(server)


@dataclass
class SmtpSink:
    """aiosmtpd on a fixed loopback port; ``stop`` and ``start`` like a server going away."""

    port: int
    received: list[Message] = field(default_factory=list)
    controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                sink.received.append(message_from_bytes(envelope.content, policy=default))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    from tests.conftest import need

    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        need(False, "aiosmtpd (pip install -e '.[test]')")
    sink = SmtpSink(free_port())
    sink.start()
    yield sink
    sink.stop()
