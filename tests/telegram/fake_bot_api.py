"""A fake Telegram Bot API server on 127.0.0.1 that records calls and serves queued updates."""

from __future__ import annotations

import contextlib
import html
import json
import re
import threading
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_USER = {
    "id": 777000111,
    "is_bot": True,
    "first_name": "News Bot",
    "username": "NewsTestBot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}

# PTB form-encodes every parameter, JSON-encoding the non-strings; these stay strings.
STRING_PARAMS = {
    "text",
    "caption",
    "parse_mode",
    "action",
    "callback_query_id",
    "inline_query_id",
    "url",
    "secret_token",
    "query",
    "description",
    "short_description",
    "name",
}
SUPPORTED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
}
ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


class _Server(ThreadingHTTPServer):
    # A burst opens a connection per reply at once: a listen backlog of 5 (the default)
    # overflows, and a connection the kernel dropped from the queue fails the bot's request.
    request_queue_size = 256


@dataclass(frozen=True)
class Call:
    """One request the bot made: method name, decoded parameters, arrival time."""

    method: str
    params: dict[str, Any]
    at: float


@dataclass
class Failure:
    """A canned error response for the next calls of one method."""

    status: int
    payload: dict[str, Any]
    remaining: int


class _TelegramHtml(HTMLParser):
    """Parses HTML the way Telegram does, collecting the visible text or the first problem."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.text: list[str] = []
        self.stack: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in SUPPORTED_TAGS:
            self.error = self.error or f'Unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.error = self.error or f'Unmatched end tag "{tag}"'
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if ("<" in data or ">" in data) and self.error is None:
            self.error = "Unexpected end of name token"
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        self.text.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.text.append(html.unescape(f"&#{name};"))


def parse_telegram_html(text: str) -> tuple[str, str | None]:
    """Return the visible text of an HTML message and Telegram's complaint, if any."""
    for match in re.finditer(r"&", text):
        if not ENTITY.match(text, match.start()):
            return (
                "",
                f"Can't find end of the entity starting at byte offset {match.start()}",
            )
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.error is None and parser.stack:
        parser.error = f'Can\'t find end tag corresponding to start tag "{parser.stack[-1]}"'
    return "".join(parser.text), parser.error


def utf16_len(text: str) -> int:
    """Length as Telegram counts it, in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


class FakeBotApi:
    """A threaded HTTP server that plays the Bot API for one token."""

    def __init__(self, token: str = "123:ABC", bot_user: dict[str, Any] | None = None) -> None:
        self.token = token
        self.bot_user = dict(bot_user or BOT_USER)
        self.calls: list[Call] = []
        self.sent: list[dict[str, Any]] = []
        self._updates: list[dict[str, Any]] = []
        self._failures: dict[str, list[Failure]] = {}
        self._stalls: dict[str, list[float]] = {}
        self._next_message_id = 10_000
        self._cond = threading.Condition()
        self._closed = False
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """What NEWSBOT_TELEGRAM_BASE_URL should be set to."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/bot"

    def start(self) -> FakeBotApi:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release waiting long polls."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue one update for getUpdates."""
        with self._cond:
            self._updates.append(update)
            self._cond.notify_all()

    def fail_next(self, method: str, status: int, payload: dict[str, Any], times: int = 1) -> None:
        """Answer the next `times` calls of `method` with this status and JSON body."""
        with self._cond:
            self._failures.setdefault(method, []).append(Failure(status, payload, times))

    def stall_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Carry out the next `times` calls of `method`, but answer each only after `seconds`
        (a reply lost on the way back: the client times out after the call took effect)."""
        with self._cond:
            self._stalls.setdefault(method, []).extend([seconds] * times)

    def _stall(self, method: str) -> float:
        with self._cond:
            queue = self._stalls.get(method)
            return queue.pop(0) if queue else 0.0

    def forget_calls(self) -> None:
        """Start recording afresh."""
        with self._cond:
            self.calls.clear()
            self.sent.clear()

    def calls_to(self, method: str) -> list[Call]:
        """Every recorded call of one method, in arrival order."""
        with self._cond:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Block until `method` has been called `count` times; return those calls."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [call for call in self.calls if call.method == method]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{method} called {len(found)} times, wanted {count}")
                self._cond.wait(left)

    def _record(self, method: str, params: dict[str, Any]) -> Failure | None:
        with self._cond:
            self.calls.append(Call(method, params, time.monotonic()))
            self._cond.notify_all()
            queue = self._failures.get(method)
            if not queue:
                return None
            failure = queue[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                queue.pop(0)
            return failure

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 5.0)
        with self._cond:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return list(self._updates[:limit])

    def _message(self, params: dict[str, Any], text: str | None) -> dict[str, Any]:
        with self._cond:
            self._next_message_id += 1
            message_id = self._next_message_id
        chat_id = int(params["chat_id"])
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        if chat_id < 0:
            chat["title"] = "Test group"
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user,
            "text": text or "",
        }
        if isinstance(params.get("reply_markup"), dict):
            message["reply_markup"] = params["reply_markup"]
        with self._cond:
            self.sent.append(message)
        return message

    def _result(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method in {"sendMessage", "editMessageText"}:
            text = params.get("text", "")
            if params.get("parse_mode") == "HTML":
                text, problem = parse_telegram_html(text)
                if problem:
                    return 400, _error(400, f"Bad Request: can't parse entities: {problem}")
            if not text.strip():
                return 400, _error(400, "Bad Request: message text is empty")
            if utf16_len(text) > 4096:
                return 400, _error(400, "Bad Request: message is too long")
            if method == "editMessageText" and "chat_id" not in params:
                return 200, {"ok": True, "result": True}
            return 200, {"ok": True, "result": self._message(params, text)}
        if method == "editMessageReplyMarkup":
            return 200, {"ok": True, "result": self._message(params, "edited")}
        if method == "getMe":
            return 200, {"ok": True, "result": self.bot_user}
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        if method == "getWebhookInfo":
            info = {
                "url": "",
                "has_custom_certificate": False,
                "pending_update_count": 0,
            }
            return 200, {"ok": True, "result": info}
        return 200, {"ok": True, "result": True}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self._serve()

            def do_GET(self) -> None:
                self._serve()

            def log_message(self, format: str, *args: Any) -> None:
                """Stay quiet: the request line contains the token."""

            def _serve(self) -> None:
                prefix = f"/bot{api.token}/"
                if not self.path.startswith(prefix):
                    self._send(401, _error(401, "Unauthorized"))
                    return
                method = self.path[len(prefix) :].split("?")[0]
                params = _decode(self.headers.get("Content-Type", ""), self._body())
                failure = api._record(method, params)
                if failure is not None:
                    self._send(failure.status, failure.payload)
                    return
                result = api._result(method, params)
                time.sleep(api._stall(method))
                self._send(*result)

            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                # The client may have gone, e.g. a long poll cut short at shutdown.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

        return Handler


def _error(code: int, description: str) -> dict[str, Any]:
    return {"ok": False, "error_code": code, "description": description}


def too_many_requests(retry_after: int = 1) -> dict[str, Any]:
    """The body Telegram sends with HTTP 429."""
    return {
        "ok": False,
        "error_code": 429,
        "description": f"Too Many Requests: retry after {retry_after}",
        "parameters": {"retry_after": retry_after},
    }


def _decode(content_type: str, body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        return dict(json.loads(body))
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        params[key] = value if key in STRING_PARAMS else _json_or_raw(value)
    return params


def _json_or_raw(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value
