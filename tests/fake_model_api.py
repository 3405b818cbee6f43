"""A fake OpenAI-compatible chat-completions server on 127.0.0.1 with scripted replies."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted reply: the text (plain JSON or streamed, as the request asks), or an HTTP
    error, a raw body, or a hang before answering (``hang`` seconds, or mid-stream after
    ``hang_after`` characters)."""

    text: str = ""
    status: int = 200
    raw: bytes | None = None
    hang: float = 0.0
    hang_after: int | None = None
    chunk: int = 7  # characters per streamed event
    delay: float = 0.0  # seconds between streamed events


@dataclass
class Request:
    """What the bot sent: headers and the JSON body."""

    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def system(self) -> str:
        return str(self.body["messages"][0]["content"])

    @property
    def user(self) -> str:
        return str(self.body["messages"][-1]["content"])


@dataclass
class FakeModelApi:
    """Serves /v1/chat/completions; each request takes the next scripted reply."""

    replies: deque[Reply] = field(default_factory=deque)
    requests: list[Request] = field(default_factory=list)
    default: Reply = Reply("NOT IN SOURCES")  # when no scripted reply is left

    def __post_init__(self) -> None:
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> FakeModelApi:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def script(self, *replies: Reply | str) -> None:
        """Queue replies; a string is a good reply with that text."""
        for reply in replies:
            self.replies.append(Reply(reply) if isinstance(reply, str) else reply)

    def _respond(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length", 0))
        body = json.loads(handler.rfile.read(length))
        self.requests.append(Request(dict(handler.headers.items()), body))
        reply = self.replies.popleft() if self.replies else self.default
        if reply.hang and reply.hang_after is None and self._closing.wait(reply.hang):
            return
        if reply.status >= 400:
            self._send(handler, reply.status, "application/json", b'{"error": {"message": "x"}}')
            return
        if reply.raw is not None:
            self._send(handler, 200, "application/json", reply.raw)
            return
        if not body.get("stream"):
            completion = {"choices": [{"message": {"role": "assistant", "content": reply.text}}]}
            self._send(handler, 200, "application/json", json.dumps(completion).encode())
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Connection", "close")
        handler.end_headers()
        text = reply.text
        for start in range(0, len(text), reply.chunk):
            if reply.hang_after is not None and start >= reply.hang_after:
                self._closing.wait(reply.hang)
                return
            if reply.delay and self._closing.wait(reply.delay):
                return
            delta = {"choices": [{"delta": {"content": text[start : start + reply.chunk]}}]}
            handler.wfile.write(f"data: {json.dumps(delta)}\n\n".encode())
            handler.wfile.flush()
        handler.wfile.write(b"data: [DONE]\n\n")
        handler.wfile.flush()

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, kind: str, payload: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(payload)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(payload)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                # The client may have given up (a timeout test).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    api._respond(self)
                self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def refused_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
