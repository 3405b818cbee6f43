"""Articles from web pages: decoding, main text and metadata via trafilatura."""

from __future__ import annotations

import codecs
import itertools
import logging
import re
from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import trafilatura
from trafilatura.settings import Document

from retrieval.articles import Article
from retrieval.dates import check_not_future, parse_date
from retrieval.errors import InvalidDateError, SourceError
from retrieval.sources.files import repair_paragraphs
from retrieval.sources.outlets import outlet_from_url, site_of
from retrieval.urls import canonical_url, redacted

if TYPE_CHECKING:
    from lxml.html import HtmlElement  # trafilatura's parse trees

logger = logging.getLogger("newsbot.extract")

MIN_TEXT_CHARS = 200
# Above this share of undecodable bytes the page is not text in its declared charset.
MAX_UNDECODABLE = 0.01
NOT_AN_ARTICLE = "no article text found (not an article page?)"
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
# What browsers do: pages labelled Latin-1 or ASCII are decoded as windows-1252.
_CHARSET_ALIASES = {"iso8859-1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252"}
_PROSE_END = re.compile(r"[.!?\"'”’»)…。]$")
_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)+(?::\d+)?", re.I)
_DATE_KEYS = {
    "article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate",
    "date", "dc.date", "dc.date.issued", "dcterms.created", "sailthru.date", "parsely-pub-date",
}  # fmt: skip
_JSON_LD_DATE = re.compile(r'"datePublished"\s*:\s*"([^"]*)"')


def article_from_html(
    html: bytes | str,
    url: str,
    *,
    charset: str | None = None,
    fallback_date: date | None = None,
    fallback_title: str | None = None,
    max_paragraphs: int | None = None,
) -> Article:
    """Extract the article in a web page; raise SourceError naming ``url`` when there is none.

    The page's own date and title win over the fallbacks (a feed item's). The article URL
    is the page's declared canonical URL when that is on the same site, else ``url``.
    ``<p>`` elements after the first ``max_paragraphs`` are dropped before extraction.
    """
    text = html if isinstance(html, str) else decode_html(html, charset, url)
    if not text.strip():
        raise SourceError(url, "empty page")
    tree = trafilatura.load_html(text)
    if tree is None:
        raise SourceError(url, "not an HTML page")
    if max_paragraphs is not None:
        _drop_paragraphs_after(tree, max_paragraphs)
    document = _extract(tree, url)
    if document is None or not document.text:
        raise SourceError(url, NOT_AN_ARTICLE)
    title = _clean(document.title) or _clean(fallback_title)
    lines = document.text.splitlines()
    # trafilatura keeps the headline when it sits inside the article element.
    while lines and title and lines[0].strip().casefold() == title.casefold():
        lines.pop(0)
    paragraphs = repair_paragraphs(lines)
    if sum(len(p) for p in paragraphs if _is_prose(p)) < MIN_TEXT_CHARS:
        raise SourceError(url, NOT_AN_ARTICLE)
    if not title:
        raise SourceError(url, "no title found")
    article_url = _article_url(tree, url)
    return Article(
        url=article_url,
        title=title,
        source=_outlet(document.sitename, article_url),
        published=_published(document.date, tree, url, fallback_date),
        paragraphs=tuple(paragraphs),
        author=_clean(document.author),
    )


def _drop_paragraphs_after(tree: HtmlElement, most: int) -> None:
    """Drop the ``<p>`` elements after the first ``most``, before trafilatura reads them.

    Extraction time grows faster than the page: a page of 60,000 paragraphs took 93 s
    here, so what the paragraph limit would cut anyway is removed while it is cheap to.
    """
    for extra in list(itertools.islice(tree.iter("p"), most, None)):
        parent = extra.getparent()
        if parent is not None:
            parent.remove(extra)


def _extract(tree: HtmlElement, url: str) -> Document | None:
    """trafilatura's main text and metadata, or None when it finds no main text."""
    try:
        document = trafilatura.bare_extraction(
            tree,
            url=redacted(url),  # trafilatura logs the URL it is given
            with_metadata=True,
            include_comments=False,
            # Table cells come out as one line each, which reads as noise in a passage.
            include_tables=False,
            # Extensive search guesses dates from copyright lines and the like: too loose.
            date_extraction_params={
                "original_date": True,
                "extensive_search": False,
                "max_date": date.today().isoformat(),
            },
        )
    except Exception as exc:
        # Any page on the web can trip a parser: it costs that article, not the batch.
        logger.warning("%s: extraction failed", redacted(url), exc_info=True)
        raise SourceError(redacted(url), f"extraction failed ({type(exc).__name__})") from None
    return document if isinstance(document, Document) else None


