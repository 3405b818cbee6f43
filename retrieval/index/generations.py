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

import numpy as np

from retrieval.articles import Article, Passage
from retrieval.errors import NewsbotError
from retrieval.index import keywords
from retrieval.index.deltas import PendingVectors, empty
from retrieval.index.integrity import file_records, superseded, trust
from retrieval.index.keywords import KEYWORD_DELTA, KEYWORDS
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
from retrieval.index.postings import save_keywords
from retrieval.index.reader import open_live_store
from retrieval.index.store import Store
from retrieval.storage import StoredArticle


class Generation:
    """A generation being written (a ``StoreWriter``): its store and vectors, private until
    committed."""

    def __init__(self, directory: Path, store: Store, vectors: PendingVectors) -> None:
        self.directory = directory
        self.store = store
        self.vectors = vectors
        self.discard = False  # set when there turned out to be nothing to commit
        self.manifest: Manifest | None = None  # set once committed
        self.base: Manifest | None = None  # the manifest of the generation this one copies

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
        self.vectors.remove(self.store.remove_article(article_id))

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
        """Add passage vectors under their store ids (rows already in the store)."""
        self.vectors.add(ids, vectors)


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
        return Generation(build_dir, Store(build_dir / STORE, durable=False), empty(dimension))
    source = data_dir / base
    manifest = read_manifest(source)
    spec.check(manifest, data_dir)
    live = open_live_store(data_dir)
    assert live is not None and live.path.parent == source  # the writers' lock is held
    try:
        live.copy_to(build_dir / STORE)
    finally:
        live.close()
    store = Store(build_dir / STORE, durable=False)
    generation = Generation(build_dir, store, PendingVectors.on_base(source, manifest))
    generation.base = manifest
    return generation


def _commit(data_dir: Path, build_dir: Path, generation: Generation, spec: IndexSpec,
            dimension: int) -> Manifest:  # fmt: skip
    written = generation.vectors.write(build_dir, spec.policy)
    counts = Store(build_dir / STORE, readonly=True)
    totals = counts.counts()
    counts.close()
    if totals["passages"] != generation.vectors.total:
        raise NewsbotError(
            f"internal error: {totals['passages']} passages but {generation.vectors.total} "
            "vectors; the index was left unchanged"
        )
    copied = [VECTORS] if written.on_base else []
    if totals["passages"] >= keywords.MIN_PASSAGES:
        copied += _save_keywords(build_dir, generation.vectors.base, written.on_base)
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
        index_type=written.kind,
        ivf_lists=written.lists,
        trained_passages=written.trained_on,
        files=file_records(build_dir, _records(generation.base, copied)),
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
    trust(data_dir / name)  # checksummed just now: the next open need not read it again
    return manifest


def _save_keywords(build_dir: Path, base: Path | None, on_base: bool) -> list[str]:
    """Save the keyword postings: a delta on the base's when the vectors kept their base
    (returning the base file copied), else whole; either way tokenizing only new passages."""
    if on_base and base is not None and (base / KEYWORDS).exists():
        shutil.copyfile(base / KEYWORDS, build_dir / KEYWORDS)
        save_keywords(build_dir / STORE, build_dir / KEYWORD_DELTA, base / KEYWORD_DELTA,
                      base=base / KEYWORDS)  # fmt: skip
        return [KEYWORDS]
    previous = (base / KEYWORDS, base / KEYWORD_DELTA) if base is not None else (None, None)
    save_keywords(build_dir / STORE, build_dir / KEYWORDS, previous[0], previous_delta=previous[1])
    return []


def _records(base: Manifest | None, copied: list[str]) -> dict[str, dict[str, int]]:
    """The manifest records of the base files copied unchanged, which need no new checksum."""
    return {name: base.files[name] for name in copied if base is not None and name in base.files}


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
