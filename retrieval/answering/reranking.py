"""Optional reranking of the best passages with a cross-encoder the user configures."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from retrieval.answering.search import Hit
from retrieval.chunking import embedding_text
from retrieval.errors import ModelLoadError

if TYPE_CHECKING:
    from sentence_transformers import CrossEncoder


class Reranker(Protocol):
    """Scores (question, passage) pairs; higher is more relevant."""

    def scores(self, question: str, passages: Sequence[str]) -> list[float]:
        """One relevance score in 0..1 per passage."""
        ...


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder, loaded offline on first use."""

    def __init__(self, name: str, device: str = "cpu") -> None:
        self.name = name
        self._device = device
        self._model: CrossEncoder | None = None
        self._lock = threading.Lock()

    def _load(self) -> CrossEncoder:
        from sentence_transformers import CrossEncoder

        path = Path(self.name).expanduser()
        try:
            return CrossEncoder(str(path) if path.exists() else self.name, num_labels=1,
                                device=self._device, local_files_only=True)  # fmt: skip
        except Exception as exc:  # the library raises many types; all mean "not loadable"
            raise ModelLoadError(
                f"cannot load reranker {self.name!r} (looked in {path.resolve()} and the "
                f"local Hugging Face cache): {type(exc).__name__}: {exc}. Set "
                "NEWSBOT_RERANKER_MODEL to a local cross-encoder directory, or leave it empty."
            ) from None

    def scores(self, question: str, passages: Sequence[str]) -> list[float]:
        """Relevance of each passage to the question, squashed to 0..1."""
        with self._lock:
            if self._model is None:
                self._model = self._load()
            raw = self._model.predict(
                [(question, p) for p in passages], activation_fn=_sigmoid(), show_progress_bar=False
            )
        return [float(s) for s in raw]


def _sigmoid():  # type: ignore[no-untyped-def]
    import torch

    return torch.nn.Sigmoid()


def rerank(question: str, ranked: list[Hit], reranker: Reranker, top: int) -> list[Hit]:
    """The ``top`` best hits reordered by the reranker (scored 0..1), then the rest below.

    Each hit keeps its cosine similarity, so the evidence gate is unchanged; the boosts for
    recency and time frame are added on top of the reranker's score.
    """
    head, tail = ranked[:top], ranked[top:]
    if not head:
        return ranked
    texts = [embedding_text(h.passage.article.title, h.passage.text) for h in head]
    scored = [
        replace(h, score=s + h.boost)
        for h, s in zip(head, reranker.scores(question, texts), strict=True)
    ]
    floor = min(h.score for h in scored) - 1.0
    return sorted(scored, key=lambda h: -h.score) + [
        replace(h, score=floor - i * 1e-6) for i, h in enumerate(tail)
    ]
