"""The answerer: question in, grounded answer with numbered citations out."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from functools import lru_cache

import numpy as np

from retrieval.answer import NOT_FOUND_TEXT, Answer, Question, Result
from retrieval.answering.citations import write_answer
from retrieval.answering.compose import Candidate, drop_said, pick_sentences, score_sentences
from retrieval.answering.conflicts import find_conflict
from retrieval.answering.planning import AnswerSettings, Search, gather_first, plan_search
from retrieval.answering.reranking import Reranker, rerank
from retrieval.answering.results import distinct_articles, results
from retrieval.answering.search import Found, Hit, collapse_per_article, retrieve
from retrieval.answering.signals import Evidence, compute, question_terms
from retrieval.answering.verifier import Verifier, load_combiner, settle
from retrieval.articles import ArticleSummary
from retrieval.chunking import embedding_text
from retrieval.dates import age_note, resolve_relative_dates
from retrieval.embedding import Embedder, word_vectors
from retrieval.sentences import content_words, split_sentences
from retrieval.storage import Storage, StoreReader


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
        together, as in a group chat's burst) and gathering their first candidates and
        evidence vectors together. A question asked more than once in the batch (same
        words, date and context) is answered once."""
        started = time.perf_counter()
        reader = self.reader()
        asked = [replace(q, text=" ".join(q.text.split())) for q in questions]
        distinct = list(dict.fromkeys(asked))
        if not distinct:
            return []
        contexts = [q.context for q in distinct if q.context]
        vectors = self.embedder.encode([q.text for q in distinct] + contexts)
        queries = vectors[: len(distinct)].copy()
        context_row = len(distinct)
        for row, question in enumerate(distinct):
            if question.context:
                query = queries[row] + self.settings.context_weight * vectors[context_row]
                queries[row] = query / np.linalg.norm(query)
                context_row += 1
        encode_ms = (time.perf_counter() - started) * 1000
        with reader.snapshot():  # searches and the passages they name from one moment
            mark = time.perf_counter()
            searches = [plan_search(q, q.as_of or self._today(), self.settings) for q in distinct]
            found = gather_first(reader, queries, searches, self.settings.method)
            shared_ms = (time.perf_counter() - mark) * 1000
            timings = [{"encode_ms": encode_ms} for _ in distinct]
            retrieved = []
            for row, (search, first) in enumerate(zip(searches, found, strict=True)):
                mark = time.perf_counter()
                retrieved.append(self._retrieve(reader, search, queries[row], first))
                timings[row]["search_ms"] = shared_ms + (time.perf_counter() - mark) * 1000
            evidence = [self._evidence(ranked) if ranked else [] for ranked, _ in retrieved]
            sentence_vectors = reader.sentence_vectors(
                {hit.passage.id for hits in evidence for hit in hits}
            )
            answers = {
                question: self._answer_one(reader, search, queries[row], *retrieved[row],
                                           evidence[row], sentence_vectors, timings[row], started)
                for row, (question, search) in enumerate(zip(distinct, searches, strict=True))
            }  # fmt: skip
        return [replace(answers[q], timings=dict(answers[q].timings)) for q in asked]

    def _retrieve(
        self, reader: StoreReader, search: Search, query: np.ndarray, first: Found
    ) -> tuple[list[Hit], list[Hit]]:
        """Every candidate, best first, and the hits to list (reranked, with a reranker)."""
        ranked, hits = retrieve(reader, query, search.terms, search.reference, search.top_k,
                                search.plan, first)  # fmt: skip
        if self.reranker is not None:
            ranked = rerank(search.asked.text, ranked, self.reranker, self.settings.rerank_top)
            hits = collapse_per_article(ranked, self.settings.per_article, search.top_k)
        return ranked, hits

    def _answer_one(
        self,
        reader: StoreReader,
        search: Search,
        query: np.ndarray,
        ranked: list[Hit],
        hits: list[Hit],
        evidence: list[Hit],
        stored: dict[int, np.ndarray],
        timings: dict[str, float],
        started: float,
    ) -> Answer:
        """Compose and judge the answer to one question from its retrieved passages."""
        question, reference, context = search.asked.text, search.reference, search.asked.context
        listed = results(hits)
        not_found = Answer(
            question=question,
            answered=False,
            text=NOT_FOUND_TEXT,
            as_of_query=reference,
            results=listed,
            closest=distinct_articles(hits, 3),
            timings=timings,
        )
        if not question or not ranked:
            timings["total_ms"] = (time.perf_counter() - started) * 1000
            return replace(not_found, decline_reason="weak_evidence")
        mark = time.perf_counter()
        answer, judged = self._compose(reader, question, query, ranked, evidence, stored,
                                       listed, reference, context)  # fmt: skip
        signals = compute(judged)
        answer = settle(answer, not_found, signals, self.verifier.verify(signals),
                        judged.cited[0], related=self.settings.threshold)  # fmt: skip
        timings["compose_ms"] = (time.perf_counter() - mark) * 1000
        timings["total_ms"] = (time.perf_counter() - started) * 1000
        answer = replace(answer, evidence=results(evidence))
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
        stored: dict[int, np.ndarray],
        listed: tuple[Result, ...],
        reference: date,
        context: str | None,
    ) -> tuple[Answer, Evidence]:
        """The answer from the evidence passages' best sentences, and what the verifier
        reads to judge it."""
        candidates = [
            Candidate(sentence, rank, position, hit.similarity, hit.boost)
            for rank, hit in enumerate(evidence)
            for position, sentence in enumerate(_sentences(hit.passage.text))
        ]
        sentence_vectors = self._sentence_vectors(evidence, candidates, stored)
        extra = content_words(context) if context else None
        scored = score_sentences(question, query, candidates, sentence_vectors, extra)
        chosen = pick_sentences(
            scored,
            sentence_vectors,
            margin=self.settings.sentence_margin,
            limit=self.settings.max_sentences,
        )
        if context:
            chosen = drop_said(chosen, question, context)
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
            results=listed,
            as_of=newest,
            age_note=note,
        )
        return answer, judged

    def _sentence_vectors(
        self, evidence: list[Hit], candidates: list[Candidate], stored: dict[int, np.ndarray]
    ) -> np.ndarray:
        """The candidates' vectors, pooled when the passage was indexed (``stored``, read
        for the whole batch); encoded now only if the sentence splitter has changed since
        (the counts then differ)."""
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


@lru_cache(maxsize=4096)  # the passages of one story are evidence question after question
def _sentences(text: str) -> tuple[str, ...]:
    return tuple(split_sentences(text))
