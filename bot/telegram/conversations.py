"""SQLite memory of answered questions: follow-up context, feedback and usage figures."""

from __future__ import annotations

import json
import sqlite3
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.followups import CONTEXT_DEPTH, thread_text

MAX_AGE_SECONDS = 7 * 24 * 3600
MAX_EXCHANGES_PER_CHAT = 500
LATENCY_SAMPLE = 1000
_PRUNE_EVERY = 100

_SCHEMA = """
CREATE TABLE IF NOT EXISTS exchanges (
    id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL, parent_id INTEGER,
    question TEXT NOT NULL, answer TEXT NOT NULL, cited_urls TEXT NOT NULL,
    answered INTEGER NOT NULL, latency REAL, created REAL NOT NULL, user_id INTEGER);
CREATE INDEX IF NOT EXISTS exchanges_by_chat ON exchanges (chat_id, id);
CREATE TABLE IF NOT EXISTS bot_messages (
    chat_id INTEGER NOT NULL, message_id INTEGER NOT NULL, exchange_id INTEGER NOT NULL,
    PRIMARY KEY (chat_id, message_id));
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY, exchange_id INTEGER NOT NULL, user_id INTEGER, vote INTEGER NOT NULL,
    question TEXT NOT NULL, answer TEXT NOT NULL, cited_urls TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class Exchange:
    """One question the bot answered in a chat, and the reply thread it belongs to."""

    id: int
    chat_id: int
    parent_id: int | None
    question: str
    answer: str
    cited_urls: tuple[str, ...]
    answered: bool
    created: float
    user_id: int | None = None  # who asked; None in stores from before it was kept


@dataclass(frozen=True)
class Usage:
    """Figures for /stats: questions since the store was created, recent latency in seconds."""

    questions: int
    not_found: int
    latency_p50: float | None
    latency_p95: float | None


def thread_context(exchange: Exchange, get: Callable[[int], Exchange | None]) -> str:
    """The reply thread ending at `exchange` as text (earlier turns looked up with `get`),
    most recent last, bounded in depth and size."""
    turns: list[tuple[str, str]] = []
    current: Exchange | None = exchange
    while current is not None and len(turns) < CONTEXT_DEPTH:
        turns.append((current.question, current.answer))
        current = get(current.parent_id) if current.parent_id else None
    return thread_text(reversed(turns))


class ConversationStore:
    """Exchanges keyed by the bot's reply messages, bounded in age and per-chat count."""

    def __init__(
        self,
        path: Path,
        *,
        max_age: float = MAX_AGE_SECONDS,
        max_per_chat: int = MAX_EXCHANGES_PER_CHAT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection used only from the event loop thread; WAL keeps commits cheap.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(exchanges)")}
        if "user_id" not in columns:  # a store written before feedback was tied to the asker
            self._db.execute("ALTER TABLE exchanges ADD COLUMN user_id INTEGER")
        self._max_age = max_age
        self._max_per_chat = max_per_chat
        self._clock = clock

    def close(self) -> None:
        """Close the database."""
        self._db.close()

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
        """Store one answered question and count it; return the exchange id."""
        with self._db:
            self._db.execute("BEGIN")
            cursor = self._db.execute(
                "INSERT INTO exchanges (chat_id, parent_id, question, answer, cited_urls,"
                " answered, created, user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    chat_id,
                    parent_id,
                    question,
                    answer,
                    json.dumps(list(cited_urls)),
                    int(answered),
                    self._clock(),
                    user_id,
                ),
            )
            exchange_id = int(cursor.lastrowid or 0)
            self._bump("questions")
            if not answered:
                self._bump("not_found")
        if exchange_id % _PRUNE_EVERY == 0:
            self.prune()
        return exchange_id

    def delivered(
        self, exchange_id: int, chat_id: int, message_ids: Sequence[int], latency: float
    ) -> None:
        """Link the bot messages that carry an exchange to it, and note the reply latency."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "UPDATE exchanges SET latency = ? WHERE id = ?", (latency, exchange_id)
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO bot_messages VALUES (?, ?, ?)",
                [(chat_id, m, exchange_id) for m in message_ids],
            )

    def _bump(self, name: str) -> None:
        self._db.execute(
            "INSERT INTO counters VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = value + 1",
            (name,),
        )

    def get(self, exchange_id: int) -> Exchange | None:
        """The exchange with this id, unless it has aged out."""
        row = self._db.execute(
            "SELECT id, chat_id, parent_id, question, answer, cited_urls, answered, created,"
            " user_id FROM exchanges WHERE id = ? AND created >= ?",
            (exchange_id, self._clock() - self._max_age),
        ).fetchone()
        if row is None:
            return None
        return Exchange(
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            tuple(json.loads(row[5])),
            bool(row[6]),
            row[7],
            row[8],
        )

    def find(self, chat_id: int, message_id: int) -> Exchange | None:
        """The exchange a bot message in this chat belongs to, unless it has aged out."""
        row = self._db.execute(
            "SELECT exchange_id FROM bot_messages WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        ).fetchone()
        return None if row is None else self.get(row[0])

    def context_for(self, exchange: Exchange) -> str:
        """The reply thread ending at `exchange` as text, most recent last, size-bounded."""
        return thread_context(exchange, self.get)

    def add_feedback(self, exchange: Exchange, user_id: int | None, vote: int) -> None:
        """Record a 👍 (+1) or 👎 (-1) with the question, answer and cited addresses."""
        with self._db:
            self._db.execute(
                "INSERT INTO feedback (exchange_id, user_id, vote, question, answer, cited_urls,"
                " created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    exchange.id,
                    user_id,
                    vote,
                    exchange.question,
                    exchange.answer,
                    json.dumps(list(exchange.cited_urls)),
                    self._clock(),
                ),
            )

    def feedback(self) -> list[tuple[int, int | None, int, str, str, tuple[str, ...]]]:
        """Every feedback row: exchange id, user id, vote, question, answer, cited addresses."""
        rows = self._db.execute(
            "SELECT exchange_id, user_id, vote, question, answer, cited_urls FROM feedback"
            " ORDER BY id"
        ).fetchall()
        return [(r[0], r[1], r[2], r[3], r[4], tuple(json.loads(r[5]))) for r in rows]

    def usage(self) -> Usage:
        """Question and not-found counts, and latency percentiles of recent answers."""
        counts = dict(self._db.execute("SELECT name, value FROM counters").fetchall())
        latencies = [
            row[0]
            for row in self._db.execute(
                "SELECT latency FROM exchanges WHERE latency IS NOT NULL ORDER BY id DESC LIMIT ?",
                (LATENCY_SAMPLE,),
            )
        ]
        p50 = p95 = None
        if len(latencies) >= 2:
            cuts = statistics.quantiles(latencies, n=20, method="inclusive")
            p50, p95 = statistics.median(latencies), cuts[18]
        elif latencies:
            p50 = p95 = latencies[0]
        return Usage(counts.get("questions", 0), counts.get("not_found", 0), p50, p95)

    def prune(self) -> None:
        """Forget exchanges past the age limit or beyond the per-chat cap."""
        cutoff = self._clock() - self._max_age
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM exchanges WHERE created < ?", (cutoff,))
            self._db.execute(
                "DELETE FROM exchanges WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER()"
                " OVER (PARTITION BY chat_id ORDER BY id DESC) AS age FROM exchanges)"
                " WHERE age > ?)",
                (self._max_per_chat,),
            )
            self._db.execute(
                "DELETE FROM bot_messages WHERE exchange_id NOT IN (SELECT id FROM exchanges)"
            )
