"""Articles from web pages: main text without boilerplate, metadata, dates and encodings."""

from __future__ import annotations

from datetime import date

import pytest
import trafilatura

from retrieval.errors import SourceError
from retrieval.sources.pages import NOT_AN_ARTICLE, article_from_html, decode_html, page_url
from retrieval.urls import content_hash
from tests.ingest.server import SITE, FixtureServer

TRAM = "news/2024/05/14/tram-line-approved.html"
FERRY = "news/2024/05/20/ferry-strike-ends.html"
LIGHTHOUSE = "news/lighthouse-reopens.html"
TRAM_TITLE = "City Council Approves Harbour Tram Line After Decade of Debate"
# Text around the story on the tram page: navigation, ads, teasers, comments, footer.
BOILERPLATE = [
    "We use cookies",
    "Subscribe for 1 euro a week",
    "Storm warning",
    "Lowest mortgage rates",
    "SeaHopper Air",
    "Harbourton Motors",
    "Share on Facebook",
    "Photo: City of Harbourton",
    "Read also",
    "Harbour road bus lanes delayed again",
    "Spotted a mistake",
    "Get the Morning Brief",
    "Library extends its opening hours",
    "Market Street festival returns",
    "harbourfan77",
    "I have been waiting for this tram",
    "Four hundred million for a tram nobody asked for",
    "cannot come soon enough",
    "Join the discussion",
    "All rights reserved",
    "Privacy policy",
]


def _page_at(base: str, path: str = TRAM) -> bytes:
    """A fixture page as a site at ``base`` would serve it."""
    return (SITE / path).read_bytes().replace(b"{base}", base.encode())


def _reason(html: bytes | str, url: str, **fallbacks: object) -> str:
    with pytest.raises(SourceError) as caught:
        article_from_html(html, url, **fallbacks)  # type: ignore[arg-type]
    assert caught.value.source == url
    return caught.value.reason


def test_news_page_metadata(site: FixtureServer) -> None:
    article = article_from_html(site.page(TRAM), site.url(f"/{TRAM}"))
    assert article.title == TRAM_TITLE
    assert article.published == date(2024, 5, 14)
    assert article.author == "Maria Lindqvist"
    assert article.source == "The Harbour Herald"
    assert article.url == site.url(f"/{TRAM}")


def test_news_page_main_text_is_the_story_alone(site: FixtureServer) -> None:
    article = article_from_html(site.page(TRAM), site.url(f"/{TRAM}"))
    assert article.paragraphs[0] == (
        "The 9-kilometre line will link the ferry terminal with the university campus by 2028."
    )
    assert article.paragraphs[1].startswith("The Harbourton city council voted 31 to 14 on Monday")
    assert article.paragraphs[-1].startswith("The transport committee will publish the timetable")
    assert any(p.startswith('"This is the most important decision') for p in article.paragraphs)
    assert len(article.paragraphs) == 8
    body = "\n".join(article.paragraphs)
    assert [phrase for phrase in BOILERPLATE if phrase in body] == []
    assert TRAM_TITLE not in body  # the headline is the title, not a paragraph


def test_metadata_from_json_ld(site: FixtureServer) -> None:
    article = article_from_html(site.page(FERRY), site.url(f"/{FERRY}"))
    assert article.title == "Ferry Strike Ends as Crews Accept New Rota"
    assert article.published == date(2024, 5, 20)
    assert article.author == "Tomas Berg"
    assert article.source == "The Harbour Herald"
    assert len(article.paragraphs) == 4
    body = " ".join(article.paragraphs)
    assert "about 4,000 islanders" in body
    assert "islandgirl" not in body and "Northbank" not in body and "Related" not in body


def test_outlet_falls_back_to_the_site(site: FixtureServer) -> None:
    article = article_from_html(site.page("print/tram-line-approved.html"), site.url("/print/t"))
    assert article.source == "127.0.0.1"
    assert article.author is None
    assert article.published == date(2024, 5, 14)  # from 'Published 14 May 2024' in the text


def test_known_outlet_keeps_its_usual_name() -> None:
    html = _page_at("https://www.reuters.com")
    article = article_from_html(html, f"https://www.reuters.com/{TRAM}")
    assert article.source == "Reuters"  # as for Reuters articles loaded from seed files


def test_same_story_on_a_print_page_has_the_same_content_hash(site: FixtureServer) -> None:
    story = article_from_html(site.page(TRAM), site.url(f"/{TRAM}"))
    printed = article_from_html(site.page("print/tram-line-approved.html"), site.url("/print/t"))
    assert printed.url != story.url
    assert content_hash(printed) == content_hash(story)
    ferry = article_from_html(site.page(FERRY), site.url(f"/{FERRY}"))
    assert content_hash(ferry) != content_hash(story)


def test_declared_canonical_url_on_the_same_site_wins() -> None:
    html = _page_at("https://harbourherald.example")
    article = article_from_html(html, "https://harbourherald.example/amp/tram?utm_source=x#top")
    assert article.url == f"https://harbourherald.example/{TRAM}"


def test_declared_url_elsewhere_or_at_the_home_page_is_ignored() -> None:
    elsewhere = _page_at("https://aggregator.example")
    url = "https://harbourherald.example/news/tram?id=4&utm_campaign=x#comments"
    assert article_from_html(elsewhere, url).url == "https://harbourherald.example/news/tram?id=4"
    home = _page_at("https://harbourherald.example").replace(
        f"/{TRAM}".encode(), b"/"
    )  # a CMS that declares every page to be the front page
    assert article_from_html(home, url).url == "https://harbourherald.example/news/tram?id=4"


