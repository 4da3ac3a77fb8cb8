"""Real Kannel for the SMS tests, on loopback: bearerbox and smsbox (Debian's kannel) from a
throw-away configuration with Kannel's ``fake`` SMSC, and a client on the fake SMSC's line
protocol that plays the carrier: it injects texts from phones and reads what Kannel sends.

The line protocol (gw/smsc/smsc_fake.c): ``<from> <to> <type> <payload>\\n``; types a phone's
text comes in as: ``text`` (7-bit, as is), ``utf8`` and ``ucs2`` (URL-encoded bytes), ``data``
(8-bit, URL-encoded); what Kannel sends out: ``text``, ``ucs-2 <url>``, ``data <url>``, or
``udh <url> data <url>`` for a part of a long message."""

from __future__ import annotations

import queue
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote
from urllib.parse import unquote_to_bytes as unquote_plus_bytes

import pytest

from tests.processes import free_port

BEARERBOX = shutil.which("bearerbox") or "/usr/sbin/bearerbox"
SMSBOX = shutil.which("smsbox") or "/usr/sbin/smsbox"
USER, PASSWORD = "hotline", "sendsms-test-password"

CONFIG = """
group = core
admin-port = {admin}
admin-password = admin-test
admin-interface = 127.0.0.1
smsbox-port = {box}
box-allow-ip = 127.0.0.1
log-file = "{root}/bearerbox.log"
log-level = 0
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = fake
port = {fake}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {box}
sendsms-port = {sendsms}
sendsms-interface = 127.0.0.1
mo-recode = true
http-request-retry = 3
http-queue-delay = 2
log-file = "{root}/smsbox.log"
log-level = 0

group = sendsms-user
username = {user}
password = {password}
max-messages = 3
concatenation = true

group = sms-service
keyword = default
catch-all = true
max-messages = 3
omit-empty = true
accept-x-kannel-headers = true
get-url = "{mo_url}"
"""

MO_QUERY = "&from=%p&to=%P&text=%a&coding=%c&charset=%C&id=%I&smsc=%i"


@dataclass
class Sent:
    """One message Kannel sent towards a phone."""

    sender: str
    receiver: str
    kind: str  # text, ucs-2, data, udh
    data: bytes
    udh: bytes = b""

    def text(self, coding: str = "ucs-2") -> str:
        if self.kind == "ucs-2" or (self.kind == "udh" and coding == "ucs-2"):
            return self.data.decode("utf-16-be")
        return self.data.decode("utf-8", "replace")

    @property
    def part(self) -> tuple[int, int, int]:
        """(reference, total, number) from a concatenation header."""
        assert self.udh[:3] == b"\x05\x00\x03", self.udh
        return self.udh[3], self.udh[4], self.udh[5]


class Carrier:
    """The fake SMSC's client: the phones' side of the network."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.settimeout(None)
        self.received: queue.Queue[Sent] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                self.received.put(self._parse(line.decode("latin-1")))

    @staticmethod
    def _parse(line: str) -> Sent:
        def unquote_to_bytes(value: str) -> bytes:  # Kannel's URL encoding writes space as +
            return unquote_plus_bytes(value.replace("+", " "))

        sender, receiver, kind, payload = line.split(" ", 3)
        if kind == "udh":
            udh, _, data = payload.split(" ", 2)
            return Sent(sender, receiver, kind, unquote_to_bytes(data), unquote_to_bytes(udh))
        if kind == "text":
            return Sent(sender, receiver, kind, payload.encode("latin-1"))
        return Sent(sender, receiver, kind, unquote_to_bytes(payload))

    def send(self, sender: str, text: str, to: str = "12345") -> None:
        """A phone sends ``text``: UCS-2 when it is not plain ASCII, as phones do."""
        if text.isascii():
            line = f"{sender} {to} text {text}\n"
        else:
            line = f"{sender} {to} ucs2 {quote(text.encode('utf-16-be'))}\n"
        self.sock.sendall(line.encode("latin-1"))

    def message(self, coding: str = "ucs-2") -> tuple[list[Sent], str]:
        """The next whole message: its parts, and its text joined as the phone shows it."""
        parts = [self.next()]
        if parts[0].kind == "udh":
            parts += [self.next() for _ in range(parts[0].part[1] - 1)]
        return parts, "".join(p.text(coding) for p in parts)

    def send_raw(self, line: bytes) -> None:
        self.sock.sendall(line)

    def next(self, timeout: float = 20) -> Sent:
        return self.received.get(timeout=timeout)

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


@dataclass
class Kannel:
    root: Path
    fake_port: int
    sendsms_port: int
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def sendsms_url(self) -> str:
        return f"http://{USER}:{PASSWORD}@127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"

    def carrier(self) -> Carrier:
        return Carrier(self.fake_port)

    def logs(self) -> str:
        return "".join(
            (self.root / name).read_text(errors="replace")[-6000:]
            for name in ("bearerbox.log", "smsbox.log")
            if (self.root / name).exists()
        )


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _wait(port: int, kannel: Kannel, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _listening(port):
            return
        if any(p.poll() is not None for p in kannel.processes):
            break
        time.sleep(0.05)
    stop_kannel(kannel)
    raise RuntimeError(f"Kannel's {what} did not start:\n{kannel.logs()}")


def start_kannel(mo_url: str) -> Kannel:
    """bearerbox and smsbox on free loopback ports; smsbox calls ``mo_url`` (which already
    carries the secret) for each text a phone sends."""
    root = Path(tempfile.mkdtemp(prefix="kannel-"))
    admin, box, fake, sendsms = (free_port() for _ in range(4))
    config = root / "kannel.conf"
    config.write_text(
        CONFIG.format(
            root=root,
            admin=admin,
            box=box,
            fake=fake,
            sendsms=sendsms,
            user=USER,
            password=PASSWORD,
            mo_url=mo_url + MO_QUERY,
        )
    )
    kannel = Kannel(root, fake, sendsms)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    kannel.processes.append(subprocess.Popen([BEARERBOX, str(config)], **quiet))  # type: ignore[call-overload]
    _wait(box, kannel, "bearerbox")
    _wait(fake, kannel, "fake SMSC")
    kannel.processes.append(subprocess.Popen([SMSBOX, str(config)], **quiet))  # type: ignore[call-overload]
    _wait(sendsms, kannel, "smsbox")
    return kannel


def stop_kannel(kannel: Kannel) -> None:
    for process in reversed(kannel.processes):
        process.terminate()
    for process in kannel.processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    shutil.rmtree(kannel.root, ignore_errors=True)


def kannel_installed() -> bool:
    return Path(BEARERBOX).exists() and Path(SMSBOX).exists()


@pytest.fixture
def kannel_factory() -> Iterator[object]:
    from tests.conftest import need  # here: conftest imports this module

    need(kannel_installed(), "Kannel is not installed (apt-get install kannel kannel-extras)")
    started: list[Kannel] = []

    def start(mo_url: str) -> Kannel:
        kannel = start_kannel(mo_url)
        started.append(kannel)
        return kannel

    yield start
    for kannel in started:
        stop_kannel(kannel)
