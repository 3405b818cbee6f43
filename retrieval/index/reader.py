"""Reading the on-disk index: FAISS vectors, the SQLite store and a manifest.

Layout of a data directory::

    CURRENT              name of the live generation, replaced atomically
    gen-000003/          one complete generation: manifest.json, vectors.faiss, store.sqlite
    .build-…/            a generation being written (removed if a crash left it behind)
    .lock                the writers' lock

Generations are never changed once written (see ``retrieval.index.generations``), so a reader
never sees a half-written index.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import faiss
import numpy as np

from retrieval.chunking import ChunkSettings
from retrieval.errors import IndexMismatchError, IndexMissingError
from retrieval.index.keywords import KEYWORDS, KeywordIndex
from retrieval.index.policy import DEFAULT_POLICY, IndexPolicy
from retrieval.index.store import Store
from retrieval.index.vectors import configure

FORMAT_VERSION = 3
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
STORE = "store.sqlite"


@dataclass(frozen=True)
class IndexSpec:
    """What an index must have been built with for the current settings to read it, and
    how its vectors are kept and searched (any kind of index reads with any policy)."""

    model: str
    chunking: ChunkSettings
    policy: IndexPolicy = DEFAULT_POLICY

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
    # Added with approximate indexes; manifests written before them describe flat indexes.
    index_type: str = "flat"
    ivf_lists: int = 0
    trained_passages: int = 0  # passages the IVF lists were trained at


class IndexReader:
    """A loaded generation: FAISS vectors plus the store, read-only."""

    def __init__(
        self, directory: Path, manifest: Manifest, policy: IndexPolicy = DEFAULT_POLICY
    ) -> None:
        self.directory = directory
        self.manifest = manifest
        self.vectors = faiss.read_index(str(directory / VECTORS))
        configure(self.vectors, policy)
        self.store = Store(directory / STORE, readonly=True)
        saved = directory / KEYWORDS
        self.keywords = KeywordIndex(saved) if saved.exists() else None

    def keyword_search(
        self, terms: list[str], k: int, published_by: date
    ) -> list[tuple[int, float]]:
        """BM25 over titles and passages (see ``Store.keyword_search``): from the saved
        postings of a large generation, else (or for a phrase) from FTS5 itself."""
        if self.keywords is not None:
            found = self.keywords.search(terms, k, published_by)
            if found is not None:
                return found
        return self.store.keyword_search(terms, k, published_by)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest passage ids with cosine scores, best first."""
        k = min(k, self.vectors.ntotal)
        if k <= 0:
            return []
        with _one_thread():
            scores, ids = self.vectors.search(query.reshape(1, -1).astype(np.float32), k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def similarities(self, query: np.ndarray, ids: list[int]) -> list[float]:
        """Cosine similarity of the query to the passages ``ids`` (found by other means)."""
        if not ids:
            return []
        vectors = np.vstack([self.vectors.reconstruct(int(i)) for i in ids])
        return [float(s) for s in vectors @ query.astype(np.float32)]

    @property
    def size(self) -> int:
        """Number of vectors."""
        return int(self.vectors.ntotal)

    def close(self) -> None:
        """Release the store connection."""
        self.store.close()


@contextmanager
def _one_thread() -> Iterator[None]:
    """Search one query on the calling thread alone. Splitting a single query over FAISS'
    OpenMP threads made it slower, not faster: at 10,000 passages p50 2.6 ms on two threads
    against 0.25 ms on one (load 5, 2026-11-29); waking the threads costs more than the scan.
    The setting is per calling thread, and restored, so builds keep every core."""
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)


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
    return IndexReader(directory, manifest, spec.policy)
