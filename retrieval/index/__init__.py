"""The index: articles, passages and their vectors on disk, in generations.

A data directory (``layout``: ``CURRENT``, generations, manifests) holds immutable
generations (``generations``: the writers' lock, atomic swaps of ``CURRENT``), each a FAISS
vector index (``vectors``, of the kind ``policy`` chooses by size), a SQLite store of
articles and passages (``store``, sentence vectors packed by ``rows``) and BM25 over them
(``keywords``). ``reader`` opens a generation for reading and ``embedded`` offers the whole
as a ``retrieval.storage.Storage``. ``building`` puts articles into any ``Storage``.
"""

from retrieval.index.building import BuildProgress, UpdateReport, Writer, build_index, update_index
from retrieval.index.embedded import EmbeddedStorage
from retrieval.index.generations import write_generation, write_lock
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
    HNSW_EF_SEARCH,
    HNSW_NEIGHBOURS,
    IVF_NPROBE,
    IndexPolicy,
)
from retrieval.index.reader import IndexReader, open_index, open_live_store
from retrieval.index.store import Store

__all__ = [
    "CURRENT",
    "DEFAULT_POLICY",
    "FLAT_MAX_PASSAGES",
    "FORMAT_VERSION",
    "HNSW_EF_SEARCH",
    "HNSW_NEIGHBOURS",
    "IVF_NPROBE",
    "STORE",
    "BuildProgress",
    "EmbeddedStorage",
    "IndexPolicy",
    "IndexReader",
    "IndexSpec",
    "Manifest",
    "Store",
    "UpdateReport",
    "Writer",
    "build_index",
    "current_generation",
    "open_index",
    "open_live_store",
    "read_manifest",
    "update_index",
    "write_generation",
    "write_lock",
]
