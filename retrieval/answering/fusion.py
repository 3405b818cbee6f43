"""How dense and keyword scores combine into one ranking: the retrieval methods."""

from __future__ import annotations

METHODS = ("dense", "bm25", "hybrid", "rrf")
RRF_K = 60


def fuse(method: str, dense: dict[int, float], keyword: dict[int, float],
         keyword_weight: float) -> dict[int, float]:  # fmt: skip
    """Ranking scores of the candidate ids in ``dense`` (cosine similarity of each).

    ``keyword`` holds BM25 scores of the ids the keyword search found. ``hybrid`` adds the
    BM25 score, scaled to 0..1 by the best one, times ``keyword_weight`` to the cosine;
    ``rrf`` is reciprocal rank fusion, scaled so that rank 1 in both lists scores 1.
    """
    if method == "dense":
        return dict(dense)
    best = max(keyword.values(), default=0.0) or 1.0
    scaled = {i: keyword.get(i, 0.0) / best for i in dense}
    if method == "bm25":
        return scaled
    if method == "hybrid":
        return {i: dense[i] + keyword_weight * scaled[i] for i in dense}
    if method == "rrf":
        dense_rank = {i: r for r, i in enumerate(sorted(dense, key=lambda i: -dense[i]), 1)}
        keyword_rank = {i: r for r, i in enumerate(sorted(keyword, key=lambda i: -keyword[i]), 1)}
        top = 2 / (RRF_K + 1)
        return {
            i: (1 / (RRF_K + dense_rank[i]) + (1 / (RRF_K + keyword_rank[i]) if i in keyword_rank
                                               else 0.0)) / top
            for i in dense
        }  # fmt: skip
    raise ValueError(f"unknown retrieval method {method!r}; expected one of {', '.join(METHODS)}")
