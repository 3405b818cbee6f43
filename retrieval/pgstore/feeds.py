"""The followed feeds in PostgreSQL, and the lock that lets one replica poll them at a time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import astuple
from datetime import datetime
from typing import TYPE_CHECKING

from retrieval.errors import NewsbotError
from retrieval.pgstore.schema import FEED_POLL_LOCK
from retrieval.sources import FeedPoll, SourceResult, poll_of
from retrieval.urls import canonical_url

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool


class SharedFeeds:
    """The feed list every replica and worker reads (`newsbot feeds add` writes it)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def poll_turn(self) -> AbstractContextManager[bool]:
        """Whether this process may poll now: True for one process at a time on the database
        (see `poll_lock`), so `newsbot feeds poll` and the replicas don't poll together."""
        return poll_lock(self._pool)

    def load(self) -> list[str]:
        """The followed feed URLs, in the order they were added."""
        with self._pool.connection() as conn:
            rows = conn.execute("SELECT url FROM followed_feeds ORDER BY id").fetchall()
        return [r[0] for r in rows]

    def add(self, urls: list[str]) -> list[str]:
        """Follow these feeds too; returns the ones that were new."""
        canonical = []
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise NewsbotError(f"{url}: a feed must be an http(s) URL")
            try:
                canonical.append(canonical_url(url))
            except ValueError:
                raise NewsbotError(f"{url}: not a valid URL") from None
        new = []
        with self._pool.connection() as conn, conn.transaction():
            for url in dict.fromkeys(canonical):
                row = conn.execute(
                    "INSERT INTO followed_feeds (url) VALUES (%s) ON CONFLICT DO NOTHING"
                    " RETURNING url",
                    (url,),
                ).fetchone()
                if row is not None:
                    new.append(url)
        return new

    def remove(self, urls: list[str]) -> list[str]:
        """Stop following these feeds; returns those of ``urls`` that were followed."""
        removed = []
        with self._pool.connection() as conn, conn.transaction():
            for url in urls:
                try:
                    canonical = canonical_url(url)
                except ValueError:
                    continue
                if conn.execute("DELETE FROM followed_feeds WHERE url = %s RETURNING url",
                                (canonical,)).fetchone():  # fmt: skip
                    removed.append(url)
        return removed

    def polls(self) -> dict[str, FeedPoll]:
        """The last poll of each feed, by feed URL, whichever process polled it."""
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT url, polled_at, articles, skipped, problems, first_problem FROM feed_polls"
            ).fetchall()
        return {r[0]: FeedPoll(*r[1:]) for r in rows}

    def record_polls(self, results: Iterable[SourceResult], when: datetime) -> None:
        """Note the outcome of reading each of these feeds at ``when``, replacing earlier notes."""
        rows = [(result.source, *astuple(poll_of(result, when))) for result in results]
        if not rows:
            return
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO feed_polls VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (url) DO"
                " UPDATE SET polled_at = excluded.polled_at, articles = excluded.articles,"
                " skipped = excluded.skipped, problems = excluded.problems,"
                " first_problem = excluded.first_problem",
                rows,
            )


@contextmanager
def poll_lock(pool: ConnectionPool) -> Iterator[bool]:
    """Whether this process may poll the feeds now: True for one holder at a time, among
    every process on the database, until the block ends (or the holder dies)."""
    with pool.connection() as conn:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (FEED_POLL_LOCK,)).fetchone()
        held = bool(row and row[0])
        try:
            yield held
        finally:
            if held:
                conn.execute("SELECT pg_advisory_unlock(%s)", (FEED_POLL_LOCK,))
