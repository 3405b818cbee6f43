"""A large flat index is searched through 8-bit copies, with the flat search's results."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from retrieval.index import vectors
from retrieval.index.vectors import ByteScan, build, searcher


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _flat(count: int, seed: int, copies: int = 0) -> tuple[faiss.Index, np.ndarray]:
    """A flat index of ``count`` unit vectors, the first ``copies`` + 1 of them alike."""
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(count, 32)).astype(np.float32)
    rows[1 : copies + 1] = rows[0] + rng.normal(0, 1e-4, size=(copies, 32))
    rows = _unit(rows)
    return build("flat", np.arange(10, 10 + count), rows), rows


@pytest.mark.parametrize("k", [1, 10, 50])
def test_the_same_ids_and_scores_as_the_flat_search(
    k: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    index, rows = _flat(5_000, seed=1)
    rng = np.random.default_rng(2)
    queries = _unit(np.vstack([rows[:20] + rng.normal(0, 0.3, (20, 32)),
                               rng.normal(size=(20, 32))]))  # fmt: skip
    scan, flat_calls = ByteScan(index), []
    monkeypatch.setattr(scan, "_index", _Spy(index, flat_calls))
    scores, ids = scan.search(queries, k)
    assert sum(flat_calls) < len(queries) // 4  # the scan itself answered most
    want_scores, want_ids = index.search(queries, k)
    assert np.array_equal(scores, want_scores)  # the flat kernel's own float32 scores
    assert [set(row) for row in ids] == [set(row) for row in want_ids]


def test_crowded_queries_fall_back_to_the_flat_search(monkeypatch: pytest.MonkeyPatch) -> None:
    # 300 near-copies of one vector: 8-bit codes cannot rank them, so among 4 × 10 candidates
    # the tenth best cannot be told from passages left out.
    index, rows = _flat(2_000, seed=3, copies=300)
    scan = ByteScan(index)
    flat_calls = []
    original = scan._index.search
    monkeypatch.setattr(scan, "_index", _Spy(index, flat_calls))
    scores, ids = scan.search(rows[:1].copy(), 10)
    want_scores, want_ids = original(rows[:1].copy(), 10)
    assert flat_calls == [1]
    assert np.array_equal(scores, want_scores) and np.array_equal(ids, want_ids)


class _Spy:
    """A flat index that counts the queries searched on it."""

    def __init__(self, index: faiss.Index, calls: list[int]) -> None:
        self._index, self._calls, self.ntotal = index, calls, index.ntotal

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        self._calls.append(len(queries))
        return self._index.search(queries, k)


def test_only_large_flat_indexes_are_scanned_in_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    index, _ = _flat(300, seed=4)
    assert searcher(index) == index.search
    monkeypatch.setattr(vectors, "SCAN_MIN_PASSAGES", 300)
    assert isinstance(searcher(index).__self__, ByteScan)  # type: ignore[attr-defined]
