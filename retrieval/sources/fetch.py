"""Fetching web pages and feeds over HTTP, with a deadline, a size limit and clear failures."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from types import TracebackType

import httpx

from retrieval.errors import SourceError

logger = logging.getLogger("newsbot.fetch")

USER_AGENT = "newsbot/0.1 (+https://github.com/newsbot)"
MAX_REDIRECTS = 5
ACCEPT = (
    "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,"
    "application/xml;q=0.9,*/*;q=0.5"
)
_CREDENTIALS = re.compile(r"//[^/?#]*@")


@dataclass(frozen=True)
class Fetched:
    """A successful response: the final URL after redirects and the whole body."""

    url: str
    status: int
    content_type: str
    body: bytes
    charset: str | None


class Fetcher:
    """Downloads one URL at a time; owns its HTTP client unless one is injected."""

    def __init__(
        self,
        timeout: float = 10.0,
        max_bytes: int = 5_000_000,
        user_agent: str = USER_AGENT,
        *,
        client: httpx.Client | None = None,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.user_agent = user_agent
        self._owns_client = client is None
        self._client = client or httpx.Client(max_redirects=MAX_REDIRECTS)

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
        """Close the HTTP client if this fetcher created it."""
        if self._owns_client:
            self._client.close()

    def get(self, url: str) -> Fetched:
        """GET ``url``, following redirects; raise SourceError naming ``url`` on any failure."""
        logger.debug("GET %s", redacted(url))
        headers = {"User-Agent": self.user_agent, "Accept": ACCEPT}
        try:
            with self._client.stream(
                "GET",
                url,
                headers=headers,
                follow_redirects=True,
                timeout=httpx.Timeout(self.timeout),
            ) as response:
                return self._read(url, response)
        except httpx.TimeoutException:
            raise SourceError(url, f"timed out after {self.timeout:g} s") from None
        except httpx.ConnectError as exc:
            raise SourceError(url, f"cannot connect ({_cause(exc)})") from None
        except httpx.TooManyRedirects:
            raise SourceError(url, f"more than {MAX_REDIRECTS} redirects") from None
        except httpx.UnsupportedProtocol:
            web = url.lower().startswith(("http://", "https://"))
            raise SourceError(
                url, "invalid URL (no host)" if web else "not an http(s) URL"
            ) from None
        except httpx.InvalidURL as exc:
            raise SourceError(url, f"invalid URL ({exc})") from None
        except httpx.HTTPError as exc:
            raise SourceError(url, f"download failed ({type(exc).__name__}: {exc})") from None

    def _read(self, url: str, response: httpx.Response) -> Fetched:
        if not response.is_success:
            raise SourceError(url, f"HTTP {response.status_code} {response.reason_phrase}".strip())
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise SourceError(url, f"larger than {_size(self.max_bytes)}")
        # The read timeout bounds each wait; this deadline bounds a server that trickles.
        deadline = time.monotonic() + self.timeout
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise SourceError(url, f"larger than {_size(self.max_bytes)}")
            if time.monotonic() > deadline:
                raise SourceError(url, f"timed out after {self.timeout:g} s")
            chunks.append(chunk)
        content_type = response.headers.get("Content-Type", "")
        logger.debug("got %s: %d bytes of %s", redacted(url), size, content_type or "?")
        return Fetched(
            url=str(response.url),
            status=response.status_code,
            content_type=content_type.split(";")[0].strip().lower(),
            body=b"".join(chunks),
            charset=response.charset_encoding,
        )


def redacted(url: str) -> str:
    """``url`` without user name and password, fit for logs (even when it does not parse)."""
    return _CREDENTIALS.sub("//", url, count=1)


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
