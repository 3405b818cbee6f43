"""Fixtures for ingest tests: the local fixture web site and fetchers pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from retrieval.sources import Fetcher


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    """A fetcher with a timeout short enough for tests and generous enough for loopback.

    The local site is on 127.0.0.1, so private networks are allowed, as for a local server.
    """
    with Fetcher(timeout=2.0, allow_private_networks=True) as fetcher:
        yield fetcher


@pytest.fixture
def impatient_fetcher() -> Iterator[Fetcher]:
    """A fetcher that gives up after half a second."""
    with Fetcher(timeout=0.5, allow_private_networks=True) as fetcher:
        yield fetcher
