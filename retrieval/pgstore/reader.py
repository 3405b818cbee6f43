"""Reading the PostgreSQL store: pgvector search, BM25 in SQL, passages and articles."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from retrieval.articles import ArticleSummary
from retrieval.index.rows import unpack_rows
from retrieval.pgstore.terms import K1, MIN_IDF, B, Tokenizer
from retrieval.storage import StoredArticle, StoredPassage

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

_SUMMARY = "a.url, a.title, a.source, a.published, a.author"
# FTS5's BM25 (see retrieval.pgstore.terms), over the postings of the question's stems. A
# stem asked twice counts twice, as in FTS5. In double precision, as FTS5 computes it:
# PostgreSQL's numeric (what its literals and bigint arithmetic give) made the sum over
# 400k postings take 1.2 s instead of 0.26 s (100k passages, load 5). Document frequencies
# come from term_stats (counting them here was a third of what remained). A stem in more
# than half of the passages ("the") adds at most 2.2e-6 to a score (FTS5 floors its idf at
# 1e-6) but most of the rows: its postings are left out unless without them fewer than k
# passages match, since then they decide which passages match at all (leaving them out
# regardless moved hit@5 on the 10-passage seed golden set by 5 points).
_BM25 = f"""
WITH asked AS (SELECT unnest(%(terms)s::text[]) AS term),
hits AS (
    SELECT s.term, greatest(ln((%(total)s::float8 - s.passages + 0.5::float8)
                              / (s.passages + 0.5::float8)), {MIN_IDF}::float8) AS idf
    FROM term_stats s WHERE s.term IN (SELECT term FROM asked)
)
SELECT t.passage_id, sum(
    h.idf * t.count * {K1 + 1}::float8
    / (t.count + {K1}::float8 * ({1 - B}::float8 + {B}::float8 * t.length / %(average)s::float8))
) AS score
FROM asked JOIN hits h USING (term) JOIN passage_terms t USING (term)
WHERE t.published <= %(by)s AND h.idf > %(floor)s
GROUP BY t.passage_id ORDER BY score DESC, t.passage_id LIMIT %(k)s
"""


class PgReader:
    """The store as it is now: every query reads the latest committed batches, or, within
    ``snapshot()``, the batches committed when the snapshot began."""

    def __init__(
        self, pool: ConnectionPool, version: str, size: int, tokens: int, ef_search: int
    ) -> None:
        self.pool = pool
        self._version = version
        self._size = size
        self._average = tokens / size if size else 1.0
        self._ef_search = ef_search
        self._tokenizer = Tokenizer()
        self._local = threading.local()  # this thread's snapshot: connection, size, average

    @property
    def version(self) -> str:
        """The store version this view was opened at (the write counter)."""
        return self._version

    @property
    def size(self) -> int:
        """How many passages (each with its vector) the store held when opened."""
        return self._size

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads on this thread within the block share one REPEATABLE READ, read-only
        transaction: they see the batches committed when it began and none after, so the
        passages a search found are still there when fetched (a writer may land meanwhile)."""
        if getattr(self._local, "snapshot", None) is not None:
            yield  # already inside one
            return
        with self.pool.connection() as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                row = conn.execute("SELECT passages, tokens FROM store_state").fetchone()
                assert row is not None
                size, tokens = int(row[0]), int(row[1])
                self._local.snapshot = (conn, size, tokens / size if size else 1.0)
                yield
            finally:
                self._local.snapshot = None
                conn.execute("ROLLBACK")  # read only: nothing to keep

    def _connection(self) -> AbstractContextManager[psycopg.Connection]:
        """This thread's snapshot connection, or one from the pool for one statement."""
        snapshot = getattr(self._local, "snapshot", None)
        return nullcontext(snapshot[0]) if snapshot is not None else self.pool.connection()

    def _totals(self) -> tuple[int, float]:
        """Passages and their average length, as BM25 needs them, for the view read now."""
        snapshot = getattr(self._local, "snapshot", None)
        return (snapshot[1], snapshot[2]) if snapshot is not None else (self._size, self._average)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest passages by cosine, from the HNSW index."""
        if k <= 0:
            return []
        vector = np.asarray(query, dtype=np.float32)
        with self._connection() as conn, conn.transaction():
            if k > self._ef_search:  # HNSW returns at most ef_search rows
                conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(k),))
            rows = conn.execute(
                "SELECT id, 1 - (embedding <=> %(q)s) FROM passages"
                " ORDER BY embedding <=> %(q)s LIMIT %(k)s",
                {"q": vector, "k": k},
            ).fetchall()
        return [(int(i), float(s)) for i, s in rows]

    def search_many(self, queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """``search`` for each row of ``queries``: pgvector takes one query at a time."""
        return [self.search(query, k) for query in queries]

    def keyword_search(
        self, terms: list[str], k: int, published_by: date
    ) -> list[tuple[int, float]]:
        """BM25 over titles and passages, computed in SQL, among passages published by a date."""
        stems = self._tokenizer.stems([t for t in terms if t])
        size, average = self._totals()
        if not stems or k <= 0 or not size:
            return []
        arguments = {"terms": stems, "total": size, "average": average,
                     "by": published_by, "k": k, "floor": MIN_IDF}  # fmt: skip
        with self._connection() as conn:
            rows = conn.execute(_BM25, arguments).fetchall()
            if len(rows) < k:  # the commonest stems decide which passages match at all
                rows = conn.execute(_BM25, {**arguments, "floor": -1.0}).fetchall()
        return [(int(i), float(s)) for i, s in rows]

    def document_frequencies(self, terms: list[str]) -> dict[str, int]:
        """How many passages hold each term, stemmed as keyword search stems it (a term FTS5
        cuts in two counts as its rarer part): the verifier's IDF weights."""
        stems = {term: self._tokenizer.stems([term]) for term in terms}
        wanted = sorted({stem for parts in stems.values() for stem in parts})
        counts: dict[str, int] = {}
        if wanted:
            with self._connection() as conn:
                rows = conn.execute(
                    "SELECT term, passages FROM term_stats WHERE term = ANY(%s)", (wanted,)
                ).fetchall()
            counts = {str(term): int(count) for term, count in rows}
        return {term: min((counts.get(s, 0) for s in parts), default=0)
                for term, parts in stems.items()}  # fmt: skip

    def similarities(self, query: np.ndarray, ids: list[int]) -> list[float]:
        """Cosine similarity of the query to each of these passages."""
        if not ids:
            return []
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT id, 1 - (embedding <=> %s) FROM passages WHERE id = ANY(%s)",
                (np.asarray(query, dtype=np.float32), [int(i) for i in ids]),
            ).fetchall()
        found = {int(i): float(s) for i, s in rows}
        return [found.get(int(i), -1.0) for i in ids]

    def passages(self, ids: Iterable[int]) -> dict[int, StoredPassage]:
        """The passages with these ids, with their articles."""
        wanted = [int(i) for i in ids]
        if not wanted:
            return {}
        with self._connection() as conn:
            rows = conn.execute(
                f"SELECT p.id, p.position, p.text, {_SUMMARY} FROM passages p"
                " JOIN articles a ON a.id = p.article_id WHERE p.id = ANY(%s)",
                (wanted,),
            ).fetchall()
        return {r[0]: StoredPassage(r[0], r[1], r[2], ArticleSummary(*r[3:8])) for r in rows}

    def sentence_vectors(self, ids: Iterable[int]) -> dict[int, np.ndarray]:
        """The stored sentence vectors of these passages."""
        wanted = [int(i) for i in ids]
        if not wanted:
            return {}
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT passage_id, sentences, vectors FROM sentence_vectors"
                " WHERE passage_id = ANY(%s)",
                (wanted,),
            ).fetchall()
        return {int(r[0]): unpack_rows(bytes(r[2]), r[1]) for r in rows}

    def find(self, url: str) -> StoredArticle | None:
        """The article known by this URL (its own or a copy's), if any."""
        with self._connection() as conn:
            return find_article(conn, url)

    def list_articles(self) -> list[ArticleSummary]:
        """Every article, newest first, with the other URLs it is known by."""
        with self._connection() as conn:
            rows = conn.execute(
                f"SELECT {_SUMMARY}, coalesce((SELECT array_agg(u.url ORDER BY u.url)"
                " FROM article_urls u WHERE u.article_id = a.id AND u.url <> a.url), '{}')"
                " FROM articles a ORDER BY a.published DESC, a.id DESC"
            ).fetchall()
        return [ArticleSummary(r[0], r[1], r[2], r[3], r[4], tuple(r[5])) for r in rows]

    def counts(self) -> dict[str, int]:
        """How many articles and passages the store holds."""
        with self._connection() as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM passages)"
            ).fetchone()
        assert row is not None
        return {"articles": int(row[0]), "passages": int(row[1])}

    def close(self) -> None:
        """Nothing to release: the storage owns the connections."""


def find_article(conn: object, url: str) -> StoredArticle | None:
    """The article known by ``url`` on this connection."""
    return _one(conn, "JOIN article_urls u ON u.article_id = a.id WHERE u.url = %s", url)


def find_article_by_hash(conn: object, digest: str) -> StoredArticle | None:
    """An article whose text has this fingerprint, on this connection."""
    return _one(conn, "WHERE a.content_hash = %s ORDER BY a.id", digest)


def _one(conn: object, where: str, value: str) -> StoredArticle | None:
    row = conn.execute(  # type: ignore[attr-defined]
        f"SELECT a.id, a.url, a.content_hash, a.title, a.published FROM articles a {where} LIMIT 1",
        (value,),
    ).fetchone()
    return None if row is None else StoredArticle(*row)
