"""Fixtures for ingest tests: the local fixture web site and fetchers pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from retrieval.fetch import Fetcher
from tests.ingest.server import FixtureServer


@pytest.fixture(scope="session")
def site() -> Iterator[FixtureServer]:
    """The fixture web site on 127.0.0.1, shared by every ingest test."""
    server = FixtureServer().start()
    yield server
    server.stop()


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    """A fetcher with a timeout short enough for tests and generous enough for loopback."""
    with Fetcher(timeout=2.0) as fetcher:
        yield fetcher


@pytest.fixture
def impatient_fetcher() -> Iterator[Fetcher]:
    """A fetcher that gives up after half a second."""
    with Fetcher(timeout=0.5) as fetcher:
        yield fetcher
