"""``read_source``: article URLs, feeds and local files, and one line per bad source."""

from __future__ import annotations

import json
import socket
from datetime import date, timedelta
from pathlib import Path

import pytest

from retrieval.sources import Fetcher, SourceProblem, SourceResult, read_source
from tests.conftest import SEED_URL, SEEDS
from tests.ingest.server import SITE, FixtureServer, Reply

TRAM = "/news/2024/05/14/tram-line-approved.html"
FERRY = "/news/2024/05/20/ferry-strike-ends.html"
LIGHTHOUSE = "/news/lighthouse-reopens.html"


def _lines(result: SourceResult) -> list[str]:
    return [str(problem) for problem in result.problems]


def _fetched_paths(site: FixtureServer) -> list[str]:
    return [path for path, _headers in site.requests]


# --- web pages and feeds ------------------------------------------------------------------


def test_article_url(site: FixtureServer, fetcher: Fetcher) -> None:
    source = site.url(f"{TRAM}?utm_source=newsletter&utm_medium=email#comments")
    result = read_source(source, fetcher)
    assert result.source == source
    assert result.problems == []
    [article] = result.articles
    assert article.url == site.url(TRAM)
    assert article.title == "City Council Approves Harbour Tram Line After Decade of Debate"
    assert (article.published, article.source, article.author) == (
        date(2024, 5, 14),
        "The Harbour Herald",
        "Maria Lindqvist",
    )
    assert "comments" not in " ".join(article.paragraphs).lower()


def test_redirected_article_gets_its_final_url(site: FixtureServer, fetcher: Fetcher) -> None:
    [article] = read_source(site.url("/redirect/2"), fetcher).articles
    assert article.url == site.url(FERRY)


def test_rss_feed(site: FixtureServer, fetcher: Fetcher) -> None:
    result = read_source(site.url("/feeds/news.rss"), fetcher)
    assert result.problems == []
    assert [(a.url, a.published) for a in result.articles] == [
        (site.url(FERRY), date(2024, 5, 20)),
        # The page has no date: the feed's is used.
        (site.url(LIGHTHOUSE), date(2024, 5, 18)),
        (site.url(TRAM), date(2024, 5, 14)),
    ]
    assert [a.source for a in result.articles] == ["The Harbour Herald"] * 3
    assert result.articles[1].paragraphs[0].startswith("The 150-year-old lighthouse")


def test_feed_items_are_reported_as_they_are_fetched(site: FixtureServer, fetcher: Fetcher) -> None:
    seen: list[tuple[int, int, str, int]] = []

    def on_item(number: int, total: int, url: str) -> None:
        seen.append((number, total, url, len(site.requests)))

    site.requests.clear()
    read_source(site.url("/feeds/news.rss"), fetcher, on_item=on_item)
    assert [entry[:3] for entry in seen] == [
        (1, 3, site.url(FERRY)), (2, 3, site.url(LIGHTHOUSE)), (3, 3, site.url(TRAM))
    ]  # fmt: skip
    # Each is reported before its own page is fetched: after the feed and the items before it.
    assert [entry[3] for entry in seen] == [1, 2, 3]


def test_atom_feed(site: FixtureServer, fetcher: Fetcher) -> None:
    result = read_source(site.url("/feeds/news.atom"), fetcher)
    assert result.problems == []
    assert [a.title for a in result.articles] == [
        "Ferry Strike Ends as Crews Accept New Rota",
        "City Council Approves Harbour Tram Line After Decade of Debate",
    ]


def test_feed_served_as_html_is_still_a_feed(site: FixtureServer, fetcher: Fetcher) -> None:
    result = read_source(site.url("/feeds/as-html"), fetcher)
    assert (len(result.articles), result.problems) == (3, [])


def test_known_feed_items_are_not_fetched(site: FixtureServer, fetcher: Fetcher) -> None:
    known = {site.url(FERRY), site.url(TRAM)}
    site.requests.clear()
    result = read_source(site.url("/feeds/news.atom"), fetcher, skip=known.__contains__)
    assert result.articles == []
    assert result.skipped == [site.url(FERRY), site.url(TRAM)]
    assert _fetched_paths(site) == ["/feeds/news.atom"]


