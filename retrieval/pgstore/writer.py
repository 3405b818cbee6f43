"""Writing to PostgreSQL: a batch collected in memory, then applied in one transaction.

Deciding what a batch does (``update_index``: new, changed, copies) and embedding it take
long; applying it takes milliseconds. So the batch's changes are collected, and applied at
commit under a transaction-level advisory lock: two writers on two machines embed at the
same time and apply one after the other. Applying re-checks what another writer landed
meanwhile, so neither leaves a duplicate: an article whose URL arrived meanwhile replaces
it, and one whose text arrived meanwhile under another URL becomes that article's alias.
A writer killed before its commit loses only its own batch (PostgreSQL rolls it back).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from retrieval.articles import Article, Passage
from retrieval.chunking import embedding_text
from retrieval.index.rows import pack_rows
from retrieval.pgstore.reader import find_article, find_article_by_hash
from retrieval.pgstore.schema import WRITE_LOCK
from retrieval.pgstore.terms import Tokenizer
from retrieval.storage import StoredArticle
from retrieval.urls import content_hash

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class _Added:
    """An article of this batch, not yet in the database: ``id`` is negative until then."""

    id: int
    article: Article
    digest: str
    passages: Sequence[Passage]
    vectors: np.ndarray
    sentence_vectors: Sequence[np.ndarray]

    def stored(self) -> StoredArticle:
        a = self.article
        return StoredArticle(self.id, a.url, self.digest, a.title, a.published)


class PgWriter:
    """One batch: reads see the database plus the batch's own changes."""

    def __init__(self, conn: psycopg.Connection, tokenizer: Tokenizer) -> None:
        self.conn = conn
        self.discard = False
        self._tokenizer = tokenizer
        self._ops: list[tuple[str, object, object]] = []
        self._added: dict[str, _Added] = {}
        self._removed: set[int] = set()
        self._terms: dict[int, list[Counter[str]]] = {}  # by provisional id, see count_terms

    def find(self, url: str) -> StoredArticle | None:
        """The article known by this URL, as the batch sees it."""
        if url in self._added:
            return self._added[url].stored()
        stored = find_article(self.conn, url)
        return None if stored is None or stored.id in self._removed else stored

    def find_by_hash(self, digest: str) -> StoredArticle | None:
        """An article whose text has this fingerprint, as the batch sees it."""
        for added in self._added.values():
            if added.digest == digest:
                return added.stored()
        stored = find_article_by_hash(self.conn, digest)
        return None if stored is None or stored.id in self._removed else stored

    def add_alias(self, url: str, article_id: int) -> None:
        """Record another URL of an article (applied at commit)."""
        self._ops.append(("alias", url, article_id))

    def remove_article(self, article_id: int) -> None:
        """Remove an article with its URLs, passages, vectors and terms (at commit)."""
        self._removed.add(article_id)
        self._ops.append(("remove", article_id, None))

    def add_article(
        self,
        article: Article,
        passages: Sequence[Passage],
        vectors: np.ndarray,
        sentence_vectors: Sequence[np.ndarray],
    ) -> None:
        """Add an article with its passages and their vectors (at commit)."""
        if len(vectors) != len(passages) or (sentence_vectors and
                                              len(sentence_vectors) != len(passages)):  # fmt: skip
            raise ValueError(f"{len(passages)} passages with {len(vectors)} vectors and "
                             f"{len(sentence_vectors)} sets of sentence vectors")  # fmt: skip
        added = _Added(-1 - len(self._added), article, content_hash(article), tuple(passages),
                       np.asarray(vectors, np.float32), tuple(sentence_vectors))  # fmt: skip
        self._added[article.url] = added
        self._ops.append(("add", added, None))

    def count_terms(self) -> None:
        """Cut the batch's passages into keyword terms now, before ``apply`` takes the
        writers' lock: in one call, since a call costs 1 ms besides its texts (25 s of a
        load of 20,000 articles)."""
        added = [a for a in self._added.values() if a.passages and a.id not in self._terms]
        texts = [embedding_text(a.article.title, p.text) for a in added for p in a.passages]
        counts = iter(self._tokenizer.counts(texts))
        self._terms.update({a.id: [next(counts) for _ in a.passages] for a in added})

    @property
    def changes(self) -> int:
        """How many changes the batch holds."""
        return len(self._ops)

    @property
    def new_passages(self) -> int:
        """How many passages the batch adds (the store decides from it how to index them)."""
        return sum(len(added.passages) for added in self._added.values())

    def apply(self) -> tuple[int, int]:
        """Apply the batch inside the caller's transaction, after any other writer's;
        return the change in (passages, tokens)."""
        self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        ids: dict[int, int] = {}  # provisional id -> database id
        rows = _Rows()
        passages = tokens = 0
        for kind, first, second in self._ops:
            if kind == "remove":
                rows.copy(self.conn)  # what it removes may be among the rows not yet copied
                delta = _remove(self.conn, int(first), rows.frequencies)  # type: ignore[call-overload]
            elif kind == "alias":
                wanted = int(second)  # type: ignore[call-overload]
                _alias(self.conn, str(first), ids.get(wanted, wanted))
                continue
            else:
                assert isinstance(first, _Added)
                new_id, delta = self._insert(first, rows)
                ids[first.id] = new_id
            passages, tokens = passages + delta[0], tokens + delta[1]
        rows.copy(self.conn)
        rows.update_term_stats(self.conn)
        return passages, tokens

    def _insert(self, added: _Added, rows: _Rows) -> tuple[int, tuple[int, int]]:
        """Insert one article (its passages into ``rows``), unless another writer landed
        its URL or text meanwhile."""
        conn, article = self.conn, added.article
        passages = tokens = 0
        landed = find_article(conn, article.url)
        if landed is not None and landed.url == article.url:
            # The same URL, landed by another writer since this batch looked: ours is newer.
            rows.copy(conn)
            passages, tokens = _remove(conn, landed.id, rows.frequencies)
        twin = find_article_by_hash(conn, added.digest)
        if twin is not None:  # the same text arrived under another URL meanwhile
            _alias(conn, article.url, twin.id)
            return twin.id, (passages, tokens)
        row = conn.execute(
            "INSERT INTO articles (url, title, source, author, published, paragraphs,"
            " content_hash) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (article.url, article.title, article.source, article.author, article.published,
             json.dumps(list(article.paragraphs)), added.digest),
        ).fetchone()  # fmt: skip
        assert row is not None
        article_id = int(row[0])
        _alias(conn, article.url, article_id)
        if not added.passages:
            return article_id, (passages, tokens)
        counts = self._terms.pop(added.id, None) or self._tokenizer.counts(
            [embedding_text(article.title, p.text) for p in added.passages]
        )
        lengths = [sum(c.values()) for c in counts]
        ids = [int(r[0]) for r in conn.execute(
            "SELECT nextval('passages_id_seq') FROM generate_series(1, %s)",
            (len(added.passages),),
        ).fetchall()]  # fmt: skip
        for pid, passage, length, vector, terms in zip(
            ids, added.passages, lengths, added.vectors, counts, strict=True
        ):
            rows.passages.append((pid, article_id, passage.position, passage.text,
                                  article.published, length, vector))  # fmt: skip
            day = article.published.isoformat()
            rows.terms.extend(f"{t}\t{pid}\t{c}\t{length}\t{day}\n" for t, c in terms.items())
            rows.frequencies.update(terms.keys())
        rows.sentences.extend((pid, len(v), pack_rows(v))
                              for pid, v in zip(ids, added.sentence_vectors, strict=False)
                              if len(v))  # fmt: skip
        return article_id, (passages + len(ids), tokens + sum(lengths))


