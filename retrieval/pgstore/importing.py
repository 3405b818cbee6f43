"""Moving an embedded index (FAISS + SQLite generations) into PostgreSQL, vectors and all."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from retrieval.articles import Article, Passage
from retrieval.index import STORE, IndexReader, IndexSpec, open_index
from retrieval.index.rows import unpack_rows
from retrieval.pgstore.storage import PgStorage
from retrieval.urls import content_hash

IMPORT_BATCH = 200  # articles per transaction: a stopped import keeps what it committed


@dataclass
class ImportReport:
    """What an import did."""

    articles: int = 0
    passages: int = 0
    unchanged: int = 0
    aliases: int = 0


def import_embedded(
    data_dir: Path,
    storage: PgStorage,
    spec: IndexSpec,
    *,
    batch: int = IMPORT_BATCH,
    progress: Callable[[ImportReport, int], None] | None = None,
) -> ImportReport:
    """Copy the live generation in ``data_dir`` into ``storage``, without re-embedding.

    Articles already in the database with the same text are left alone, so an import that
    was stopped can be run again to complete it.
    """
    source = open_index(data_dir, spec)  # checks the model and the passage settings
    report = ImportReport()
    db = sqlite3.connect(f"file:{(source.directory / STORE).resolve()}?mode=ro", uri=True)
    try:
        rows = list(_articles(db))
        dimension = int(source.vectors.d)
        passages = int(db.execute("SELECT COUNT(*) FROM passages").fetchone()[0])
        with storage.bulk_load(passages):
            _copy(db, source, storage, rows, batch, dimension, report, progress)
        with storage.write(dimension=dimension) as writer:
            for url, article_url in db.execute(
                "SELECT u.url, a.url FROM article_urls u JOIN articles a ON a.id = u.article_id"
                " WHERE u.url != a.url"
            ):
                target = writer.find(article_url)
                if target is not None and writer.find(url) is None:
                    writer.add_alias(url, target.id)
                    report.aliases += 1
            writer.discard = writer.changes == 0
    finally:
        db.close()
        source.close()
    return report


def _copy(db: sqlite3.Connection, source: IndexReader, storage: PgStorage,
          rows: list[tuple[int, Article]], batch: int, dimension: int, report: ImportReport,
          progress: Callable[[ImportReport, int], None] | None) -> None:  # fmt: skip
    """The articles with their passages and vectors, ``batch`` articles a transaction."""
    for start in range(0, len(rows), batch):
        with storage.write(dimension=dimension) as writer:
            for article_id, article in rows[start : start + batch]:
                stored = writer.find(article.url)
                if stored is not None and stored.content_hash == content_hash(article):
                    report.unchanged += 1
                    continue
                if stored is not None:
                    writer.remove_article(stored.id)
                ids, passages = _passages(db, article_id, article.url)
                vectors = (np.vstack([source.vectors.reconstruct(i) for i in ids])
                           if ids else np.zeros((0, dimension), np.float32))  # fmt: skip
                sentences = _sentence_vectors(db, ids)
                writer.add_article(article, passages, vectors, sentences)
                report.articles += 1
                report.passages += len(ids)
            writer.discard = writer.changes == 0
        if progress is not None:
            progress(report, len(rows))


def _articles(db: sqlite3.Connection) -> Iterator[tuple[int, Article]]:
    for row in db.execute(
        "SELECT id, url, title, source, published, paragraphs, author FROM articles ORDER BY id"
    ):
        yield row[0], Article(row[1], row[2], row[3], date.fromisoformat(row[4]),
                              tuple(json.loads(row[5])), row[6])  # fmt: skip


def _passages(db: sqlite3.Connection, article_id: int, url: str) -> tuple[list[int], list[Passage]]:
    rows = db.execute(
        "SELECT id, position, text FROM passages WHERE article_id = ? ORDER BY position, id",
        (article_id,),
    ).fetchall()
    return [int(r[0]) for r in rows], [Passage(url, r[1], r[2]) for r in rows]


def _sentence_vectors(db: sqlite3.Connection, ids: list[int]) -> list[np.ndarray]:
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    found = {
        r[0]: unpack_rows(r[2], r[1])
        for r in db.execute(
            f"SELECT passage_id, sentences, vectors FROM sentence_vectors"
            f" WHERE passage_id IN ({marks})",
            ids,
        )
    }
    return [found.get(i, np.zeros((0, 0), np.float32)) for i in ids]
