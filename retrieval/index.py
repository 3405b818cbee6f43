"""The on-disk index: FAISS vectors, the SQLite store and a manifest, swapped in atomically.

Layout of a data directory::

    CURRENT              name of the live generation, replaced atomically
    gen-000003/          one complete build: manifest.json, vectors.faiss, store.sqlite
    .build-…/            a build in progress (removed if a crash left it behind)

A build writes a new generation beside the live one and then replaces ``CURRENT``, so a
crash at any point leaves the previous generation loadable.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np

from retrieval.articles import Article
from retrieval.chunking import ChunkSettings, chunk_article, embedding_text
from retrieval.embedding import Embedder
from retrieval.errors import IndexMismatchError, IndexMissingError, NewsbotError
from retrieval.store import Store

FORMAT_VERSION = 1
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
STORE = "store.sqlite"
ENCODE_CHUNK = 512


@dataclass(frozen=True)
class IndexSpec:
    """What an index must have been built with for the current settings to read it."""

    model: str
    chunking: ChunkSettings

    def check(self, manifest: Manifest, where: Path) -> None:
        """Raise IndexMismatchError if ``manifest`` was built differently."""
        problems = []
        if manifest.format_version != FORMAT_VERSION:
            problems.append(f"format version {manifest.format_version}, expected {FORMAT_VERSION}")
        if manifest.model != self.model:
            problems.append(f"model {manifest.model!r}, settings ask for {self.model!r}")
        if manifest.chunking != self.chunking.as_dict():
            problems.append(
                f"passage settings {manifest.chunking}, settings ask for {self.chunking.as_dict()}"
            )
        if problems:
            raise IndexMismatchError(
                f"the index in {where} was built with {'; '.join(problems)}: "
                "run `newsbot index` to rebuild it"
            )


@dataclass(frozen=True)
class Manifest:
    """What a generation was built with, and what it holds."""

    format_version: int
    model: str
    dimension: int
    chunking: dict[str, int]
    generation: int
    built_at: str
    articles: int
    passages: int


@dataclass(frozen=True)
class BuildProgress:
    """A progress report during a build."""

    articles_done: int
    articles_total: int
    passages_done: int
    passages_total: int
    elapsed: float


ProgressCallback = Callable[[BuildProgress], None]


class IndexReader:
    """A loaded generation: FAISS vectors plus the store, read-only."""

    def __init__(self, directory: Path, manifest: Manifest) -> None:
        self.directory = directory
        self.manifest = manifest
        self.vectors = faiss.read_index(str(directory / VECTORS))
        self.store = Store(directory / STORE, readonly=True)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest passage ids with cosine scores, best first."""
        k = min(k, self.vectors.ntotal)
        if k <= 0:
            return []
        scores, ids = self.vectors.search(query.reshape(1, -1).astype(np.float32), k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    @property
    def size(self) -> int:
        """Number of vectors."""
        return int(self.vectors.ntotal)

    def close(self) -> None:
        """Release the store connection."""
        self.store.close()


def current_generation(data_dir: Path) -> str | None:
    """The name of the live generation, or None when nothing was built yet."""
    try:
        name = (data_dir / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


def read_manifest(directory: Path) -> Manifest:
    """Read a generation's manifest."""
    data = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    return Manifest(**data)


def open_index(data_dir: Path, spec: IndexSpec) -> IndexReader:
    """Load the live generation, checking it matches ``spec``."""
    name = current_generation(data_dir)
    if name is None:
        raise IndexMissingError(f"no index in {data_dir}: run `newsbot index` to build one")
    directory = data_dir / name
    try:
        manifest = read_manifest(directory)
    except (OSError, ValueError, TypeError) as exc:
        raise IndexMismatchError(
            f"the index in {directory} is unreadable ({exc}): run `newsbot index` to rebuild it"
        ) from None
    spec.check(manifest, data_dir)
    return IndexReader(directory, manifest)


@contextmanager
def write_lock(data_dir: Path) -> Iterator[None]:
    """Hold the data directory's writer lock; a second writer waits for the first."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_index(
    data_dir: Path,
    articles: Sequence[Article],
    embedder: Embedder,
    chunking: ChunkSettings,
    *,
    batch_size: int = 64,
    progress: ProgressCallback | None = None,
) -> Manifest:
    """Build a new generation from ``articles`` and make it the live one."""
    if not articles:
        raise NewsbotError("no articles to index")
    if chunking.max_tokens > embedder.max_tokens:
        raise NewsbotError(
            f"passages of {chunking.max_tokens} tokens are longer than model {embedder.name!r}"
            f" reads ({embedder.max_tokens}); lower NEWSBOT_MAX_PASSAGE_TOKENS"
        )
    per_article = [chunk_article(a, chunking, embedder.count_tokens) for a in articles]
    texts = [
        embedding_text(article.title, passage.text)
        for article, passages in zip(articles, per_article, strict=True)
        for passage in passages
    ]
    started = time.perf_counter()
    vectors = _encode_sorted(texts, embedder, batch_size, articles, progress, started)
    with write_lock(data_dir):
        _remove_stale_builds(data_dir)
        build_dir = Path(tempfile.mkdtemp(prefix=".build-", dir=data_dir))
        try:
            store = Store(build_dir / STORE)
            ids: list[int] = []
            for article, passages in zip(articles, per_article, strict=True):
                ids.extend(store.add_article(article, passages))
            store.close()
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(vectors.shape[1]))
            index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
            faiss.write_index(index, str(build_dir / VECTORS))
            previous = current_generation(data_dir)
            # Past the highest generation on disk: one orphaned by a crash is never reused.
            number = 1 + max((int(p.name[4:]) for p in data_dir.glob("gen-*")), default=0)
            manifest = Manifest(
                format_version=FORMAT_VERSION,
                model=embedder.name,
                dimension=int(vectors.shape[1]),
                chunking=chunking.as_dict(),
                generation=number,
                built_at=datetime.now(UTC).isoformat(timespec="seconds"),
                articles=len(articles),
                passages=len(ids),
            )
            (build_dir / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2) + "\n")
            _fsync_tree(build_dir)
            name = f"gen-{number:06d}"
            os.rename(build_dir, data_dir / name)
            build_dir = data_dir / name
            _replace_current(data_dir, name)
        except BaseException:
            if current_generation(data_dir) != build_dir.name:
                shutil.rmtree(build_dir, ignore_errors=True)
            raise
        _remove_old_generations(data_dir, keep={name, previous})
    return manifest


def _encode_sorted(
    texts: list[str],
    embedder: Embedder,
    batch_size: int,
    articles: Sequence[Article],
    progress: ProgressCallback | None,
    started: float,
) -> np.ndarray:
    """Encode in length order (less padding per batch), returning rows in input order."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    for start in range(0, len(order), ENCODE_CHUNK):
        chunk = order[start : start + ENCODE_CHUNK]
        vectors[chunk] = embedder.encode([texts[i] for i in chunk], batch_size=batch_size)
        if progress is not None:
            done = min(start + ENCODE_CHUNK, len(order))
            share = done / len(order)
            progress(
                BuildProgress(
                    articles_done=round(share * len(articles)),
                    articles_total=len(articles),
                    passages_done=done,
                    passages_total=len(order),
                    elapsed=time.perf_counter() - started,
                )
            )
    return vectors


def _replace_current(data_dir: Path, name: str) -> None:
    temporary = data_dir / f".{CURRENT}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, data_dir / CURRENT)
    _fsync_dir(data_dir)


def _fsync_tree(directory: Path) -> None:
    for path in directory.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale_builds(data_dir: Path) -> None:
    for path in data_dir.glob(".build-*"):
        shutil.rmtree(path, ignore_errors=True)


def _remove_old_generations(data_dir: Path, keep: set[str | None]) -> None:
    # The previous generation stays one round so that a process still reading it is safe.
    for path in data_dir.glob("gen-*"):
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)