def test_item_that_redirects_to_a_known_article_is_skipped(
    site: FixtureServer, fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = b"""<rss version="2.0"><channel><title>Short links</title>
      <item><title>Ferry</title><link>/redirect/1</link></item>
      <item><title>Tram</title><link>/news/2024/05/14/tram-line-approved.html</link></item>
    </channel></rss>"""
    route = lambda s: Reply(200, {"Content-Type": "application/rss+xml"}, feed)  # noqa: E731
    monkeypatch.setitem(site.routes, "/feeds/short-links.rss", route)
    result = read_source(
        site.url("/feeds/short-links.rss"), fetcher, skip={site.url(FERRY)}.__contains__
    )
    assert result.skipped == [site.url(FERRY)]
    assert [a.url for a in result.articles] == [site.url(TRAM)]


def test_failing_feed_items_are_reported_and_the_rest_go_on(
    site: FixtureServer, fetcher: Fetcher
) -> None:
    feed = site.url("/feeds/mixed.xml")
    result = read_source(feed, fetcher)
    assert _lines(result) == [
        f"{feed}: item 1 ('Live blog: storm over the northern islands') has no link",
        f"{site.url('/status/404')}: HTTP 404 Not Found",
        f"{site.url('/files/annual-report.pdf')}: a PDF document, not a web page",
    ]
    assert [a.url for a in result.articles] == [site.url(FERRY)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/status/404", "HTTP 404 Not Found"),
        ("/status/500", "HTTP 500 Internal Server Error"),
        ("/huge", "larger than 5 MB"),
        ("/index.html", "no article text found (not an article page?)"),
        ("/login.html", "no article text found (not an article page?)"),
        ("/files/annual-report.pdf", "a PDF document, not a web page"),
        ("/download", "a PDF document, not a web page"),  # sent as application/octet-stream
        ("/images/harbour.png", "image/png content, not a web page"),
        ("/empty", "empty response"),
        (LIGHTHOUSE, "no publication date found"),
        ("/news/bad-date.html", "unparseable publication date 'the Saturday before last'"),
        ("/feeds/empty.rss", "feed has no items"),
        ("/feeds/malformed.rss", "malformed feed (mismatched tag at line 8)"),
        ("/garbage", "not valid utf-8 text (8640 undecodable bytes)"),
        ("/loop", "more than 5 redirects"),
    ],
)
def test_bad_web_sources(site: FixtureServer, fetcher: Fetcher, path: str, reason: str) -> None:
    url = site.url(path)
    result = read_source(url, fetcher)
    assert result.articles == []
    assert _lines(result) == [f"{url}: {reason}"]


def test_unreachable_url(fetcher: Fetcher) -> None:
    url = f"http://127.0.0.1:{_free_port()}/news/story.html"
    assert _lines(read_source(url, fetcher)) == [f"{url}: cannot connect (Connection refused)"]


def test_timeout(site: FixtureServer, impatient_fetcher: Fetcher) -> None:
    url = site.url("/slow")
    assert _lines(read_source(url, impatient_fetcher)) == [f"{url}: timed out after 0.5 s"]


def test_page_with_a_stray_non_utf8_byte_is_kept(site: FixtureServer, fetcher: Fetcher) -> None:
    [article] = read_source(site.url("/stray-byte"), fetcher).articles
    assert "an exhibition in the caf\ufffd of the city library" in article.paragraphs[-1]
    assert article.url == site.url(TRAM)  # the page's canonical link


def test_page_in_its_declared_legacy_charset(site: FixtureServer, fetcher: Fetcher) -> None:
    [article] = read_source(site.url("/windows-1252"), fetcher).articles
    body = " ".join(article.paragraphs)
    assert "\u201cThe crews were exhausted" in body and "Léna Åho" in body


def test_a_batch_goes_on_after_bad_sources(site: FixtureServer, fetcher: Fetcher) -> None:
    sources = [site.url("/status/500"), site.url(TRAM), "ftp://127.0.0.1/x", site.url(FERRY)]
    results = [read_source(source, fetcher) for source in sources]
    assert [len(r.articles) for r in results] == [0, 1, 0, 1]
    assert [len(r.problems) for r in results] == [1, 0, 1, 0]
    assert str(results[2].problems[0]) == "ftp://127.0.0.1/x: not an http(s) URL or a local path"


# --- local files --------------------------------------------------------------------------


