"""One wall-clock deadline per fetch, whatever a server drips: headers, 100s, body."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from retrieval.errors import SourceError
from retrieval.sources import Fetcher

DRIP_SECONDS = 8.0  # how long the servers keep dripping; longer than any deadline here
Drip = Callable[[socket.socket], None]


def _headers_one_by_one(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n")
    for number in range(int(DRIP_SECONDS / 0.2)):
        conn.sendall(f"X-Drip-{number}: still coming\r\n".encode())
        time.sleep(0.2)


def _endless_continue(conn: socket.socket) -> None:
    for _ in range(int(DRIP_SECONDS / 0.1)):
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        time.sleep(0.1)


def _a_header_byte_by_byte(conn: socket.socket) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: ":
        conn.sendall(bytes([byte]))
        time.sleep(0.01)
    for _ in range(int(DRIP_SECONDS / 0.01)):
        conn.sendall(b"a")
        time.sleep(0.01)


def _body_byte_by_byte(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
    for _ in range(int(DRIP_SECONDS / 0.05)):
        conn.sendall(b"x")
        time.sleep(0.05)


@pytest.fixture
def dripping() -> Iterator[Callable[[Drip], str]]:
    """Start a raw socket server on 127.0.0.1 that answers every request with ``drip``."""
    servers: list[socket.socket] = []

    def start(drip: Drip) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        servers.append(listener)

        def serve() -> None:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn, contextlib.suppress(OSError):  # OSError: the client hung up, in time
                conn.recv(65536)  # the request
                drip(conn)

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}/story"

    yield start
    for listener in servers:
        listener.close()


@pytest.mark.parametrize(
    "drip",
    [_headers_one_by_one, _endless_continue, _a_header_byte_by_byte, _body_byte_by_byte],
)
def test_a_dripping_server_is_cut_off_at_the_deadline(
    dripping: Callable[[Drip], str], drip: Drip
) -> None:
    url = dripping(drip)
    started = time.monotonic()
    with (
        Fetcher(timeout=1.0, allow_private_networks=True) as fetcher,
        pytest.raises(SourceError) as caught,
    ):
        fetcher.get(url)
    elapsed = time.monotonic() - started
    assert caught.value.reason == "timed out after 1 s"
    assert elapsed < 2.5, f"the fetch took {elapsed:.1f} s with a 1 s deadline"


def test_a_hung_dns_lookup_counts_against_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    def hung(*args: object, **kwargs: object) -> list[object]:
        time.sleep(3.0)
        return []

    monkeypatch.setattr(socket, "getaddrinfo", hung)
    started = time.monotonic()
    with (
        Fetcher(timeout=0.5, allow_private_networks=True) as fetcher,
        pytest.raises(SourceError) as caught,
    ):
        fetcher.get("http://hung-dns.test/story")
    assert caught.value.reason == "timed out after 0.5 s"
    assert time.monotonic() - started < 1.2
