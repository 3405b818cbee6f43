"""Embedding articles' passages a window at a time, so that a build holds one window.

Every passage is embedded with its title as context, and the same forward pass gives each
of its sentences a vector (``retrieval.embedding.pool``). Passages are taken in windows of
about ``WINDOW_PASSAGES``; the model takes each window's passages by their length in word
pieces (``Embedder.token_batches``), so that a batch pads little, and each batch is pooled
as soon as it is done. A window's articles are handed on as soon as it is done: the caller
writes them to the store and the vectors, and nothing of a window outlives it. Holding
every vector and text of a 34,000-passage build took the process to 1.9 GB. The model runs
in a thread of its own a few calls ahead (``running_ahead``), so that pooling and the
caller's writes take the cores the model leaves idle instead of waiting between calls.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.articles import Article, Passage
from retrieval.chunking import embedding_text
from retrieval.embedding import Embedder, TokenBatch, pool, sentence_spans
from retrieval.index.ahead import running_ahead

# Passages embedded together; their vectors take about 15 MB. Batched by word pieces, the
# 29,346 passages of bench_build's 8,000 articles make 2.36 M padded word pieces in windows
# of 2,048, 2.30 M with the whole corpus sorted at once and 2.41 M in windows of 1,024;
# sorting a window by characters and calling the model 128 passages at a time made 2.57 M.
WINDOW_PASSAGES = 2048
# Model calls done ahead of the pooling and writing (each up to 6 MB of token rows); the
# model releases the GIL, so a window's store writes overlap the next window's first calls.
AHEAD_BATCHES = 4


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
) -> Generator[EmbeddedArticle, None, None]:
    """Each article with its passages' vectors, in order, a window of passages at a time
    (``WINDOW_PASSAGES`` unless ``window`` says otherwise). The model runs in a thread of
    its own, a few batches ahead, while the caller writes what is done (close the iterator
    when leaving early)."""
    windows = _windows(chunks, window or WINDOW_PASSAGES)
    clock = _Clock(progress, len(articles), sum(len(c) for c in chunks))
    model_calls = (
        embedder.token_batches(_texts(articles[start:end], chunks[start:end]), batch_size)
        for start, end in windows
    )
    batches = running_ahead(itertools.chain.from_iterable(model_calls), AHEAD_BATCHES)
    try:
        for start, end in windows:
            vectors, sentences = _pool_window(embedder, articles[start:end], chunks[start:end],
                                              batches, clock)  # fmt: skip
            row = 0
            for article, passages in zip(articles[start:end], chunks[start:end], strict=True):
                yield EmbeddedArticle(article, passages, vectors[row : row + len(passages)],
                                      sentences[row : row + len(passages)])  # fmt: skip
                row += len(passages)
    finally:
        batches.close()


def _windows(chunks: Sequence[list[Passage]], size: int) -> list[tuple[int, int]]:
    """Runs of whole articles (start, end) of about ``size`` passages, at least one each."""
    windows = []
    start = 0
    while start < len(chunks):
        end, passages = start, 0
        while end < len(chunks) and (end == start or passages + len(chunks[end]) <= size):
            passages += len(chunks[end])
            end += 1
        windows.append((start, end))
        start = end
    return windows


def _texts(articles: Sequence[Article], chunks: Sequence[list[Passage]]) -> list[str]:
    """What the model reads of each passage: the passage behind its article's title."""
    return [
        embedding_text(article.title, passage.text)
        for article, passages in zip(articles, chunks, strict=True)
        for passage in passages
    ]


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


def _pool_window(
    embedder: Embedder,
    articles: Sequence[Article],
    chunks: Sequence[list[Passage]],
    batches: Iterator[TokenBatch],
    clock: _Clock,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The window's passage and sentence vectors, pooled from its share of ``batches``."""
    texts = _texts(articles, chunks)
    passages = [passage.text for passage_list in chunks for passage in passage_list]
    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    sentences: list[np.ndarray] = [vectors[:0]] * len(texts)
    left = len(texts)
    while left:
        rows, tokens = next(batches)
        for i, token_vectors in zip(rows, tokens, strict=True):
            offset = len(texts[i]) - len(passages[i])  # the passage follows its title
            pooled = pool(token_vectors, offset, sentence_spans(passages[i]))
            vectors[i] = pooled.passage
            sentences[i] = pooled.sentences
        left -= len(rows)
        clock.tick(len(rows))
    return vectors, sentences
