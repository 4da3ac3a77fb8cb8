"""A stand-in for Telegram's Bot API server, on loopback, speaking its HTTP protocol.

Telegram's servers cannot run here, so this answers as they do: ``POST`` or ``GET``
``/bot<token>/<method>`` with parameters in the query, a JSON body, a form or a multipart body;
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ..., "description": ...}``
(404 for a wrong token or an unknown method, 400 for bad parameters, 409 for getUpdates while a
webhook is set, 429 with ``parameters.retry_after`` when a test asks for it); files under
``/file/bot<token>/<file_path>``. getUpdates long-polls and forgets what is below the offset
asked with, as Telegram does. Everything the bot called is recorded for the tests to read.

http.server in a thread: aiohttp is not installed, and a thread keeps the stand-in off the
event loops the app and the jobs run on.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

BOT_USER = {"id": 7000001, "is_bot": True, "first_name": "City Hotline", "username": "hotline_bot"}
MAX_TEXT = 4096


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        self.code, self.description, self.parameters = code, description, parameters
        super().__init__(description)


def _value(text: str) -> Any:
    """A form value as Telegram reads it: JSON for objects, arrays and numbers, else text."""
    stripped = text.strip()
    if stripped[:1] in "{[" or stripped.lstrip("-").isdigit():
        try:
            return json.loads(stripped)
        except ValueError:
            return text
    return text


class TelegramStandIn:
    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.webhook: dict[str, Any] = {"url": "", "secret_token": None}
        self._cond = threading.Condition()
        self._pending: list[dict[str, Any]] = []
        self._update_ids = itertools.count(50_001)
        self._message_ids = itertools.count(900)
        self.last_message_id = 0  # of the last message the bot sent
        self._files: dict[str, tuple[str, bytes]] = {}
        self._failures: dict[str, list[ApiError]] = {}
        self._closing = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._server.handle_error = self._error  # type: ignore[method-assign,assignment]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- for the tests ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Give ``update`` (a new ``update_id`` is set) to the next getUpdates."""
        with self._cond:
            update = {**update, "update_id": next(self._update_ids)}
            self._pending.append(update)
            self._cond.notify_all()
        return update

    def next_update_id(self) -> int:
        with self._cond:
            return next(self._update_ids)

    def add_file(self, data: bytes, file_path: str, file_id: str = "") -> str:
        """A file citizens sent, as getFile will serve it; returns its file_id."""
        file_id = file_id or f"FILE-{len(self._files) + 1}-{file_path.replace('/', '-')}"
        self._files[file_id] = (file_path, data)
        return file_id

    def fail_next(
        self, method: str, code: int, description: str, retry_after: int | None = None
    ) -> None:
        """The next call of ``method`` answers this error (429 with ``retry_after``)."""
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        self._failures.setdefault(method.lower(), []).append(
            ApiError(code, description, parameters)
        )

    def called(self, method: str) -> list[dict[str, Any]]:
        """The parameters of every call of ``method``, oldest first."""
        with self._cond:
            return [c.params for c in self.calls if c.method.lower() == method.lower()]

    def texts_to(self, chat_id: int) -> list[str]:
        return [str(p["text"]) for p in self.called("sendMessage") if p["chat_id"] == chat_id]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
        """Block until ``predicate`` holds after a call (a deadline, not a measurement)."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    # --- the protocol ---------------------------------------------------------------------

    def _error(self, _request: Any, _address: Any) -> None:
        """A client that hung up on a long poll is normal; anything else is the stand-in's bug."""
        problem = sys.exc_info()[1]
        if not isinstance(problem, ConnectionError):
            traceback.print_exc()

    def _send(self, http: BaseHTTPRequestHandler, code: int, body: bytes, kind: str) -> None:
        http.send_response(code)
        http.send_header("Content-Type", kind)
        http.send_header("Content-Length", str(len(body)))
        http.end_headers()
        http.wfile.write(body)

    def _json(self, http: BaseHTTPRequestHandler, code: int, body: dict[str, Any]) -> None:
        self._send(http, code, json.dumps(body).encode(), "application/json")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                return None

            def do_GET(self) -> None:
                api._serve(self)

            def do_POST(self) -> None:
                api._serve(self)

        return Handler

    def _serve(self, http: BaseHTTPRequestHandler) -> None:
        path = urlsplit(http.path)
        file_prefix = f"/file/bot{self.token}/"
        if path.path.startswith("/file/"):
            wanted = unquote(path.path)  # clients percent-encode the token's colon
            found = next((d for p, d in self._files.values() if file_prefix + p == wanted), None)
            if found is None:
                self._send(http, 404, b"Not Found", "text/plain")
            else:
                self._send(http, 200, found, "application/octet-stream")
            return
        parts = unquote(path.path).split("/")
        if len(parts) != 3 or parts[1] != f"bot{self.token}":
            self._json(http, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        method = parts[2]
        try:
            params = dict(parse_qsl(path.query))
            params = {k: _value(v) for k, v in params.items()}
            params.update(self._body(http))
            result = self._call(method, params)
        except ApiError as exc:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": exc.code,
                "description": exc.description,
            }
            if exc.parameters:
                body["parameters"] = exc.parameters
            self._json(http, exc.code, body)
            return
        self._json(http, 200, {"ok": True, "result": result})

    def _body(self, http: BaseHTTPRequestHandler) -> dict[str, Any]:
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        kind = http.headers.get("Content-Type", "")
        if not raw:
            return {}
        if kind.startswith("application/json"):
            try:
                data = json.loads(raw)
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON") from None
            if not isinstance(data, dict):
                raise ApiError(400, "Bad Request: parameters must be an object")
            return data
        if kind.startswith("application/x-www-form-urlencoded"):
            return {k: _value(v) for k, v in parse_qsl(raw.decode())}
        if kind.startswith("multipart/form-data"):
            head = f"Content-Type: {kind}\r\n\r\n".encode()
            mail = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
            found: dict[str, Any] = {}
            for part in mail.iter_parts():
                name = part.get_param("name", header="content-disposition")
                decoded = part.get_payload(decode=True)
                payload = decoded if isinstance(decoded, bytes) else b""
                if part.get_filename():
                    found[str(name)] = {"filename": part.get_filename(), "size": len(payload)}
                else:
                    found[str(name)] = _value(payload.decode())
            return found
        raise ApiError(400, "Bad Request: unsupported content type")

    def _call(self, method: str, params: dict[str, Any]) -> Any:
        name = method.lower()
        with self._cond:
            self.calls.append(Call(method, params))
            self._cond.notify_all()
            failures = self._failures.get(name)
            if failures:
                raise failures.pop(0)
        handler = getattr(self, f"_m_{name}", None)
        if handler is None:
            raise ApiError(404, "Not Found: method not found")
        return handler(params)

    def _need(self, params: dict[str, Any], *names: str) -> None:
        for name in names:
            if params.get(name) in (None, ""):
                raise ApiError(400, f"Bad Request: {name} is empty")

    def _message(self, chat_id: Any, **content: Any) -> dict[str, Any]:
        self.last_message_id = next(self._message_ids)
        return {
            "message_id": self.last_message_id,
            "from": BOT_USER,
            "chat": {"id": chat_id, "type": "private"},
            "date": int(time.time()),
            **content,
        }

    def _m_getme(self, _params: dict[str, Any]) -> Any:
        return BOT_USER

    def _m_setwebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {"url": params.get("url", ""), "secret_token": params.get("secret_token")}
        return True

    def _m_deletewebhook(self, _params: dict[str, Any]) -> Any:
        self.webhook = {"url": "", "secret_token": None}
        return True

    def _m_getupdates(self, params: dict[str, Any]) -> Any:
        if self.webhook["url"]:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        allowed = params.get("allowed_updates") or None
        wait = float(params.get("timeout") or 0)

        def ready() -> list[dict[str, Any]]:
            if offset:  # confirmed: forgotten for good
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
            return [
                u
                for u in self._pending
                if not allowed or any(k in allowed for k in u if k != "update_id")
            ][:limit]

        with self._cond:
            self._cond.wait_for(lambda: bool(ready()) or self._closing, wait)
            return ready()

    def _m_sendmessage(self, params: dict[str, Any]) -> Any:
        self._need(params, "chat_id")
        text = str(params.get("text") or "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        content: dict[str, Any] = {"text": text}
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        return self._message(params["chat_id"], **content)

    def _m_sendphoto(self, params: dict[str, Any]) -> Any:
        self._need(params, "chat_id", "photo")
        size = {"file_id": "SENT-PHOTO", "file_unique_id": "SP", "width": 1, "height": 1}
        return self._message(params["chat_id"], photo=[size])

    def _m_answercallbackquery(self, params: dict[str, Any]) -> Any:
        self._need(params, "callback_query_id")
        return True

    def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        self._need(params, "chat_id", "message_id")
        return self._message(params["chat_id"], text="(edited)")

    def _m_getfile(self, params: dict[str, Any]) -> Any:
        self._need(params, "file_id")
        found = self._files.get(str(params["file_id"]))
        if found is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        path, data = found
        return {
            "file_id": params["file_id"],
            "file_unique_id": f"U{abs(hash(path)) % 10**8}",
            "file_size": len(data),
            "file_path": path,
        }


@contextmanager
def running(token: str) -> Iterator[TelegramStandIn]:
    api = TelegramStandIn(token)
    api.start()
    try:
        yield api
    finally:
        api.stop()


# --- updates as Telegram sends them -----------------------------------------------------------

_message_ids = itertools.count(1)


def user(chat_id: int, language: str | None = "zh-hans") -> dict[str, Any]:
    found: dict[str, Any] = {"id": chat_id, "is_bot": False, "first_name": "Li"}
    if language is not None:
        found["language_code"] = language
    return found


def message(
    chat_id: int, *, language: str | None = "zh-hans", update_id: int = 1, **content: Any
) -> dict[str, Any]:
    """A private chat's message update (``text=...``, ``photo=[...]``, ``location={...}``)."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": content.pop("message_id", next(_message_ids)),
            "from": user(chat_id, language),
            "chat": {"id": chat_id, "type": content.pop("chat_type", "private")},
            "date": int(time.time()),
            **content,
        },
    }


def button_press(
    chat_id: int,
    data: str,
    *,
    message_id: int = 1,
    language: str | None = "zh-hans",
    update_id: int = 1,
) -> dict[str, Any]:
    """A press on an inline button of our message ``message_id`` in ``chat_id``."""
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cbq-{next(_message_ids)}",
            "from": user(chat_id, language),
            "chat_instance": "ci-1",
            "data": data,
            "message": {
                "message_id": message_id,
                "from": BOT_USER,
                "chat": {"id": chat_id, "type": "private"},
                "date": int(time.time()),
                "text": "…",
            },
        },
    }