@dataclass
class _Rows:
    """Rows waiting to be copied in: one COPY per table for a whole batch, not INSERTs per
    passage (a bulk load of 100k passages is mostly this; see docs/scaling.md)."""

    passages: list[tuple] = field(default_factory=list)
    # Lines of COPY's text format: 5.6M rows at 100k passages, where psycopg's write_row
    # cost 49 s. FTS5's unicode61 terms never hold a tab, newline or backslash.
    terms: list[str] = field(default_factory=list)
    sentences: list[tuple] = field(default_factory=list)
    # The change in how many passages hold each term, for term_stats (applied at the end).
    frequencies: Counter[str] = field(default_factory=Counter)

    def update_term_stats(self, conn: psycopg.Connection) -> None:
        """Apply the batch's change in term frequencies to term_stats."""
        changed = {term: n for term, n in self.frequencies.items() if n}
        if changed:
            conn.execute(
                "INSERT INTO term_stats SELECT * FROM unnest(%s::text[], %s::bigint[])"
                " ON CONFLICT (term) DO UPDATE SET passages = term_stats.passages"
                " + excluded.passages",
                (list(changed), list(changed.values())),
            )
            conn.execute("DELETE FROM term_stats WHERE passages <= 0")
        self.frequencies.clear()

    def copy(self, conn: psycopg.Connection) -> None:
        """Copy the waiting rows in (passages first: the others refer to them)."""
        for table, columns, types, rows in (
            ("passages", "id, article_id, position, text, published, length, embedding",
             ["int8", "int8", "int4", "text", "date", "int4", "vector"], self.passages),
            ("sentence_vectors", "passage_id, sentences, vectors",
             ["int8", "int4", "bytea"], self.sentences),
        ):  # fmt: skip
            if not rows:
                continue
            with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
            rows.clear()
        if self.terms:
            with conn.cursor().copy(
                "COPY passage_terms (term, passage_id, count, length, published) FROM STDIN"
            ) as copy:
                for start in range(0, len(self.terms), 10_000):
                    copy.write("".join(self.terms[start : start + 10_000]))
            self.terms.clear()


def _alias(conn: psycopg.Connection, url: str, article_id: int) -> None:
    """Point ``url`` at an article, if the article is (still) there."""
    conn.execute(
        "INSERT INTO article_urls (url, article_id) SELECT %s, id FROM articles WHERE id = %s"
        " ON CONFLICT (url) DO UPDATE SET article_id = excluded.article_id",
        (url, article_id),
    )


def _remove(
    conn: psycopg.Connection, article_id: int, frequencies: Counter[str]
) -> tuple[int, int]:
    """Delete an article (its passages, vectors and terms go with it, their terms counted
    off ``frequencies``); return the change in (passages, tokens)."""
    for term, count in conn.execute(
        "SELECT term, count(*) FROM passage_terms WHERE passage_id IN"
        " (SELECT id FROM passages WHERE article_id = %s) GROUP BY term",
        (article_id,),
    ).fetchall():
        frequencies[term] -= int(count)
    row = conn.execute(
        "WITH gone AS (DELETE FROM passages WHERE article_id = %s RETURNING length)"
        " SELECT count(*), coalesce(sum(length), 0) FROM gone",
        (article_id,),
    ).fetchone()
    conn.execute("DELETE FROM articles WHERE id = %s", (article_id,))
    assert row is not None
    return -int(row[0]), -int(row[1])
