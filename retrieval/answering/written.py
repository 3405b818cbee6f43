"""The verifier on written sentences: does what a model wrote, with the passages it cites,
answer the question as well as an extractive answer must?

The same signals (``signals.compute``) and the same fitted combiner judge a written
sentence as they judge a composed one; only where the inputs come from differs: the
sentence is the model's (encoded here), and the cited passages are the ones it cites.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from retrieval.answer import Answer, Result
from retrieval.answering.answerer import Answerer
from retrieval.answering.search import Hit
from retrieval.answering.signals import Evidence, compute, question_terms
from retrieval.articles import ArticleSummary
from retrieval.chunking import embedding_text
from retrieval.storage import StoredPassage

# Questions whose vectors are kept: a written answer checks each of its sentences against
# the one question it answers, as the sentences arrive.
_QUERY_CACHE = 256


class WrittenVerifier:
    """Scores written sentences with the answer verifier; safe to share between threads."""

    def __init__(self, answerer: Answerer, min_confidence: float | None = None) -> None:
        self.answerer = answerer
        verifier = answerer.verifier
        self.threshold = verifier.min_confidence if min_confidence is None else min_confidence
        self._query = lru_cache(maxsize=_QUERY_CACHE)(self._encode_query)

    def confidence(
        self,
        extractive: Answer,
        sentences: Sequence[str],
        cited: Sequence[Result],
        context: str | None = None,
    ) -> float:
        """The verifier's confidence that ``sentences`` (dates made absolute, no markers),
        citing the passages ``cited`` (best first), answer ``extractive.question``."""
        if not sentences or not cited:
            return 0.0
        reader = self.answerer.reader()
        query = self._query(extractive.question, context)
        pool = {r.passage_id: r for r in [*extractive.evidence, *extractive.results, *cited]}
        similarity = dict(zip(pool, reader.similarities(query, list(pool)), strict=True))
        hits = {pid: _hit(result, similarity[pid]) for pid, result in pool.items()}
        ranked = sorted(hits.values(), key=lambda h: -h.score)
        title = cited[0].title
        vectors = self.answerer.embedder.encode([embedding_text(title, s) for s in sentences])
        terms = [t.lower() for t in question_terms(extractive.question)]
        evidence = Evidence(
            question=extractive.question,
            query=query,
            ranked=ranked,
            cited=[hits[r.passage_id] for r in cited],
            sentences=list(sentences),
            sentence_vectors=np.asarray(vectors),
            reference=extractive.as_of_query,
            passages=reader.size,
            frequencies=reader.document_frequencies(terms),
            word_vectors=self.answerer.words.vectors if self.answerer.words else None,
        )
        values = dict(compute(evidence).values)
        if values["typed"] and not values["type_found"]:
            # A written answer must say what was asked (a date for "when", a number for "how
            # many"): with the passage behind it, a sentence about something else still
            # scores high, since the verifier weighs the evidence more than the sentence.
            return 0.0
        # The margin says how clearly the best evidence stands out from other articles. A
        # written answer combines reports: a sentence citing the second one is no weaker for
        # it (measured: citing the Vietnam report, supported sentences fell from 0.9 to 0.2).
        values["margin"] = max(values["margin"], extractive.signals.get("margin", -1.0))
        return round(self.answerer.verifier.combiner.confidence(values), 4)

    def _encode_query(self, question: str, context: str | None) -> np.ndarray:
        """The question's vector, blended with its context as the answerer blends it."""
        if not context:
            return np.asarray(self.answerer.embedder.encode([question])[0])
        vectors = self.answerer.embedder.encode([question, context])
        query = vectors[0] + self.answerer.settings.context_weight * vectors[1]
        return np.asarray(query / np.linalg.norm(query))


def _hit(result: Result, similarity: float) -> Hit:
    """A listed passage as the signals read it."""
    article = ArticleSummary(result.url, result.title, result.source, result.published,
                             result.author)  # fmt: skip
    passage = StoredPassage(result.passage_id, 0, result.text, article)
    return Hit(passage, similarity, result.score, also=result.also_reported_by)
