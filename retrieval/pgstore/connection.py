"""Connecting to PostgreSQL: the driver import, a pool of connections, a URL fit to print."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from retrieval.errors import NewsbotError

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


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
