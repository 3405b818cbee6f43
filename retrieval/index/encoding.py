"""Embedding articles' passages a window at a time, so that a build holds one window.

Every passage is embedded with its title as context, and the same forward pass gives each
of its sentences a vector (``retrieval.embedding.pool``). Passages are taken in windows of
about ``WINDOW_PASSAGES``; the model takes each window's passages by their length in word
pieces (``Embedder.token_batches``), so that a batch pads little, and each batch is pooled
as soon as it is done. A window's articles are handed on as soon as it is done: the caller
writes them to the store and the vectors, and nothing of a window outlives it. Holding
every vector and text of a 34,000-passage build took the process to 1.9 GB.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.articles import Article, Passage
from retrieval.chunking import embedding_text
from retrieval.embedding import Embedder, pool, sentence_spans

# Passages embedded together; their vectors take about 15 MB. Batched by word pieces, the
# 29,346 passages of bench_build's 8,000 articles make 2.36 M padded word pieces in windows
# of 2,048, 2.30 M with the whole corpus sorted at once and 2.41 M in windows of 1,024;
# sorting a window by characters and calling the model 128 passages at a time made 2.57 M.
WINDOW_PASSAGES = 2048


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
    texts = [text for text, _ in items]
    for rows, tokens in embedder.token_batches(texts, batch_size=batch_size):
        for i, token_vectors in zip(rows, tokens, strict=True):
            text, passage_text = items[i]
            offset = len(text) - len(passage_text)  # the passage follows its title
            pooled = pool(token_vectors, offset, sentence_spans(passage_text))
            vectors[i] = pooled.passage
            sentences[i] = pooled.sentences
        clock.tick(len(rows))
    return vectors, sentences
