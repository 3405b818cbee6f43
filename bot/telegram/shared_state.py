"""Bot state in PostgreSQL, shared by every replica: conversations, feedback, quotas.

The same interface as the SQLite ``ConversationStore`` and the in-memory ``RateLimiter``,
so handlers do not know which one they use. Used when NEWSBOT_DATABASE_URL is set.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.telegram.conversations import (
    LATENCY_SAMPLE,
    MAX_AGE_SECONDS,
    MAX_EXCHANGES_PER_CHAT,
    Exchange,
    Usage,
    thread_context,
)
from retrieval.pgstore import EF_SEARCH, SharedFeeds, open_pool, poll_lock

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

_PRUNE_EVERY = 100
_EXCHANGE = "id, chat_id, parent_id, question, answer, cited_urls, answered, created, user_id"


class SharedConversationStore:
    """Exchanges, reply messages, feedback and counters in PostgreSQL."""

    def __init__(
        self,
        pool: ConnectionPool,
        *,
        max_age: float = MAX_AGE_SECONDS,
        max_per_chat: int = MAX_EXCHANGES_PER_CHAT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._pool = pool
        self._max_age = max_age
        self._max_per_chat = max_per_chat
        self._clock = clock

    def close(self) -> None:
        """Nothing to close: the storage owns the connections."""

    def record(
        self,
        chat_id: int,
        question: str,
        answer: str,
        *,
        cited_urls: Sequence[str],
        answered: bool,
        parent_id: int | None,
        user_id: int | None = None,
    ) -> int:
        """Store one answered question (and who asked) and count it; return the exchange id."""
        with self._pool.connection() as conn, conn.transaction():
            row = conn.execute(
                "INSERT INTO exchanges (chat_id, parent_id, question, answer, cited_urls,"
                " answered, created, user_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                " RETURNING id",
                (chat_id, parent_id, question, answer, json.dumps(list(cited_urls)), answered,
                 self._clock(), user_id),
            ).fetchone()  # fmt: skip
            for name in ("questions", *(() if answered else ("not_found",))):
                conn.execute(
                    "INSERT INTO counters VALUES (%s, 1)"
                    " ON CONFLICT (name) DO UPDATE SET value = counters.value + 1",
                    (name,),
                )
        assert row is not None
        if row[0] % _PRUNE_EVERY == 0:
            self.prune()
        return int(row[0])

    def delivered(
        self, exchange_id: int, chat_id: int, message_ids: Sequence[int], latency: float
    ) -> None:
        """Link the bot messages that carry an exchange to it, and note the reply latency."""
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("UPDATE exchanges SET latency = %s WHERE id = %s", (latency, exchange_id))
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO bot_messages VALUES (%s, %s, %s) ON CONFLICT (chat_id,"
                    " message_id) DO UPDATE SET exchange_id = excluded.exchange_id",
                    [(chat_id, m, exchange_id) for m in message_ids],
                )

    def get(self, exchange_id: int) -> Exchange | None:
        """The exchange with this id, unless it has aged out."""
        with self._pool.connection() as conn:
            row = conn.execute(
                f"SELECT {_EXCHANGE} FROM exchanges WHERE id = %s AND created >= %s",
                (exchange_id, self._clock() - self._max_age),
            ).fetchone()
        return None if row is None else _exchange(row)

    def find(self, chat_id: int, message_id: int) -> Exchange | None:
        """The exchange a bot message in this chat belongs to, unless it has aged out."""
        with self._pool.connection() as conn:
            row = conn.execute(
                f"SELECT {', '.join('e.' + c for c in _EXCHANGE.split(', '))} FROM bot_messages m"
                " JOIN exchanges e ON e.id = m.exchange_id"
                " WHERE m.chat_id = %s AND m.message_id = %s AND e.created >= %s",
                (chat_id, message_id, self._clock() - self._max_age),
            ).fetchone()
        return None if row is None else _exchange(row)

    def context_for(self, exchange: Exchange) -> str:
        """The reply thread ending at `exchange` as text, most recent last, size-bounded."""
        return thread_context(exchange, self.get)

    def add_feedback(self, exchange: Exchange, user_id: int | None, vote: int) -> None:
        """Record a 👍 (+1) or 👎 (-1); a user's vote on an answer lands once (the last)."""
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO feedback (exchange_id, user_id, vote, question, answer, cited_urls,"
                " created) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (exchange_id, coalesce(user_id, 0))"
                " DO UPDATE SET vote = excluded.vote, created = excluded.created",
                (exchange.id, user_id, vote, exchange.question, exchange.answer,
                 json.dumps(list(exchange.cited_urls)), self._clock()),
            )  # fmt: skip

    def feedback(self) -> list[tuple[int, int | None, int, str, str, tuple[str, ...]]]:
        """Every feedback row: exchange id, user id, vote, question, answer, cited addresses."""
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT exchange_id, user_id, vote, question, answer, cited_urls FROM feedback"
                " ORDER BY id"
            ).fetchall()
        return [(r[0], r[1], r[2], r[3], r[4], tuple(r[5])) for r in rows]

    def usage(self) -> Usage:
        """Question and not-found counts, and latency percentiles of recent answers."""
        with self._pool.connection() as conn:
            counts: dict[str, int] = dict(
                conn.execute("SELECT name, value FROM counters").fetchall()
            )
            latencies = [
                float(r[0])
                for r in conn.execute(
                    "SELECT latency FROM exchanges WHERE latency IS NOT NULL"
                    " ORDER BY id DESC LIMIT %s",
                    (LATENCY_SAMPLE,),
                )
            ]
        p50 = p95 = None
        if len(latencies) >= 2:
            p50 = statistics.median(latencies)
            p95 = statistics.quantiles(latencies, n=20, method="inclusive")[18]
        elif latencies:
            p50 = p95 = latencies[0]
        return Usage(int(counts.get("questions", 0)), int(counts.get("not_found", 0)), p50, p95)

    def prune(self) -> None:
        """Forget exchanges past the age limit or beyond the per-chat cap."""
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(
                "DELETE FROM exchanges WHERE created < %s", (self._clock() - self._max_age,)
            )
            conn.execute(
                "DELETE FROM exchanges WHERE id IN (SELECT id FROM (SELECT id, row_number()"
                " OVER (PARTITION BY chat_id ORDER BY id DESC) AS age FROM exchanges) ranked"
                " WHERE age > %s)",
                (self._max_per_chat,),
            )


