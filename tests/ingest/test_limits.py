"""What one source may yield: new items per feed, paragraphs and characters per article."""

from __future__ import annotations

import time
from datetime import date

import pytest

from retrieval.articles import Article
from retrieval.sources import Fetcher, SourceLimits, read_source
from retrieval.sources.limits import cut_article
from tests.ingest.server import FixtureServer, Reply

FERRY = "/news/2024/05/20/ferry-strike-ends.html"
LIGHTHOUSE = "/news/lighthouse-reopens.html"
TRAM = "/news/2024/05/14/tram-line-approved.html"
SENTENCE = "The harbour board met again on Tuesday to discuss the ferry timetable. "


def _article(paragraphs: list[str]) -> Article:
    return Article(
        "https://example-news.com/a", "A", "Example", date(2024, 5, 2), tuple(paragraphs)
    )


def _page(paragraphs: list[str]) -> bytes:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        "<!DOCTYPE html><html><head><title>Harbour Board Minutes</title>"
        '<meta property="article:published_time" content="2024-05-02">'
        f"</head><body><article><h1>Harbour Board Minutes</h1>{body}</article></body></html>"
    ).encode()


def test_a_feed_gives_at_most_its_limit_of_new_items_per_read(
    site: FixtureServer, fetcher: Fetcher
) -> None:
    feed = site.url("/feeds/news.rss")
    first = read_source(feed, fetcher, limits=SourceLimits(feed_items=2))
    assert [a.url for a in first.articles] == [site.url(FERRY), site.url(LIGHTHOUSE)]
    assert (first.left, first.problems) == (1, [])
    known = {a.url for a in first.articles}
    site.requests.clear()
    second = read_source(feed, fetcher, skip=known.__contains__, limits=SourceLimits(feed_items=2))
    assert [a.url for a in second.articles] == [site.url(TRAM)]  # the rest, next time
    assert second.left == 0
    assert [path for path, _ in site.requests] == [
        "/feeds/news.rss",
        TRAM + "?utm_source=rss&utm_medium=feed",
    ]


def test_an_article_is_cut_after_its_paragraph_limit() -> None:
    article = _article([f"Paragraph {n}." for n in range(10)])
    cut = cut_article(article, SourceLimits(paragraphs=3))
    assert cut.paragraphs == ("Paragraph 0.", "Paragraph 1.", "Paragraph 2.")
    assert cut_article(article, SourceLimits()) is article  # under the limits: untouched


def test_an_article_is_cut_at_a_word_boundary_at_its_character_limit() -> None:
    article = _article(["a" * 40, "one two three four five six seven", "never reached"])
    cut = cut_article(article, SourceLimits(characters=60))
    assert cut.paragraphs == ("a" * 40, "one two three four")
    assert sum(len(p) for p in cut.paragraphs) <= 60


def test_a_page_of_60000_paragraphs_is_cut_early(
    site: FixtureServer, fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = _page([f"The harbour board met on Tuesday, item {n}." for n in range(60_000)])
    assert len(page) > 3_000_000
    reply = Reply(200, {"Content-Type": "text/html"}, page)
    monkeypatch.setitem(site.routes, "/minutes.html", lambda s: reply)
    started = time.monotonic()
    result = read_source(site.url("/minutes.html"), fetcher)
    assert result.problems == []
    [article] = result.articles
    assert len(article.paragraphs) == SourceLimits().paragraphs
    assert time.monotonic() - started < 20  # 93 s before the <p> elements were dropped


def test_a_2_mb_one_sentence_paragraph_is_cut(
    site: FixtureServer, fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    words = "and the board met again " * 90_000  # about 2.2 MB and not one full stop
    reply = Reply(200, {"Content-Type": "text/html"}, _page([f"{SENTENCE}Then {words}."]))
    monkeypatch.setitem(site.routes, "/run-on.html", lambda s: reply)
    [article] = read_source(site.url("/run-on.html"), fetcher).articles
    text = sum(len(p) for p in article.paragraphs)
    assert SourceLimits().characters - 100 <= text <= SourceLimits().characters
