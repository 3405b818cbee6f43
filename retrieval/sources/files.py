"""Reading articles from seed text files and JSONL dumps, repairing what real files contain."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from retrieval.articles import Article
from retrieval.dates import check_not_future, parse_date
from retrieval.errors import ArticleFormatError, InvalidDateError
from retrieval.sources.outlets import outlet_from_url
from retrieval.urls import is_web_url

TEXT_SUFFIXES = {".txt", ".text", ".md"}
_URL_LINE = re.compile(r"^(?:original\s+)?(?:url|source|link)\s*:\s*(?P<url>\S*)\s*$", re.I)
_BYLINE = re.compile(r"^by\s+(?P<author>.+)$", re.I)
_NOT_BODY = re.compile(
    r"^(related(?: article| story| content)?|read (?:also|more)|see also|more on this|"
    r"also read|recommended|advertisement)\b\s*:?",
    re.I,
)
_PHOTO_CREDIT = re.compile(
    r"^(?:photo|image|picture|credit|source|video)s?\s*(?:credit)?\s*:|"
    r"(?:getty images|shutterstock|/ ?afp|/ ?reuters|/ ?ap|via reuters|via ap|\(ap photo.*\))$|"
    r"^©|^\(?(?:[\w-]+\.)+[a-z]{2,}\)?$",
    re.I,
)
_SENTENCE_END = re.compile(r"[.!?:;\"'”’)…]$")
_WHITESPACE = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_SURROGATE = re.compile("[\ud800-\udfff]")
RECORD_FIELDS = ("url", "title", "published", "source", "author", "text")


def load_articles(paths: Iterable[Path]) -> list[Article]:
    """Load every article under ``paths`` (files, directories, .jsonl); URLs must be unique."""
    articles: list[Article] = []
    seen: dict[str, str] = {}
    for path, line, article in _iter_articles(paths):
        where = f"{path}:{line}" if line else str(path)
        if article.url in seen:
            raise ArticleFormatError(
                where, f"duplicate article URL {article.url} (first seen in {seen[article.url]})"
            )
        seen[article.url] = where
        articles.append(article)
    return articles


def article_files(paths: Iterable[Path]) -> list[Path]:
    """The article files named by ``paths``, directories expanded recursively, sorted."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and (p.suffix in TEXT_SUFFIXES or p.suffix == ".jsonl")
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                    and p.name.lower() not in {"readme.md", "license.md"}
                )
            )
        elif path.is_file():
            files.append(path)
        else:
            raise ArticleFormatError(str(path), "no such file or directory")
    return files


