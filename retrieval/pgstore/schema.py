"""The PostgreSQL schema: versioned migrations, applied once each, under a lock."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from retrieval.errors import IndexMismatchError, NewsbotError

if TYPE_CHECKING:
    import psycopg

# pg_advisory_xact_lock keys (any two distinct 64-bit numbers; these spell "newsbot" + n).
MIGRATION_LOCK = 0x6E657773626F7401
WRITE_LOCK = 0x6E657773626F7402
FEED_POLL_LOCK = 0x6E657773626F7403


@dataclass(frozen=True)
class Migration:
    """One step of the schema; ``sql`` may name ``{dimension}``, the model's vector size."""

    version: int
    name: str
    sql: str


MIGRATIONS = (
    Migration(1, "articles, passages, vectors and keyword terms", """
CREATE TABLE store_meta (key text PRIMARY KEY, value text NOT NULL);
-- One row: bumped by every write that lands (readers notice it), with the counts BM25 needs.
CREATE TABLE store_state (
    id integer PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL,
    passages bigint NOT NULL,
    tokens bigint NOT NULL
);
INSERT INTO store_state VALUES (1, 0, 0, 0);
CREATE TABLE articles (
    id bigserial PRIMARY KEY,
    url text NOT NULL UNIQUE,
    title text NOT NULL,
    source text NOT NULL,
    author text,
    published date NOT NULL,
    paragraphs jsonb NOT NULL,
    content_hash text NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX articles_by_date ON articles (published);
CREATE INDEX articles_by_hash ON articles (content_hash);
-- Every URL an article is known by: its own, and those of copies of the same text.
CREATE TABLE article_urls (
    url text PRIMARY KEY,
    article_id bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE
);
CREATE INDEX urls_by_article ON article_urls (article_id);
-- The article's date is repeated on its passages and terms, so date filters need no join.
CREATE TABLE passages (
    id bigserial PRIMARY KEY,
    article_id bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    position integer NOT NULL,
    text text NOT NULL,
    published date NOT NULL,
    length integer NOT NULL,
    embedding vector({dimension}) NOT NULL
);
CREATE INDEX passages_by_article ON passages (article_id);
CREATE INDEX passages_by_date ON passages (published);
-- int8 rows with a float32 scale each (retrieval.index.store.pack_rows).
CREATE TABLE sentence_vectors (
    passage_id bigint PRIMARY KEY REFERENCES passages (id) ON DELETE CASCADE,
    sentences integer NOT NULL,
    vectors bytea NOT NULL
);
-- BM25 postings (retrieval.pgstore.terms): one row per term of a passage.
CREATE TABLE passage_terms (
    term text NOT NULL,
    passage_id bigint NOT NULL REFERENCES passages (id) ON DELETE CASCADE,
    count integer NOT NULL,
    length integer NOT NULL,
    published date NOT NULL,
    PRIMARY KEY (term, passage_id) INCLUDE (count, length, published)
);
CREATE INDEX terms_by_passage ON passage_terms (passage_id);
"""),
    Migration(2, "bot state: conversations, feedback, feeds and rate limits", """
CREATE TABLE exchanges (
    id bigserial PRIMARY KEY,
    chat_id bigint NOT NULL,
    parent_id bigint,
    question text NOT NULL,
    answer text NOT NULL,
    cited_urls jsonb NOT NULL,
    answered boolean NOT NULL,
    latency double precision,
    created double precision NOT NULL,
    user_id bigint  -- who asked: only they may rate the answer
);
CREATE INDEX exchanges_by_chat ON exchanges (chat_id, id);
CREATE TABLE bot_messages (
    chat_id bigint NOT NULL,
    message_id bigint NOT NULL,
    exchange_id bigint NOT NULL REFERENCES exchanges (id) ON DELETE CASCADE,
    PRIMARY KEY (chat_id, message_id)
);
-- One vote per user and answer: a press delivered twice, or to two replicas, lands once.
CREATE TABLE feedback (
    id bigserial PRIMARY KEY,
    exchange_id bigint NOT NULL,
    user_id bigint,
    vote integer NOT NULL,
    question text NOT NULL,
    answer text NOT NULL,
    cited_urls jsonb NOT NULL,
    created double precision NOT NULL
);
CREATE UNIQUE INDEX feedback_once ON feedback (exchange_id, coalesce(user_id, 0));
CREATE TABLE counters (name text PRIMARY KEY, value bigint NOT NULL);
CREATE TABLE followed_feeds (
    id bigserial PRIMARY KEY,
    url text NOT NULL UNIQUE,
    added_at timestamptz NOT NULL DEFAULT now()
);
-- Sliding-window quotas shared by every replica: one row per counted event.
CREATE TABLE rate_events (scope text NOT NULL, key bigint NOT NULL, at double precision NOT NULL);
CREATE INDEX rate_events_by_key ON rate_events (scope, key, at);
"""),
    Migration(3, "the last poll of each followed feed", """
-- What /feeds shows: when each feed was last read and with what result (retrieval.sources
-- FeedPoll), written by whichever replica or worker polled it.
CREATE TABLE feed_polls (
    url text PRIMARY KEY,
    polled_at text NOT NULL,
    articles integer NOT NULL,
    skipped integer NOT NULL,
    problems integer NOT NULL,
    first_problem text
);
"""),
    Migration(4, "how many passages hold each keyword term", """
-- BM25's document frequencies, kept by every write: counting a common term's postings for
-- each question cost more than the rest of the keyword search at 100k passages.
CREATE TABLE term_stats (term text PRIMARY KEY, passages bigint NOT NULL);
INSERT INTO term_stats SELECT term, count(*) FROM passage_terms GROUP BY term;
"""),
)  # fmt: skip
LATEST = MIGRATIONS[-1].version
# Which migrations ran; a store's other tables live in the schema that holds this one.
MIGRATIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS {table} (version integer PRIMARY KEY,"
    " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
)


