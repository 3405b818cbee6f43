"""The storage seam: what answering and ingestion need from wherever the index is kept.

A backend provides a :class:`Storage`: a live :class:`StoreReader` (a consistent read-only
view, replaced after each write lands) and :class:`StoreWriter` batches (each atomic:
nothing is visible to readers until it commits). The embedded FAISS + SQLite generations in
``retrieval.index`` are one backend; a second one is a new implementation of these three
protocols, not a change to ``retrieval.answering`` or ``bot``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np

from retrieval.articles import Article, ArticleSummary, Passage


@dataclass(frozen=True)
class StoredPassage:
    """A passage joined with its article's metadata."""

    id: int
    position: int
    text: str
    article: ArticleSummary


@dataclass(frozen=True)
class StoredArticle:
    """How an article is stored: its id and fingerprint, to tell new from changed."""

    id: int
    url: str
    content_hash: str
    title: str
    published: date


class StoreReader(Protocol):
    """A consistent, read-only view of the indexed articles, passages and vectors."""

    @property
    def version(self) -> str:
        """Names this view; it changes whenever a write lands."""
        ...

    @property
    def size(self) -> int:
        """How many passage vectors the view holds."""
        ...

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest passage ids with cosine similarities, best first."""
        ...

    def search_many(self, queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """``search`` for each row of ``queries`` (a batch of questions), in order."""
        ...

    def keyword_search(
        self, terms: list[str], k: int, published_by: date
    ) -> list[tuple[int, float]]:
        """The ``k`` best passages by BM25 over title and text, published by a date."""
        ...

    def similarities(self, query: np.ndarray, ids: list[int]) -> list[float]:
        """Cosine similarity of ``query`` to each of the passages ``ids``."""
        ...

    def passages(self, ids: Iterable[int]) -> dict[int, StoredPassage]:
        """The passages with these ids, with their articles."""
        ...

    def sentence_vectors(self, ids: Iterable[int]) -> dict[int, np.ndarray]:
        """Per passage id, its sentences' vectors (one row per sentence), where stored."""
        ...

    def document_frequencies(self, terms: list[str]) -> dict[str, int]:
        """How many passages hold each term (stemmed as keyword search stems it): the
        verifier's IDF weights."""
        ...

    def find(self, url: str) -> StoredArticle | None:
        """The article known by this URL (its own or a copy's), if any."""
        ...

    def list_articles(self) -> list[ArticleSummary]:
        """Every article, newest first, with the other URLs it is known by."""
        ...

    def counts(self) -> dict[str, int]:
        """How many articles and passages the view holds."""
        ...

    def snapshot(self) -> AbstractContextManager[None]:
        """Within the block, every read on this thread sees the store at one moment, even
        while writes land: a question's searches and the passages they name agree."""
        ...

    def close(self) -> None:
        """Release what the view holds open."""
        ...


class StoreWriter(Protocol):
    """One atomic batch of changes: all of it lands when the batch commits, or none."""

    discard: bool  # set when the batch turned out to change nothing

    def find(self, url: str) -> StoredArticle | None:
        """The article known by this URL, as the batch sees it."""
        ...

    def find_by_hash(self, digest: str) -> StoredArticle | None:
        """An article whose text has this fingerprint, as the batch sees it."""
        ...

    def add_alias(self, url: str, article_id: int) -> None:
        """Record another URL under which an article's text was found."""
        ...

    def remove_article(self, article_id: int) -> None:
        """Remove an article with its URLs, passages and vectors."""
        ...

    def add_article(
        self,
        article: Article,
        passages: Sequence[Passage],
        vectors: np.ndarray,
        sentence_vectors: Sequence[np.ndarray],
    ) -> None:
        """Add an article, its passages, one vector per passage and each passage's
        sentence vectors."""
        ...


class Storage(Protocol):
    """Where an index is kept: its live view and its writes."""

    def version(self) -> str | None:
        """The live version's name (cheap to ask), or None when nothing is indexed."""
        ...

    def reader(self) -> StoreReader:
        """The live view, opened on first use and again after a write lands."""
        ...

    def write(self, *, fresh: bool = False, dimension: int) -> AbstractContextManager[StoreWriter]:
        """A batch over the live index (or, ``fresh``, over an empty one that replaces it)."""
        ...
