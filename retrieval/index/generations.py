"""Writing the index: each change is a new generation, swapped in atomically.

A writer takes the data directory's lock, writes a complete generation in a private
``.build-*`` directory (starting empty or from a copy of the live one), makes it durable,
renames it to ``gen-NNNNNN`` and then replaces ``CURRENT``. A crash or SIGKILL at any point
leaves ``CURRENT`` naming a complete generation: the old one or the new one.
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
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np

from retrieval.articles import Article, Passage
from retrieval.errors import NewsbotError
from retrieval.index import keywords
from retrieval.index.integrity import file_records, superseded
from retrieval.index.keywords import KEYWORDS, save_keywords
from retrieval.index.layout import (
    CURRENT,
    FORMAT_VERSION,
    MANIFEST,
    STORE,
    VECTORS,
    IndexSpec,
    Manifest,
    current_generation,
    generation_names,
    read_manifest,
)
from retrieval.index.policy import IndexPolicy
from retrieval.index.reader import open_live_store
from retrieval.index.store import Store
from retrieval.index.vectors import empty_flat, fit, kind_of, list_total, remove
from retrieval.storage import StoredArticle


class Generation:
    """A generation being written (a ``StoreWriter``): its store and vectors, private until
    committed."""

    def __init__(
        self, directory: Path, store: Store, vectors: faiss.Index, trained_on: int = 0
    ) -> None:
        self.directory = directory
        self.store = store
        self.vectors = vectors
        self.trained_on = trained_on  # passages the IVF lists were trained at (0: not IVF)
        self.discard = False  # set when there turned out to be nothing to commit
        self.manifest: Manifest | None = None  # set once committed
        self.base: Path | None = None  # the generation this one started as a copy of
        self._removed: list[int] = []

    def find(self, url: str) -> StoredArticle | None:
        """The article known by this URL in this generation, if any."""
        return self.store.find(url)

    def find_by_hash(self, digest: str) -> StoredArticle | None:
        """An article of this generation whose text has this fingerprint, if any."""
        return self.store.find_by_hash(digest)

    def add_alias(self, url: str, article_id: int) -> None:
        """Record another URL under which an article's text was found."""
        self.store.add_alias(url, article_id)

    def remove_article(self, article_id: int) -> None:
        """Remove an article with its passages and their vectors."""
        self.remove(self.store.remove_article(article_id))

    def add_article(
        self,
        article: Article,
        passages: Sequence[Passage],
        vectors: np.ndarray,
        sentence_vectors: Sequence[np.ndarray],
    ) -> None:
        """Add an article with its passages, their vectors and their sentences' vectors."""
        self.add(self.store.add_article(article, passages, sentence_vectors), vectors)

    def add(self, ids: list[int], vectors: np.ndarray) -> None:
        """Add passage vectors under their store ids."""
        self._apply_removals()
        if ids:
            self.vectors.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))

    def remove(self, ids: list[int]) -> None:
        """Take passage vectors out of the index (applied in one go, before the next add)."""
        self._removed.extend(ids)

    def finish(self, policy: IndexPolicy) -> None:
        """Apply what is pending and give the vectors the kind ``policy`` wants at this size."""
        self._apply_removals()
        self.vectors, self.trained_on = fit(self.vectors, policy, self.trained_on)

    def _apply_removals(self) -> None:
        if self._removed:
            self.vectors = remove(self.vectors, self._removed)
            self._removed = []


