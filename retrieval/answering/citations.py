"""Writing the answer: chosen sentences with dates made absolute and numbered citations."""

from __future__ import annotations

from retrieval.answer import Citation
from retrieval.answering.compose import Scored
from retrieval.answering.search import Hit
from retrieval.dates import resolve_relative_dates


def write_answer(
    chosen: list[Scored], evidence: list[Hit], differing: Scored | None = None
) -> tuple[str, tuple[Citation, ...]]:
    """Answer text with [n] markers, and the citations numbered in order of use.

    ``differing`` is an older report's sentence that disagrees with the answer; it is
    quoted after it, with its own citation.
    """
    citations: dict[str, Citation] = {}

    def cite(item: Scored) -> tuple[int, str]:
        hit = evidence[item.candidate.passage_rank]
        article = hit.passage.article
        if article.url not in citations:
            citations[article.url] = Citation(
                n=len(citations) + 1,
                url=article.url,
                title=article.title,
                source=article.source,
                published=article.published,
                quote=hit.passage.text,
                author=article.author,
                also_reported_by=hit.also,
            )
        sentence = resolve_relative_dates(item.candidate.text, article.published)
        return citations[article.url].n, sentence

    groups: list[tuple[int, list[str]]] = []
    for item in chosen:
        n, sentence = cite(item)
        if groups and groups[-1][0] == n:
            groups[-1][1].append(sentence)
        else:
            groups.append((n, [sentence]))
    parts = [f"{' '.join(sentences)} [{n}]" for n, sentences in groups]
    if differing is not None:
        n, sentence = cite(differing)
        parts.append(f'Earlier reports differ: "{sentence}" [{n}]')
    return " ".join(parts), tuple(citations.values())
