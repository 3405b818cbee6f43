"""The article and passage store: SQLite beside the FAISS index."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from retrieval.articles import Article, ArticleSummary, Passage

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    author TEXT,
    published TEXT NOT NULL,
    paragraphs TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_by_article ON passages(article_id);
CREATE INDEX IF NOT EXISTS articles_by_date ON articles(published);
"""


@dataclass(frozen=True)
class StoredPassage:
    """A passage joined with its article's metadata."""

    id: int
    position: int
    text: str
    article: ArticleSummary


class Store:
    """SQLite tables of articles and passages; passage ids are the FAISS ids."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        if readonly:
            uri = f"file:{path.resolve()}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        else:
            self._db = sqlite3.connect(path, check_same_thread=False)
            self._db.executescript(SCHEMA)
        self._db.execute("PRAGMA foreign_keys = ON")
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def add_article(self, article: Article, passages: Iterable[Passage]) -> list[int]:
        """Insert an article and its passages; return the new passage ids in order."""
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO articles (url, title, source, author, published, paragraphs)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    article.url,
                    article.title,
                    article.source,
                    article.author,
                    article.published.isoformat(),
                    json.dumps(list(article.paragraphs)),
                ),
            )
            article_id = cursor.lastrowid
            ids = []
            for passage in passages:
                cursor = self._db.execute(
                    "INSERT INTO passages (article_id, position, text) VALUES (?, ?, ?)",
                    (article_id, passage.position, passage.text),
                )
                ids.append(int(cursor.lastrowid or 0))
            return ids

    def passages(self, ids: Iterable[int]) -> dict[int, StoredPassage]:
        """The passages with these ids, with their articles."""
        wanted = [int(i) for i in ids]
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        with self._lock:
            rows = self._db.execute(
                "SELECT p.id, p.position, p.text, a.url, a.title, a.source, a.published, a.author"
                f" FROM passages p JOIN articles a ON a.id = p.article_id WHERE p.id IN ({marks})",
                wanted,
            ).fetchall()
        return {
            row[0]: StoredPassage(
                id=row[0],
                position=row[1],
                text=row[2],
                article=ArticleSummary(
                    url=row[3],
                    title=row[4],
                    source=row[5],
                    published=date.fromisoformat(row[6]),
                    author=row[7],
                ),
            )
            for row in rows
        }

    def list_articles(self) -> list[ArticleSummary]:
        """Every article, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT url, title, source, published, author FROM articles"
                " ORDER BY published DESC, id DESC"
            ).fetchall()
        return [
            ArticleSummary(
                url=r[0], title=r[1], source=r[2], published=date.fromisoformat(r[3]), author=r[4]
            )
            for r in rows
        ]

    def counts(self) -> dict[str, int]:
        """How many articles and passages the store holds."""
        with self._lock:
            articles = self._db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
            passages = self._db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
        return {"articles": int(articles), "passages": int(passages)}
