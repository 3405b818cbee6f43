"""The article and passage store: SQLite beside the FAISS index."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

import numpy as np

from retrieval.articles import Article, ArticleSummary, Passage
from retrieval.chunking import embedding_text
from retrieval.index.keywords import fts_frequencies, fts_search
from retrieval.index.postings import FTS_TOKENIZER
from retrieval.index.rows import pack_rows, unpack_rows
from retrieval.storage import StoredArticle, StoredPassage
from retrieval.urls import content_hash

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    author TEXT,
    published TEXT NOT NULL,
    paragraphs TEXT NOT NULL,
    content_hash TEXT NOT NULL
);
-- Every URL an article is known by: its own, and those of copies of the same text.
CREATE TABLE IF NOT EXISTS article_urls (
    url TEXT PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE
);
-- AUTOINCREMENT: a passage id (also its FAISS id) is never reused after a removal.
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    text TEXT NOT NULL
);
-- Each passage's sentence vectors (one row per sentence of split_sentences, int8 with a
-- float32 scale per row: see pack_rows), so that answering needs no encoding beyond the
-- question's.
CREATE TABLE IF NOT EXISTS sentence_vectors (
    passage_id INTEGER PRIMARY KEY REFERENCES passages(id) ON DELETE CASCADE,
    sentences INTEGER NOT NULL,
    vectors BLOB NOT NULL
);
-- BM25 over title and passage text (rowid = passage id), for keyword and hybrid search.
CREATE VIRTUAL TABLE IF NOT EXISTS passages_fts USING fts5(body, tokenize='{FTS_TOKENIZER}');
CREATE INDEX IF NOT EXISTS passages_by_article ON passages(article_id);
CREATE INDEX IF NOT EXISTS articles_by_date ON articles(published);
CREATE INDEX IF NOT EXISTS articles_by_hash ON articles(content_hash);
CREATE INDEX IF NOT EXISTS urls_by_article ON article_urls(article_id);
"""
_SUMMARY = "a.url, a.title, a.source, a.published, a.author"
MMAP_BYTES = 1 << 30
COMPACT_SHARE = 0.25  # of free pages, above which a copy is compacted (VACUUM INTO: 0.84 s)


def _summary(row: tuple) -> ArticleSummary:
    return ArticleSummary(
        url=row[0], title=row[1], source=row[2], published=date.fromisoformat(row[3]),
        author=row[4],
    )  # fmt: skip


