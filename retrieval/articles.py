"""The values the core works with: articles and their passages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Article:
    """One news article as loaded from a seed file, a JSONL line or a web page."""

    url: str
    title: str
    source: str
    published: date
    paragraphs: tuple[str, ...]
    author: str | None = None


@dataclass(frozen=True)
class Passage:
    """A retrievable piece of an article: one paragraph, or part or merge of some."""

    article_url: str
    position: int
    text: str


@dataclass(frozen=True)
class ArticleSummary:
    """What a front-end shows of an indexed article (lists, headlines, /sources)."""

    url: str
    title: str
    source: str
    published: date
    author: str | None = None
    aliases: tuple[str, ...] = ()  # other URLs that carry the same story text
