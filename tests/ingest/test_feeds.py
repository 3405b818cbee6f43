"""Recognising RSS and Atom feeds and listing their items."""

from __future__ import annotations

from datetime import date

import pytest

from retrieval.errors import SourceError
from retrieval.sources.feeds import FeedItem, looks_like_feed, parse_feed
from tests.ingest.server import PNG, FixtureServer

BASE = "https://harbourherald.example"


def _reason(body: bytes, url: str = f"{BASE}/feed") -> str:
    with pytest.raises(SourceError) as caught:
        parse_feed(body, url)
    assert caught.value.source == url
    return caught.value.reason


def test_rss_items(site: FixtureServer) -> None:
    result = parse_feed(site.page("feeds/news.rss"), site.url("/feeds/news.rss"))
    assert result.problems == []
    assert result.items == [
        FeedItem(
            site.url("/news/2024/05/20/ferry-strike-ends.html"),  # utm_* parameters gone
            "Ferry Strike Ends as Crews Accept New Rota",
            date(2024, 5, 20),
        ),
        FeedItem(
            site.url("/news/lighthouse-reopens.html"),
            "Restored Lighthouse Opens to Visitors",
            date(2024, 5, 18),
        ),
        FeedItem(
            site.url("/news/2024/05/14/tram-line-approved.html"),
            "City Council Approves Harbour Tram Line After Decade of Debate",
            date(2024, 5, 14),
        ),
    ]


def test_atom_items_with_relative_links(site: FixtureServer) -> None:
    result = parse_feed(site.page("feeds/news.atom"), site.url("/feeds/news.atom"))
    assert result.problems == []
    assert [(i.url, i.published) for i in result.items] == [
        (site.url("/news/2024/05/20/ferry-strike-ends.html"), date(2024, 5, 20)),  # no #main
        (site.url("/news/2024/05/14/tram-line-approved.html"), date(2024, 5, 14)),
    ]
    assert result.items[1].title == "City Council Approves Harbour Tram Line After Decade of Debate"


def test_rss_1_0(site: FixtureServer) -> None:
    body = b"""<?xml version="1.0"?>
    <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
             xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel rdf:about="https://harbourherald.example/"><title>Herald</title></channel>
      <item rdf:about="https://harbourherald.example/a">
        <title>A</title><link>https://harbourherald.example/a?ref=rdf</link><dc:date>2024-05-02</dc:date>
      </item>
    </rdf:RDF>"""
    assert looks_like_feed("application/xml", body)
    assert parse_feed(body, f"{BASE}/index.rdf").items == [
        FeedItem(f"{BASE}/a", "A", date(2024, 5, 2))
    ]


def test_items_without_a_link_are_reported_and_the_rest_kept(site: FixtureServer) -> None:
    result = parse_feed(site.page("feeds/mixed.xml"), site.url("/feeds/mixed.xml"))
    assert result.problems == ["item 1 ('Live blog: storm over the northern islands') has no link"]
    assert [i.url for i in result.items] == [
        site.url("/status/404"),
        site.url("/files/annual-report.pdf"),
        site.url("/news/2024/05/20/ferry-strike-ends.html"),
    ]


def test_links_that_are_not_web_pages_are_reported() -> None:
    body = b"""<rss version="2.0"><channel><title>x</title>
      <item><title>Write to us</title><link>mailto:desk@harbourherald.example</link></item>
      <item><link>https://harbourherald.example/b</link></item>
      <item><description>untitled and unlinked</description></item>
    </channel></rss>"""
    result = parse_feed(body, f"{BASE}/feed")
    assert result.problems == [
        "item 1 ('Write to us') has no http(s) link ('mailto:desk@harbourherald.example')",
        "item 3 has no link",
    ]
    assert result.items == [FeedItem(f"{BASE}/b", None, None)]


def test_the_same_article_twice_is_listed_once() -> None:
    body = b"""<rss version="2.0"><channel><title>x</title>
      <item><title>A</title><link>https://harbourherald.example/a?utm_source=rss</link></item>
      <item><title>A again</title><link>https://harbourherald.example/a#comments</link></item>
    </channel></rss>"""
    assert parse_feed(body, f"{BASE}/feed").items == [FeedItem(f"{BASE}/a", "A", None)]


def test_empty_feed(site: FixtureServer) -> None:
    assert _reason(site.page("feeds/empty.rss")) == "feed has no items"
    empty_atom = b'<feed xmlns="http://www.w3.org/2005/Atom"><title>Nothing yet</title></feed>'
    assert _reason(empty_atom) == "feed has no items"


def test_malformed_feed(site: FixtureServer) -> None:
    assert _reason(site.page("feeds/malformed.rss")) == "malformed feed (mismatched tag at line 8)"


def test_not_a_feed_at_all() -> None:
    assert _reason(b"") == "not an RSS or Atom feed"
    assert _reason(b'{"items": []}').startswith("malformed feed (not well-formed")


@pytest.mark.parametrize(
    ("content_type", "path", "expected"),
    [
        ("application/rss+xml", "feeds/news.rss", True),
        ("application/atom+xml", "feeds/news.atom", True),
        ("text/xml", "feeds/mixed.xml", True),  # after an XML declaration and a comment
        ("application/xml", "feeds/news.atom", True),
        ("text/html", "feeds/news.rss", True),  # mislabelled, recognised by its root
        ("", "feeds/news.rss", True),
        ("application/rss+xml", "feeds/malformed.rss", True),  # so that it is reported
        ("text/html", "index.html", False),
        ("text/html", "news/2024/05/14/tram-line-approved.html", False),  # links to a feed
        ("application/xml", "index.html", False),
    ],
)
def test_looks_like_feed(site: FixtureServer, content_type: str, path: str, expected: bool) -> None:
    assert looks_like_feed(content_type, site.page(path)) is expected


def test_looks_like_feed_odd_bodies() -> None:
    assert looks_like_feed("text/xml", b"\xef\xbb\xbf<?xml version='1.0'?>\n<rss version='2.0'>")
    assert looks_like_feed("application/rss+xml; charset=utf-8", b"")
    assert not looks_like_feed("image/png", PNG)
    assert not looks_like_feed("application/json", b'{"version": "https://jsonfeed.org"}')
    assert not looks_like_feed("text/plain", b"rss feeds are great")
