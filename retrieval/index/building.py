"""Putting articles into the index: full builds and incremental updates."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.articles import Article, Passage
from retrieval.chunking import ChunkSettings, chunk_articles
from retrieval.embedding import Embedder
from retrieval.errors import NewsbotError
from retrieval.index.embedded import EmbeddedStorage
from retrieval.index.encoding import ProgressCallback, embedded_articles
from retrieval.index.layout import IndexSpec, Manifest
from retrieval.index.policy import DEFAULT_POLICY, IndexPolicy
from retrieval.storage import Storage, StoredArticle, StoreWriter
from retrieval.urls import canonical_url, content_hash


@dataclass
class UpdateReport:
    """What an update did, by canonical URL."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (url, same text as url)
    removed: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    passages: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class Writer:
    """What every write needs: where, with which model, cut how, and how to report."""

    data_dir: Path
    embedder: Embedder
    chunking: ChunkSettings
    batch_size: int = 64
    progress: ProgressCallback | None = None
    lock_timeout: float | None = None
    on_wait: Callable[[], None] | None = None
    index: IndexPolicy = DEFAULT_POLICY
    # Where the index is kept: by default the generations in ``data_dir``.
    storage: Storage = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.storage is None:
            embedded = EmbeddedStorage(self.data_dir, self.spec, lock_timeout=self.lock_timeout,
                                       on_wait=self.on_wait)  # fmt: skip
            object.__setattr__(self, "storage", embedded)

    @property
    def spec(self) -> IndexSpec:
        """The manifest fields a generation written by this writer carries."""
        return IndexSpec(self.embedder.name, self.chunking, self.index)

    def check_passage_length(self) -> None:
        """Refuse passages longer than the model reads (the rest would be dropped silently)."""
        if self.chunking.max_tokens > self.embedder.max_tokens:
            raise NewsbotError(
                f"passages of {self.chunking.max_tokens} tokens are longer than model "
                f"{self.embedder.name!r} reads ({self.embedder.max_tokens}); "
                "lower NEWSBOT_MAX_PASSAGE_TOKENS"
            )


def build_index(
    data_dir: Path,
    articles: Sequence[Article],
    embedder: Embedder,
    chunking: ChunkSettings,
    *,
    batch_size: int = 64,
    progress: ProgressCallback | None = None,
    index: IndexPolicy = DEFAULT_POLICY,
    aliases: Mapping[str, str] | None = None,
) -> Manifest:
    """Build a new generation from ``articles`` alone and make it the live one; ``aliases``
    maps other URLs of copies to the URL of the article they copy."""
    if not articles:
        raise NewsbotError("no articles to index")
    storage = EmbeddedStorage(data_dir, IndexSpec(embedder.name, chunking, index))
    writer = Writer(data_dir, embedder, chunking, batch_size, progress, index=index,
                    storage=storage)  # fmt: skip
    writer.check_passage_length()
    articles = _unique(articles)
    chunks = chunk_articles(articles, chunking, embedder.count_tokens_many)
    with storage.write(fresh=True, dimension=embedder.dimension) as batch:
        _insert(batch, writer, articles, chunks)
        for other, url in (aliases or {}).items():
            stored = batch.find(url)
            if stored is not None and batch.find(other) is None:
                batch.add_alias(other, stored.id)
    assert batch.manifest is not None
    return batch.manifest


def rebuild(writer: Writer, articles: Sequence[Article]) -> int:
    """Replace everything ``writer.storage`` holds with ``articles`` in one atomic write
    (any backend: ``build_index`` is this for a data directory); return the passages."""
    if not articles:
        raise NewsbotError("no articles to index")
    writer.check_passage_length()
    articles = _unique(articles)
    chunks = chunk_articles(articles, writer.chunking, writer.embedder.count_tokens_many)
    with writer.storage.write(fresh=True, dimension=writer.embedder.dimension) as batch:
        return _insert(batch, writer, articles, chunks)


