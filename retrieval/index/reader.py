"""Reading a generation of the on-disk index: FAISS vectors, the SQLite store and the
saved keyword postings, behind the ``StoreReader`` protocol."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date
from functools import cached_property
from itertools import islice
from pathlib import Path

import faiss
import numpy as np

from retrieval.articles import ArticleSummary
from retrieval.errors import IndexMismatchError, IndexMissingError
from retrieval.index.deltas import VECTOR_DELTA, with_delta
from retrieval.index.integrity import find_live
from retrieval.index.keywords import KEYWORD_DELTA, KEYWORDS, KeywordIndex
from retrieval.index.layout import (
    STORE,
    VECTORS,
    IndexSpec,
    Manifest,
    read_manifest,
)
from retrieval.index.policy import DEFAULT_POLICY, IndexPolicy
from retrieval.index.store import Store
from retrieval.index.vectors import configure, searcher
from retrieval.storage import StoredArticle, StoredPassage

log = logging.getLogger(__name__)
# Passages a reader keeps once read: about 15 MB of text and objects.
KEPT_PASSAGES = 10_000


class IndexReader:
    """A loaded generation: FAISS vectors plus the store, read-only (a ``StoreReader``)."""

    def __init__(
        self, directory: Path, manifest: Manifest, policy: IndexPolicy = DEFAULT_POLICY
    ) -> None:
        self.directory = directory
        self.manifest = manifest
        self._policy = policy
        self.store = Store(directory / STORE, readonly=True)
        self._frequencies: dict[str, int] = {}  # a generation never changes: counts keep
        self._passages: dict[int, StoredPassage] = {}

    @cached_property
    def keywords(self) -> KeywordIndex | None:
        """The saved postings with any delta merged in, read on first use (a writer's
        look-ups need none); None for a small generation, which asks FTS5."""
        saved, delta = self.directory / KEYWORDS, self.directory / KEYWORD_DELTA
        if not saved.exists():
            return None
        return KeywordIndex(saved, delta if delta.exists() else None)

    @cached_property
    def vectors(self) -> faiss.Index:
        """The FAISS index with any delta merged in, read on first use (looking up articles
        needs none of it)."""
        vectors = faiss.read_index(str(self.directory / VECTORS))
        if (self.directory / VECTOR_DELTA).exists():
            vectors = with_delta(vectors, self.directory / VECTOR_DELTA)
        configure(vectors, self._policy)
        return vectors

    @cached_property
    def _search(self) -> Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]:
        """How to search the vectors (see ``vectors.searcher``)."""
        return searcher(self.vectors)

    @property
    def version(self) -> str:
        """The generation's name."""
        return self.directory.name

    def find(self, url: str) -> StoredArticle | None:
        """The article known by this URL (its own or a copy's), if any."""
        return self.store.find(url)

    def passages(self, ids: Iterable[int]) -> dict[int, StoredPassage]:
        """The passages with these ids, with their articles, in id order. A generation never
        changes, so passages read once are kept (up to ``KEPT_PASSAGES``): questions on one
        story find the same ones, and reading them was 1 ms of each search at 34,000."""
        wanted = [int(i) for i in ids]
        kept = self._passages
        found = {i: p for i in wanted if (p := kept.get(i)) is not None}
        missing = [i for i in wanted if i not in found]
        if missing:
            fetched = self.store.passages(missing)
            kept.update(fetched)
            found.update(fetched)
            # The oldest go first, a few at a time: clearing all 10,000 at once took 6 ms.
            # (pop: another thread may be dropping the same ones.)
            for stale in list(islice(kept, max(len(kept) - KEPT_PASSAGES, 0))):
                kept.pop(stale, None)
        return {i: found[i] for i in sorted(found)}

    def sentence_vectors(self, ids: Iterable[int]) -> dict[int, np.ndarray]:
        """Per passage id, its sentences' vectors (float32, a row per sentence)."""
        return self.store.sentence_vectors(ids)

    def list_articles(self) -> list[ArticleSummary]:
        """Every article, newest first, with the other URLs it is known by."""
        return self.store.list_articles()

    def counts(self) -> dict[str, int]:
        """How many articles and passages the generation holds."""
        return self.store.counts()

    def keyword_search(
        self, terms: list[str], k: int, published_by: date
    ) -> list[tuple[int, float]]:
        """BM25 over titles and passages (see ``Store.keyword_search``): from the saved
        postings of a large generation (with FTS5 scoring its phrases), else from FTS5."""
        if self.keywords is not None:
            return self.keywords.search(terms, k, published_by, self._phrase_scores)
        return self.store.keyword_search(terms, k, published_by)

    def _phrase_scores(self, phrase: str) -> list[tuple[int, float]]:
        """Every passage holding ``phrase``, with FTS5's BM25 score of that phrase alone."""
        return self.store.keyword_search([phrase], self.size, date.max)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest passage ids with cosine scores, best first."""
        return self.search_many(query.reshape(1, -1), k)[0]

    def search_many(self, queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """``search`` for each row of ``queries``, in one FAISS call."""
        k = min(k, self.vectors.ntotal)
        if k <= 0:
            return [[] for _ in range(len(queries))]
        with _one_thread():
            scores, ids = self._search(np.ascontiguousarray(queries, np.float32), k)
        return [
            [(i, s) for i, s in zip(row_ids.tolist(), row_scores.tolist(), strict=True) if i >= 0]
            for row_ids, row_scores in zip(ids, scores, strict=True)
        ]

    def similarities(self, query: np.ndarray, ids: list[int]) -> list[float]:
        """Cosine similarity of the query to the passages ``ids`` (found by other means)."""
        if not ids:
            return []
        vectors = self.vectors.reconstruct_batch(np.asarray(ids, dtype=np.int64))
        return (vectors @ query.astype(np.float32)).tolist()

    def document_frequencies(self, terms: list[str]) -> dict[str, int]:
        """How many passages hold each term (see ``Store.document_frequencies``): counted
        from the saved postings once a search has loaded them (FTS5 counting each new term
        took 0.3 ms a question at 34,000 passages), else, and for phrases, by FTS5."""
        new = [t for t in terms if t not in self._frequencies]
        postings = self.__dict__.get("keywords")  # loaded: see ``keywords``
        if new and postings is not None:
            counted = {t: postings.frequency(t) for t in new}
            self._frequencies.update({t: c for t, c in counted.items() if c is not None})
            new = [t for t in new if counted[t] is None]
        if new:
            self._frequencies.update(self.store.document_frequencies(new))
        return {t: self._frequencies[t] for t in terms}

    @property
    def size(self) -> int:
        """Number of vectors."""
        return int(self.vectors.ntotal)

    def snapshot(self) -> AbstractContextManager[None]:
        """Nothing to do: a generation never changes once written (writes make new ones)."""
        return nullcontext()

    def close(self) -> None:
        """Release the store connection."""
        self.store.close()


@contextmanager
def _one_thread() -> Iterator[None]:
    """Search one query on the calling thread alone. Splitting a single query over FAISS'
    OpenMP threads made it slower, not faster: at 10,000 passages p50 2.6 ms on two threads
    against 0.25 ms on one (load 5, 2026-11-29); waking the threads costs more than the scan.
    The setting is per calling thread, and restored, so builds keep every core."""
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)


def open_index(data_dir: Path, spec: IndexSpec) -> IndexReader:
    """Load the live generation (or, when it is damaged, the newest earlier one that checks
    out: see ``integrity``), checking it matches ``spec``."""
    directory = _live_directory(data_dir)
    if directory is None:
        raise IndexMissingError(f"no index in {data_dir}: run `newsbot index` to build one")
    try:
        manifest = read_manifest(directory)
    except TypeError as exc:  # the fields of another format
        raise IndexMismatchError(
            f"the index in {directory} is of another format ({exc}): run `newsbot index "
            "--existing` to rebuild it with the articles it holds"
        ) from None
    spec.check(manifest, data_dir)
    return IndexReader(directory, manifest, spec.policy)


def open_live_store(data_dir: Path) -> Store | None:
    """The live generation's store, read-only, without its vectors; None when nothing is
    indexed. The one way in for reading articles (lists, stats, rebuilds, known URLs)."""
    directory = _live_directory(data_dir)
    return None if directory is None else Store(directory / STORE, readonly=True)


def _live_directory(data_dir: Path) -> Path | None:
    live = find_live(data_dir)
    if live is None:
        return None
    if live.note is not None:
        log.warning(live.note)
    return data_dir / live.name
