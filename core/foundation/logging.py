"""Structured logs (one JSON object a line) with the request id. Never log personal data:
log ids, codes and counts; never a name, a phone number, an address or what someone wrote."""

from __future__ import annotations

import json
import logging
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

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            data["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


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


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.addFilter(RequestIdFilter())
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
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
