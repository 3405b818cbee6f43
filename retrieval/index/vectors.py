"""FAISS indexes of passage vectors by store id: flat (exact) or IVF (8-bit codes).

Both kinds add and remove by id and reconstructs a vector from its id, which the keyword
side of hybrid search needs. IVF keeps a hash table from id to list entry for that (FAISS
saves it with the index and updates it on removal). Which kind to use is decided in
``retrieval.index.policy``.
"""

from __future__ import annotations

from collections.abc import Callable

import faiss
import numpy as np

from retrieval.index.policy import (
    TRAIN_POINTS_PER_LIST,
    IndexPolicy,
    list_count,
    needs_retraining,
)

# k-means iterations when training IVF centroids; FAISS's default of 25 takes 2.5 times as
# long, for lists that partition the vectors no better for search.
KMEANS_ITERATIONS = 10
# Flat indexes of this many passages or more are searched through an 8-bit scan
# (``ByteScan``): below it, a flat search takes under 1 ms.
SCAN_MIN_PASSAGES = 20_000
SCAN_FACTOR = 4  # candidates per result wanted, scored exactly
# float32 rounding: of the codes' step, and of a 384-term score of unit vectors (at most
# about 384 × 2^-24, 2.3e-5, in either score), with room over.
SCAN_ERROR = 1e-4


def empty_flat(dimension: int) -> faiss.Index:
    """An empty exact index."""
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))


def kind_of(index: faiss.Index) -> str:
    """``flat`` or ``ivf``."""
    return "flat" if faiss.try_extract_index_ivf(index) is None else "ivf"


def list_total(index: faiss.Index) -> int:
    """The number of inverted lists of an IVF index, 0 for other kinds."""
    ivf = faiss.try_extract_index_ivf(index)
    return 0 if ivf is None else int(ivf.nlist)


def configure(index: faiss.Index, policy: IndexPolicy) -> None:
    """Set the search-time knobs of ``policy`` on a loaded index."""
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.nprobe = policy.nprobe


def contents(index: faiss.Index) -> tuple[np.ndarray, np.ndarray]:
    """Every id and its vector (as the index stores it: IVF's are 8-bit approximations)."""
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is None:
        assert isinstance(index, faiss.IndexIDMap)  # flat indexes are id maps
        ids = faiss.vector_to_array(index.id_map).astype(np.int64)
        return ids, index.index.reconstruct_n(0, index.ntotal)
    lists = ivf.invlists
    assert lists is not None
    parts = [
        faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
        for i in range(ivf.nlist)
        if lists.list_size(i)
    ]
    ids = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
    return ids, index.reconstruct_batch(ids)