@contextmanager
def write_lock(
    data_dir: Path, *, timeout: float | None = None, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold the writers' lock; a second writer waits for the first (or gives up)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            _wait_for_lock(handle, data_dir, timeout)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _wait_for_lock(handle: object, data_dir: Path, timeout: float | None) -> None:
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # type: ignore[arg-type]
            return
        except BlockingIOError:
            if deadline is not None and time.monotonic() >= deadline:
                raise NewsbotError(
                    f"another newsbot process is writing to {data_dir}; gave up waiting "
                    f"after {timeout:.0f} s"
                ) from None
            time.sleep(0.05)


@contextmanager
def write_generation(
    data_dir: Path,
    spec: IndexSpec,
    dimension: int,
    *,
    from_current: bool,
    lock_timeout: float | None = None,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[Generation]:
    """Write a new generation (empty, or a copy of the live one) and swap it in on success.

    The body changes ``generation.store`` and ``generation.vectors``; if it raises, or sets
    ``generation.discard``, nothing changes on disk.
    """
    with write_lock(data_dir, timeout=lock_timeout, on_wait=on_wait):
        for stale in data_dir.glob(".build-*"):
            shutil.rmtree(stale, ignore_errors=True)
        previous = superseded(data_dir, from_current)
        build_dir = Path(tempfile.mkdtemp(prefix=".build-", dir=data_dir))
        try:
            generation = _start(data_dir, build_dir, previous if from_current else None, spec,
                                dimension)  # fmt: skip
            yield generation
            generation.store.close()
            if generation.discard:
                shutil.rmtree(build_dir, ignore_errors=True)
                return
            generation.manifest = _commit(data_dir, build_dir, generation, spec, dimension)
            name = f"gen-{generation.manifest.generation:06d}"
            build_dir = data_dir / name
        except BaseException:
            if current_generation(data_dir) != build_dir.name:
                shutil.rmtree(build_dir, ignore_errors=True)
            raise
        # The previous complete generation stays, for processes still reading it and as the
        # fallback should the new one be damaged; only older ones go, and none at all when
        # the state before this write was not known.
        if previous is not None:
            for older in generation_names(data_dir):
                if older < previous:
                    shutil.rmtree(data_dir / older, ignore_errors=True)


def _start(data_dir: Path, build_dir: Path, base: str | None, spec: IndexSpec,
           dimension: int) -> Generation:  # fmt: skip
    if base is None:
        # Empty generations start exact; ``Generation.finish`` converts them if they grow.
        return Generation(build_dir, Store(build_dir / STORE, durable=False), empty_flat(dimension))
    source = data_dir / base
    manifest = read_manifest(source)
    spec.check(manifest, data_dir)
    live = open_live_store(data_dir)
    assert live is not None and live.path.parent == source  # the writers' lock is held
    try:
        live.copy_to(build_dir / STORE)
    finally:
        live.close()
    vectors = faiss.read_index(str(source / VECTORS))
    store = Store(build_dir / STORE, durable=False)
    generation = Generation(build_dir, store, vectors, manifest.trained_passages)
    generation.base = source
    return generation


def _commit(data_dir: Path, build_dir: Path, generation: Generation, spec: IndexSpec,
            dimension: int) -> Manifest:  # fmt: skip
    generation.finish(spec.policy)
    faiss.write_index(generation.vectors, str(build_dir / VECTORS))
    counts = Store(build_dir / STORE, readonly=True)
    totals = counts.counts()
    counts.close()
    if totals["passages"] != generation.vectors.ntotal:
        raise NewsbotError(
            f"internal error: {totals['passages']} passages but {generation.vectors.ntotal} "
            "vectors; the index was left unchanged"
        )
    if totals["passages"] >= keywords.MIN_PASSAGES:
        previous = generation.base / KEYWORDS if generation.base else None
        save_keywords(build_dir / STORE, build_dir / KEYWORDS, previous)
    # Past the highest generation on disk: one orphaned by a crash is never reused.
    number = 1 + max((int(n[4:]) for n in generation_names(data_dir)), default=0)
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        model=spec.model,
        dimension=dimension,
        chunking=spec.chunking.as_dict(),
        generation=number,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        articles=totals["articles"],
        passages=totals["passages"],
        index_type=kind_of(generation.vectors),
        ivf_lists=list_total(generation.vectors),
        trained_passages=generation.trained_on,
        files=file_records(build_dir),
    )
    (build_dir / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2) + "\n")
    _fsync_tree(build_dir)
    name = f"gen-{number:06d}"
    os.rename(build_dir, data_dir / name)
    try:
        _replace_current(data_dir, name)
    except BaseException:
        if current_generation(data_dir) != name:
            shutil.rmtree(data_dir / name, ignore_errors=True)
        raise
    return manifest


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
