"""Putting articles into the index: full builds and incremental updates."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from retrieval.articles import Article, Passage
from retrieval.chunking import ChunkSettings, chunk_article, embedding_text
from retrieval.embedding import Embedder, pool, sentence_spans
from retrieval.errors import NewsbotError
from retrieval.index.embedded import EmbeddedStorage
from retrieval.index.layout import IndexSpec, Manifest
from retrieval.index.policy import DEFAULT_POLICY, IndexPolicy
from retrieval.storage import Storage, StoredArticle, StoreWriter
from retrieval.urls import canonical_url, content_hash

ENCODE_CHUNK = 512


@dataclass(frozen=True)
class BuildProgress:
    """A progress report while passages are embedded."""

    articles_done: int
    articles_total: int
    passages_done: int
    passages_total: int
    elapsed: float


ProgressCallback = Callable[[BuildProgress], None]


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
) -> Manifest:
    """Build a new generation from ``articles`` alone and make it the live one."""
    if not articles:
        raise NewsbotError("no articles to index")
    storage = EmbeddedStorage(data_dir, IndexSpec(embedder.name, chunking, index))
    writer = Writer(data_dir, embedder, chunking, batch_size, progress, index=index,
                    storage=storage)  # fmt: skip
    writer.check_passage_length()
    articles = _unique(articles)
    chunks = [chunk_article(a, chunking, embedder.count_tokens) for a in articles]
    embedded = _embed(writer, articles, chunks)
    with storage.write(fresh=True, dimension=embedder.dimension) as batch:
        _insert(batch, articles, chunks, embedded)
    assert batch.manifest is not None
    return batch.manifest


def rebuild(writer: Writer, articles: Sequence[Article]) -> int:
    """Replace everything ``writer.storage`` holds with ``articles`` in one atomic write
    (any backend: ``build_index`` is this for a data directory); return the passages."""
    if not articles:
        raise NewsbotError("no articles to index")
    writer.check_passage_length()
    articles = _unique(articles)
    chunks = [chunk_article(a, writer.chunking, writer.embedder.count_tokens) for a in articles]
    embedded = _embed(writer, articles, chunks)
    with writer.storage.write(fresh=True, dimension=writer.embedder.dimension) as batch:
        _insert(batch, articles, chunks, embedded)
    return len(embedded.vectors)


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
        chunks = [chunk_article(a, writer.chunking, writer.embedder.count_tokens) for a in fresh]
        embedded = _embed(writer, fresh, chunks)
        _insert(gen, fresh, chunks, embedded)
        # Copies found within this batch point at articles inserted just now.
        for url, twin_url in batch_twins:
            gen.add_alias(url, gen.find(twin_url).id)  # type: ignore[union-attr]
        report.duplicates.extend(batch_twins)
        report.passages = len(embedded.vectors)
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


@dataclass(frozen=True)
class Embedded:
    """Passage vectors (one row each) and, per passage, its sentences' vectors."""

    vectors: np.ndarray
    sentences: list[np.ndarray]


def _insert(batch: StoreWriter, articles: Sequence[Article], chunks: list[list[Passage]],
            embedded: Embedded) -> None:  # fmt: skip
    first = 0
    for article, passages in zip(articles, chunks, strict=True):
        end = first + len(passages)
        batch.add_article(article, passages, embedded.vectors[first:end],
                          embedded.sentences[first:end])  # fmt: skip
        first = end


def _embed(writer: Writer, articles: Sequence[Article], chunks: list[list[Passage]]) -> Embedded:
    """Embed every passage (title as context), in length order to pad less per batch, and
    pool its sentences' vectors out of the same forward pass."""
    items = [
        (embedding_text(article.title, passage.text), passage.text)
        for article, passages in zip(articles, chunks, strict=True)
        for passage in passages
    ]
    vectors = np.zeros((len(items), writer.embedder.dimension), dtype=np.float32)
    sentences: list[np.ndarray] = [vectors[:0]] * len(items)
    order = sorted(range(len(items)), key=lambda i: len(items[i][0]))
    started = time.perf_counter()
    for start in range(0, len(order), ENCODE_CHUNK):
        chunk = order[start : start + ENCODE_CHUNK]
        tokens = writer.embedder.token_vectors(
            [items[i][0] for i in chunk], batch_size=writer.batch_size
        )
        for i, token_vectors in zip(chunk, tokens, strict=True):
            text, passage_text = items[i]
            start = len(text) - len(passage_text)  # the passage follows its title
            pooled = pool(token_vectors, start, sentence_spans(passage_text))
            vectors[i] = pooled.passage
            sentences[i] = pooled.sentences
        if writer.progress is not None:
            done = min(start + ENCODE_CHUNK, len(order))
            writer.progress(
                BuildProgress(
                    articles_done=round(done / len(order) * len(articles)),
                    articles_total=len(articles),
                    passages_done=done,
                    passages_total=len(order),
                    elapsed=time.perf_counter() - started,
                )
            )
    return Embedded(vectors, sentences)