def _exchange(row: tuple) -> Exchange:
    return Exchange(
        row[0], row[1], row[2], row[3], row[4], tuple(row[5]), bool(row[6]), row[7], row[8]
    )


class SharedRateLimiter:
    """A sliding-window limit of events per key, counted in PostgreSQL for every replica
    (by the replicas' clocks: wall time, which NTP keeps within milliseconds)."""

    def __init__(
        self,
        pool: ConnectionPool,
        scope: str,
        per_window: int,
        window: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._pool = pool
        self._scope = scope
        self._per_window = per_window
        self._window = window
        self._clock = clock

    def acquire(self, key: int) -> float:
        """Count one event for `key` and return 0, or return the seconds to wait if over."""
        now = self._clock()
        with self._pool.connection() as conn, conn.transaction():
            # One key's events are counted by one replica at a time.
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, %s))", (self._scope, key)
            )
            conn.execute(
                "DELETE FROM rate_events WHERE scope = %s AND key = %s AND at <= %s",
                (self._scope, key, now - self._window),
            )
            row = conn.execute(
                "SELECT count(*), min(at) FROM rate_events WHERE scope = %s AND key = %s",
                (self._scope, key),
            ).fetchone()
            assert row is not None
            if int(row[0]) >= self._per_window:
                return float(row[1]) + self._window - now
            conn.execute("INSERT INTO rate_events VALUES (%s, %s, %s)", (self._scope, key, now))
        return 0.0


@dataclass(frozen=True)
class SharedState:
    """What replicas share: the conversations, the quotas, the feeds and the poll lock."""

    conversations: SharedConversationStore
    questions: SharedRateLimiter
    inline_queries: SharedRateLimiter
    browsing: SharedRateLimiter
    feeds: SharedFeeds
    pool: ConnectionPool

    def poll_turn(self) -> AbstractContextManager[bool]:
        """True while this replica holds the feed-poll lock (one replica polls at a time)."""
        return poll_lock(self.pool)

    def close(self) -> None:
        """Close the connections."""
        self.pool.close()


def open_shared_state(
    url: str, per_minute: int, browse_per_minute: int, pool_size: int
) -> SharedState:
    """Connect to the database (migrated already: the bot needs an index there first)."""
    pool = open_pool(url, ef_search=EF_SEARCH, size=pool_size)
    return SharedState(
        conversations=SharedConversationStore(pool),
        questions=SharedRateLimiter(pool, "questions", per_minute),
        inline_queries=SharedRateLimiter(pool, "inline", per_minute),
        browsing=SharedRateLimiter(pool, "browsing", browse_per_minute),
        feeds=SharedFeeds(pool),
        pool=pool,
    )
