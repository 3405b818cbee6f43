"""The on-disk layout of a data directory, and the manifest each generation carries.

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
from dataclasses import dataclass
from pathlib import Path

from retrieval.chunking import ChunkSettings
from retrieval.errors import IndexMismatchError
from retrieval.index.policy import DEFAULT_POLICY, IndexPolicy

# 4: every generation has sentence vectors and names its index type; older ones are rebuilt.
FORMAT_VERSION = 4
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
    index_type: str
    ivf_lists: int
    trained_passages: int  # passages the IVF lists were trained at


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