def update_index(
    writer: Writer, articles: Sequence[Article], remove: Sequence[str] = ()
) -> UpdateReport:
    """Add new articles, replace changed ones, remove ``remove`` URLs: one atomic step.

    An article is identified by its canonical URL; the same URL with the same text is left
    alone, and the same text under a new URL is recorded as another URL of the stored one.
    """
    writer.check_passage_length()  # loads the model, which is not part of the update's time
    started = time.perf_counter()
    if not remove and (known := _all_unchanged(writer, articles)) is not None:
        known.seconds = time.perf_counter() - started
        return known
    report = UpdateReport()
    with writer.storage.write(dimension=writer.embedder.dimension) as gen:
        fresh: list[Article] = []
        seen_hashes: dict[str, str] = {}
        batch_twins: list[tuple[str, str]] = []
        for article in _unique(articles):
            digest = content_hash(article)
            stored = gen.find(article.url)
            if stored is not None and _same(stored, article, digest):
                report.unchanged.append(article.url)
                continue
            if stored is not None:
                gen.remove_article(stored.id)
                report.updated.append(article.url)
            elif digest in seen_hashes:
                batch_twins.append((article.url, seen_hashes[digest]))
                continue
            elif (twin := gen.find_by_hash(digest)) is not None:
                gen.add_alias(article.url, twin.id)
                report.duplicates.append((article.url, twin.url))
                continue
            else:
                report.added.append(article.url)
            seen_hashes[digest] = article.url
            fresh.append(article)
        for url in dict.fromkeys(_canonical_or_none(u) or u for u in remove):
            stored = gen.find(url)
            if stored is None:
                report.not_found.append(url)
                continue
            gen.remove_article(stored.id)
            report.removed.append(url)
        chunks = chunk_articles(fresh, writer.chunking, writer.embedder.count_tokens_many)
        report.passages = _insert(gen, writer, fresh, chunks)
        # Copies found within this batch point at articles inserted just now.
        for url, twin_url in batch_twins:
            gen.add_alias(url, gen.find(twin_url).id)  # type: ignore[union-attr]
        report.duplicates.extend(batch_twins)
        gen.discard = not (fresh or report.removed or report.duplicates)
    report.seconds = time.perf_counter() - started
    return report


def _all_unchanged(writer: Writer, articles: Sequence[Article]) -> UpdateReport | None:
    """A report when the live index already holds every article as it is (a feed polled
    again): then nothing is copied or written. None when anything is new or changed."""
    if writer.storage.version() is None:
        return None
    reader = writer.storage.reader()
    urls = []
    for article in _unique(articles):
        stored = reader.find(article.url)
        if stored is None or not _same(stored, article, content_hash(article)):
            return None
        urls.append(article.url)
    return UpdateReport(unchanged=urls)


def _same(stored: StoredArticle, article: Article, digest: str) -> bool:
    """Whether ``article`` is what the store holds under its URL. A copy found under another
    outlet's URL keeps the stored article's title and date, so only its text counts."""
    if stored.content_hash != digest:
        return False
    own = stored.url == article.url
    return not own or (stored.title, stored.published) == (article.title, article.published)


def _unique(articles: Sequence[Article]) -> list[Article]:
    """Articles with canonical URLs, the last of any repeated URL winning."""
    by_url: dict[str, Article] = {}
    for article in articles:
        url = canonical_url(article.url)
        by_url.pop(url, None)
        by_url[url] = article if article.url == url else _with_url(article, url)
    return list(by_url.values())


def _canonical_or_none(url: str) -> str | None:
    try:
        return canonical_url(url)
    except ValueError:  # not a URL at all: it cannot be in the index either
        return None


def _with_url(article: Article, url: str) -> Article:
    return Article(url, article.title, article.source, article.published, article.paragraphs,
                   article.author)  # fmt: skip


def _insert(batch: StoreWriter, writer: Writer, articles: Sequence[Article],
            chunks: list[list[Passage]]) -> int:  # fmt: skip
    """Embed the articles' passages and write them, a window at a time; return how many."""
    written = 0
    embedded = embedded_articles(
        writer.embedder, articles, chunks, batch_size=writer.batch_size, progress=writer.progress
    )
    with closing(embedded):  # a failed write stops the model's thread at once
        for item in embedded:
            batch.add_article(item.article, item.passages, item.vectors, item.sentences)
            written += len(item.passages)
    return written
