"""PostgreSQL as a ``retrieval.storage.Storage``: one database shared by every process."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import TYPE_CHECKING

from retrieval.articles import Article
from retrieval.errors import IndexMissingError, NewsbotError
from retrieval.index import IndexSpec
from retrieval.pgstore.connection import connect, open_pool, redact
from retrieval.pgstore.reader import PgReader
from retrieval.pgstore.schema import (
    LATEST,
    WRITE_LOCK,
    applied_version,
    check_spec,
    drop_vector_index,
    empty_store,
    ensure_vector_index,
    migrate,
    record_spec,
)
from retrieval.pgstore.terms import Tokenizer
from retrieval.pgstore.writer import PgWriter

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

EF_SEARCH = 100
POOL_SIZE = 4
# A batch that adds at least this many passages, and at least as many as the store holds,
# drops the HNSW index and builds it after the load: building a graph from the rows is
# faster than inserting each vector into one, and a build costs the store's size, which such a
# batch at most doubles (figures in docs/scaling.md).
BULK_PASSAGES = 5_000


class PgStorage:
    """Articles, passages and vectors in PostgreSQL with pgvector; safe to share between
    threads. Nothing connects until first use."""

    def __init__(
        self,
        url: str,
        spec: IndexSpec,
        *,
        vector_index: str = "hnsw",
        ef_search: int = EF_SEARCH,
        pool_size: int = POOL_SIZE,
    ) -> None:
        self.url = url
        self.spec = spec
        self.vector_index = vector_index
        self.ef_search = ef_search
        self.pool_size = pool_size
        self._pool: ConnectionPool | None = None
        self._reader: PgReader | None = None
        self._checked = False
        self._deferred = False  # inside bulk_load(): no HNSW index until it ends
        self._lock = threading.Lock()
        self._tokenizer = Tokenizer()

    def __repr__(self) -> str:
        return f"PgStorage({redact(self.url)!r})"

    def pool(self) -> ConnectionPool:
        """The connections, opened once the schema is there (pgvector's type must exist)."""
        with self._lock:
            if self._pool is None:
                with connect(self.url) as conn:
                    version = applied_version(conn)
                if version == 0:
                    raise IndexMissingError(
                        f"no newsbot tables in {redact(self.url)}: run `newsbot db migrate` "
                        "then `newsbot index`, or `newsbot db import DATA_DIR`"
                    )
                if version < LATEST:
                    raise NewsbotError(
                        f"the database schema is at version {version}, this newsbot needs "
                        f"{LATEST}: run `newsbot db migrate`"
                    )
                self._pool = open_pool(self.url, ef_search=self.ef_search, size=self.pool_size)
            return self._pool

    def version(self) -> str | None:
        """The write counter of the store, or None when nothing was ever written to it."""
        if self._pool is None:
            with connect(self.url) as conn:
                if applied_version(conn) == 0:
                    return None
        with self.pool().connection() as conn:
            row = conn.execute("SELECT version FROM store_state").fetchone()
        return None if row is None or row[0] == 0 else str(row[0])

    def reader(self) -> PgReader:
        """The live store, reopened (cheaply: counts only) after a write lands."""
        version = self.version()
        if version is None:
            raise IndexMissingError(
                f"nothing is indexed in {redact(self.url)}: run `newsbot index` or `newsbot add`"
            )
        pool = self.pool()
        with self._lock:
            if self._reader is None or self._reader.version != version:
                with pool.connection() as conn:
                    if not self._checked:
                        check_spec(conn, self.spec.model, self.spec.chunking.as_dict())
                        self._checked = True
                    row = conn.execute(
                        "SELECT version, passages, tokens FROM store_state"
                    ).fetchone()
                assert row is not None
                self._reader = PgReader(pool, str(row[0]), int(row[1]), int(row[2]),
                                        self.ef_search)  # fmt: skip
            return self._reader

    def all_articles(self) -> list[Article]:
        """Every stored article in full, oldest first (to rebuild the index from)."""
        with self.pool().connection() as conn:
            rows = conn.execute(
                "SELECT url, title, source, published, paragraphs, author FROM articles ORDER BY id"
            ).fetchall()
        return [Article(r[0], r[1], r[2], r[3], tuple(r[4]), r[5]) for r in rows]

    def migrate(self, dimension: int) -> list[str]:
        """Bring the schema up to date; the names of the migrations applied."""
        with connect(self.url) as conn:
            applied = migrate(conn, dimension)
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                ensure_vector_index(conn, self.vector_index)
        return [f"{m.version}: {m.name}" for m in applied]

    @contextmanager
    def write(self, *, fresh: bool = False, dimension: int) -> Iterator[PgWriter]:
        """One batch, applied in one transaction when the block ends without an error;
        ``fresh`` replaces everything indexed. An empty database is migrated first."""
        with connect(self.url) as conn:
            if applied_version(conn) == 0:
                migrate(conn, dimension)
        pool = self.pool()
        with pool.connection() as conn:
            if fresh:
                record_spec(conn, self.spec.model, dimension, self.spec.chunking.as_dict())
            else:
                check_spec(conn, self.spec.model, self.spec.chunking.as_dict(), dimension)
            writer = PgWriter(conn, self._tokenizer)
            yield writer
            if writer.discard and not fresh:
                return
            writer.count_terms()  # outside the transaction and its lock
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                if fresh:
                    empty_store(conn)
                row = conn.execute("SELECT passages FROM store_state").fetchone()
                bulk = writer.new_passages >= max(int(row[0]) if row else 0, BULK_PASSAGES)
                if bulk or self._deferred:
                    drop_vector_index(conn)  # built once the rows are in (much faster)
                passages, tokens = writer.apply()
                if not self._deferred:
                    ensure_vector_index(conn, self.vector_index)
                conn.execute(
                    "UPDATE store_state SET version = version + 1, passages = passages + %s,"
                    " tokens = tokens + %s",
                    (passages, tokens),
                )
            if bulk:
                _vacuum(conn)
        self._checked = True

    def last_write(self) -> str | None:
        """When an article last landed (UTC, ISO), or None before the first."""
        with self.pool().connection() as conn:
            row = conn.execute("SELECT max(added_at) FROM articles").fetchone()
        when = row[0] if row else None
        return None if when is None else when.astimezone(UTC).isoformat(timespec="seconds")

    @contextmanager
    def bulk_load(self, passages: int) -> Iterator[None]:
        """Writes that bring ``passages`` (an import in many batches): when they are at
        least as many as the store holds, the HNSW index is dropped at the first batch and
        built once at the end instead of growing vector by vector."""
        held = self.reader().size if self.version() is not None else 0
        self._deferred = self.vector_index == "hnsw" and passages >= max(held, BULK_PASSAGES)
        try:
            yield
        finally:
            deferred, self._deferred = self._deferred, False
            if deferred:
                with self.pool().connection() as conn:
                    with conn.transaction():
                        conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                        ensure_vector_index(conn, self.vector_index)
                    _vacuum(conn)

    def status(self) -> dict[str, object]:
        """Schema version, counts and sizes, for `newsbot db status`."""
        with connect(self.url) as conn:
            version = applied_version(conn)
            status: dict[str, object] = {
                "database": redact(self.url),
                "schema_version": version,
                "latest_schema": LATEST,
            }
            if version == 0:
                return status
            meta: dict[str, str] = dict(
                conn.execute("SELECT key, value FROM store_meta").fetchall()
            )
            state = conn.execute("SELECT version, passages FROM store_state").fetchone()
            assert state is not None
            for table in ("articles", "article_urls", "passages", "passage_terms",
                          "exchanges", "feedback", "followed_feeds"):  # fmt: skip
                row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
                status[table] = int(row[0]) if row else 0
            sizes = conn.execute(
                "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relkind = 'i'"
                " AND c.relname IN ('passages_by_embedding', 'passage_terms_pkey')"
            ).fetchall()
            index_bytes: dict[str, int] = {str(name): int(size) for name, size in sizes}
            status.update(
                writes=int(state[0]),
                model=meta.get("model"),
                dimension=int(meta["dimension"]) if "dimension" in meta else None,
                chunking=json.loads(meta["chunking"]) if "chunking" in meta else None,
                hnsw_index_bytes=index_bytes.get("passages_by_embedding", 0),
                keyword_index_bytes=index_bytes.get("passage_terms_pkey", 0),
                database_bytes=int(
                    conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]  # type: ignore[index]
                ),
            )
        return status

    def close(self) -> None:
        """Close the connections."""
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
            self._reader = None


def _vacuum(conn: psycopg.Connection) -> None:
    """After a bulk load: statistics for the planner, and the visibility map that lets
    keyword search read postings from the index alone. Right after a load of 100k passages,
    before autovacuum got to it, bench_pg.py timed questions at 137 ms (p50); the same
    corpus once autovacuum had run answered in about 50 ms."""
    conn.execute("VACUUM (ANALYZE) passages, passage_terms, term_stats")