def test_seed_directory(fetcher: Fetcher) -> None:
    result = read_source(str(SEEDS), fetcher)
    assert result.problems == []
    assert [a.url for a in result.articles] == [SEED_URL]


def _record(url: str, title: str = "Leaders to Meet in Geneva") -> str:
    text = "The leaders of Northland and Southland will hold their summit in Geneva.\n\nMore."
    return json.dumps({"url": url, "title": title, "published": "2024-05-02", "text": text})


def test_jsonl_keeps_good_lines_and_reports_bad_ones(tmp_path: Path, fetcher: Fetcher) -> None:
    dump = tmp_path / "dump.jsonl"
    lines = [
        _record("https://example-news.com/a?utm_source=twitter#top"),
        "{not json",
        json.dumps({"url": "https://example-news.com/b", "published": "2024-05-02", "text": "x"}),
        _record("https://example-news.com/c", "Another Story"),
    ]
    dump.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read_source(str(dump), fetcher)
    assert [a.url for a in result.articles] == [
        "https://example-news.com/a",
        "https://example-news.com/c",
    ]
    assert _lines(result) == [
        f"{dump}:2: bad JSON (Expecting property name enclosed in double quotes at column 2)",
        f"{dump}:3: missing 'title' for https://example-news.com/b",
    ]


def _html_file(path: Path, base: str | None) -> Path:
    page = (SITE / "news/2024/05/20/ferry-strike-ends.html").read_text(encoding="utf-8")
    if base is None:
        page = page.replace('"mainEntityOfPage"', '"unused"')
    else:
        page = page.replace("<title>", f'<link rel="canonical" href="{base}/ferry"><title>')
    path.write_text(page, encoding="utf-8")
    return path


def test_html_file(tmp_path: Path, fetcher: Fetcher) -> None:
    page = _html_file(tmp_path / "ferry.html", "https://harbourherald.example")
    [article] = read_source(str(page), fetcher).articles
    assert article.url == "https://harbourherald.example/ferry"
    assert (article.title, article.published) == (
        "Ferry Strike Ends as Crews Accept New Rota",
        date(2024, 5, 20),
    )


def test_html_file_without_a_url(tmp_path: Path, fetcher: Fetcher) -> None:
    page = _html_file(tmp_path / "saved.htm", None)
    assert _lines(read_source(str(page), fetcher)) == [
        f"{page}: no URL in the HTML file (add <link rel=canonical>)"
    ]


def test_directory_with_good_and_bad_files(tmp_path: Path, fetcher: Fetcher) -> None:
    folder = tmp_path / "inbox"
    (folder / "pages").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    seed = next(SEEDS.glob("*.txt"))
    (folder / "a-seed.txt").write_bytes(seed.read_bytes())
    (folder / "b-no-date.txt").write_text("A Title\n\nNot a date\n\nBody.\n", encoding="utf-8")
    (folder / "c-latin1.txt").write_bytes("Caf\xe9 Story\n\nMay 2, 2024\n".encode("latin-1"))
    (folder / "d.jsonl").write_text(_record("https://example-news.com/a") + "\n", encoding="utf-8")
    (folder / "e-again.jsonl").write_text(
        _record("https://example-news.com/a?utm_medium=x", "Same URL") + "\n", encoding="utf-8"
    )
    _html_file(folder / "pages" / "ferry.html", "https://harbourherald.example")
    _html_file(folder / "pages" / "no-url.html", None)
    _html_file(folder / ".hidden" / "ignored.html", "https://harbourherald.example/hidden")
    (folder / "notes.csv").write_text("not,an,article\n", encoding="utf-8")

    result = read_source(str(folder), fetcher)
    assert [a.url for a in result.articles] == [
        SEED_URL,
        "https://example-news.com/a",
        "https://harbourherald.example/ferry",
    ]
    assert _lines(result) == [
        f"{folder}/b-no-date.txt:3: unparseable publication date: not a date: 'Not a date' "
        "(expected e.g. 'June 17, 2024' or 2024-06-17)",
        f"{folder}/c-latin1.txt: not UTF-8 text (invalid continuation byte at byte 3)",
        f"{folder}/e-again.jsonl:1: duplicate article URL https://example-news.com/a "
        f"(first seen in {folder}/d.jsonl:1)",
        f"{folder}/pages/no-url.html: no URL in the HTML file (add <link rel=canonical>)",
    ]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p / "missing.txt", "no such file or directory"),
        (lambda p: p, "no article files (.txt, .md, .jsonl, .html) in the directory"),
    ],
)
def test_bad_paths(tmp_path: Path, fetcher: Fetcher, make, reason: str) -> None:  # type: ignore[no-untyped-def]
    path = str(make(tmp_path))
    assert read_source(path, fetcher).problems == [SourceProblem(path, reason)]


