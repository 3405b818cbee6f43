"""Saved keyword postings: the file format, reading it (with a delta on top), and saving
the postings of a store's passages, tokenizing only those no earlier file covers.

A file holds, per term, the rows of the passages holding it and their counts; ``keywords``
scores BM25 with it. A delta file holds the passages added since its base file and lists
the base's passages that are gone (see ``retrieval.index.deltas``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

# How FTS5 splits and stems passages; the saved postings tokenize query terms and new
# passages the same way, so the two must not differ.
FTS_TOKENIZER = "porter unicode61"
BLOCK_ROWS = 50_000  # postings read from SQLite at a time


@dataclass(frozen=True)
class PostingFile:
    """A saved posting file, expanded: its terms, the passages it covers (sorted) with their
    days, and per posting (by term, then passage) its term's number, passage and count;
    ``removed``, in a delta file, the passages of its base that are gone."""

    terms: list[str]
    ids: np.ndarray
    days: np.ndarray
    term_ids: np.ndarray
    pids: np.ndarray
    counts: np.ndarray
    removed: np.ndarray


def read_postings(path: Path, delta: Path | None = None) -> PostingFile:
    """A posting file, merged with the ``delta`` written on top of it when there is one."""
    data = np.load(path, allow_pickle=True)
    ids = data["ids"]
    removed = data["removed"] if "removed" in data.files else np.zeros(0, np.int64)
    postings = PostingFile([str(t) for t in data["terms"]], ids, data["days"],
                           np.repeat(np.arange(len(data["starts"]) - 1), np.diff(data["starts"])),
                           ids[data["rows"]], data["counts"], removed)  # fmt: skip
    return postings if delta is None else _merged(postings, read_postings(delta))


def _merged(base: PostingFile, delta: PostingFile) -> PostingFile:
    """``base`` without the passages ``delta`` removes, with those it adds."""
    kept_ids = ~np.isin(base.ids, delta.removed)
    kept = ~np.isin(base.pids, delta.removed)
    vocabulary = {t: i for i, t in enumerate(dict.fromkeys([*base.terms, *delta.terms]))}
    renumbered = np.array([vocabulary[t] for t in delta.terms], np.int64)[delta.term_ids]
    return _in_order(
        list(vocabulary),
        np.concatenate([base.ids[kept_ids], delta.ids]),
        np.concatenate([base.days[kept_ids], delta.days]),
        (np.concatenate([base.term_ids[kept], renumbered]),
         np.concatenate([base.pids[kept], delta.pids]),
         np.concatenate([base.counts[kept], delta.counts])),
        appended=True,  # a delta's passages came after its base's
    )  # fmt: skip


def _in_order(terms: list[str], ids: np.ndarray, days: np.ndarray,
              postings: tuple[np.ndarray, np.ndarray, np.ndarray], *, appended: bool,
              removed: np.ndarray | None = None) -> PostingFile:  # fmt: skip
    """Postings sorted by term, then passage. When the second run's passages all come after
    the first's (ids are never reused), a stable sort by term alone, a merge of two sorted
    runs, does it: at 25,000 passages that saved 0.3 s a commit."""
    term_ids, pids, counts = postings
    order = np.argsort(term_ids, kind="stable") if appended else np.lexsort((pids, term_ids))
    empty = np.zeros(0, np.int64)
    return PostingFile(terms, ids, days, term_ids[order], pids[order], counts[order],
                       empty if removed is None else removed)  # fmt: skip


def save_keywords(
    store_path: Path,
    target: Path,
    previous: Path | None = None,
    *,
    previous_delta: Path | None = None,
    base: Path | None = None,
) -> None:
    """Save the postings of every passage in the store to ``target``: those of a
    ``previous`` file (with its ``previous_delta``) for the passages it already covers,
    FTS5's tokenizer's for the rest (so a commit that adds a few articles tokenizes only
    those). With ``base``, ``target`` is a delta on that file: it covers only the passages
    the base lacks, and lists the base's passages that are gone."""
    db = sqlite3.connect(f"file:{store_path.resolve()}?mode=ro", uri=True)
    try:
        # A delta covers the passages after its base's last (ids only grow): only theirs
        # are read with their dates, and the base's only as ids, to see which are gone.
        base_ids = np.load(base)["ids"] if base is not None else np.zeros(0, np.int64)
        top = int(base_ids.max(initial=0))
        dated = dict(db.execute(
            "SELECT p.id, a.published FROM passages p JOIN articles a ON a.id = p.article_id"
            " WHERE p.id > ?", (top,)
        ).fetchall())  # fmt: skip
        ids = np.array(sorted(dated), dtype=np.int64)
        removed = None
        if base is not None:
            removed = _gone(db, base_ids, top)
        terms, covered, (term_ids, pids, counts) = _kept_postings(previous, previous_delta, ids)
        fresh = np.setdiff1d(ids, covered, assume_unique=True).tolist()
        new_terms, new_term_ids, new_pids, new_counts = _tokenize(db, fresh)
    finally:
        db.close()
    # Terms already known keep their numbers; new ones are numbered after them.
    vocabulary = {t: i for i, t in enumerate(dict.fromkeys([*terms, *new_terms]))}
    new_term_ids = np.array([vocabulary[t] for t in new_terms], np.int64)[new_term_ids]
    added = np.lexsort((new_pids, new_term_ids))  # the fresh postings by term, then passage
    appended = not len(pids) or not len(new_pids) or new_pids.min() > pids.max()
    postings = (np.concatenate([term_ids, new_term_ids[added]]),
                np.concatenate([pids, new_pids[added]]),
                np.concatenate([counts, new_counts[added]]))  # fmt: skip
    days = _ordinals([dated[i] for i in ids.tolist()])
    _write(target, _in_order(list(vocabulary), ids, days, postings, appended=appended,
                             removed=removed))  # fmt: skip


