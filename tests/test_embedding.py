"""The embedding model: offline loading, clear errors, normalised float32 vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.embedding import SentenceTransformerEmbedder, bundled_model_path
from retrieval.errors import ModelLoadError


def test_default_model_comes_from_the_installed_package(embedder) -> None:
    path = bundled_model_path()
    assert path is not None and (path / "model.safetensors").exists()
    vectors = embedder.encode(["Putin visits Pyongyang", "Kim hosts Putin", "Stock markets fell"])
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert embedder.max_tokens == 256
    assert embedder.count_tokens("Hello world") == 4  # [CLS] hello world [SEP]


def test_model_directory_path_works(embedder) -> None:
    by_path = SentenceTransformerEmbedder(str(bundled_model_path()))
    text = ["The Kremlin confirmed the trip."]
    assert np.allclose(by_path.encode(text), embedder.encode(text), atol=1e-5)


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-model"
    with pytest.raises(ModelLoadError) as error:
        SentenceTransformerEmbedder(str(missing)).encode(["x"])
    message = str(error.value)
    assert str(missing) in message and "NEWSBOT_EMBEDDING_MODEL" in message


def test_unknown_model_name_is_not_downloaded() -> None:
    with pytest.raises(ModelLoadError) as error:
        SentenceTransformerEmbedder("someone/no-such-model-xyz").encode(["x"])
    message = str(error.value)
    assert "'someone/no-such-model-xyz'" in message
    assert "local Hugging Face cache" in message and "offline" in message


def test_directory_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty-model").mkdir()
    with pytest.raises(ModelLoadError, match="empty-model"):
        SentenceTransformerEmbedder(str(tmp_path / "empty-model")).encode(["x"])


def test_word_vectors_of_the_bundled_model_put_related_words_close() -> None:
    from retrieval.embedding import DEFAULT_MODEL, word_vectors

    table = word_vectors(DEFAULT_MODEL)
    assert table is not None
    price, cost, tuesday = table.vectors(["price", "cost", "tuesday"])
    assert float(price @ price) == pytest.approx(1.0, abs=1e-5)
    assert float(price @ cost) > 0.4 > float(price @ tuesday)
    assert word_vectors("no-such-model") is None


def test_word_vectors_of_a_model_without_a_table_are_zeros(tmp_path) -> None:
    from retrieval.embedding import WordVectors

    (tmp_path / "tokenizer.json").write_text("not a tokenizer")
    (tmp_path / "model.safetensors").write_bytes(b"not weights")
    table = WordVectors(tmp_path)
    assert table.vectors(["price", "cost"]).shape[0] == 2
    assert not table.vectors(["price"]).any()
