"""Rendering answers and article lists as Telegram HTML, split into sendable parts."""

from __future__ import annotations

import datetime
import html
import re
from collections.abc import Sequence

from bot.formatting import closest_report_line
from bot.telegram.splitting import (
    MAX_MESSAGE_LENGTH,
    Paragraph,
    escape_html,
    pack,
    text_atoms,
)
from retrieval.answer import Answer, Citation
from retrieval.articles import ArticleSummary

MAX_TITLE_LENGTH = 200
SOURCES_PER_PAGE = 10


def short_date(day: datetime.date) -> str:
    """A date as readers expect it in a citation: 17 Jun 2024."""
    return f"{day.day} {day:%b %Y}"


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def link(url: str, label: str) -> str:
    """An <a href> link, or just the escaped label when the address is not http(s)."""
    if not re.match(r"https?://", url, re.IGNORECASE):
        return escape_html(label)
    return f'<a href="{html.escape(url, quote=True)}">{escape_html(label)}</a>'


def headline(item: ArticleSummary | Citation) -> str:
    """One article as a citation line: linked title, outlet, date."""
    title = _shorten(item.title, MAX_TITLE_LENGTH) or item.url
    return f"{link(item.url, title)} — {escape_html(item.source)}, {short_date(item.published)}"


def _also(citation: Citation) -> str:
    """ "; also reported by <linked outlets>" for a story that other outlets carried too."""
    if not citation.also_reported_by:
        return ""
    outlets = ", ".join(link(a.url, a.source) for a in citation.also_reported_by)
    return f"; also reported by {outlets}"


def _text_paragraphs(text: str) -> list[Paragraph]:
    return [text_atoms(block) for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]


def render_answer(answer: Answer, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """An answer as HTML messages: the text, then numbered sources or the closest headlines."""
    paragraphs = _text_paragraphs(answer.text)
    if answer.answered and answer.short_answer:
        paragraphs.insert(0, (f"<b>{escape_html(answer.short_answer)}</b>",))
    if closest := closest_report_line(answer):
        paragraphs.append((escape_html(closest),))
    if answer.answered and answer.age_note:
        paragraphs.append((f"<i>{escape_html(answer.age_note)}</i>",))
    if answer.answered and answer.citations:
        lines = tuple(f"\n[{c.n}] {headline(c)}{_also(c)}" for c in answer.citations)
        paragraphs.append(("<b>Sources</b>", *lines))
    elif not answer.answered and answer.closest:
        lines = tuple(f"\n• {headline(article)}" for article in answer.closest)
        paragraphs.append(("<b>Closest headlines</b>", *lines))
    return pack(paragraphs, limit)


def render_source_pages(
    articles: Sequence[ArticleSummary],
    per_page: int = SOURCES_PER_PAGE,
    limit: int = MAX_MESSAGE_LENGTH - 100,
) -> list[str]:
    """The indexed articles as numbered pages of at most `per_page` lines, newest first."""
    if not articles:
        return ["No articles are indexed yet."]
    pages: list[str] = []
    total = len(articles)
    for start in range(0, total, per_page):
        chunk = articles[start : start + per_page]
        lines = tuple(f"\n{start + i + 1}. {headline(a)}" for i, a in enumerate(chunk))
        title = f"<b>Indexed articles</b> ({total}, newest first)"
        # A page of very long addresses may still overflow; it then becomes several pages.
        pages.extend(pack([(title, *lines)], limit))
    return pages
