"""The answerer: question in, grounded answer with numbered citations out."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from retrieval.answer import NOT_FOUND_TEXT, Answer, Question, Result
from retrieval.answering.citations import write_answer
from retrieval.answering.compose import Candidate, pick_sentences, score_sentences
from retrieval.answering.conflicts import find_conflict
from retrieval.answering.reranking import Reranker, rerank
from retrieval.answering.search import Hit, SearchPlan, collapse_per_article, retrieve, wants_recent
from retrieval.answering.signals import Evidence, compute, question_terms
from retrieval.answering.timeframe import question_window
from retrieval.answering.verifier import Verifier, load_combiner, settle
from retrieval.articles import ArticleSummary
from retrieval.chunking import embedding_text
from retrieval.dates import age_note, resolve_relative_dates
from retrieval.embedding import Embedder, word_vectors
from retrieval.sentences import content_words, keyword_terms, split_sentences
from retrieval.storage import Storage, StoreReader


@dataclass(frozen=True)
class AnswerSettings:
    """How the answerer retrieves and composes."""

    top_k: int = 5
    method: str = "hybrid"
    keyword_weight: float = 0.3
    threshold: float = 0.40
    per_article: int = 2
    evidence_passages: int = 3
    evidence_margin: float = 0.12
    sentence_margin: float = 0.08
    max_sentences: int = 2
    context_weight: float = 0.5
    recency_half_life_days: float = 30.0
    recency_weight: float = 0.05
    window_weight: float = 0.1
    age_note_days: int = 2
    rerank_top: int = 20
    # Below this confidence the answerer declines; None takes the calibrated default.
    min_confidence: float | None = None


class Answerer:
    """Answers questions from an index kept in any ``Storage``; safe to share between threads."""

    def __init__(
        self,
        storage: Storage,
        embedder: Embedder,
        settings: AnswerSettings | None = None,
        today: Callable[[], date] = date.today,
        reranker: Reranker | None = None,
    ) -> None:
        self.storage = storage
        self.embedder = embedder
        self.settings = settings or AnswerSettings()
        self._today = today
        self.reranker = reranker
        self.verifier = Verifier(load_combiner(), self.settings.min_confidence)
        self.words = word_vectors(embedder.name)  # its table loads on the first answer

    def reader(self) -> StoreReader:
        """The live index (the storage reopens it when a write has landed)."""
        return self.storage.reader()

    def list_articles(self) -> list[ArticleSummary]:
        """Every indexed article, newest first."""
        return self.reader().list_articles()

    def stats(self) -> dict[str, int]:
        """Counts of indexed articles and passages."""
        return self.reader().counts()

    def answer(
        self,
        question: str,
        *,
        top_k: int | None = None,
        as_of: date | None = None,
        context: str | None = None,
    ) -> Answer:
        """Answer ``question`` as of ``as_of`` (default today) from the indexed news.

        ``context`` (an earlier question and answer of the same conversation) is blended
        into retrieval so that follow-ups like "where does he go after that?" work.
        """
        return self.answer_many([Question(question, top_k, as_of, context)])[0]

    def answer_many(self, questions: Sequence[Question]) -> list[Answer]:
        """Answer several questions, encoding them in one batch (questions that arrived
        together, as in a group chat's burst). A question asked more than once in the batch
        (same words, date and context) is answered once."""
        started = time.perf_counter()
        reader = self.reader()
        asked = [replace(q, text=" ".join(q.text.split())) for q in questions]
        distinct = list(dict.fromkeys(asked))
        contexts = [q.context for q in distinct if q.context]
        vectors = self.embedder.encode([q.text for q in distinct] + contexts) if distinct else None
        encode_ms = (time.perf_counter() - started) * 1000
        answers: dict[Question, Answer] = {}
        context_row = len(distinct)
        with reader.snapshot():  # searches and the passages they name from one moment
            for row, question in enumerate(distinct):
                assert vectors is not None
                query = vectors[row]
                if question.context:
                    query = query + self.settings.context_weight * vectors[context_row]
                    query = query / np.linalg.norm(query)
                    context_row += 1
                timings = {"encode_ms": encode_ms}
                answers[question] = self._answer_one(reader, question, query, timings, started)
        return [replace(answers[q], timings=dict(answers[q].timings)) for q in asked]

    def _answer_one(
        self,
        reader: StoreReader,
        asked: Question,
        query: np.ndarray,
        timings: dict[str, float],
        started: float,
    ) -> Answer:
        """Retrieve and compose the answer to one question, its vector already encoded."""
        question = asked.text
        reference = asked.as_of or self._today()
        top_k = asked.top_k or self.settings.top_k
        context = asked.context
        mark = time.perf_counter()
        plan = SearchPlan(
            method=self.settings.method,
            keyword_weight=self.settings.keyword_weight,
            per_article=self.settings.per_article,
            recency_half_life_days=self.settings.recency_half_life_days,
            recency_weight=self.settings.recency_weight if wants_recent(question) else 0.0,
            window=question_window(question, reference),
            window_weight=self.settings.window_weight,
            merge_margin=self.settings.rerank_top,
        )
        terms = keyword_terms(f"{question} {context}" if context else question)
        ranked, hits = retrieve(reader, query, terms, reference, top_k, plan)
        if self.reranker is not None:
            ranked = rerank(question, ranked, self.reranker, self.settings.rerank_top)
            hits = collapse_per_article(ranked, self.settings.per_article, top_k)
        timings["search_ms"] = (time.perf_counter() - mark) * 1000
        results = _results(hits)
        not_found = Answer(
            question=question,
            answered=False,
            text=NOT_FOUND_TEXT,
            as_of_query=reference,
            results=results,
            closest=_distinct_articles(hits, 3),
            timings=timings,
        )
        if not question or not ranked:
            timings["total_ms"] = (time.perf_counter() - started) * 1000
            return replace(not_found, decline_reason="weak_evidence")
        mark = time.perf_counter()
        evidence = self._evidence(ranked)
        answer, judged = self._compose(reader, question, query, ranked, evidence, results,
                                       reference, context)  # fmt: skip
        signals = compute(judged)
        answer = settle(answer, not_found, signals, self.verifier.verify(signals),
                        judged.cited[0], related=self.settings.threshold)  # fmt: skip
        timings["compose_ms"] = (time.perf_counter() - mark) * 1000
        timings["total_ms"] = (time.perf_counter() - started) * 1000
        answer = replace(answer, evidence=_results(evidence))
        answer.timings.update(timings)
        return answer

    def _evidence(self, ranked: list[Hit]) -> list[Hit]:
        """The passages to answer from: the best ones before the per-article cap (the cap
        keeps the result list diverse, but the answer may need a third paragraph of one
        story)."""
        best = ranked[0].score
        return [
            hit
            for hit in ranked[: self.settings.evidence_passages]
            if hit.similarity >= self.settings.threshold
            and hit.score >= best - self.settings.evidence_margin
        ] or [max(ranked, key=lambda hit: hit.similarity)]

    def _compose(
        self,
        reader: StoreReader,
        question: str,
        query: np.ndarray,
        ranked: list[Hit],
        evidence: list[Hit],
        results: tuple[Result, ...],
        reference: date,
        context: str | None,
    ) -> tuple[Answer, Evidence]:
        """The answer from the evidence passages' best sentences, and what the verifier
        reads to judge it."""
        candidates = [
            Candidate(sentence, rank, position, hit.similarity, hit.boost)
            for rank, hit in enumerate(evidence)
            for position, sentence in enumerate(split_sentences(hit.passage.text))
        ]
        sentence_vectors = self._sentence_vectors(reader, evidence, candidates)
        extra = content_words(context) if context else None
        scored = score_sentences(question, query, candidates, sentence_vectors, extra)
        chosen = pick_sentences(
            scored,
            sentence_vectors,
            margin=self.settings.sentence_margin,
            limit=self.settings.max_sentences,
        )
        # When reports disagree (an earlier one said June 19, a later one June 18), the
        # newest leads and the answer says that they differ.
        conflict = find_conflict(chosen[0], scored, sentence_vectors, evidence)
        if conflict is not None:
            chosen = [conflict[0]]
        text, citations = write_answer(chosen, evidence, conflict[1] if conflict else None)
        newest = max(c.published for c in citations)
        note = age_note(newest, reference, self.settings.age_note_days)
        cited = [evidence[c.candidate.passage_rank] for c in chosen]
        judged = Evidence(
            question=question,
            query=query,
            ranked=ranked,
            cited=cited,
            sentences=[
                resolve_relative_dates(c.candidate.text, hit.passage.article.published)
                for c, hit in zip(chosen, cited, strict=True)
            ],
            sentence_vectors=sentence_vectors[[c.index for c in chosen]],
            reference=reference,
            passages=reader.size,
            frequencies=reader.document_frequencies([t.lower() for t in question_terms(question)]),
            word_vectors=self.words.vectors if self.words else None,
        )
        answer = Answer(
            question=question,
            answered=True,
            text=text,
            as_of_query=reference,
            citations=citations,
            results=results,
            as_of=newest,
            age_note=note,
        )
        return answer, judged

    def _sentence_vectors(
        self, reader: StoreReader, evidence: list[Hit], candidates: list[Candidate]
    ) -> np.ndarray:
        """The candidates' vectors, pooled when the passage was indexed; encoded now only if
        the sentence splitter has changed since (the counts then differ)."""
        stored = reader.sentence_vectors(hit.passage.id for hit in evidence)
        counts = [sum(c.passage_rank == rank for c in candidates) for rank in range(len(evidence))]
        parts = []
        for rank, hit in enumerate(evidence):
            vectors = stored.get(hit.passage.id)
            if vectors is None or len(vectors) != counts[rank]:
                # The title gives a short sentence ("Putin will then travel to Vietnam.") its
                # subject.
                title = hit.passage.article.title
                vectors = self.embedder.encode(
                    [embedding_text(title, c.text) for c in candidates if c.passage_rank == rank]
                )
            parts.append(vectors)
        return np.vstack(parts) if parts else np.zeros((0, self.embedder.dimension), np.float32)


def _results(hits: list[Hit]) -> tuple[Result, ...]:
    """Hits as the ranked passages an answer lists."""
    return tuple(
        Result(
            rank=rank,
            passage_id=hit.passage.id,
            url=hit.passage.article.url,
            title=hit.passage.article.title,
            source=hit.passage.article.source,
            published=hit.passage.article.published,
            score=round(hit.score, 4),
            text=hit.passage.text,
            also_reported_by=hit.also,
            author=hit.passage.article.author,
        )
        for rank, hit in enumerate(hits, start=1)
    )


def _distinct_articles(hits: list[Hit], limit: int) -> tuple[ArticleSummary, ...]:
    seen: dict[str, ArticleSummary] = {}
    for hit in hits:
        seen.setdefault(hit.passage.article.url, hit.passage.article)
    return tuple(list(seen.values())[:limit])
