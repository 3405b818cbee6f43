"""Connections for fetching sources: to checked public addresses only, within one deadline."""

from __future__ import annotations

import functools
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from ssl import SSLContext
from typing import Any

import httpcore
import httpx

from retrieval.sources.addresses import blocked_kind, refusal

SocketOption = httpcore.SOCKET_OPTION
Resolver = Callable[[str, int, "float | None"], list[str]]  # host, port, timeout -> addresses


class AddressRefused(Exception):
    """A source's host is, or resolves to, an address sources may not be fetched from."""


class SourceNetwork(httpcore.NetworkBackend):
    """Opens connections for fetches: DNS resolved here, each address checked, then dialled.

    The connection goes to the very address that was checked, so a host cannot resolve to
    a public address for the check and to a private one for the connection. Every wait
    (lookup, connect, TLS, each read and write) is cut to what is left of the deadline set
    by ``deadline()``, so a server that drips its headers cannot hold a fetch past it.
    """

    def __init__(
        self,
        allow_private: bool = False,
        *,
        resolve: Resolver | None = None,
        dial: httpcore.NetworkBackend | None = None,
    ) -> None:
        self.allow_private = allow_private
        self._resolve = resolve or lookup
        self._dial = dial or httpcore.SyncBackend()  # opens the socket to a checked address
        self._deadline: float | None = None

    @contextmanager
    def deadline(self, seconds: float) -> Iterator[None]:
        """Bound every network wait inside the block to ``seconds`` from now, in all."""
        self._deadline = time.monotonic() + seconds
        try:
            yield
        finally:
            self._deadline = None

    def remaining(self, timeout: float | None, expired: type[Exception]) -> float | None:
        """``timeout`` cut to what is left of the deadline; ``expired`` when nothing is."""
        if self._deadline is None:
            return timeout
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise expired("the fetch deadline has passed")
        return left if timeout is None else min(timeout, left)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        """Resolve ``host``, refuse it if any of its addresses is not public, then connect."""
        addresses = self._resolve(host, port, self.remaining(timeout, httpcore.ConnectTimeout))
        if not self.allow_private:
            for address in addresses:
                if kind := blocked_kind(address):
                    raise AddressRefused(refusal(host, address, kind))
        error: Exception = httpcore.ConnectError(f"no address for {host}")
        for address in addresses:
            try:
                stream = self._dial.connect_tcp(
                    address,
                    port,
                    self.remaining(timeout, httpcore.ConnectTimeout),
                    local_address,
                    socket_options,
                )
            except httpcore.ConnectError as exc:
                error = exc
                continue
            return _BoundedStream(stream, self)
        raise error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        """Sources are never fetched over a Unix socket."""
        raise httpcore.ConnectError("sources are not fetched over Unix sockets")

    def sleep(self, seconds: float) -> None:
        """Wait (httpcore calls this between connection retries)."""
        time.sleep(seconds)


class _BoundedStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the network's deadline."""

    def __init__(self, stream: httpcore.NetworkStream, network: SourceNetwork) -> None:
        self._stream = stream
        self._network = network

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        wait = self._network.remaining(timeout, httpcore.ReadTimeout)
        return self._stream.read(max_bytes, wait)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._network.remaining(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        wait = self._network.remaining(timeout, httpcore.ConnectTimeout)
        stream = self._stream.start_tls(ssl_context, server_hostname, wait)
        return _BoundedStream(stream, self._network)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class SourceTransport(httpx.HTTPTransport):
    """httpx's own transport, with its connections opened by a ``SourceNetwork``."""

    def __init__(self, network: SourceNetwork) -> None:
        # Environment proxies are not used: behind a proxy, the proxy would resolve the host
        # and the address check here would check the proxy instead.
        super().__init__(verify=_ssl_context(), trust_env=False)
        # httpx builds its connection pool without a way to pass a network backend (encode/
        # httpx#3749 proposes one); httpcore's pool takes it, so the pool is rebuilt here.
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=network,
        )


@functools.cache
def _ssl_context() -> SSLContext:
    """httpx's default verifying context, built once: loading the CA bundle takes 0.1-0.3 s.

    SSL_CERT_FILE and SSL_CERT_DIR are honoured, as by httpx's own client.
    """
    return httpx.create_ssl_context(trust_env=True)


def lookup(host: str, port: int, timeout: float | None) -> list[str]:
    """The addresses of ``host`` in resolver order, waiting at most ``timeout`` seconds."""
    found: list[list[str] | OSError] = []

    def resolve() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            found.append(exc)
            return
        found.append(list(dict.fromkeys(str(info[4][0]) for info in infos)))

    # getaddrinfo takes no timeout; a lookup that hangs is left to finish in its thread.
    worker = threading.Thread(target=resolve, name=f"resolve {host}", daemon=True)
    worker.start()
    worker.join(timeout)
    if not found:
        raise httpcore.ConnectTimeout(f"looking up {host} timed out")
    if isinstance(found[0], OSError):
        raise httpcore.ConnectError(str(found[0].strerror or found[0])) from found[0]
    return found[0]