def applied_version(conn: psycopg.Connection) -> int:
    """The schema version of the database (0 when newsbot never migrated it)."""
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: psycopg.Connection, dimension: int) -> list[Migration]:
    """Apply the migrations the database lacks, in one transaction; return them."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        ensure_vector_extension(conn)
        conn.execute(MIGRATIONS_TABLE.format(table="schema_migrations"))
        current = applied_version(conn)
        pending = [m for m in MIGRATIONS if m.version > current]
        for migration in pending:
            conn.execute(migration.sql.format(dimension=int(dimension)).encode())
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
    return pending


def ensure_vector_extension(conn: psycopg.Connection) -> None:
    """Create pgvector in this database, or say what an administrator must run."""
    import psycopg

    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone():
        return
    database = conn.info.dbname
    try:
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.errors.InsufficientPrivilege:
        raise NewsbotError(
            f"the database {database!r} lacks the pgvector extension and this role may not "
            f"create it: ask an administrator to run `CREATE EXTENSION vector;` in {database!r}"
        ) from None
    except (psycopg.errors.FeatureNotSupported, psycopg.errors.UndefinedFile):
        raise NewsbotError(
            "pgvector is not installed on this PostgreSQL server: install it (every managed "
            f"PostgreSQL offers it), then run `CREATE EXTENSION vector;` in {database!r}"
        ) from None


def check_spec(
    conn: psycopg.Connection, model: str, chunking: dict, dimension: int | None = None
) -> None:
    """Refuse a store built with another model or other passage settings (or, for a
    writer, vectors of another size). A store never written to is recorded as asked."""
    stored: dict[str, str] = dict(conn.execute("SELECT key, value FROM store_meta").fetchall())
    if not stored and dimension is not None:
        record_spec(conn, model, dimension, chunking)
        return
    wanted = {"model": model, "chunking": json.dumps(chunking, sort_keys=True)}
    if dimension is not None:
        wanted["dimension"] = str(dimension)
    problems = [
        f"{key} {stored.get(key)!r}, settings ask for {value!r}"
        for key, value in wanted.items()
        if stored.get(key) != value
    ]
    if problems:
        raise IndexMismatchError(
            f"the database was indexed with {'; '.join(problems)}: run `newsbot index` "
            "(with --existing to keep its articles) to rebuild it"
        )


def empty_store(conn: psycopg.Connection) -> None:
    """Delete every article with its passages, vectors and keyword statistics."""
    conn.execute("DELETE FROM articles")
    conn.execute("DELETE FROM term_stats")
    conn.execute("UPDATE store_state SET passages = 0, tokens = 0")


def record_spec(conn: psycopg.Connection, model: str, dimension: int, chunking: dict) -> None:
    """Record what the store is built with, resizing the vector column for a new model's
    dimension (only ever before a fresh build, which empties the store)."""
    values = {"model": model, "dimension": str(dimension),
              "chunking": json.dumps(chunking, sort_keys=True)}  # fmt: skip
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        row = conn.execute("SELECT value FROM store_meta WHERE key = 'dimension'").fetchone()
        if row is not None and int(row[0]) != dimension:
            empty_store(conn)
            conn.execute("DROP INDEX IF EXISTS passages_by_embedding")
            conn.execute(
                f"ALTER TABLE passages ALTER COLUMN embedding TYPE vector({int(dimension)})"
            )
        for key, value in values.items():
            conn.execute(
                "INSERT INTO store_meta (key, value) VALUES (%s, %s)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


VECTOR_INDEXES = ("hnsw", "exact")


# pgvector builds an HNSW graph fastest when it fits in maintenance_work_mem (a parallel
# build allocates all of it up front): the vector plus up to 2 x 16 neighbour links of
# 8 bytes and some headroom per passage, within these bounds.
_BUILD_MEMORY_MIN, _BUILD_MEMORY_MAX = 64 << 20, 2 << 30


def build_memory(passages: int, dimension: int) -> str:
    """The maintenance_work_mem to build an HNSW graph of this many passages with."""
    wanted = int(passages * (4 * dimension + 2 * 16 * 8 + 200) * 1.25)
    return f"{min(max(wanted, _BUILD_MEMORY_MIN), _BUILD_MEMORY_MAX) >> 20}MB"


def ensure_vector_index(conn: psycopg.Connection, kind: str) -> None:
    """Give the passage vectors the index ``kind`` asks for: ``hnsw`` (pgvector's graph,
    cosine distance) or ``exact`` (none: every question reads every vector)."""
    if kind not in VECTOR_INDEXES:
        raise ValueError(f"unknown vector index {kind!r}; expected one of {VECTOR_INDEXES}")
    exists = conn.execute("SELECT to_regclass('passages_by_embedding') IS NOT NULL").fetchone()
    if kind == "hnsw" and not (exists and exists[0]):
        row = conn.execute(
            "SELECT count(*), coalesce(max(vector_dims(embedding)), 0) FROM passages"
        ).fetchone()
        assert row is not None
        memory = build_memory(int(row[0]), int(row[1]))
        conn.execute("SELECT set_config('maintenance_work_mem', %s, true)", (memory,))
        conn.execute(
            "CREATE INDEX passages_by_embedding ON passages"
            " USING hnsw (embedding vector_cosine_ops)"
        )
    elif kind == "exact" and exists and exists[0]:
        drop_vector_index(conn)


def drop_vector_index(conn: psycopg.Connection) -> None:
    """Drop the HNSW index (before a bulk load: building it afterwards is several times
    faster than inserting each vector into the graph)."""
    conn.execute("DROP INDEX IF EXISTS passages_by_embedding")
