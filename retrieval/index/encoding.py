"""Embedding articles' passages a window at a time, so that a build holds one window.

Every passage is embedded with its title as context, and the same forward pass gives each
of its sentences a vector (``retrieval.embedding.pool``). Passages are taken in windows of
about ``WINDOW_PASSAGES``, each sorted by length so that a batch pads little, and handed
on article by article as soon as their window is done: the caller writes them to the store
and the vectors, and nothing of a window outlives it. Holding every vector and text of a
34,000-passage build took the process to 1.9 GB.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.articles import Article, Passage
from retrieval.chunking import embedding_text
from retrieval.embedding import Embedder, pool, sentence_spans

# Passages embedded together. Sorted by length, 2,048 passages pad batches of 64 about as
# little as the whole corpus sorted; their vectors take about 15 MB.
WINDOW_PASSAGES = 2048
# Passages per model call within a window (their token rows, up to 50 MB, are what a call
# holds); progress is reported after each.
CALL_PASSAGES = 128


@dataclass(frozen=True)
class BuildProgress:
    """A progress report while passages are embedded."""

    articles_done: int
    articles_total: int
    passages_done: int
    passages_total: int
    elapsed: float


ProgressCallback = Callable[[BuildProgress], None]


@dataclass(frozen=True)
class EmbeddedArticle:
    """An article's passages with their vectors (one row each) and, per passage, its
    sentences' vectors (one row per sentence)."""

    article: Article
    passages: list[Passage]
    vectors: np.ndarray
    sentences: list[np.ndarray]


def embedded_articles(
    embedder: Embedder,
    articles: Sequence[Article],
    chunks: Sequence[list[Passage]],
    *,
    batch_size: int = 64,
    progress: ProgressCallback | None = None,
    window: int | None = None,
) -> Iterator[EmbeddedArticle]:
    """Each article with its passages' vectors, in order, a window of passages at a time
    (``WINDOW_PASSAGES`` unless ``window`` says otherwise)."""
    window = window or WINDOW_PASSAGES
    clock = _Clock(progress, len(articles), sum(len(c) for c in chunks))
    start = 0
    while start < len(articles):
        end, size = start, 0
        while end < len(articles) and (end == start or size + len(chunks[end]) <= window):
            size += len(chunks[end])
            end += 1
        vectors, sentences = _embed_window(embedder, articles[start:end], chunks[start:end],
                                           batch_size, clock)  # fmt: skip
        row = 0
        for article, passages in zip(articles[start:end], chunks[start:end], strict=True):
            yield EmbeddedArticle(article, passages, vectors[row : row + len(passages)],
                                  sentences[row : row + len(passages)])  # fmt: skip
            row += len(passages)
        start = end


class _Clock:
    """Counts passages done and reports them."""

    def __init__(self, progress: ProgressCallback | None, articles: int, passages: int) -> None:
        self.progress = progress
        self.articles = articles
        self.passages = passages
        self.done = 0
        self.started = time.perf_counter()

    def tick(self, passages: int) -> None:
        """Count ``passages`` more as embedded and report."""
        self.done += passages
        if self.progress is not None and self.passages:
            self.progress(
                BuildProgress(
                    articles_done=round(self.done / self.passages * self.articles),
                    articles_total=self.articles,
                    passages_done=self.done,
                    passages_total=self.passages,
                    elapsed=time.perf_counter() - self.started,
                )
            )


def _embed_window(
    embedder: Embedder,
    articles: Sequence[Article],
    chunks: Sequence[list[Passage]],
    batch_size: int,
    clock: _Clock,
) -> tuple[np.ndarray, list[np.ndarray]]:
    items = [
        (embedding_text(article.title, passage.text), passage.text)
        for article, passages in zip(articles, chunks, strict=True)
        for passage in passages
    ]
    vectors = np.zeros((len(items), embedder.dimension), dtype=np.float32)
    sentences: list[np.ndarray] = [vectors[:0]] * len(items)
    order = sorted(range(len(items)), key=lambda i: len(items[i][0]))
    for first in range(0, len(order), CALL_PASSAGES):
        call = order[first : first + CALL_PASSAGES]
        tokens = embedder.token_vectors([items[i][0] for i in call], batch_size=batch_size)
        for i, token_vectors in zip(call, tokens, strict=True):
            text, passage_text = items[i]
            offset = len(text) - len(passage_text)  # the passage follows its title
            pooled = pool(token_vectors, offset, sentence_spans(passage_text))
            vectors[i] = pooled.passage
            sentences[i] = pooled.sentences
        clock.tick(len(call))
    return vectors, sentences