def test_page_url() -> None:
    html = _page_at("https://harbourherald.example").decode()
    assert page_url(html) == f"https://harbourherald.example/{TRAM}"
    og_only = html.replace('<link rel="canonical"', '<link rel="x-canonical"')
    assert page_url(og_only) == f"https://harbourherald.example/{TRAM}"
    assert page_url("<html><head><title>x</title></head><body><p>x</p></body></html>") is None
    relative = (
        '<html><head><link rel="canonical" href="/a?utm_source=x"></head><body></body></html>'
    )
    assert (
        page_url(relative, "https://harbourherald.example/b") == "https://harbourherald.example/a"
    )


@pytest.mark.parametrize("path", ["index.html", "login.html"])
def test_pages_that_are_not_articles(site: FixtureServer, path: str) -> None:
    assert _reason(site.page(path), site.url(f"/{path}")) == NOT_AN_ARTICLE
    assert NOT_AN_ARTICLE == "no article text found (not an article page?)"


@pytest.mark.parametrize(
    "html",
    [
        "<html><body></body></html>",
        "<html><head><title>Short</title></head><body><p>Too short for a story.</p></body></html>",
    ],
)
def test_empty_and_short_pages(html: str) -> None:
    assert _reason(html, "https://harbourherald.example/x") == NOT_AN_ARTICLE


def test_empty_page() -> None:
    assert _reason(" \n", "https://harbourherald.example/x") == "empty page"
    assert _reason("<p>no html element", "https://harbourherald.example/x") == NOT_AN_ARTICLE


def test_missing_date(site: FixtureServer) -> None:
    url = site.url(f"/{LIGHTHOUSE}")
    assert _reason(site.page(LIGHTHOUSE), url) == "no publication date found"
    article = article_from_html(site.page(LIGHTHOUSE), url, fallback_date=date(2024, 5, 18))
    assert article.published == date(2024, 5, 18)
    assert article.title == "Restored Lighthouse Opens to Visitors"
    assert article.paragraphs[0].startswith("The 150-year-old lighthouse on Gull Point")


def test_unparseable_date(site: FixtureServer) -> None:
    url = site.url("/news/bad-date.html")
    reason = _reason(site.page("news/bad-date.html"), url)
    assert reason == "unparseable publication date 'the Saturday before last'"
    article = article_from_html(
        site.page("news/bad-date.html"), url, fallback_date=date(2024, 5, 18)
    )
    assert article.published == date(2024, 5, 18)


def test_page_date_wins_over_the_fallback(site: FixtureServer) -> None:
    article = article_from_html(
        site.page(TRAM), site.url(f"/{TRAM}"), fallback_date=date(2020, 1, 1), fallback_title="X"
    )
    assert (article.published, article.title) == (date(2024, 5, 14), TRAM_TITLE)


def test_declared_date_in_words_is_read() -> None:
    html = _page_at("https://harbourherald.example", LIGHTHOUSE).replace(
        b"<title>", b'<meta name="date" content="Saturday, May 18, 2024"><title>'
    )
    article = article_from_html(html, f"https://harbourherald.example/{LIGHTHOUSE}")
    assert article.published == date(2024, 5, 18)


def _untitled_page() -> str:
    paragraphs = "".join(
        f"<p>Paragraph {n} of a story whose page has no title element and no headline.</p>"
        for n in range(5)
    )
    return (
        '<html><head><meta property="article:published_time" content="2024-05-01"></head>'
        f"<body>{paragraphs}</body></html>"
    )


def test_missing_title() -> None:
    url = "https://harbourherald.example/untitled"
    assert _reason(_untitled_page(), url) == "no title found"
    article = article_from_html(_untitled_page(), url, fallback_title="Title From The Feed")
    assert article.title == "Title From The Feed"


# --- encodings ----------------------------------------------------------------------------


def test_http_charset_is_honoured(site: FixtureServer) -> None:
    html = site.page(FERRY).decode().replace("Lena Aho", "Léna Åho").encode("cp1252")
    article = article_from_html(html, site.url(f"/{FERRY}"), charset="windows-1252")
    assert "union spokesperson Léna Åho" in " ".join(article.paragraphs)


def test_meta_charset_is_honoured() -> None:
    html = _page_at("https://harbourherald.example", FERRY).decode()
    html = html.replace('<meta charset="utf-8">', '<meta charset="iso-8859-1">')
    html = html.replace("Lena Aho", "Léna Åho").replace('"The crews', "\u201cThe crews")
    article = article_from_html(html.encode("cp1252"), f"https://harbourherald.example/{FERRY}")
    body = " ".join(article.paragraphs)
    # Latin-1 labels mean windows-1252 on the web, so the curly quote survives too.
    assert "\u201cThe crews were exhausted" in body and "Léna Åho" in body


def test_utf8_byte_order_mark_wins() -> None:
    assert decode_html(b"\xef\xbb\xbf<p>caf\xc3\xa9</p>", "iso-8859-1", "x") == "<p>café</p>"


def test_a_few_invalid_utf8_bytes_are_replaced(site: FixtureServer) -> None:
    html = site.page(TRAM).replace(b"in the city library", b"in the caf\xe9 of the city library")
    article = article_from_html(html, site.url(f"/{TRAM}"), charset="utf-8")
    assert "an exhibition in the caf\ufffd of the city library" in article.paragraphs[-1]
    assert article.title == TRAM_TITLE


def test_bytes_that_are_not_text_are_refused() -> None:
    noise = bytes(range(128, 256)) * 40
    reason = _reason(b"<html><body><p>" + noise, "https://harbourherald.example/x")
    assert reason == "not valid utf-8 text (5120 undecodable bytes)"


def test_an_extractor_crash_costs_only_that_page(
    site: FixtureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(trafilatura, "bare_extraction", crash)
    reason = _reason(site.page(TRAM), site.url(f"/{TRAM}"))
    assert reason == "extraction failed (RecursionError)"