def decode_html(data: bytes, charset: str | None, source: str) -> str:
    """Decode a page by its BOM, the HTTP charset, its ``<meta charset>``, else as UTF-8.

    Bytes that are invalid in that charset become U+FFFD, as in a browser; when more than
    1% of the bytes are undecodable the page is refused with a SourceError.
    """
    if data.startswith(codecs.BOM_UTF8):
        encoding, data = "utf-8", data[len(codecs.BOM_UTF8) :]
    else:
        meta = _META_CHARSET.search(data[:4096])
        encoding = _codec(charset) or _codec(meta[1].decode("ascii") if meta else None) or "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        pass
    escaped = data.decode(encoding, errors="surrogateescape")  # one surrogate per bad byte
    bad = sum(1 for char in escaped if "\udc80" <= char <= "\udcff")
    if bad > MAX_UNDECODABLE * len(data):
        raise SourceError(source, f"not valid {encoding} text ({bad} undecodable bytes)")
    logger.warning("%s: %d bytes that are not %s replaced", source, bad, encoding)
    return data.decode(encoding, errors="replace")


def page_url(html: str, base: str = "") -> str | None:
    """The URL a page declares for itself (``<link rel=canonical>``, ``og:url``), if any."""
    tree = trafilatura.load_html(html)
    return None if tree is None else _declared_url(tree, base)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip()).name
    except LookupError:
        return None
    return _CHARSET_ALIASES.get(codec, codec)


def _declared_url(tree: HtmlElement, base: str) -> str | None:
    candidates = [
        link.get("href", "")
        for link in tree.iter("link")
        if "canonical" in (link.get("rel") or "").lower().split()
    ]
    candidates += [
        meta.get("content", "") for meta in tree.iter("meta") if meta.get("property") == "og:url"
    ]
    for candidate in candidates:
        try:
            url = canonical_url(urljoin(base, candidate.strip()))
        except ValueError:  # a broken URL in the markup is no URL
            continue
        if url.startswith(("http://", "https://")):
            return url
    return None


def _article_url(tree: HtmlElement, url: str) -> str:
    """The declared URL when it is a page of the same site (sites misdeclare the home page)."""
    declared = _declared_url(tree, url)
    if declared and site_of(declared) == site_of(url) and urlsplit(declared).path.strip("/"):
        return declared
    return canonical_url(url)


def _published(found: str | None, tree: HtmlElement, url: str, fallback: date | None) -> date:
    day = _stated_date(found, tree, url, fallback)
    try:
        check_not_future(day)
    except InvalidDateError as exc:
        raise SourceError(url, f"publication date {exc}") from None
    return day


def _stated_date(found: str | None, tree: HtmlElement, url: str, fallback: date | None) -> date:
    if found:
        return date.fromisoformat(found)
    declared = _declared_date(tree)
    if declared:
        try:
            return parse_date(declared)
        except InvalidDateError:
            if fallback is None:
                raise SourceError(url, f"unparseable publication date {declared!r}") from None
    if fallback is not None:
        return fallback
    raise SourceError(url, "no publication date found")


def _declared_date(tree: HtmlElement) -> str | None:
    """The publication date a page states in its metadata, as written."""
    for meta in tree.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop") or ""
        if key.lower() in _DATE_KEYS and (meta.get("content") or "").strip():
            return meta.get("content", "").strip()
    for script in tree.iter("script"):
        if script.get("type") == "application/ld+json" and script.text:
            match = _JSON_LD_DATE.search(script.text)
            if match and match[1].strip():
                return match[1].strip()
    return None


def _outlet(sitename: str | None, url: str) -> str:
    """A known outlet keeps the name its other articles have; else the page's site name."""
    known = outlet_from_url(url)
    if known != site_of(url):
        return known
    if sitename and not _DOMAIN.fullmatch(sitename.strip()):
        return sitename.strip()
    return known


def _is_prose(paragraph: str) -> bool:
    """A sentence-like paragraph, unlike the link lists of a front page or a form's labels."""
    return len(paragraph.split()) >= 5 and bool(_PROSE_END.search(paragraph))


def _clean(value: str | None) -> str | None:
    """White space collapsed; None for nothing or only white space."""
    cleaned = " ".join((value or "").split())
    return cleaned or None