class Store:
    """SQLite tables of articles and passages; passage ids are the FAISS ids."""

    def __init__(self, path: Path, *, readonly: bool = False, durable: bool = True) -> None:
        self.path = path
        self._readonly = readonly
        self._newest: str | None = None
        if readonly:
            uri = f"file:{path.resolve()}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            # Read through the page cache rather than copying pages: keyword search at 100k
            # passages went from 66 to 45 ms with it.
            self._db.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        else:
            self._db = sqlite3.connect(path, check_same_thread=False)
            if not durable:  # private, fsynced whole, dropped on failure: no fsync and no
                # journal file made and deleted per article's commit (0.75 ms each)
                self._db.execute("PRAGMA synchronous = OFF")
                self._db.execute("PRAGMA journal_mode = MEMORY")
            self._db.executescript(SCHEMA)
        self._db.execute("PRAGMA foreign_keys = ON")
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    # --- writing --------------------------------------------------------------------------

    def add_article(
        self,
        article: Article,
        passages: Iterable[Passage],
        sentence_vectors: Sequence[np.ndarray] = (),
    ) -> list[int]:
        """Insert an article and its passages (with each passage's sentence vectors, when
        given); return the new passage ids in order."""
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO articles (url, title, source, author, published, paragraphs,"
                " content_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    article.url,
                    article.title,
                    article.source,
                    article.author,
                    article.published.isoformat(),
                    json.dumps(list(article.paragraphs)),
                    content_hash(article),
                ),
            )
            article_id = cursor.lastrowid
            self._db.execute(
                "INSERT OR REPLACE INTO article_urls (url, article_id) VALUES (?, ?)",
                (article.url, article_id),
            )
            ids = []
            for passage in passages:
                cursor = self._db.execute(
                    "INSERT INTO passages (article_id, position, text) VALUES (?, ?, ?)",
                    (article_id, passage.position, passage.text),
                )
                ids.append(int(cursor.lastrowid or 0))
                self._db.execute(
                    "INSERT INTO passages_fts (rowid, body) VALUES (?, ?)",
                    (ids[-1], embedding_text(article.title, passage.text)),
                )
            if sentence_vectors and len(sentence_vectors) != len(ids):
                raise ValueError(f"{len(sentence_vectors)} sets of sentence vectors for "
                                 f"{len(ids)} passages")  # fmt: skip
            self._db.executemany(
                "INSERT INTO sentence_vectors (passage_id, sentences, vectors) VALUES (?, ?, ?)",
                [
                    (i, len(v), pack_rows(v))
                    for i, v in zip(ids, sentence_vectors, strict=False)
                    if len(v)
                ],
            )
            return ids

    def add_alias(self, url: str, article_id: int) -> None:
        """Record another URL under which an article's text was found."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO article_urls (url, article_id) VALUES (?, ?)",
                (url, article_id),
            )

    def remove_article(self, article_id: int) -> list[int]:
        """Delete an article with its passages and URLs; return the removed passage ids."""
        with self._lock, self._db:
            ids = [
                row[0]
                for row in self._db.execute(
                    "SELECT id FROM passages WHERE article_id = ?", (article_id,)
                )
            ]
            self._db.executemany("DELETE FROM passages_fts WHERE rowid = ?", [(i,) for i in ids])
            self._db.execute("DELETE FROM passages WHERE article_id = ?", (article_id,))
            self._db.execute("DELETE FROM article_urls WHERE article_id = ?", (article_id,))
            self._db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
            return ids

    # --- reading --------------------------------------------------------------------------

    def find(self, url: str) -> StoredArticle | None:
        """The article known by this URL (its own or an alias), if any."""
        return self._find("JOIN article_urls u ON u.article_id = a.id WHERE u.url = ?", url)

    def find_by_hash(self, digest: str) -> StoredArticle | None:
        """An article whose text has this fingerprint, if any."""
        return self._find("WHERE a.content_hash = ?", digest)

    def _find(self, where: str, value: str) -> StoredArticle | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT a.id, a.url, a.content_hash, a.title, a.published FROM articles a {where}",
                (value,),
            ).fetchone()
        if row is None:
            return None
        return StoredArticle(row[0], row[1], row[2], row[3], date.fromisoformat(row[4]))

    def passages(self, ids: Iterable[int]) -> dict[int, StoredPassage]:
        """The passages with these ids, with their articles."""
        wanted = [int(i) for i in ids]
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        with self._lock:
            rows = self._db.execute(
                f"SELECT p.id, p.position, p.text, {_SUMMARY} FROM passages p"
                f" JOIN articles a ON a.id = p.article_id WHERE p.id IN ({marks})",
                wanted,
            ).fetchall()
        return {row[0]: StoredPassage(row[0], row[1], row[2], _summary(row[3:])) for row in rows}

    def sentence_vectors(self, ids: Iterable[int]) -> dict[int, np.ndarray]:
        """The stored sentence vectors (float32, one row per sentence) of these passages;
        passages stored without them are left out."""
        wanted = [int(i) for i in ids]
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        with self._lock:
            rows = self._db.execute(
                "SELECT passage_id, sentences, vectors FROM sentence_vectors"
                f" WHERE passage_id IN ({marks})",
                wanted,
            ).fetchall()
        return {row[0]: unpack_rows(row[2], row[1]) for row in rows}

    def keyword_search(
        self, terms: Iterable[str], k: int, published_by: date
    ) -> list[tuple[int, float]]:
        """BM25 over titles and passages: the ``k`` best passage ids with their scores (higher
        is better), among articles published on or before ``published_by``."""
        newest = self._newest_date()
        with self._lock:
            return fts_search(self._db, terms, k, published_by, newest)

    def document_frequencies(self, terms: Iterable[str]) -> dict[str, int]:
        """How many passages hold each term (stemmed as BM25 stems it), for IDF weights."""
        with self._lock:
            return fts_frequencies(self._db, terms)

    def _newest_date(self) -> str:
        """The newest article's date (ISO); read once when the store cannot change."""
        if self._newest is not None:
            return self._newest
        with self._lock:
            newest = self._db.execute("SELECT MAX(published) FROM articles").fetchone()[0]
        newest = newest or "0000-00-00"
        if self._readonly:
            self._newest = newest
        return newest

    def list_articles(self) -> list[ArticleSummary]:
        """Every article, newest first, with the other URLs it is known by."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_SUMMARY}, (SELECT json_group_array(u.url) FROM article_urls u"
                " WHERE u.article_id = a.id AND u.url != a.url)"
                " FROM articles a ORDER BY a.published DESC, a.id DESC"
            ).fetchall()
        return [
            ArticleSummary(**{**_summary(row).__dict__, "aliases": tuple(json.loads(row[5]))})
            for row in rows
        ]

    def all_articles(self) -> list[Article]:
        """Every stored article in full, oldest first (to rebuild the index from)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT url, title, source, published, author, paragraphs FROM articles ORDER BY id"
            ).fetchall()
        return [Article(url=r[0], title=r[1], source=r[2], published=date.fromisoformat(r[3]),
                        paragraphs=tuple(json.loads(r[5])), author=r[4])
                for r in rows]  # fmt: skip

    def counts(self) -> dict[str, int]:
        """How many articles, passages and article URLs the store holds."""
        with self._lock:
            articles = self._db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
            passages = self._db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
        return {"articles": int(articles), "passages": int(passages)}

    def alias_count(self) -> int:
        """How many URLs are recorded beside the articles' own (copies of the same text)."""
        with self._lock:
            total = self._db.execute("SELECT COUNT(*) FROM article_urls").fetchone()[0]
            articles = self._db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        return int(total) - int(articles)

    def free_bytes(self) -> int:
        """Space held by deleted rows, which the next write (or a rebuild) gives back."""
        with self._lock:
            pages = self._db.execute("PRAGMA freelist_count").fetchone()[0]
            size = self._db.execute("PRAGMA page_size").fetchone()[0]
        return int(pages) * int(size)

    def copy_to(self, path: Path) -> None:
        """Copy the database to ``path``: its file (a live store never changes), or compacted."""
        if self.free_bytes() < COMPACT_SHARE * self.path.stat().st_size:
            shutil.copyfile(self.path, path)
            return
        with self._lock:
            self._db.execute("VACUUM INTO ?", (str(path),))
