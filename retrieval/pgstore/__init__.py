"""PostgreSQL with pgvector as the store, for many processes and machines at once.

``storage`` offers it as a ``retrieval.storage.Storage`` (``reader``: pgvector's HNSW
search and BM25 in SQL over ``terms``; ``writer``: batches applied in one transaction
each), ``schema`` holds the versioned migrations, ``connection`` the pool (and throwaway schemas),
``feeds`` the followed feeds with their last polls and the poll lock, and
``importing`` moves an embedded index into the database without re-embedding it.
"""

from retrieval.pgstore.connection import connect, open_pool, redact, scratch_schema
from retrieval.pgstore.feeds import SharedFeeds, poll_lock
from retrieval.pgstore.importing import ImportReport, import_embedded
from retrieval.pgstore.schema import (
    FEED_POLL_LOCK,
    LATEST,
    MIGRATIONS,
    VECTOR_INDEXES,
    applied_version,
)
from retrieval.pgstore.storage import EF_SEARCH, POOL_SIZE, PgStorage

__all__ = [
    "EF_SEARCH",
    "FEED_POLL_LOCK",
    "LATEST",
    "MIGRATIONS",
    "POOL_SIZE",
    "VECTOR_INDEXES",
    "ImportReport",
    "PgStorage",
    "SharedFeeds",
    "applied_version",
    "connect",
    "import_embedded",
    "open_pool",
    "poll_lock",
    "redact",
    "scratch_schema",
]
