"""The on-disk layout of a data directory, and the manifest each generation carries.

Layout of a data directory::

    CURRENT              name of the live generation, replaced atomically
    gen-000003/          one complete generation: manifest.json, vectors.faiss, store.sqlite,
                         keywords.npz (large ones), and the deltas on a shared base
                         (vectors-delta.npz, keywords-delta.npz: see ``deltas``)
    .build-…/            a generation being written (removed if a crash left it behind)
    .lock                the writers' lock

Generations are never changed once written (see ``retrieval.index.generations``), so a reader
never sees a half-written index; files a generation shares with the one before are hard
links to files neither ever changes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.chunking import ChunkSettings
from retrieval.errors import IndexDamagedError, IndexMismatchError
from retrieval.index.policy import DEFAULT_POLICY, IndexPolicy

# 4: every generation has sentence vectors and names its index type; older ones are rebuilt.
# 5: the manifest records each file's size and CRC-32 (see ``integrity``).
# 6: a generation may be a base shared with the one before plus deltas (see ``deltas``).
FORMAT_VERSION = 6
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
STORE = "store.sqlite"
GENERATION = re.compile(r"gen-\d{6}")


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
                "run `newsbot index --existing` to rebuild it with the articles it holds"
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
    # Each file but the manifest: {"bytes": size, "crc32": checksum}. Empty in manifests of
    # format 4, which then read far enough to be refused with the rebuild message.
    files: dict[str, dict[str, int]] = field(default_factory=dict)


def current_generation(data_dir: Path) -> str | None:
    """The generation ``CURRENT`` names, or None when it is missing or empty; refuses a
    name that is not a generation of ``data_dir`` (a path out of it, a symlink, another)."""
    try:
        name = (data_dir / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexDamagedError(f"{data_dir / CURRENT} is unreadable ({exc})") from None
    if not name:
        return None
    target = data_dir / name
    inside = target.resolve().parent == data_dir.resolve() and not target.is_symlink()
    if not GENERATION.fullmatch(name) or not inside:
        raise IndexDamagedError(
            f"{data_dir / CURRENT} names {name!r}, which is not a generation of {data_dir}: "
            f"refusing to use it; write the name of a gen-NNNNNN directory there, or delete "
            f"{CURRENT} to recover from the newest complete generation"
        )
    return name


def generation_names(data_dir: Path) -> list[str]:
    """The generation directories in ``data_dir``, newest first."""
    names = [p.name for p in data_dir.glob("gen-*") if GENERATION.fullmatch(p.name)]
    return sorted((n for n in names if (data_dir / n).is_dir()), reverse=True)


def read_manifest(directory: Path) -> Manifest:
    """Read a generation's manifest."""
    data = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    return Manifest(**data)