def build(kind: str, ids: np.ndarray, vectors: np.ndarray, *, seed: int = 0) -> faiss.Index:
    """A new index of ``kind`` holding ``vectors`` under ``ids`` (IVF trained on them)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dimension = vectors.shape[1]
    index: faiss.Index
    if kind == "flat":
        index = empty_flat(dimension)
    elif kind == "ivf":
        index = _trained_ivf(vectors, seed)
    else:
        raise ValueError(f"unknown index kind {kind!r}; expected flat or ivf")
    if len(ids):
        index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
    return index


def _trained_ivf(vectors: np.ndarray, seed: int) -> faiss.Index:
    lists = list_count(len(vectors))
    dimension = vectors.shape[1]
    index = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatIP(dimension),
        dimension,
        lists,
        faiss.ScalarQuantizer.QT_8bit,
        faiss.METRIC_INNER_PRODUCT,
    )
    index.cp.niter = KMEANS_ITERATIONS
    index.cp.seed = seed
    sample = min(len(vectors), lists * TRAIN_POINTS_PER_LIST)
    rows = np.random.default_rng(seed).choice(len(vectors), sample, replace=False)
    index.train(vectors[np.sort(rows)])
    # Reconstruct and remove by id (not in faiss' type stubs).
    index.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]
    return index


def remove(index: faiss.Index, ids: list[int]) -> faiss.Index:
    """``index`` without the vectors ``ids`` (removed in place)."""
    if ids:
        # faiss' Python wrapper takes an id array here (its stubs only know selectors).
        index.remove_ids(np.asarray(ids, dtype=np.int64))  # type: ignore[arg-type]
    return index


def fit(index: faiss.Index, policy: IndexPolicy, trained_on: int) -> tuple[faiss.Index, int]:
    """The index to commit under ``policy`` and the size its IVF lists were trained at:
    converted to another kind or retrained when due, else ``index`` itself."""
    kind = kind_of(index)
    target = policy.target(index.ntotal, kind)
    retrain = kind == "ivf" and needs_retraining(index.ntotal, trained_on)
    if index.ntotal == 0 or (target == kind and not retrain):
        return index, trained_on
    ids, vectors = contents(index)
    converted = build(target, ids, vectors)
    return converted, (len(ids) if target == "ivf" else 0)


class ByteScan:
    """The exact ``k`` best of a large flat index, found through an 8-bit copy.

    A flat search reads every float32 vector and is limited by memory, not arithmetic
    (4.9 ms a question at 34,000 passages on one core of a Xeon with AVX-512). This scans
    one-byte codes instead, a quarter of the bytes (1.6-2.1 ms a search in all, against
    3.1-3.3 through the float16 copies used before), for ``SCAN_FACTOR`` times as many
    candidates, then scores those with the flat index's own float32 kernel, so the scores
    are the flat search's to the bit. The codes share one range over every dimension,
    trained on the vectors scanned, so each decoded value is within half a step of the true
    one and a rough score within half a step times the query's L1 norm of the exact one.
    When the k-th exact score does not clear the last candidate's rough score by that
    bound, a passage outside the candidates could still belong, and that query is searched
    flat.
    """

    def __init__(self, index: faiss.IndexIDMap) -> None:
        self._index = index
        self._flat = faiss.downcast_index(index.index)
        self._ids = faiss.vector_to_array(index.id_map).astype(np.int64)
        vectors = self._flat.reconstruct_n(0, index.ntotal)
        self._codes = faiss.IndexScalarQuantizer(
            index.d, faiss.ScalarQuantizer.QT_8bit_uniform, faiss.METRIC_INNER_PRODUCT
        )
        self._codes.train(vectors)  # one range (minimum, width) for every dimension
        self._codes.add(vectors)
        width = float(faiss.vector_to_array(self._codes.sq.trained)[1])
        self._half_step = width / 255 / 2 * (1 + SCAN_ERROR)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and ids of the ``k`` best per query, best first (``faiss.Index.search``)."""
        wide = min(k * SCAN_FACTOR, self._index.ntotal)
        rough, rows = self._codes.search(queries, wide)
        exact = np.empty_like(rough)
        # The flat index's own kernel (IndexFlat's; not in faiss' type stubs).
        self._flat.compute_distance_subset(  # type: ignore[attr-defined]
            len(queries), faiss.swig_ptr(queries), wide, faiss.swig_ptr(exact),
            faiss.swig_ptr(rows),
        )  # fmt: skip
        order = np.argsort(-exact, axis=1, kind="stable")[:, :k]
        scores = np.take_along_axis(exact, order, axis=1)
        ids = self._ids[np.take_along_axis(rows, order, axis=1)]
        margin = self._half_step * np.abs(queries).sum(axis=1) + SCAN_ERROR
        unsure = np.flatnonzero(scores[:, -1] <= rough[:, -1] + margin)
        if wide < self._index.ntotal and len(unsure):
            scores[unsure], ids[unsure] = self._index.search(queries[unsure], k)
        return scores, ids


def searcher(index: faiss.Index) -> Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]:
    """How to search ``index``: through a ``ByteScan`` when it is flat and large enough for
    the scan to cost more than the second pass."""
    if kind_of(index) == "flat" and index.ntotal >= SCAN_MIN_PASSAGES:
        assert isinstance(index, faiss.IndexIDMap)  # flat indexes are id maps
        return ByteScan(index).search
    return index.search
