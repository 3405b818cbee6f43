"""The fetcher against the local site: redirects, limits, timeouts and HTTP failures."""

from __future__ import annotations

import logging
import socket
import time
from importlib.metadata import version

import pytest

from retrieval.errors import SourceError
from retrieval.sources import USER_AGENT, Fetcher, redacted
from tests.ingest.server import PDF, FixtureServer


def _reason(fetcher: Fetcher, url: str) -> str:
    with pytest.raises(SourceError) as caught:
        fetcher.get(url)
    assert caught.value.source == url
    assert str(caught.value) == f"{url}: {caught.value.reason}"
    return caught.value.reason


def test_fetches_a_page_with_its_type_and_charset(site: FixtureServer, fetcher: Fetcher) -> None:
    url = site.url("/news/2024/05/14/tram-line-approved.html")
    fetched = fetcher.get(url)
    assert fetched.url == url
    assert fetched.status == 200
    assert fetched.content_type == "text/html"
    assert fetched.charset == "utf-8"
    assert fetched.body == site.page("news/2024/05/14/tram-line-approved.html")


def test_sends_a_user_agent_naming_the_bot(site: FixtureServer, fetcher: Fetcher) -> None:
    fetcher.get(site.url("/index.html?ua-check"))
    [headers] = [h for path, h in site.requests if path == "/index.html?ua-check"]
    assert headers["User-Agent"] == USER_AGENT
    # The installed version, and no site: the project has none for a crawler to point at.
    assert f"newsbot/{version('newsbot')}" == USER_AGENT


def test_follows_redirects_to_the_final_url(site: FixtureServer, fetcher: Fetcher) -> None:
    fetched = fetcher.get(site.url("/redirect/3"))
    assert fetched.url == site.url("/news/2024/05/20/ferry-strike-ends.html")
    assert b"Ferry Strike Ends" in fetched.body


def test_redirects_are_bounded(site: FixtureServer, fetcher: Fetcher) -> None:
    assert _reason(fetcher, site.url("/loop")) == "more than 5 redirects"
    assert _reason(fetcher, site.url("/redirect/9")) == "more than 5 redirects"


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (404, "HTTP 404 Not Found"),
        (500, "HTTP 500 Internal Server Error"),
        (403, "HTTP 403 Forbidden"),
        (503, "HTTP 503 Service Unavailable"),
    ],
)
def test_http_errors(site: FixtureServer, fetcher: Fetcher, status: int, reason: str) -> None:
    assert _reason(fetcher, site.url(f"/status/{status}")) == reason


def test_missing_fixture_is_a_404(site: FixtureServer, fetcher: Fetcher) -> None:
    assert _reason(fetcher, site.url("/news/no-such-story.html")) == "HTTP 404 Not Found"


def test_unreachable_host(fetcher: Fetcher) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    reason = _reason(fetcher, f"http://127.0.0.1:{port}/story")
    assert reason.startswith("cannot connect (")
    assert "refused" in reason.lower()


def test_slow_server_times_out(site: FixtureServer, impatient_fetcher: Fetcher) -> None:
    started = time.monotonic()
    assert _reason(impatient_fetcher, site.url("/slow")) == "timed out after 0.5 s"
    assert time.monotonic() - started < 1.5


def test_trickling_body_times_out(site: FixtureServer, impatient_fetcher: Fetcher) -> None:
    started = time.monotonic()
    assert _reason(impatient_fetcher, site.url("/trickle")) == "timed out after 0.5 s"
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("path", ["/huge", "/huge-declared"])
def test_a_50_mb_page_is_refused_without_reading_it(
    site: FixtureServer, fetcher: Fetcher, path: str
) -> None:
    started = time.monotonic()
    assert _reason(fetcher, site.url(path)) == "larger than 5 MB"
    assert time.monotonic() - started < 2.0


def test_size_limit_is_configurable(site: FixtureServer) -> None:
    url = site.url("/news/2024/05/14/tram-line-approved.html")
    with Fetcher(max_bytes=2_000, allow_private_networks=True) as small:
        assert _reason(small, url) == "larger than 2 kB"


def test_binary_bodies_are_returned_as_they_are(site: FixtureServer, fetcher: Fetcher) -> None:
    fetched = fetcher.get(site.url("/files/annual-report.pdf"))
    assert (fetched.content_type, fetched.body, fetched.charset) == ("application/pdf", PDF, None)


def test_not_a_web_url(fetcher: Fetcher) -> None:
    assert _reason(fetcher, "ftp://127.0.0.1/story") == "not an http(s) URL"


def test_own_client_is_closed(site: FixtureServer) -> None:
    with Fetcher(allow_private_networks=True) as fetcher:
        fetcher.get(site.url("/index.html"))
    with pytest.raises(RuntimeError):  # httpx refuses to send on a closed client
        fetcher.get(site.url("/index.html"))


def test_credentials_stay_out_of_logs(
    site: FixtureServer, fetcher: Fetcher, caplog: pytest.LogCaptureFixture
) -> None:
    url = site.url("/index.html").replace("http://", "http://reader:s3cret@")
    with caplog.at_level(logging.DEBUG, logger="newsbot.fetch"):
        fetcher.get(url)
    assert caplog.records
    assert "s3cret" not in caplog.text
    assert redacted(url) == site.url("/index.html")


def test_query_secrets_stay_out_of_logs_and_errors(
    site: FixtureServer, fetcher: Fetcher, caplog: pytest.LogCaptureFixture
) -> None:
    url = site.url("/status/404?id=7&token=t0ps3cret&sig=abc123")
    with (
        caplog.at_level(logging.DEBUG, logger="newsbot.fetch"),
        pytest.raises(SourceError) as caught,
    ):
        fetcher.get(url)
    assert caught.value.source == site.url("/status/404?id=7&token=REDACTED&sig=REDACTED")
    assert caplog.records
    assert "t0ps3cret" not in caplog.text and "abc123" not in caplog.text
    # The secret was sent all the same: redaction is for what is shown, not what is fetched.
    assert any("token=t0ps3cret" in path for path, _ in site.requests)
