"""Commits that append: a generation as a base it shares with the one before, plus a delta.

A commit of 50 articles onto 34,000 passages used to rewrite every vector and every keyword
posting (a 52 MB FAISS file, 11 MB of postings) and checksum and fsync them all: 0.6 s of a
0.74 s commit with a stand-in model. Now, while the index holds at least
``DELTA_MIN_PASSAGES`` passages and what changed since its base stays within
``DELTA_SHARE`` of the base, a commit copies the base's ``vectors.faiss`` and
``keywords.npz`` into the new generation byte for byte (a kernel copy, no re-encoding, no
new checksum) and writes only what changed since that base: the vectors added and the
base's ids removed (``VECTOR_DELTA``) and the new passages' postings (``KEYWORD_DELTA``).
Past that share, or when the vectors must change kind or be retrained, the commit merges
all into new base files (a compaction). Readers merge base and delta once, when they load
a generation.

Each generation has files of its own, the store (the articles themselves, what ``newsbot
index --existing`` rebuilds everything else from) and the base files alike: they are copied,
not hard-linked, so that damage to one generation's files leaves the one before it whole
and served (issue 15). A link would save the copy (about 60 MB at 34,000 passages, some
tens of milliseconds) but make one damaged file every generation's.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from retrieval.index.layout import VECTORS, Manifest
from retrieval.index.policy import IndexPolicy, needs_retraining
from retrieval.index.vectors import empty_flat, fit, kind_of, list_total, remove

VECTOR_DELTA = "vectors-delta.npz"
# Below this many passages a whole rewrite costs little (about 20 ms at 5,000 passages).
DELTA_MIN_PASSAGES = 5_000
# Changes since the base, as a share of it, past which a commit merges them into a new base:
# readers merge at most this much on load, and a commit rewrites at most this much.
DELTA_SHARE = 0.25


@dataclass(frozen=True)
class Written:
    """How a generation's vectors were written: their kind, IVF lists and training size,
    and whether onto a shared base (then its keyword postings are a delta too)."""

    kind: str
    lists: int
    trained_on: int
    on_base: bool


class PendingVectors:
    """The vectors of a generation being written: a whole FAISS index in memory, or the
    base of the generation before it, left on disk, with the vectors added and the base's
    ids removed since."""

    def __init__(self, index: faiss.Index | None, trained_on: int = 0) -> None:
        self.index = index
        self.trained_on = trained_on
        self.base: Path | None = None  # the generation whose vectors file is the base
        self.base_total = 0
        self.kind, self.lists = "flat", 0
        self.added: dict[int, np.ndarray] = {}
        self.removed: list[int] = []
        self._pending: list[int] = []  # removals not yet applied to ``index``

    @classmethod
    def on_base(cls, directory: Path, manifest: Manifest) -> PendingVectors:
        """The vectors of ``directory`` (a committed generation), without reading its base."""
        pending = cls(None, manifest.trained_passages)
        pending.base = directory
        pending.kind, pending.lists = manifest.index_type, manifest.ivf_lists
        ids, vectors, removed = read_delta(directory / VECTOR_DELTA)
        pending.added = dict(zip(ids.tolist(), vectors, strict=True))
        pending.removed = removed.tolist()
        pending.base_total = manifest.passages - len(ids) + len(removed)
        return pending

    @property
    def total(self) -> int:
        """How many vectors the generation holds."""
        if self.index is not None:
            return int(self.index.ntotal) - len(self._pending)
        return self.base_total - len(self.removed) + len(self.added)

    def add(self, ids: list[int], vectors: np.ndarray) -> None:
        """Add passage vectors under their store ids."""
        if self.index is None:
            self.added.update(zip(ids, np.asarray(vectors, dtype=np.float32), strict=True))
            return
        self._apply_removals()
        if ids:
            self.index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))

    def remove(self, ids: list[int]) -> None:
        """Take passage vectors out (applied in one go, before the next add)."""
        if self.index is not None:
            self._pending.extend(ids)
            return
        for i in ids:
            if self.added.pop(i, None) is None:
                self.removed.append(i)

    def write(self, directory: Path, policy: IndexPolicy) -> Written:
        """Write the vectors into ``directory``: onto the shared base when that is due,
        else as a whole index of the kind ``policy`` wants at this size."""
        if self.index is None and not self._compaction_due(policy):
            assert self.base is not None
            shutil.copyfile(self.base / VECTORS, directory / VECTORS)
            if self.added or self.removed:
                write_delta(directory / VECTOR_DELTA, self.added, self.removed)
            return Written(self.kind, self.lists, self.trained_on, on_base=True)
        index = self._whole()
        index, self.trained_on = fit(index, policy, self.trained_on)
        faiss.write_index(index, str(directory / VECTORS))
        return Written(kind_of(index), list_total(index), self.trained_on, on_base=False)

    def _compaction_due(self, policy: IndexPolicy) -> bool:
        total, changed = self.total, len(self.added) + len(self.removed)
        retrain = self.kind == "ivf" and needs_retraining(total, self.trained_on)
        return (total < DELTA_MIN_PASSAGES or changed > DELTA_SHARE * self.base_total
                or policy.target(total, self.kind) != self.kind or retrain)  # fmt: skip

    def _whole(self) -> faiss.Index:
        if self.index is None:
            assert self.base is not None
            self.index = with_delta(faiss.read_index(str(self.base / VECTORS)),
                                    (self.added, self.removed))  # fmt: skip
            self.added, self.removed = {}, []
        self._apply_removals()
        return self.index

    def _apply_removals(self) -> None:
        if self._pending and self.index is not None:
            self.index = remove(self.index, self._pending)
            self._pending = []


def empty(dimension: int) -> PendingVectors:
    """The vectors of an empty generation (exact; converted when it grows)."""
    return PendingVectors(empty_flat(dimension))


def write_delta(path: Path, added: dict[int, np.ndarray], removed: list[int]) -> None:
    """Save the vectors added since a base, by id, and the base's ids removed."""
    ids, vectors = _stacked(added)
    with open(path, "wb") as handle:
        np.savez(handle, ids=ids, vectors=vectors, removed=np.asarray(removed, np.int64))


def read_delta(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ids and vectors added since a base and its ids removed (nothing, with no file)."""
    if not path.exists():
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float32), np.zeros(0, np.int64)
    data = np.load(path)
    return data["ids"], data["vectors"], data["removed"]


def with_delta(
    index: faiss.Index, delta: tuple[dict[int, np.ndarray], list[int]] | Path
) -> faiss.Index:
    """A base index with a delta applied: its removals taken out, its vectors added."""
    if isinstance(delta, Path):
        ids, vectors, removed = read_delta(delta)
    else:
        (ids, vectors), removed = _stacked(delta[0]), np.asarray(delta[1], np.int64)
    index = remove(index, removed.tolist())
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
    return index


def _stacked(added: dict[int, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    ids = np.fromiter(added, dtype=np.int64, count=len(added))
    return ids, (np.vstack(list(added.values())) if added else np.zeros((0, 0), np.float32))
