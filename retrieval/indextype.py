"""Which kind of FAISS index holds a generation's vectors: exact up to a size, then approximate.

Pure decisions and their defaults, without FAISS (the settings import them); the FAISS side
is ``retrieval.vectors``. The defaults come from ``benchmarks/bench_index.py`` (figures in
benchmarks/README.md, "Large corpora").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

INDEX_TYPES = ("auto", "flat", "ivf", "hnsw")
# Flat search reads every vector for every question: about 10 ms per 100,000 passages with
# one FAISS thread on this 2-core machine, and 4-6 times that with two threads while other
# jobs run. Above 50,000 it no longer answers in a few milliseconds, while IVF at that size
# still finds 0.99 of the exact top 10 with the default nprobe.
FLAT_MAX_PASSAGES = 50_000
# Inverted lists probed per query: the smallest count that gave recall@10 >= 0.95 against
# exact search on realistic vectors at 100k and 1M passages, with p50 well under 5 ms.
IVF_NPROBE = 64
# HNSW candidate list length at search time, chosen the same way.
HNSW_EF_SEARCH = 128
HNSW_NEIGHBOURS = 32  # graph degree M: FAISS's usual choice for ~400-dimensional vectors
# An IVF index is retrained (new centroids from all its vectors) once the corpus has grown
# this many times past the size it was trained at: the lists then hold several times the
# passages they were sized for, and the centroids were fitted to a quarter of the data.
RETRAIN_GROWTH = 4
# k-means needs at least 39 points per centroid (FAISS warns below that). Training cost
# grows with lists times points, so with the square of the lists: 4,000 lists on 40 points
# each took 97 s on 2 busy cores (load 6).
TRAIN_POINTS_PER_LIST = 40
MAX_LISTS = 65_536


@dataclass(frozen=True)
class IndexPolicy:
    """The index type setting, the flat limit for ``auto``, and the search-time knobs."""

    kind: str = "auto"
    flat_max_passages: int = FLAT_MAX_PASSAGES
    nprobe: int = IVF_NPROBE
    ef_search: int = HNSW_EF_SEARCH

    def __post_init__(self) -> None:
        if self.kind not in INDEX_TYPES:
            raise ValueError(
                f"unknown index type {self.kind!r}; expected one of {', '.join(INDEX_TYPES)}"
            )
        for name in ("flat_max_passages", "nprobe", "ef_search"):
            if getattr(self, name) < (0 if name == "flat_max_passages" else 1):
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")

    def target(self, passages: int, current: str) -> str:
        """The type a generation of ``passages`` held in a ``current`` index is committed as.

        ``auto`` turns flat into IVF above the flat limit, and keeps an approximate index
        approximate when it shrinks again (converting back would cost a full rebuild for a
        search that is no faster); an explicit type is always honoured.
        """
        if self.kind != "auto":
            return self.kind
        if current != "flat":
            return current
        return "ivf" if passages > self.flat_max_passages else "flat"


DEFAULT_POLICY = IndexPolicy()


def list_count(passages: int) -> int:
    """Inverted lists for an IVF index over ``passages`` vectors: about 4·sqrt(N), with at
    least 39 training points each."""
    return max(1, min(round(4 * math.sqrt(passages)), passages // 39, MAX_LISTS))


def needs_retraining(passages: int, trained_on: int) -> bool:
    """Whether an IVF index trained on ``trained_on`` vectors should be trained again."""
    return passages > RETRAIN_GROWTH * max(trained_on, 1)
