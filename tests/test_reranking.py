"""The optional cross-encoder reranker (tested with a small stand-in) and the support check."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from retrieval.answering import Answerer, AnswerSettings, CrossEncoderReranker
from retrieval.chunking import ChunkSettings, embedding_text
from retrieval.embedding import bundled_model_path
from retrieval.errors import ModelLoadError
from retrieval.index import EmbeddedStorage, IndexSpec
from tests.conftest import SEED_URL


@pytest.fixture(scope="module")
def stand_in() -> CrossEncoderReranker:
    """A real CrossEncoder built on the bundled MiniLM weights with a fresh, seeded scoring
    head: its scores mean nothing, but every line of the reranking path runs for real."""
    import torch

    torch.manual_seed(0)
    reranker = CrossEncoderReranker(str(bundled_model_path()))
    reranker.scores("warm up", ["load the model now"])
    return reranker


def test_reranker_orders_the_results(seed_data_dir: Path, embedder, stand_in) -> None:
    answerer = Answerer(
        EmbeddedStorage(seed_data_dir, IndexSpec(embedder.name, ChunkSettings())),
        embedder,
        AnswerSettings(per_article=10),
        reranker=stand_in,
    )
    question = "When is Putin visiting Pyongyang?"
    answer = answerer.answer(question, top_k=10, as_of=date(2024, 6, 18))
    texts = [embedding_text(r.title, r.text) for r in answer.results]
    own = stand_in.scores(question, texts)
    # Scores are the reranker's plus the same recency bonus (one article, one date).
    offsets = [r.score - s for r, s in zip(answer.results, own, strict=True)]
    assert offsets == pytest.approx([offsets[0]] * len(own), abs=1e-3)
    assert own == sorted(own, reverse=True)
    spec = IndexSpec(embedder.name, ChunkSettings())
    plain = Answerer(
        EmbeddedStorage(seed_data_dir, spec), embedder, AnswerSettings(per_article=10)
    ).answer(question, top_k=10, as_of=date(2024, 6, 18))
    assert [r.passage_id for r in answer.results] != [r.passage_id for r in plain.results]
    assert answer.answered and answer.citations[0].url == SEED_URL


def test_reranker_does_not_change_the_evidence_gate(
    seed_data_dir: Path, embedder, stand_in
) -> None:
    answerer = Answerer(
        EmbeddedStorage(seed_data_dir, IndexSpec(embedder.name, ChunkSettings())),
        embedder,
        reranker=stand_in,
    )
    assert not answerer.answer("Who won the 2018 FIFA World Cup?").answered


def test_missing_reranker_is_a_clear_error(tmp_path: Path) -> None:
    reranker = CrossEncoderReranker(str(tmp_path / "no-reranker"))
    with pytest.raises(ModelLoadError, match="NEWSBOT_RERANKER_MODEL"):
        reranker.scores("q", ["p"])


def test_verifier_declines_passages_that_share_nothing(seed_data_dir: Path, embedder) -> None:
    # A permissive evidence threshold lets weak evidence through; the verifier declines it.
    loose = AnswerSettings(threshold=0.05)
    answerer = Answerer(
        EmbeddedStorage(seed_data_dir, IndexSpec(embedder.name, ChunkSettings())), embedder, loose
    )
    declined = answerer.answer("How do I bake sourdough bread at home?")
    assert not declined.answered and declined.closest[0].url == SEED_URL
    assert declined.decline_reason in {"missing_terms", "weak_evidence"}
    kept = answerer.answer("When is Putin visiting Pyongyang?")
    assert kept.answered