def _gone(db: sqlite3.Connection, base_ids: np.ndarray, top: int) -> np.ndarray:
    """The passages of a base no longer in the store. Counted first through the small index
    on passages (most commits remove none): reading every id took 20-30 ms at 34,000."""
    where = "FROM passages INDEXED BY passages_by_article WHERE id <= ?"
    if db.execute(f"SELECT COUNT(*) {where}", (top,)).fetchone()[0] == len(base_ids):
        return np.zeros(0, np.int64)
    still = db.execute(f"SELECT id {where}", (top,)).fetchall()
    held = np.fromiter((row[0] for row in still), dtype=np.int64, count=len(still))
    return np.setdiff1d(base_ids, held)


def _write(target: Path, postings: PostingFile) -> None:
    with open(target, "wb") as handle:
        np.savez(
            handle,
            terms=np.array(postings.terms, dtype=object),
            starts=np.searchsorted(postings.term_ids, np.arange(len(postings.terms) + 1)),
            rows=positions(postings.ids)[postings.pids],
            counts=postings.counts,
            ids=postings.ids,
            days=postings.days,
            removed=postings.removed,
        )


def positions(ids: np.ndarray) -> np.ndarray:
    """A table from passage id to its row in the sorted ``ids`` (a lookup, not a search)."""
    table = np.zeros(int(ids.max(initial=0)) + 1, dtype=np.int32)
    table[ids] = np.arange(len(ids), dtype=np.int32)
    return table


def _ordinals(days: list[str]) -> np.ndarray:
    """ISO dates as ``date.toordinal`` numbers, converted by numpy in one call."""
    epoch = date(1970, 1, 1).toordinal()
    return (np.array(days, dtype="datetime64[D]").astype(np.int64) + epoch).astype(np.int32)


def _kept_postings(
    previous: Path | None, delta: Path | None, ids: np.ndarray
) -> tuple[list[str], np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The previous file's terms, the passages it covered, and its postings (term number,
    passage, count) of the passages still in ``ids``, in its order (by term, then passage)."""
    if previous is None or not previous.exists():
        empty = np.zeros(0, np.int64)
        return [], empty, (empty, empty, np.zeros(0, np.int32))
    data = read_postings(previous, delta if delta is not None and delta.exists() else None)
    term_ids, pids, counts = data.term_ids, data.pids, data.counts
    if len(np.setdiff1d(data.ids, ids, assume_unique=True)):
        keep = np.isin(pids, ids)
        term_ids, pids, counts = term_ids[keep], pids[keep], counts[keep]
    return data.terms, data.ids, (term_ids, pids, counts)


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
