"""Fetching web pages and feeds over HTTP: public addresses only, one deadline, a size limit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import TracebackType

import httpx

from retrieval.errors import SourceError
from retrieval.sources.network import AddressRefused, SourceNetwork, SourceTransport
from retrieval.urls import redacted
from retrieval.version import package_version

logger = logging.getLogger("newsbot.fetch")

# The name and version only: the project has no site of its own for a crawler to point at.
USER_AGENT = f"newsbot/{package_version()}"
MAX_REDIRECTS = 5
ACCEPT = (
    "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,"
    "application/xml;q=0.9,*/*;q=0.5"
)


@dataclass(frozen=True)
class Fetched:
    """A successful response: the final URL after redirects and the whole body."""

    url: str
    status: int
    content_type: str
    body: bytes
    charset: str | None


class Fetcher:
    """Downloads one URL at a time, from public addresses unless ``allow_private_networks``.

    ``timeout`` is one wall-clock deadline for the whole fetch: DNS, connecting, every
    redirect hop, headers and body. A ``network`` given replaces the default one (tests
    route its connections; its address check is the one that applies).
    """

    def __init__(
        self,
        timeout: float = 10.0,
        max_bytes: int = 5_000_000,
        user_agent: str = USER_AGENT,
        *,
        allow_private_networks: bool = False,
        network: SourceNetwork | None = None,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.user_agent = user_agent
        self._network = network or SourceNetwork(allow_private=allow_private_networks)
        # trust_env=False: with HTTP(S)_PROXY set, httpx would mount proxy transports that
        # bypass the network's address check (the proxy resolves the host, not this side).
        self._client = httpx.Client(
            transport=SourceTransport(self._network), max_redirects=MAX_REDIRECTS, trust_env=False
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client and its connections."""
        self._client.close()

    def get(self, url: str) -> Fetched:
        """GET ``url``, following redirects; raise SourceError naming ``url`` on any failure."""
        shown = redacted(url)  # what errors and logs name: no credentials or secrets
        logger.debug("GET %s", shown)
        headers = {"User-Agent": self.user_agent, "Accept": ACCEPT}
        try:
            with (
                self._network.deadline(self.timeout),
                self._client.stream(
                    "GET",
                    url,
                    headers=headers,
                    follow_redirects=True,
                    timeout=httpx.Timeout(self.timeout),
                ) as response,
            ):
                return self._read(shown, response)
        except AddressRefused as exc:
            raise SourceError(shown, str(exc)) from None
        except httpx.TimeoutException:
            raise SourceError(shown, f"timed out after {self.timeout:g} s") from None
        except httpx.ConnectError as exc:
            raise SourceError(shown, f"cannot connect ({_cause(exc)})") from None
        except httpx.TooManyRedirects:
            raise SourceError(shown, f"more than {MAX_REDIRECTS} redirects") from None
        except httpx.UnsupportedProtocol:
            web = url.lower().startswith(("http://", "https://"))
            raise SourceError(
                shown, "invalid URL (no host)" if web else "not an http(s) URL"
            ) from None
        except httpx.InvalidURL as exc:
            raise SourceError(shown, f"invalid URL ({exc})") from None
        except httpx.HTTPError as exc:
            raise SourceError(shown, f"download failed ({type(exc).__name__}: {exc})") from None

    def _read(self, shown: str, response: httpx.Response) -> Fetched:
        if not response.is_success:
            raise SourceError(
                shown, f"HTTP {response.status_code} {response.reason_phrase}".strip()
            )
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise SourceError(shown, f"larger than {_size(self.max_bytes)}")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise SourceError(shown, f"larger than {_size(self.max_bytes)}")
            chunks.append(chunk)
        content_type = response.headers.get("Content-Type", "")
        logger.debug("got %s: %d bytes of %s", shown, size, content_type or "?")
        return Fetched(
            url=str(response.url),
            status=response.status_code,
            content_type=content_type.split(";")[0].strip().lower(),
            body=b"".join(chunks),
            charset=response.charset_encoding,
        )


def _cause(exc: httpx.ConnectError) -> str:
    """The innermost OS-level reason ('Connection refused', 'Name or service not known')."""
    inner: BaseException = exc
    while inner.__cause__ is not None or inner.__context__ is not None:
        inner = inner.__cause__ or inner.__context__  # type: ignore[assignment]
    reason = getattr(inner, "strerror", None) or str(inner) or "host unreachable"
    return str(reason)


def _size(limit: int) -> str:
    if limit >= 1_000_000:
        return f"{limit / 1_000_000:g} MB"
    return f"{limit / 1000:g} kB" if limit >= 1000 else f"{limit} bytes"
