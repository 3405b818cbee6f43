"""Rendering answers for the terminal: plain text for people, JSON for scripts."""

from __future__ import annotations

import json
from typing import Any

from retrieval.answer import Answer, Citation
from retrieval.articles import ArticleSummary
from retrieval.dates import format_date


def byline(item: Citation | ArticleSummary) -> str:
    """'Title — Outlet (Author), June 17, 2024'."""
    outlet = item.source
    if item.author and item.author.lower() != item.source.lower():
        outlet = f"{outlet} ({item.author})"
    return f"{item.title} — {outlet}, {format_date(item.published)}"


BOLD, PLAIN = "\033[1m", "\033[0m"


def closest_report_line(answer: Answer) -> str:
    """'The closest report, from June 17, 2024, is about “…”.' for a declined answer whose
    best passage is related but does not answer; empty otherwise."""
    report = answer.closest_report
    if answer.answered or report is None:
        return ""
    return f"The closest report, from {format_date(report.published)}, is about “{report.title}”."


def render_text(answer: Answer, *, verbose: bool = False, bold: bool = False) -> str:
    """The answer as a person reads it in a terminal: the short answer first (in bold on a
    terminal that shows it), then the cited sentences."""
    lines = []
    if answer.answered and answer.short_answer:
        lines.append(f"{BOLD}{answer.short_answer}{PLAIN}" if bold else answer.short_answer)
    lines.append(answer.text)
    if line := closest_report_line(answer):
        lines.append(line)
    if answer.age_note:
        lines.append(answer.age_note)
    if answer.citations:
        lines.append("")
        for citation in answer.citations:
            lines.append(f"[{citation.n}] {byline(citation)}")
            lines.append(f"    {citation.url}")
            for copy in citation.also_reported_by:
                lines.append(f"    also reported by {copy.source}: {copy.url}")
    if not answer.answered and answer.closest:
        lines.append("Closest headlines:")
        for article in answer.closest:
            lines.append(f"  - {byline(article)}")
            lines.append(f"    {article.url}")
    if verbose:
        lines.append("")
        lines.append(render_trace(answer))
    return "\n".join(lines)


def render_trace(answer: Answer) -> str:
    """The retrieved passages with their scores, for `console -v`."""
    lines = [f"retrieval trace (as of {answer.as_of_query.isoformat()}):"]
    for result in answer.results:
        text = result.text if len(result.text) <= 160 else result.text[:157] + "..."
        lines.append(
            f"  {result.rank}. {result.score:.3f}  {result.title} ({result.published}): {text}"
        )
    if answer.signals:
        lines.append(
            f"  confidence {answer.confidence:.3f}"
            + (f", declined: {answer.decline_reason}" if answer.decline_reason else "")
        )
        lines.append("  signals: " + ", ".join(f"{k} {v:.3f}" for k, v in answer.signals.items()))
    timings = ", ".join(f"{k} {v:.0f}" for k, v in answer.timings.items())
    if timings:
        lines.append(f"  timings (ms): {timings}")
    return "\n".join(lines)


def answer_record(answer: Answer) -> dict[str, Any]:
    """The JSON object `newsbot ask --json` prints for one answer."""
    return {
        "question": answer.question,
        "answered": answer.answered,
        "answer": answer.text,
        "as_of": answer.as_of.isoformat() if answer.as_of else None,
        "as_of_query": answer.as_of_query.isoformat(),
        "age_note": answer.age_note,
        "answer_mode": answer.answer_mode,
        "dropped_sentences": answer.dropped_sentences,
        "llm_ms": answer.llm_ms,
        "confidence": answer.confidence,
        **(
            {"short_answer": answer.short_answer} if answer.answered and answer.short_answer else {}
        ),
        **({"decline_reason": answer.decline_reason} if not answer.answered else {}),
        **({"missing_terms": list(answer.missing_terms)} if answer.missing_terms else {}),
        **(
            {"closest_report": _reference(answer.closest_report)}
            if not answer.answered and answer.closest_report
            else {}
        ),
        "citations": [
            {
                "n": c.n,
                "url": c.url,
                "title": c.title,
                "source": c.source,
                "author": c.author,
                "published": c.published.isoformat(),
                "quote": c.quote,
                "also_reported_by": [_reference(a) for a in c.also_reported_by],
            }
            for c in answer.citations
        ],
        "results": [
            {
                "rank": r.rank,
                "url": r.url,
                "title": r.title,
                "published": r.published.isoformat(),
                "score": r.score,
                "text": r.text,
                "also_reported_by": [_reference(a) for a in r.also_reported_by],
            }
            for r in answer.results
        ],
        "closest": [
            {
                "url": a.url,
                "title": a.title,
                "source": a.source,
                "published": a.published.isoformat(),
            }
            for a in answer.closest
        ],
    }


def _reference(article: ArticleSummary) -> dict[str, str]:
    return {"url": article.url, "title": article.title, "source": article.source,
            "published": article.published.isoformat()}  # fmt: skip


def answer_json(answer: Answer) -> str:
    """One line of JSON for an answer."""
    return json.dumps(answer_record(answer), ensure_ascii=False)


def render_sources(articles: list[ArticleSummary]) -> str:
    """The list of indexed articles, newest first."""
    if not articles:
        return "No articles are indexed."
    lines = [f"{len(articles)} indexed article(s), newest first:"]
    for article in articles:
        lines.append(f"  - {byline(article)}")
        lines.append(f"    {article.url}")
    return "\n".join(lines)
