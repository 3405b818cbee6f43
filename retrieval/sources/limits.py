"""How much one source may yield: new items per feed, paragraphs and characters per article."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from retrieval.articles import Article

logger = logging.getLogger("newsbot.sources")


@dataclass(frozen=True)
class SourceLimits:
    """The most one source may yield; what is over a limit is cut, not refused."""

    feed_items: int = 100  # new items read from one feed at a time; the rest wait
    paragraphs: int = 500  # per article
    characters: int = 100_000  # per article, over all its paragraphs


DEFAULT_LIMITS = SourceLimits()


def cut_article(article: Article, limits: SourceLimits) -> Article:
    """``article`` cut after ``limits.paragraphs`` paragraphs and ``limits.characters``.

    A paragraph that crosses the character limit is cut at the last word boundary before
    it, so a page of tens of thousands of paragraphs or one endless sentence costs no more
    to index than a long article.
    """
    kept: list[str] = []
    room = limits.characters
    for paragraph in article.paragraphs[: limits.paragraphs]:
        if len(paragraph) > room:
            head = paragraph[:room]
            head = head.rsplit(None, 1)[0] if " " in head.strip() else head
            if head.strip():
                kept.append(head.strip())
            break
        kept.append(paragraph)
        room -= len(paragraph)
    if len(kept) == len(article.paragraphs) and kept[-1:] == list(article.paragraphs[-1:]):
        return article
    logger.info(
        "%s: cut to %d of %d paragraphs, %d characters",
        article.url,
        len(kept),
        len(article.paragraphs),
        sum(len(p) for p in kept),
    )
    return replace(article, paragraphs=tuple(kept))
