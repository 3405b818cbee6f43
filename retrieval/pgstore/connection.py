"""Connecting to PostgreSQL: the driver import, a pool of connections, a URL fit to print."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from retrieval.errors import NewsbotError
from retrieval.pgstore.schema import MIGRATIONS_TABLE

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


def redact(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    return _PASSWORD.sub(r"\1***@", re.sub(r"password=[^&\s]*", "password=***", url))


def _driver() -> None:
    try:
        import pgvector.psycopg  # noqa: F401
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        raise NewsbotError(
            'NEWSBOT_DATABASE_URL needs the PostgreSQL libraries: pip install "newsbot[postgres]"'
        ) from None


def connect(url: str) -> psycopg.Connection:
    """One autocommit connection (migrations, status, the cheap version check)."""
    _driver()
    import psycopg

    try:
        return psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError as exc:
        raise NewsbotError(f"cannot connect to {redact(url)}: {_first_line(exc)}") from None


def open_pool(url: str, *, ef_search: int, size: int) -> ConnectionPool:
    """A pool of autocommit connections that pass numpy vectors as pgvector values."""
    _driver()
    import psycopg
    from pgvector.psycopg import register_vector
    from psycopg_pool import ConnectionPool

    def configure(conn: psycopg.Connection) -> None:
        register_vector(conn)
        conn.execute("SELECT set_config('hnsw.ef_search', %s, false)", (str(ef_search),))

    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=max(size, 1),
        kwargs={"autocommit": True},
        configure=configure,
        open=False,
        name="newsbot",
    )
    try:
        pool.open(wait=True, timeout=30)
    except psycopg.Error as exc:
        pool.close()
        raise NewsbotError(f"cannot connect to {redact(url)}: {_first_line(exc)}") from None
    return pool


@contextmanager
def scratch_schema(url: str) -> Iterator[str]:
    """A connection string for a new, empty schema in this database, for a throwaway store
    such as `newsbot eval --backend postgres` (pgvector's types still found on the search
    path); the schema and everything in it is dropped when the block ends."""
    from psycopg.conninfo import make_conninfo

    schema = f"newsbot_scratch_{secrets.token_hex(6)}"
    with connect(url) as conn:
        row = conn.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'vector'"
        ).fetchone()
        with conn.transaction():
            conn.execute(f"CREATE SCHEMA {schema}")
            # Found first on the search path, so the store's tables are made here, not
            # read from another schema on the path (such as public's newsbot store).
            conn.execute(MIGRATIONS_TABLE.format(table=f"{schema}.schema_migrations"))
    path = ",".join([schema, *(row or ())])
    try:
        yield make_conninfo(url, options=f"-c search_path={path}")
    finally:
        with connect(url) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
