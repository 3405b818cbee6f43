"""RSS and Atom feeds: recognising them and listing the articles they link to."""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urljoin

import feedparser

from retrieval.errors import SourceError
from retrieval.urls import canonical_url, redacted

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml"})
# Mislabelled encodings and content types do not stop feedparser from reading a feed.
_HARMLESS = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
# The root element after any XML declaration, comments, doctype or stylesheet instruction.
_FEED_ROOT = re.compile(
    rb"^\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*<(?:[\w-]+:)?(?:rss|feed|rdf)\b",
    re.I | re.S,
)


@dataclass(frozen=True)
class FeedItem:
    """One feed entry: the article it links to, with the feed's title and date for it.

    ``url`` is the canonical URL that identifies the article; ``link`` is the absolute link
    as the feed gives it, to fetch (a signed link needs its ``sig`` or ``token``).
    """

    url: str
    title: str | None
    published: date | None
    link: str = field(default="", compare=False)


@dataclass(frozen=True)
class FeedResult:
    """The usable items of a feed, and one line per item that had to be left out."""

    items: list[FeedItem]
    problems: list[str] = field(default_factory=list)


def looks_like_feed(content_type: str, body: bytes) -> bool:
    """Whether a response is an RSS or Atom feed, by its media type or its root element."""
    if content_type.split(";")[0].strip().lower() in FEED_TYPES:
        return True
    # Feeds are often served as text/xml, application/xml or even text/html: sniff.
    return bool(_FEED_ROOT.match(body.removeprefix(b"\xef\xbb\xbf")[:2048]))


def parse_feed(body: bytes, url: str) -> FeedResult:
    """The items of the feed at ``url``; SourceError if it is malformed or has no items."""
    # A BytesIO, because feedparser treats a plain string as a URL or a file name to open.
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers={"content-location": url, "content-type": "application/xml"},
    )
    error = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if isinstance(error, _HARMLESS):
        error = None
    if not parsed.entries:
        if error is not None:
            raise SourceError(url, f"malformed feed ({_describe(error)})")
        if not parsed.get("version"):
            raise SourceError(url, "not an RSS or Atom feed")
        raise SourceError(url, "feed has no items")
    items: list[FeedItem] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, entry in enumerate(parsed.entries, start=1):
        title = " ".join(str(entry.get("title") or "").split()) or None
        label = f"item {number}" + (f" ({title!r})" if title else "")
        if not str(entry.get("link") or "").strip():
            problems.append(f"{label} has no link")
            continue
        raw = str(entry["link"]).strip()
        try:
            absolute = urljoin(url, raw)
            link = canonical_url(absolute)
        except ValueError:
            problems.append(f"{label} has an invalid link ({redacted(raw)!r})")
            continue
        if not link.startswith(("http://", "https://")):
            problems.append(f"{label} has no http(s) link ({redacted(raw)!r})")
            continue
        if link not in seen:
            seen.add(link)
            items.append(FeedItem(link, title, _entry_date(entry), link=absolute))
    if error is not None and not items:
        # The loose parser salvaged fragments, but nothing that leads to an article.
        raise SourceError(url, f"malformed feed ({_describe(error)})")
    return FeedResult(items, problems)


def _entry_date(entry: feedparser.FeedParserDict) -> date | None:
    parsed: time.struct_time | None = entry.get("published_parsed") or entry.get("updated_parsed")
    return date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday) if parsed else None


def _describe(exc: object) -> str:
    """feedparser's parse error in a few words ('mismatched tag at line 7')."""
    text = str(getattr(exc, "getMessage", lambda: exc)())
    line = getattr(exc, "getLineNumber", lambda: None)()
    text = " ".join(text.split()) or type(exc).__name__
    return f"{text} at line {line}" if line and "line" not in text else text