# --- bad records: one problem each, the rest land ------------------------------------------


def _record_with(**fields: object) -> str:
    record: dict[str, object] = json.loads(_record("https://example-news.com/x"))
    record.update(fields)
    return json.dumps(record)


def test_jsonl_bad_records_cost_their_own_line_only(tmp_path: Path, fetcher: Fetcher) -> None:
    dump = tmp_path / "dump.jsonl"
    tomorrow_plus_one = (date.today() + timedelta(days=2)).isoformat()
    lines = [
        _record("https://example-news.com/a").encode(),
        _record_with(url="https://example-news.com/s", text="Lone \ud800 surrogate.").encode(),
        _record("https://example-news.com/latin")
        .replace("Geneva", "Gen\\u00e8ve")
        .encode()
        .replace(b"summit", b"sommet \xe9"),  # one byte that is not UTF-8
        _record_with(url="http://").encode(),
        _record_with(url="https://example-news.com/y", published="9999-01-01").encode(),
        _record_with(url="https://example-news.com/h", published="2024-05-02T25:00:00").encode(),
        _record_with(url="https://example-news.com/f", published=tomorrow_plus_one).encode(),
        _record_with(url="https://example-news.com/u2028", title="Line\u2028separator").encode(),
        _record("https://example-news.com/c", "Another Story").encode(),
    ]
    dump.write_bytes(b"\n".join(lines) + b"\n")
    result = read_source(str(dump), fetcher)
    assert [a.url for a in result.articles] == [
        "https://example-news.com/a",
        "https://example-news.com/u2028",
        "https://example-news.com/c",
    ]
    today = date.today().isoformat()
    column = lines[2].index(b"\xe9") + 1
    assert _lines(result) == [
        f"{dump}:2: invalid text in 'text' (a lone surrogate U+D800)",
        f"{dump}:3: not UTF-8 text (invalid continuation byte at column {column})",
        f"{dump}:4: missing or invalid 'url' (an http(s) URL with a host is required)",
        f"{dump}:5: 'published' 9999-01-01 is more than a day in the future (today is {today}) "
        "for https://example-news.com/y",
        f"{dump}:6: unparseable 'published' for https://example-news.com/h: not a valid date: "
        "'2024-05-02T25:00:00' (no time of day 25:00:00)",
        f"{dump}:7: 'published' {tomorrow_plus_one} is more than a day in the future "
        f"(today is {today}) for https://example-news.com/f",
    ]


def test_a_date_a_day_ahead_is_kept(tmp_path: Path, fetcher: Fetcher) -> None:
    """Time zones put some publication dates a day ahead of the clock: still accepted."""
    dump = tmp_path / "dump.jsonl"
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    dump.write_text(_record_with(published=tomorrow) + "\n", encoding="utf-8")
    result = read_source(str(dump), fetcher)
    assert result.problems == [] and len(result.articles) == 1


def test_a_seed_file_dated_in_the_future_is_refused(tmp_path: Path, fetcher: Fetcher) -> None:
    seed = tmp_path / "future.txt"
    seed.write_text(
        "A Title\n\nJanuary 1, 9999\n\nThe body of the story, in one paragraph.\n\n"
        "Original url: https://example-news.com/future\n",
        encoding="utf-8",
    )
    [problem] = read_source(str(seed), fetcher).problems
    assert problem.source == f"{seed}:3"
    assert problem.reason.startswith("publication date 9999-01-01 is more than a day in the future")


def test_a_page_dated_in_the_future_is_refused(
    site: FixtureServer, fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = site.page(FERRY).replace(b"2024-05-20", b"9999-05-20")
    reply = Reply(200, {"Content-Type": "text/html"}, page)
    monkeypatch.setitem(site.routes, "/future.html", lambda s: reply)
    [problem] = read_source(site.url("/future.html"), fetcher).problems
    assert problem.reason.startswith("publication date 9999-05-20 is more than a day in the future")
