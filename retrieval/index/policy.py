"""Which kind of FAISS index holds a generation's vectors: exact up to a size, then approximate.

Pure decisions and their defaults, without FAISS (the settings import them); the FAISS side
is ``retrieval.index.vectors``. The defaults come from ``benchmarks/bench_index.py`` (figures in
benchmarks/README.md, "Large corpora").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

INDEX_TYPES = ("auto", "flat", "ivf")
# Flat search reads every vector for every question. Measured in two runs on 2 shared cores
# (1-minute load 1-5), single queries, p50: 2.5-5.4 ms at 50,000 passages and 8.7-9.6 ms at
# 100,000 with one FAISS thread; 9-30 ms and 18-46 ms with FAISS's default of two (the
# second thread often waits for a core). Above 50,000 flat no longer answers in a few
# milliseconds even at best, while IVF searches a million in about 1 ms at recall@10 0.98.
FLAT_MAX_PASSAGES = 50_000
# Inverted lists probed per query. On realistic vectors recall@10 levels off at 0.984 from
# 16 probes at 1M passages and at 0.988 from 64 at 100k; 64 costs 0.8 ms p50 at 1M, and
# leaves a margin for vectors less clustered than the benchmark's (see its README section).
IVF_NPROBE = 64
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

    def __post_init__(self) -> None:
        if self.kind not in INDEX_TYPES:
            raise ValueError(
                f"unknown index type {self.kind!r}; expected one of {', '.join(INDEX_TYPES)}"
            )
        for name in ("flat_max_passages", "nprobe"):
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
