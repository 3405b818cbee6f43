"""The index: articles, passages and their vectors on disk, in generations.

A data directory holds immutable generations (``generations``: the writers' lock, atomic
swaps of ``CURRENT``), each a FAISS vector index (``vectors``, of the kind ``policy``
chooses by size), a SQLite store of articles and passages (``store``) and keyword postings
(``keywords``), described by a manifest (``reader``, which opens a generation for reading).
``building`` writes new generations from articles.
"""

from retrieval.index.building import BuildProgress, UpdateReport, Writer, build_index, update_index
from retrieval.index.generations import write_generation, write_lock
from retrieval.index.policy import (
    DEFAULT_POLICY,
    FLAT_MAX_PASSAGES,
    HNSW_EF_SEARCH,
    HNSW_NEIGHBOURS,
    IVF_NPROBE,
    IndexPolicy,
)
from retrieval.index.reader import (
    CURRENT,
    STORE,
    IndexReader,
    IndexSpec,
    current_generation,
    open_index,
    read_manifest,
)
from retrieval.index.store import Store, StoredPassage

__all__ = [
    "CURRENT",
    "DEFAULT_POLICY",
    "FLAT_MAX_PASSAGES",
    "HNSW_EF_SEARCH",
    "HNSW_NEIGHBOURS",
    "IVF_NPROBE",
    "STORE",
    "BuildProgress",
    "IndexPolicy",
    "IndexReader",
    "IndexSpec",
    "Store",
    "StoredPassage",
    "UpdateReport",
    "Writer",
    "build_index",
    "current_generation",
    "open_index",
    "read_manifest",
    "update_index",
    "write_generation",
    "write_lock",
]
