"""A local web site for ingest tests: fixture pages and feeds, and routes that misbehave."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

SITE = Path(__file__).resolve().parent / "fixtures" / "site"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".xml": "text/xml",
}
HUGE_BYTES = 50_000_000
PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@dataclass
class Reply:
    """What a route answers: status, headers, and a body given whole or as chunks."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""
    delay: float = 0.0  # seconds before the status line: for timeouts


Route = Callable[["FixtureServer"], Reply]


class FixtureServer:
    """Serves ``fixtures/site`` on 127.0.0.1 with ``{base}`` filled in, plus ``routes``."""

    def __init__(self, site: Path = SITE) -> None:
        self.site = site
        self.routes: dict[str, Route] = dict(DEFAULT_ROUTES)
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        """The absolute URL of a path on this server."""
        return self.base + path

    def start(self) -> FixtureServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def page(self, path: str) -> bytes:
        """A fixture file as served, ``{base}`` replaced by this server's address."""
        return (self.site / path.lstrip("/")).read_bytes().replace(b"{base}", self.base.encode())

    def reply(self, path: str) -> Reply:
        if path in self.routes:
            return self.routes[path](self)
        if path.startswith("/status/") and path[8:].isdigit():
            return Reply(int(path[8:]), {"Content-Type": "text/html"}, b"<h1>Error page</h1>")
        if path.startswith("/goto/"):  # /goto/<percent-encoded URL>: a redirect to anywhere
            return Reply(302, {"Location": unquote(path[6:])})
        if path.startswith("/redirect/") and path[10:].isdigit():
            hops = int(path[10:])
            target = (
                f"/redirect/{hops - 1}" if hops > 1 else "/news/2024/05/20/ferry-strike-ends.html"
            )
            return Reply(302, {"Location": target})
        file = (self.site / path.lstrip("/")).resolve()
        if path.endswith("/"):
            file = file / "index.html"
        if not file.is_relative_to(self.site) or not file.is_file():
            return Reply(404, {"Content-Type": "text/html"}, b"<h1>Not found</h1>")
        content_type = CONTENT_TYPES.get(file.suffix, "application/octet-stream")
        return Reply(
            200, {"Content-Type": content_type}, self.page(str(file.relative_to(self.site)))
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler still sleeping in /slow must not hold up stop()


def _handler_for(server: FixtureServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            server.requests.append((self.path, dict(self.headers.items())))
            reply = server.reply(path)
            time.sleep(reply.delay)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if isinstance(reply.body, bytes):
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                else:  # HTTP/1.0 without a length: the body ends when the connection closes
                    self.end_headers()
                    for chunk in reply.body:
                        self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up, as the size and time limits make it do

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def _huge_chunks(total: int = HUGE_BYTES) -> Iterable[bytes]:
    """A 50 MB page made up as it is sent, never held in memory."""
    yield b"<!DOCTYPE html><html><body>"
    chunk = b"<p>" + b"All work and no play makes a very long page. " * 1400 + b"</p>\n"
    for _ in range(total // len(chunk) + 1):
        yield chunk


def _trickle() -> Iterable[bytes]:
    """A page that never stops arriving: a byte every 50 ms, for 5 s."""
    yield b"<!DOCTYPE html><html><body><p>"
    for _ in range(100):
        time.sleep(0.05)
        yield b"."


def _stray_byte(server: FixtureServer) -> Reply:
    """The tram article, declared UTF-8, with one Latin-1 byte (a stray 'é') in its text."""
    page = server.page("news/2024/05/14/tram-line-approved.html")
    page = page.replace(
        b"an exhibition in the city library", b"an exhibition in the caf\xe9 of the city library"
    )
    return Reply(200, {"Content-Type": "text/html; charset=utf-8"}, page)


def _windows_1252(server: FixtureServer) -> Reply:
    """The ferry article re-encoded as windows-1252, which the HTTP header says it is."""
    page = server.page("news/2024/05/20/ferry-strike-ends.html").decode("utf-8")
    page = page.replace("Lena Aho", "Léna Åho").replace('"The crews', "\u201cThe crews")
    return Reply(200, {"Content-Type": "text/html; charset=windows-1252"}, page.encode("cp1252"))


def _garbage(server: FixtureServer) -> Reply:
    """Random bytes sent as a UTF-8 web page."""
    noise = random.Random(7).randbytes(20_000)
    return Reply(200, {"Content-Type": "text/html; charset=utf-8"}, b"<html><body>" + noise)


DEFAULT_ROUTES: dict[str, Route] = {
    "/slow": lambda s: Reply(200, {"Content-Type": "text/html"}, b"<p>late</p>", delay=2.0),
    "/trickle": lambda s: Reply(200, {"Content-Type": "text/html"}, _trickle()),
    "/huge": lambda s: Reply(200, {"Content-Type": "text/html"}, _huge_chunks()),
    "/huge-declared": lambda s: Reply(
        200,
        {"Content-Type": "text/html", "Content-Length": str(HUGE_BYTES)},
        _huge_chunks(),
    ),
    "/files/annual-report.pdf": lambda s: Reply(200, {"Content-Type": "application/pdf"}, PDF),
    "/download": lambda s: Reply(200, {"Content-Type": "application/octet-stream"}, PDF),
    "/images/harbour.png": lambda s: Reply(200, {"Content-Type": "image/png"}, PNG),
    "/loop": lambda s: Reply(302, {"Location": "/loop"}),
    "/empty": lambda s: Reply(200, {"Content-Type": "text/html"}, b""),
    "/stray-byte": _stray_byte,
    "/windows-1252": _windows_1252,
    "/garbage": _garbage,
    "/feeds/as-html": lambda s: Reply(
        200, {"Content-Type": "text/html; charset=utf-8"}, s.page("feeds/news.rss")
    ),
}
