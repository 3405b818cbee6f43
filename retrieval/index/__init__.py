"""The index: articles, passages and their vectors on disk, in generations.

A data directory (``layout``: ``CURRENT``, generations, manifests) holds immutable
generations (``generations``: the writers' lock, atomic swaps of ``CURRENT``), each a FAISS
vector index (``vectors``, of the kind ``policy`` chooses by size), a SQLite store of
articles and passages (``store``, sentence vectors packed by ``rows``) and BM25 over them
(``keywords``). ``reader`` opens a generation for reading and ``embedded`` offers the whole
as a ``retrieval.storage.Storage``. ``building`` puts articles into any ``Storage``.

The layout and the policy are pure and load at once (the settings read their defaults);
the parts that need FAISS load when first named, so ``newsbot --help`` never imports it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from retrieval.index.integrity import find_live
from retrieval.index.layout import (
    CURRENT,
    FORMAT_VERSION,
    STORE,
    IndexSpec,
    Manifest,
    current_generation,
    read_manifest,
)
from retrieval.index.policy import (
    DEFAULT_POLICY,
    FLAT_MAX_PASSAGES,
    INDEX_TYPES,
    IVF_NPROBE,
    IndexPolicy,
)

if TYPE_CHECKING:
    from retrieval.index.building import (
        UpdateReport,
        Writer,
        build_index,
        rebuild,
        update_index,
    )
    from retrieval.index.embedded import EmbeddedStorage
    from retrieval.index.encoding import BuildProgress, ProgressCallback
    from retrieval.index.generations import write_generation, write_lock
    from retrieval.index.reader import IndexReader, open_index, open_live_store
    from retrieval.index.rebuilding import Holdings, check_nothing_dropped, held_articles
    from retrieval.index.store import Store

_LAZY = {
    "BuildProgress": "encoding",
    "ProgressCallback": "encoding",
    "UpdateReport": "building",
    "Writer": "building",
    "build_index": "building",
    "rebuild": "building",
    "update_index": "building",
    "EmbeddedStorage": "embedded",
    "write_generation": "generations",
    "write_lock": "generations",
    "IndexReader": "reader",
    "open_index": "reader",
    "open_live_store": "reader",
    "Holdings": "rebuilding",
    "check_nothing_dropped": "rebuilding",
    "held_articles": "rebuilding",
    "Store": "store",
}


def __getattr__(name: str) -> object:
    """Load the FAISS-backed parts of the face when first used."""
    if name in _LAZY:
        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CURRENT",
    "DEFAULT_POLICY",
    "FLAT_MAX_PASSAGES",
    "FORMAT_VERSION",
    "INDEX_TYPES",
    "IVF_NPROBE",
    "STORE",
    "BuildProgress",
    "EmbeddedStorage",
    "Holdings",
    "IndexPolicy",
    "IndexReader",
    "IndexSpec",
    "Manifest",
    "ProgressCallback",
    "Store",
    "UpdateReport",
    "Writer",
    "build_index",
    "check_nothing_dropped",
    "current_generation",
    "find_live",
    "held_articles",
    "open_index",
    "open_live_store",
    "read_manifest",
    "rebuild",
    "update_index",
    "write_generation",
    "write_lock",
]
