"""The address guard: sources on loopback, private, link-local and other internal addresses
are refused before any connection, on every redirect hop and after DNS resolution."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import httpcore
import pytest
import trustme

from retrieval.errors import SourceError
from retrieval.sources import Fetcher, read_source
from retrieval.sources import network as network_module
from retrieval.sources.addresses import ALLOW_SETTING, blocked_kind
from retrieval.sources.network import SourceNetwork, lookup
from tests.ingest.server import FixtureServer, Reply

PUBLIC = "93.184.216.34"  # a public address; the routed test network dials the site for it
TRAM = "/news/2024/05/14/tram-line-approved.html"

# (address, kind): one of each range the guard must refuse.
BLOCKED = [
    ("127.0.0.1", "loopback"),
    ("127.45.6.7", "loopback"),
    ("10.0.0.1", "private"),
    ("10.255.255.254", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),  # the cloud metadata service
    ("100.100.100.200", "non-public"),  # shared address space (Alibaba's metadata service)
    ("0.0.0.0", "unspecified"),
    ("224.0.0.251", "multicast"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fc00::1", "unique-local"),
    ("fd00:ec2::254", "unique-local"),  # AWS's IPv6 metadata service
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6
    ("::ffff:10.0.0.1", "private"),
    ("::ffff:169.254.169.254", "link-local"),
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
]
PUBLIC_ADDRESSES = ["93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700:4700::1111"]


def _literal(address: str) -> str:
    return f"[{address}]" if ":" in address else address


class RoutedBackend(httpcore.SyncBackend):
    """Dials the fixture site whatever public address was asked for, and records each dial."""

    def __init__(self, site: FixtureServer) -> None:
        self.port = int(site.base.rsplit(":", 1)[1])
        self.dialled: list[str] = []

    def connect_tcp(self, host: str, port: int, *args, **kwargs) -> httpcore.NetworkStream:  # type: ignore[no-untyped-def, override]
        self.dialled.append(host)
        return super().connect_tcp("127.0.0.1", self.port, *args, **kwargs)


class Resolver:
    """A DNS stand-in: names in ``records`` resolve to their addresses, others as usual."""

    def __init__(self, records: dict[str, Iterable[str]]) -> None:
        self.records = {name: list(addresses) for name, addresses in records.items()}
        self.asked: list[str] = []

    def __call__(self, host: str, port: int, timeout: float | None) -> list[str]:
        self.asked.append(host)
        if host in self.records:
            return self.records[host]
        return lookup(host, port, timeout)


@pytest.fixture
def routed(site: FixtureServer) -> RoutedBackend:
    site.requests.clear()  # the site is shared by the session: count this test's requests
    return RoutedBackend(site)


def _guarded(routed: RoutedBackend, records: dict[str, Iterable[str]] | None = None) -> Fetcher:
    """A fetcher with the guard on, where news.test is a public host serving the site."""
    resolver = Resolver({"news.test": [PUBLIC], **(records or {})})
    return Fetcher(timeout=2.0, network=SourceNetwork(resolve=resolver, dial=routed))


def _port(site: FixtureServer) -> int:
    return int(site.base.rsplit(":", 1)[1])


def _refusal(fetcher: Fetcher, url: str) -> str:
    with pytest.raises(SourceError) as caught:
        fetcher.get(url)
    reason = caught.value.reason
    assert reason.startswith("refused: ")
    assert f"{ALLOW_SETTING}=true" in reason
    return reason


@pytest.mark.parametrize(("address", "kind"), BLOCKED)
def test_internal_addresses_are_classified(address: str, kind: str) -> None:
    assert blocked_kind(address) == kind


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_addresses_pass(address: str) -> None:
    assert blocked_kind(address) is None


def test_a_public_host_is_fetched(site: FixtureServer, routed: RoutedBackend) -> None:
    port = _port(site)
    with _guarded(routed) as fetcher:
        fetched = fetcher.get(f"http://news.test:{port}{TRAM}")
    assert fetched.status == 200 and b"Tram" in fetched.body
    assert routed.dialled == [PUBLIC]  # the connection went to the address that was checked


@pytest.mark.parametrize(("address", "kind"), BLOCKED)
def test_an_internal_address_is_refused_before_connecting(
    site: FixtureServer, routed: RoutedBackend, address: str, kind: str
) -> None:
    with _guarded(routed) as fetcher:
        reason = _refusal(fetcher, f"http://{_literal(address)}:{_port(site)}{TRAM}")
    assert f"is a {kind} address" in reason
    assert routed.dialled == [] and site.requests == []


@pytest.mark.parametrize(("address", "kind"), BLOCKED)
def test_a_host_resolving_to_an_internal_address_is_refused(
    site: FixtureServer, routed: RoutedBackend, address: str, kind: str
) -> None:
    with _guarded(routed, {"intranet.test": [address]}) as fetcher:
        reason = _refusal(fetcher, f"http://intranet.test:{_port(site)}{TRAM}")
    assert reason == (
        f"refused: intranet.test ({address}) is a {kind} address "
        f"(set {ALLOW_SETTING}=true to allow it)"
    )
    assert routed.dialled == []


@pytest.mark.parametrize(("address", "kind"), BLOCKED)
def test_a_redirect_to_an_internal_address_is_refused(
    site: FixtureServer, routed: RoutedBackend, address: str, kind: str
) -> None:
    target = f"http://{_literal(address)}:{_port(site)}{TRAM}"
    with _guarded(routed) as fetcher:
        reason = _refusal(fetcher, f"http://news.test:{_port(site)}/goto/{quote(target, safe='')}")
    assert f"is a {kind} address" in reason
    assert routed.dialled == [PUBLIC]  # the first hop only
    assert [path for path, _ in site.requests] == [f"/goto/{quote(target, safe='')}"]


@pytest.mark.parametrize("address", ["10.1.2.3", "127.0.0.1", "::ffff:127.0.0.1"])
def test_a_redirect_to_a_host_resolving_inside_is_refused(
    site: FixtureServer, routed: RoutedBackend, address: str
) -> None:
    target = quote(f"http://intranet.test:{_port(site)}{TRAM}", safe="")
    with _guarded(routed, {"intranet.test": [address]}) as fetcher:
        _refusal(fetcher, f"http://news.test:{_port(site)}/goto/{target}")
    assert routed.dialled == [PUBLIC]


def test_localhost_is_refused_by_the_real_resolver(site: FixtureServer) -> None:
    site.requests.clear()
    url = site.url(TRAM).replace("127.0.0.1", "localhost")
    with Fetcher(timeout=2.0) as fetcher:
        reason = _refusal(fetcher, url)
    assert "localhost (" in reason and "loopback" in reason
    assert site.requests == []


def test_the_local_site_is_refused_by_default(site: FixtureServer) -> None:
    site.requests.clear()
    with Fetcher(timeout=2.0) as fetcher:
        assert "127.0.0.1 is a loopback address" in _refusal(fetcher, site.url(TRAM))
    assert site.requests == []


def test_one_internal_address_among_public_ones_refuses_the_host(
    site: FixtureServer, routed: RoutedBackend
) -> None:
    with _guarded(routed, {"mixed.test": [PUBLIC, "10.0.0.7"]}) as fetcher:
        _refusal(fetcher, f"http://mixed.test:{_port(site)}{TRAM}")
    assert routed.dialled == []


def test_the_host_is_resolved_once_and_dialled_at_that_address(
    site: FixtureServer, routed: RoutedBackend
) -> None:
    """DNS rebinding: a second answer (internal) is never asked for, let alone dialled."""
    answers = [[PUBLIC], ["127.0.0.1"]]

    def rebinding(host: str, port: int, timeout: float | None) -> list[str]:
        return answers.pop(0)

    network = SourceNetwork(resolve=rebinding, dial=routed)
    with Fetcher(timeout=2.0, network=network) as fetcher:
        assert fetcher.get(f"http://rebind.test:{_port(site)}{TRAM}").status == 200
    assert routed.dialled == [PUBLIC] and answers == [["127.0.0.1"]]


def test_the_setting_allows_private_networks(site: FixtureServer) -> None:
    with Fetcher(timeout=2.0, allow_private_networks=True) as fetcher:
        assert fetcher.get(site.url(TRAM)).status == 200
        assert fetcher.get(site.url(TRAM).replace("127.0.0.1", "localhost")).status == 200


def test_feed_items_pointing_inside_are_refused_one_by_one(
    site: FixtureServer, routed: RoutedBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _port(site)
    items = "".join(
        f"<item><title>{n}</title><link>{link}</link></item>"
        for n, link in enumerate(
            [
                f"http://news.test:{port}{TRAM}",
                f"http://127.0.0.1:{port}/secret",
                "http://10.0.0.5/",
            ]
        )
    )
    feed = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>'
    )
    reply = Reply(200, {"Content-Type": "application/rss+xml"}, feed.encode())
    monkeypatch.setitem(site.routes, "/feeds/inside.rss", lambda s: reply)
    with _guarded(routed) as fetcher:
        result = read_source(f"http://news.test:{port}/feeds/inside.rss", fetcher)
    assert [a.url for a in result.articles] == [f"http://news.test:{port}{TRAM}"]
    assert [p.reason.split(" (set")[0] for p in result.problems] == [
        "refused: 127.0.0.1 is a loopback address",
        "refused: 10.0.0.5 is a private address",
    ]
    assert "/secret" not in [path for path, _ in site.requests]


@pytest.fixture
def tls_site(site: FixtureServer) -> Iterator[tuple[int, trustme.CA]]:
    """The fixture site over HTTPS as news.test, with a certificate from a test CA."""
    ca = trustme.CA()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _proxy_handler(site))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("news.test").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], ca
    server.shutdown()
    server.server_close()


def _proxy_handler(site: FixtureServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            reply = site.reply(self.path)
            body = reply.body if isinstance(reply.body, bytes) else b"".join(reply.body)
            self.send_response(reply.status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def test_https_is_verified_against_the_host_name_while_the_checked_address_is_dialled(
    tls_site: tuple[int, trustme.CA], routed: RoutedBackend
) -> None:
    port, ca = tls_site
    routed.port = port
    # Trust the test CA in the fetchers' shared TLS context (it keeps the system CAs too).
    ca.configure_trust(network_module._ssl_context())
    with _guarded(routed, {"other.test": [PUBLIC]}) as fetcher:
        assert b"Tram" in fetcher.get(f"https://news.test:{port}{TRAM}").body
        with pytest.raises(SourceError) as caught:  # the certificate is for news.test only
            fetcher.get(f"https://other.test:{port}{TRAM}")
    assert "certificate" in caught.value.reason.lower()
    assert routed.dialled == [PUBLIC, PUBLIC]


def test_proxy_variables_do_not_bypass_the_guard(
    site: FixtureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy would resolve the host itself; the fetcher ignores HTTP(S)_PROXY instead."""
    site.requests.clear()
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://203.0.113.9:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with Fetcher(timeout=2.0) as fetcher:
        _refusal(fetcher, site.url(TRAM))
    with Fetcher(timeout=2.0, allow_private_networks=True) as fetcher:
        assert fetcher.get(site.url(TRAM)).status == 200  # direct, not through the proxy