def _iter_articles(paths: Iterable[Path]) -> Iterator[tuple[Path, int, Article]]:
    for file in article_files(paths):
        if file.suffix == ".jsonl":
            for line, article in read_jsonl(file):
                yield file, line, article
        else:
            yield file, 0, read_text_article(file)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleFormatError(
            str(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise ArticleFormatError(str(path), f"cannot read ({exc.strerror})") from None


def read_text_article(path: Path) -> Article:
    """Parse one article in the seed text format (title, byline, date, body, 'Original url:')."""
    blocks = _blocks(_read_text(path))
    if not blocks:
        raise ArticleFormatError(f"{path}:1", "empty article file")
    (title_line, title), rest = blocks[0], blocks[1:]
    author = None
    if rest and (match := _BYLINE.match(rest[0][1])):
        author = match["author"].strip()
        rest = rest[1:]
    if not rest:
        raise ArticleFormatError(f"{path}:{title_line}", "no publication date after the title")
    date_line, date_text = rest[0]
    try:
        published = parse_date(date_text)
    except InvalidDateError as exc:
        raise ArticleFormatError(
            f"{path}:{date_line}", f"unparseable publication date: {exc}"
        ) from None
    try:
        check_not_future(published)
    except InvalidDateError as exc:
        raise ArticleFormatError(f"{path}:{date_line}", f"publication date {exc}") from None
    body: list[str] = []
    url = ""
    blocks_left = iter(rest[1:])
    for _line, block in blocks_left:
        if match := _URL_LINE.match(block):
            url = match["url"] or next(blocks_left, (0, ""))[1].strip()
            break
        body.append(block)
    if not is_web_url(url):
        raise ArticleFormatError(str(path), "no 'Original url:' line with an http(s) URL")
    paragraphs = repair_paragraphs(body)
    if not paragraphs:
        raise ArticleFormatError(f"{path}:{date_line}", "empty body (no paragraphs after the date)")
    return Article(
        url=url,
        title=title,
        source=outlet_from_url(url),
        published=published,
        paragraphs=tuple(paragraphs),
        author=author,
    )


def _blocks(text: str) -> list[tuple[int, str]]:
    """Non-empty lines with their line numbers, white space normalised.

    Each non-empty line is its own block: seed files separate paragraphs by blank lines
    and do not wrap lines inside a paragraph.
    """
    blocks = []
    for number, line in enumerate(text.splitlines(), start=1):
        cleaned = _WHITESPACE.sub(" ", line).strip()
        if cleaned:
            blocks.append((number, cleaned))
    return blocks


def repair_paragraphs(blocks: Iterable[str]) -> list[str]:
    """Drop non-body lines (related links, photo credits) and rejoin broken paragraphs."""
    kept = [b for b in (_WHITESPACE.sub(" ", b).strip() for b in blocks) if b]
    kept = [b for b in kept if not _NOT_BODY.match(b) and not _is_credit(b)]
    paragraphs: list[str] = []
    for block in kept:
        if paragraphs and _is_broken(paragraphs[-1], block):
            paragraphs[-1] = f"{paragraphs[-1]} {block}"
        else:
            paragraphs.append(block)
    return paragraphs


def _is_credit(block: str) -> bool:
    """A photo or image credit line: short, and shaped like one ('kremlin.ru', 'Photo: …')."""
    return len(block) <= 120 and bool(_PHOTO_CREDIT.search(block))


def _is_broken(previous: str, following: str) -> bool:
    """Whether ``previous`` stops mid-sentence and ``following`` continues it."""
    if _SENTENCE_END.search(previous):
        return False
    last_word = previous.rsplit(None, 1)[-1]
    # A heading ends on a capitalised word; a sentence cut mid-way ends on a lower-case
    # word or a comma, or is continued by a lower-case word.
    return last_word[:1].islower() or previous.endswith(",") or following[:1].islower()


def read_jsonl(path: Path) -> Iterator[tuple[int, Article]]:
    """Parse a JSONL dump, one article object per line; the first bad line raises."""
    for number, found in jsonl_records(path):
        if isinstance(found, ArticleFormatError):
            raise found
        yield number, found


def jsonl_records(path: Path) -> Iterator[tuple[int, Article | ArticleFormatError]]:
    """Each non-blank line of a JSONL dump with its article, or the error that line gave.

    Lines are decoded one by one, so a bad byte costs its own line only; they are split at
    line feeds alone, since a JSON string may hold U+2028 and other line separators.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ArticleFormatError(str(path), f"cannot read ({exc.strerror})") from None
    for number, raw in enumerate(data.removeprefix(b"\xef\xbb\xbf").split(b"\n"), start=1):
        if not raw.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(raw.decode("utf-8"))
            yield number, article_from_record(record, where)
        except UnicodeDecodeError as exc:
            reason = f"not UTF-8 text ({exc.reason} at column {exc.start + 1})"
            yield number, ArticleFormatError(where, reason)
        except json.JSONDecodeError as exc:
            reason = f"bad JSON ({exc.msg} at column {exc.colno})"
            yield number, ArticleFormatError(where, reason)
        except ArticleFormatError as exc:
            yield number, exc


def article_from_record(record: object, where: str) -> Article:
    """Build an article from a JSON object with url, title, published, source, author, text."""
    if not isinstance(record, dict):
        raise ArticleFormatError(where, f"expected a JSON object, got {type(record).__name__}")
    for key in RECORD_FIELDS:
        if isinstance(record.get(key), str) and (bad := _SURROGATE.search(record[key])):
            code = f"U+{ord(bad[0]):04X}"
            raise ArticleFormatError(where, f"invalid text in '{key}' (a lone surrogate {code})")
    url = record.get("url")
    if not isinstance(url, str) or not is_web_url(url):
        raise ArticleFormatError(
            where, "missing or invalid 'url' (an http(s) URL with a host is required)"
        )
    title = record.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ArticleFormatError(where, f"missing 'title' for {url}")
    published_text = record.get("published")
    if not isinstance(published_text, str):
        raise ArticleFormatError(where, f"missing 'published' date for {url}")
    try:
        published = parse_date(published_text)
    except InvalidDateError as exc:
        raise ArticleFormatError(where, f"unparseable 'published' for {url}: {exc}") from None
    try:
        check_not_future(published)
    except InvalidDateError as exc:
        raise ArticleFormatError(where, f"'published' {exc} for {url}") from None
    text = record.get("text")
    if not isinstance(text, str):
        raise ArticleFormatError(where, f"missing 'text' for {url}")
    paragraphs = repair_paragraphs(re.split(r"\n\s*\n", text))
    if not paragraphs:
        raise ArticleFormatError(where, f"empty 'text' for {url}")
    for key in ("source", "author"):
        if record.get(key) is not None and not isinstance(record[key], str):
            raise ArticleFormatError(where, f"'{key}' must be a string for {url}")
    return Article(
        url=url,
        title=_WHITESPACE.sub(" ", title).strip(),
        source=(record.get("source") or "").strip() or outlet_from_url(url),
        published=published,
        paragraphs=tuple(paragraphs),
        author=(record.get("author") or "").strip() or None,
    )
