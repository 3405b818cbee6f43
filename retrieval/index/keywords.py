"""BM25 for large stores: FTS5's ranking, computed with numpy from a saved posting matrix.

SQLite FTS5 scores every passage that holds any word of the question before it keeps the
best: at 100,000 passages that was 15-20 ms of a 26 ms answer. A generation of at least
``MIN_PASSAGES`` passages therefore saves its postings (term, passage, count, taken from
FTS5's own tokenizer through its vocabulary table) beside the store, and the reader scores
a question's terms with them: the same BM25 as FTS5's ``bm25()`` (k1 1.2, b 0.75, FTS5's idf),
so rankings do not change, in a few milliseconds (3 against 23 ms at 100,000 passages).
Smaller stores keep asking FTS5.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import numpy as np

# How FTS5 splits and stems passages; the saved postings tokenize query terms and new
# passages the same way, so the two must not differ.
FTS_TOKENIZER = "porter unicode61"
KEYWORDS = "keywords.npz"
# At 10,000 passages FTS5 already took p99 40 ms (bench_scale.py); at 1,000, under 4 ms.
# Saving costs a full tokenization once (about 1 s per 10,000 passages), then only the new
# passages' at each commit.
MIN_PASSAGES = 5_000
_K1, _B = 1.2, 0.75
BLOCK_ROWS = 50_000  # postings read from SQLite at a time
KNOWN_TERMS = 100_000  # query terms whose stems are remembered


def save_keywords(store_path: Path, target: Path, previous: Path | None = None) -> None:
    """Save the postings of every passage in the store to ``target``: those of a
    ``previous`` file for the passages it already covers, FTS5's tokenizer's for the rest
    (so a commit that adds a few articles tokenizes only those)."""
    db = sqlite3.connect(f"file:{store_path.resolve()}?mode=ro", uri=True)
    try:
        dated = dict(db.execute(
            "SELECT p.id, a.published FROM passages p JOIN articles a ON a.id = p.article_id"
        ).fetchall())  # fmt: skip
        ids = np.array(sorted(dated), dtype=np.int64)
        terms, covered, (term_ids, pids, counts) = _kept_postings(previous, ids)
        fresh = np.setdiff1d(ids, covered, assume_unique=True).tolist()
        new_terms, new_term_ids, new_pids, new_counts = _tokenize(db, fresh)
    finally:
        db.close()
    # Terms already known keep their numbers; new ones are numbered after them.
    vocabulary = {t: i for i, t in enumerate(dict.fromkeys([*terms, *new_terms]))}
    new_term_ids = np.array([vocabulary[t] for t in new_terms], np.int64)[new_term_ids]
    added = np.lexsort((new_pids, new_term_ids))  # the fresh postings by term, then passage
    appended = not len(pids) or not len(new_pids) or new_pids.min() > pids.max()
    term_ids = np.concatenate([term_ids, new_term_ids[added]])
    pids = np.concatenate([pids, new_pids[added]])
    counts = np.concatenate([counts, new_counts[added]])
    # Kept postings are in order already, and fresh passages have higher ids (ids are never
    # reused): then a stable sort by term alone, a merge of two sorted runs, puts every
    # posting in order by term and passage. At 25,000 passages that saved 0.3 s a commit.
    order = np.argsort(term_ids, kind="stable") if appended else np.lexsort((pids, term_ids))
    with open(target, "wb") as handle:
        np.savez(
            handle,
            terms=np.array(list(vocabulary), dtype=object),
            starts=np.searchsorted(term_ids[order], np.arange(len(vocabulary) + 1)),
            rows=_positions(ids)[pids[order]],
            counts=counts[order],
            ids=ids,
            days=_ordinals([dated[i] for i in ids.tolist()]),
        )


def _positions(ids: np.ndarray) -> np.ndarray:
    """A table from passage id to its row in the sorted ``ids`` (a lookup, not a search)."""
    table = np.zeros(int(ids.max(initial=0)) + 1, dtype=np.int32)
    table[ids] = np.arange(len(ids), dtype=np.int32)
    return table


def _ordinals(days: list[str]) -> np.ndarray:
    """ISO dates as ``date.toordinal`` numbers, converted by numpy in one call."""
    epoch = date(1970, 1, 1).toordinal()
    return (np.array(days, dtype="datetime64[D]").astype(np.int64) + epoch).astype(np.int32)


def _kept_postings(
    previous: Path | None, ids: np.ndarray
) -> tuple[list[str], np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The previous file's terms, the passages it covered, and its postings (term number,
    passage, count) of the passages still in ``ids``, in its order (by term, then passage)."""
    if previous is None or not previous.exists():
        empty = np.zeros(0, np.int64)
        return [], empty, (empty, empty, np.zeros(0, np.int32))
    data = np.load(previous, allow_pickle=True)
    covered = data["ids"]
    term_ids = np.repeat(np.arange(len(data["starts"]) - 1), np.diff(data["starts"]))
    pids, counts = covered[data["rows"]], data["counts"]
    removed = np.setdiff1d(covered, ids, assume_unique=True)
    if len(removed):
        keep = ~np.isin(pids, removed)
        term_ids, pids, counts = term_ids[keep], pids[keep], counts[keep]
    return [str(t) for t in data["terms"]], covered, (term_ids, pids, counts)


