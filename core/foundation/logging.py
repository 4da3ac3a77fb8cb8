"""The server's log with the request id: one readable line an event on a terminal, one JSON
object a line otherwise (a journal, a file, a collector) or when ``HOTLINE_LOG_FORMAT=json``.
Never log personal data: log ids, codes and counts; never a name, a phone number, an address or
what someone wrote. Terminal colour codes (uvicorn adds them) never reach either format."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

QUIET_LOGGERS = (
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "aiosqlite",
    "asyncpg",
    "psycopg",
    "huey",
    "alembic",
    "httpx",
    "httpcore",
)

# uvicorn passes a coloured copy of its messages as ``color_message``: never ours to print.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "color_message",
    "request_id",
}
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def plain(value: Any) -> Any:
    """``value`` without terminal escape sequences (strings only; the rest as it is)."""
    return _ANSI.sub("", value) if isinstance(value, str) else value


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: plain(value)
        for key, value in record.__dict__.items()
        if key not in _STANDARD and not key.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": plain(record.getMessage()),
        }
        rid = request_id.get()
        if rid:
            data["request_id"] = rid
        data.update(_extras(record))
        if record.exc_info:
            data["exc"] = plain(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """One line an event for a person at a terminal: time, level, logger, request id, the
    message, then the event's fields as ``key=value``. A traceback follows, indented, so each
    event still starts its own line."""

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        fields = " ".join(f"{key}={value}" for key, value in _extras(record).items())
        rid = request_id.get()
        line = " ".join(
            part
            for part in (
                at,
                f"{record.levelname:<7}",
                record.name,
                f"[{rid}]" if rid else "",
                plain(record.getMessage()).replace("\n", " "),
                fields,
            )
            if part
        )
        if record.exc_info:
            trace = plain(self.formatException(record.exc_info))
            line += "\n" + "\n".join("    " + row for row in trace.splitlines())
        return line


def log_format(setting: str, stream: Any = None) -> str:
    """``json`` or ``text``: the setting when it names one; ``auto`` is text on a terminal."""
    if setting in ("json", "text"):
        return setting
    stream = sys.stderr if stream is None else stream
    try:
        return "text" if stream.isatty() else "json"
    except (AttributeError, ValueError):  # no stream, or a closed one
        return "json"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


# What uvicorn warns about once per bad request: a flood of them is one line a minute.
REPEATED_WARNINGS = ("Exceeded concurrency limit.", "Invalid HTTP request received.")


class OncePerInterval(logging.Filter):
    """Lets each of ``messages`` through once per ``interval`` seconds; the next one that
    passes counts the ones held back (``suppressed``). Other messages pass untouched."""

    def __init__(self, messages: tuple[str, ...], interval: float = 60.0) -> None:
        super().__init__()
        self.messages = messages
        self.interval = interval
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message not in self.messages:
            return True
        now = time.monotonic()
        with self._lock:
            last = self._last.get(message)
            if last is not None and now - last < self.interval:
                self._held[message] = self._held.get(message, 0) + 1
                return False
            self._last[message] = now
            record.suppressed = self._held.pop(message, 0)
        return True


def configure_logging(level: str = "INFO", fmt: str = "auto") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format(fmt, sys.stderr) == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    handler.set_name("hotline")
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if h.get_name() != "hotline"] + [handler]
    root.setLevel(level)
    # Libraries that echo SQL with its parameters (personal data) stay quiet even at DEBUG.
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").disabled = True
    server = logging.getLogger("uvicorn.error")
    server.filters[:] = [f for f in server.filters if not isinstance(f, OncePerInterval)]
    server.addFilter(OncePerInterval(REPEATED_WARNINGS))
