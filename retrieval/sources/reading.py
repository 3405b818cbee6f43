"""Reading the sources given to ``newsbot add``: files, directories, pages and feeds."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from retrieval.articles import Article
from retrieval.errors import ArticleFormatError, SourceError
from retrieval.sources.feeds import looks_like_feed, parse_feed
from retrieval.sources.fetch import Fetched, Fetcher
from retrieval.sources.files import article_files, jsonl_records, read_text_article
from retrieval.sources.limits import DEFAULT_LIMITS, SourceLimits, cut_article
from retrieval.sources.pages import article_from_html, decode_html, page_url
from retrieval.urls import canonical_url, redacted

logger = logging.getLogger("newsbot.sources")

HTML_SUFFIXES = {".html", ".htm"}
HTML_TYPES = {"text/html", "application/xhtml+xml"}
# Servers that do not know what they send: look at the bytes instead.
UNKNOWN_TYPES = {"", "application/octet-stream", "text/plain", "binary/octet-stream"}
_HTML_START = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)


@dataclass(frozen=True)
class SourceProblem:
    """Why one source, file, line or feed item gave no article."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


@dataclass(frozen=True)
class SourceResult:
    """The articles read from one source, the problems met, feed items skipped and left."""

    source: str
    articles: list[Article]
    problems: list[SourceProblem]
    skipped: list[str] = field(default_factory=list)
    left: int = 0  # feed items not looked at this time: over the limit of items per feed


# Called as each feed item is fetched: (item number, items in the feed, item URL).
ItemCallback = Callable[[int, int, str], None]


def read_source(
    source: str,
    fetcher: Fetcher,
    skip: Callable[[str], bool] | None = None,
    limits: SourceLimits = DEFAULT_LIMITS,
    on_item: ItemCallback | None = None,
) -> SourceResult:
    """Read a local path or an http(s) URL (article page or feed) into articles.

    Failures become problems, one per source, file line or feed item; nothing is raised
    for bad input. ``skip(url)`` is asked about each feed item's canonical URL, and an item
    it claims is neither fetched nor returned; ``on_item`` hears of each item fetched. Article
    URLs come back canonical; the source comes back redacted (no credentials or secret query
    values), fit to show.
    """
    shown = redacted(source)
    if source.lower().startswith(("http://", "https://")):
        return _read_url(source, shown, fetcher, skip or (lambda _url: False), limits, on_item)
    if "://" in source:
        return _failed(shown, "not an http(s) URL or a local path")
    return _read_path(Path(source), source, limits)


def _failed(source: str, reason: str) -> SourceResult:
    return SourceResult(source, [], [SourceProblem(source, reason)])


# --- URLs ---------------------------------------------------------------------------------


def _read_url(
    source: str,
    shown: str,
    fetcher: Fetcher,
    skip: Callable[[str], bool],
    limits: SourceLimits,
    on_item: ItemCallback | None,
) -> SourceResult:
    try:
        fetched = fetcher.get(source.strip())
    except SourceError as exc:
        return _failed(shown, exc.reason)
    if looks_like_feed(fetched.content_type, fetched.body):
        return _read_feed(shown, fetched, fetcher, skip, limits, on_item)
    try:
        return SourceResult(shown, [_page_article(fetched, limits)], [])
    except SourceError as exc:
        return _failed(shown, exc.reason)


def _read_feed(
    source: str,
    fetched: Fetched,
    fetcher: Fetcher,
    skip: Callable[[str], bool],
    limits: SourceLimits,
    on_item: ItemCallback | None,
) -> SourceResult:
    try:
        feed = parse_feed(fetched.body, fetched.url)
    except SourceError as exc:
        return _failed(source, exc.reason)
    problems = [SourceProblem(source, problem) for problem in feed.problems]
    articles: dict[str, Article] = {}
    skipped: list[str] = []
    taken = 0
    for number, item in enumerate(feed.items):
        if skip(item.url):
            skipped.append(item.url)
            continue
        if taken == limits.feed_items:  # the rest wait for the next poll
            left = len(feed.items) - number
            logger.info("%s: %d items left for the next poll", source, left)
            return SourceResult(source, list(articles.values()), problems, skipped, left)
        taken += 1
        if on_item is not None:
            on_item(number + 1, len(feed.items), item.url)
        try:
            page = fetcher.get(item.link or item.url)
            article = _page_article(page, limits, item.published, item.title)
        except SourceError as exc:
            problems.append(SourceProblem(item.url, exc.reason))
            continue
        # The page may redirect or declare a canonical URL that is already indexed.
        if article.url != item.url and skip(article.url):
            skipped.append(article.url)
            continue
        articles.setdefault(article.url, article)
    logger.debug("%s: %d items, %d skipped", source, len(feed.items), len(skipped))
    return SourceResult(source, list(articles.values()), problems, skipped)