Postings = tuple[list[str], np.ndarray, np.ndarray, np.ndarray]


def _tokenize(db: sqlite3.Connection, ids: list[int]) -> Postings:
    """The postings of these passages by the store's own tokenizer: the distinct terms, and
    per posting its term's number among them, its passage and its count."""
    if not ids:
        return _postings(None)
    scratch = sqlite3.connect(":memory:")
    try:
        scratch.executescript(
            f"CREATE VIRTUAL TABLE bodies USING fts5(body, tokenize='{FTS_TOKENIZER}');"
            "CREATE VIRTUAL TABLE tokens USING fts5vocab(bodies, 'instance');"
        )
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(
                f"SELECT rowid, body FROM passages_fts WHERE rowid IN ({marks})", chunk
            ).fetchall()
            scratch.executemany("INSERT INTO bodies (rowid, body) VALUES (?, ?)", rows)
        return _postings(scratch.execute(
            "SELECT term, doc, COUNT(*) FROM tokens GROUP BY term, doc"
        ))  # fmt: skip
    finally:
        scratch.close()


def _postings(rows: sqlite3.Cursor | None) -> Postings:
    """(term, passage, count) rows read a block at a time into arrays, each term kept once:
    as Python tuples, the 2 million postings of 34,000 passages took about 600 MB."""
    terms: dict[str, int] = {}
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    while rows is not None and (block := rows.fetchmany(BLOCK_ROWS)):
        numbers = [terms.setdefault(row[0], len(terms)) for row in block]
        parts.append((
            np.array(numbers, dtype=np.int64),
            np.fromiter((row[1] for row in block), dtype=np.int64, count=len(block)),
            np.fromiter((row[2] for row in block), dtype=np.int32, count=len(block)),
        ))  # fmt: skip
    if not parts:
        return [], np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32)
    term_ids, pids, counts = (np.concatenate(column) for column in zip(*parts, strict=True))
    return list(terms), term_ids, pids, counts


class KeywordIndex:
    """BM25 scores of a generation's passages for a question's terms."""

    def __init__(self, path: Path) -> None:
        data = np.load(path, allow_pickle=True)
        self._terms = {str(t): i for i, t in enumerate(data["terms"])}
        self._starts = data["starts"]
        self._ids = data["ids"]
        self._days = data["days"]
        self._rows = data["rows"]
        counts = data["counts"].astype(np.float32)
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
        self, terms: list[str], k: int, published_by: date
    ) -> list[tuple[int, float]] | None:
        """The ``k`` best passage ids with FTS5's BM25 score (higher is better), among
        passages published on or before ``published_by``; None when a term is a phrase to
        FTS5 ("north-korea": two tokens in a row), which only FTS5 can match."""
        stems = self._tokenizer.stems(terms)
        if stems is None:
            return None
        found = [self._terms[s] for s in stems if s in self._terms]
        if not found or k <= 0:
            return []
        rows = np.concatenate([self._rows[self._starts[t] : self._starts[t + 1]] for t in found])
        weights = np.concatenate(
            [self._weights[self._starts[t] : self._starts[t + 1]] * self._idf[t] for t in found]
        )
        scores = np.bincount(rows, weights=weights, minlength=len(self._ids))
        # Every posting weighs more than 0, so the passages holding a term are those that
        # score: found in one pass over the scores (np.unique of the rows sorted them: 0.7
        # ms a question at 34,000 passages).
        candidates = np.flatnonzero(scores)
        candidates = candidates[self._days[candidates] <= published_by.toordinal()]
        if len(candidates) > k:
            best = np.argpartition(-scores[candidates], k - 1)[:k]
            candidates = candidates[best]
        ranked = candidates[np.argsort(-scores[candidates], kind="stable")]
        return [(int(self._ids[r]), float(scores[r])) for r in ranked]


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

    def stems(self, terms: list[str]) -> list[str] | None:
        """The stem of each term, in order (two terms may share one, and FTS5 then counts
        it twice); None if a term makes more than one token."""
        stems: list[str] = []
        for term in terms:
            tokens = self._known.get(term)
            if tokens is None:
                tokens = self._tokens(term)
            if len(tokens) > 1 or any(count > 1 for _, count in tokens):
                return None
            stems.extend(token for token, _ in tokens)
        return stems

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
