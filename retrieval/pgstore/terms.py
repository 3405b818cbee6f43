"""Keyword statistics for BM25 in PostgreSQL, cut by the embedded store's own tokenizer.

PostgreSQL's full-text ranking (``ts_rank``) is not BM25, so the passages' terms are kept in
a table (term, passage, count, with the passage's length and date) and BM25 is computed in
SQL the way SQLite FTS5's ``bm25()`` computes it (k1 1.2, b 0.75, FTS5's idf). The terms are
cut by FTS5's tokenizer (porter over unicode61, run in memory), so both backends stem alike
and rank alike.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Sequence

from retrieval.index.keywords import FTS_TOKENIZER

K1, B = 1.2, 0.75
# FTS5 floors an idf at this (a term in more than half of the passages).
MIN_IDF = 1e-6


class Tokenizer:
    """FTS5's tokenizer, in memory: terms with counts of texts, and stems of query words."""

    def __init__(self) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.executescript(
            f"CREATE VIRTUAL TABLE bodies USING fts5(body, tokenize='{FTS_TOKENIZER}');"
            "CREATE VIRTUAL TABLE tokens USING fts5vocab(bodies, 'instance');"
        )
        self._lock = threading.Lock()

    def counts(self, texts: Sequence[str]) -> list[Counter[str]]:
        """Each text's terms with how often it holds them."""
        result: list[Counter[str]] = [Counter() for _ in texts]
        with self._lock, self._db:
            self._db.executemany(
                "INSERT INTO bodies (rowid, body) VALUES (?, ?)", list(enumerate(texts))
            )
            rows = self._db.execute(
                "SELECT term, doc, COUNT(*) FROM tokens GROUP BY term, doc"
            ).fetchall()
            self._db.execute("DELETE FROM bodies")
        for term, doc, count in rows:
            result[doc][term] = count
        return result

    def stems(self, words: Sequence[str]) -> list[str]:
        """The stems of a question's words; a word FTS5 cuts in two gives both parts."""
        stems: list[str] = []
        for counts in self.counts(list(words)):
            stems.extend(counts)
        return stems