def _page_article(
    fetched: Fetched,
    limits: SourceLimits,
    fallback_date: date | None = None,
    fallback_title: str | None = None,
) -> Article:
    """The article in a fetched page; SourceError if it is not a page or has no article."""
    if not fetched.body.strip():
        raise SourceError(fetched.url, "empty response")
    content_type = fetched.content_type
    if fetched.body.startswith(b"%PDF-") or content_type == "application/pdf":
        raise SourceError(fetched.url, "a PDF document, not a web page")
    if content_type.startswith(("image/", "audio/", "video/")):
        raise SourceError(fetched.url, f"{content_type} content, not a web page")
    sniffed = content_type in UNKNOWN_TYPES and _HTML_START.match(fetched.body[:1024])
    if content_type not in HTML_TYPES and not sniffed:
        raise SourceError(
            fetched.url, f"not a web page or feed ({content_type or 'no content type'})"
        )
    article = article_from_html(
        fetched.body,
        fetched.url,
        charset=fetched.charset,
        fallback_date=fallback_date,
        fallback_title=fallback_title,
        # Some <p> are boilerplate that extraction drops: keep a margin over the limit.
        max_paragraphs=2 * limits.paragraphs,
    )
    return cut_article(article, limits)


# --- local files --------------------------------------------------------------------------


def _read_path(path: Path, source: str, limits: SourceLimits) -> SourceResult:
    if path.is_dir():
        files = _directory_files(path)
        if not files:
            return _failed(source, "no article files (.txt, .md, .jsonl, .html) in the directory")
    elif path.is_file():
        files = [path]
    else:
        return _failed(source, "no such file or directory")
    articles: dict[str, Article] = {}
    where: dict[str, str] = {}
    problems: list[SourceProblem] = []
    for file in files:
        for place, found in _read_file(file, problems):
            try:
                article = replace(cut_article(found, limits), url=canonical_url(found.url))
            except ValueError:
                problems.append(SourceProblem(place, f"invalid URL {redacted(found.url)!r}"))
                continue
            if article.url in articles:
                reason = f"duplicate article URL {article.url} (first seen in {where[article.url]})"
                problems.append(SourceProblem(place, reason))
                continue
            articles[article.url], where[article.url] = article, place
    return SourceResult(source, list(articles.values()), problems)


def _directory_files(directory: Path) -> list[Path]:
    """The article files under a directory, saved web pages included, hidden ones not."""
    pages = [
        path
        for path in directory.rglob("*")
        if path.suffix.lower() in HTML_SUFFIXES
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(directory).parts)
    ]
    return sorted([*article_files([directory]), *pages])


def _read_file(file: Path, problems: list[SourceProblem]) -> list[tuple[str, Article]]:
    """The articles in one file with where each was found; failures go to ``problems``."""
    try:
        if file.suffix.lower() in HTML_SUFFIXES:
            return [(str(file), _read_html_file(file))]
        if file.suffix.lower() == ".jsonl":
            return _read_jsonl(file, problems)
        return [(str(file), read_text_article(file))]
    except SourceError as exc:
        problems.append(SourceProblem(str(file), exc.reason))
    except ArticleFormatError as exc:
        problems.append(SourceProblem(exc.where, exc.reason))
    return []


def _read_html_file(file: Path) -> Article:
    """A saved web page; its URL must be in the page, since a file path identifies nothing."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise SourceError(str(file), f"cannot read ({exc.strerror})") from None
    text = decode_html(data, None, str(file))
    url = page_url(text)
    if url is None:
        raise SourceError(str(file), "no URL in the HTML file (add <link rel=canonical>)")
    return article_from_html(text, url)


def _read_jsonl(file: Path, problems: list[SourceProblem]) -> list[tuple[str, Article]]:
    """Every good line of a JSONL dump: one bad line does not cost the others."""
    found: list[tuple[str, Article]] = []
    for number, article in jsonl_records(file):
        place = f"{file}:{number}"
        if isinstance(article, ArticleFormatError):
            problems.append(SourceProblem(article.where, article.reason))
        else:
            found.append((place, article))
    return found
