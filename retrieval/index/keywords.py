"""BM25 for large stores: FTS5's ranking, computed with numpy from a saved posting matrix.

SQLite FTS5 scores every passage that holds any word of the question before it keeps the
best: at 100,000 passages that was 15-20 ms of a 26 ms answer. A generation of at least
``MIN_PASSAGES`` passages therefore saves its postings (term, passage, count, taken from
FTS5's own tokenizer through its vocabulary table) beside the store, and the reader scores
a question's terms with them: the same BM25 as FTS5's ``bm25()`` (k1 1.2, b 0.75, FTS5's idf),
so rankings do not change, in a few milliseconds (3 against 23 ms at 100,000 passages).
A term FTS5 reads as a phrase ("2-point": two tokens in a row) needs word positions, which
the postings lack: FTS5 scores that phrase alone. BM25 is a sum over the query's phrases, so
the parts add up to the whole query's score. Smaller stores keep asking FTS5.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path

import numpy as np

from retrieval.index.postings import FTS_TOKENIZER, positions, read_postings

KEYWORDS = "keywords.npz"
# Postings of the passages added since the generation's base ``KEYWORDS`` (see ``deltas``).
KEYWORD_DELTA = "keywords-delta.npz"
# At 10,000 passages FTS5 already took p99 40 ms (bench_scale.py); at 1,000, under 4 ms.
# Saving costs a full tokenization once (about 1 s per 10,000 passages), then only the new
# passages' at each commit.
MIN_PASSAGES = 5_000
_K1, _B = 1.2, 0.75
KNOWN_TERMS = 100_000  # query terms whose stems are remembered
# Every passage holding a phrase, with FTS5's BM25 score of that phrase alone.
PhraseScores = Callable[[str], Sequence[tuple[int, float]]]


class KeywordIndex:
    """BM25 scores of a generation's passages for a question's terms."""

    def __init__(self, path: Path, delta: Path | None = None) -> None:
        data = read_postings(path, delta)
        self._terms = {t: i for i, t in enumerate(data.terms)}
        self._starts = np.searchsorted(data.term_ids, np.arange(len(data.terms) + 1))
        self._ids = data.ids
        self._days = data.days
        self._positions = positions(data.ids)
        self._rows = self._positions[data.pids]
        counts = data.counts.astype(np.float32)
        lengths = np.bincount(self._rows, weights=counts, minlength=len(self._ids))
        total = len(self._ids)
        average = float(lengths.mean()) if total else 1.0
        # The part of BM25 that depends on the passage alone, per posting.
        norm = _K1 * (1 - _B + _B * lengths[self._rows] / average)
        self._weights = counts * (_K1 + 1) / (counts + norm)
        hits = np.diff(self._starts)
        self._idf = np.maximum(np.log((total - hits + 0.5) / (hits + 0.5)), 1e-6)
        self._tokenizer = _Tokenizer()

    def search(
        self, terms: list[str], k: int, published_by: date, phrase_scores: PhraseScores
    ) -> list[tuple[int, float]]:
        """The ``k`` best passage ids with FTS5's BM25 score (higher is better), among
        passages published on or before ``published_by``. A term that is a phrase to FTS5
        is scored by ``phrase_scores`` (FTS5 itself, on that phrase alone): the whole query
        in FTS5 scored every passage holding any word, 15-32 ms at 100,000 passages, and
        was most of the slowest answers there (bench_scale.py)."""
        rows, weights = [], []
        for term in terms:
            stems = self._tokenizer.stems(term)
            if stems is None:
                scored = phrase_scores(term)
                ids = np.array([i for i, _ in scored], dtype=np.int64)
                rows.append(self._rows_of(ids))
                weights.append(np.array([s for _, s in scored], dtype=np.float64))
            for stem in stems or ():
                t = self._terms.get(stem)
                if t is not None:
                    rows.append(self._rows[self._starts[t] : self._starts[t + 1]])
                    part = self._weights[self._starts[t] : self._starts[t + 1]]
                    weights.append(part * self._idf[t])
        if not rows or k <= 0:
            return []
        scores = np.bincount(np.concatenate(rows), weights=np.concatenate(weights),
                             minlength=len(self._ids))  # fmt: skip
        # Every posting weighs more than 0, so the passages holding a term are those that
        # score: found in one pass over the scores (np.unique of the rows sorted them: 0.7
        # ms a question at 34,000 passages), through a boolean array (numpy finds the
        # nonzero floats of 100,000 one by one: 0.34 against 0.06 ms).
        candidates = np.flatnonzero(scores > 0)
        candidates = candidates[self._days[candidates] <= published_by.toordinal()]
        if len(candidates) > k:
            best = np.argpartition(-scores[candidates], k - 1)[:k]
            candidates = candidates[best]
        ranked = candidates[np.argsort(-scores[candidates], kind="stable")]
        return [(int(self._ids[r]), float(scores[r])) for r in ranked]

    def frequency(self, term: str) -> int | None:
        """How many passages hold ``term`` (FTS5's count of it); None for a phrase."""
        stems = self._tokenizer.stems(term)
        if stems is None:
            return None
        t = self._terms.get(stems[0]) if stems else None
        return 0 if t is None else int(self._starts[t + 1] - self._starts[t])

    def _rows_of(self, ids: np.ndarray) -> np.ndarray:
        """The rows of these passage ids (FTS5 and the postings hold the same passages)."""
        inside = ids[ids < len(self._positions)]
        rows = self._positions[inside]
        return rows[self._ids[rows] == inside]


class _Tokenizer:
    """FTS5's own tokenizer (porter over unicode61), run on query terms in memory, so that
    they meet the stored postings' stems."""

    def __init__(self) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.executescript(
            f"CREATE VIRTUAL TABLE words USING fts5(body, tokenize='{FTS_TOKENIZER}');"
            "CREATE VIRTUAL TABLE stems USING fts5vocab(words, 'row');"
        )
        self._lock = threading.Lock()
        # A term's tokens never change; asking SQLite three statements per term cost about
        # 0.5 ms a question. Bounded: a bot hears ever new words.
        self._known: dict[str, list[tuple[str, int]]] = {}

    def stems(self, term: str) -> list[str] | None:
        """The stems of one term: one, or none for a term with no word (two terms may share
        one, and FTS5 then counts it twice); None if FTS5 reads it as a phrase (more than one
        token)."""
        tokens = self._known.get(term)
        if tokens is None:
            tokens = self._tokens(term)
        if len(tokens) > 1 or any(count > 1 for _, count in tokens):
            return None
        return [token for token, _ in tokens]

    def _tokens(self, term: str) -> list[tuple[str, int]]:
        """FTS5's tokens of one term with their counts, remembered."""
        with self._lock, self._db:
            self._db.execute("INSERT INTO words (body) VALUES (?)", (term,))
            tokens = self._db.execute("SELECT term, cnt FROM stems").fetchall()
            self._db.execute("DELETE FROM words")
        if len(self._known) >= KNOWN_TERMS:
            self._known.clear()
        self._known[term] = tokens
        return tokens


def fts_search(
    db: sqlite3.Connection, terms: Iterable[str], k: int, published_by: date, newest: str
) -> list[tuple[int, float]]:
    """BM25 from FTS5 itself: the ``k`` best passage ids with their scores (higher is better),
    among articles published on or before ``published_by`` (``newest``: the newest article's
    ISO date, which lets the date join be skipped)."""
    # Each term is quoted, so nothing a user types is read as FTS5 query syntax.
    query = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms if t)
    if not query:
        return []
    if published_by.isoformat() >= newest:
        # Nothing is too new: no join to the articles' dates, which cost as much as the
        # BM25 ranking itself (27 against 66 ms at 100k passages).
        sql = (
            "SELECT rowid, -bm25(passages_fts) AS score FROM passages_fts"
            " WHERE passages_fts MATCH ? ORDER BY score DESC LIMIT ?"
        )
        arguments: tuple[object, ...] = (query, k)
    else:
        sql = (
            "SELECT f.rowid, -bm25(passages_fts) AS score FROM passages_fts f"
            " JOIN passages p ON p.id = f.rowid JOIN articles a ON a.id = p.article_id"
            " WHERE passages_fts MATCH ? AND a.published <= ? ORDER BY score DESC LIMIT ?"
        )
        arguments = (query, published_by.isoformat(), k)
    return [(int(r[0]), float(r[1])) for r in db.execute(sql, arguments).fetchall()]


def fts_frequencies(db: sqlite3.Connection, terms: Iterable[str]) -> dict[str, int]:
    """How many passages FTS5 finds each term in (each quoted, so nothing is query syntax)."""
    counts = {}
    for term in terms:
        query = '"' + term.replace('"', '""') + '"'
        row = db.execute("SELECT count(*) FROM passages_fts WHERE passages_fts MATCH ?", (query,))
        counts[term] = int(row.fetchone()[0])
    return counts
