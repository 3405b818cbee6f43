"""Shared fixtures: an isolated environment, the real model, and a seed-article index."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from retrieval.answering import Answerer, AnswerSettings
from retrieval.chunking import ChunkSettings
from retrieval.embedding import SentenceTransformerEmbedder, TokenBatch, batches_by_length
from retrieval.index import EmbeddedStorage, IndexSpec, build_index
from retrieval.sources import load_articles
from tests.ingest.server import FixtureServer
from tests.pg_fixtures import database_url, pg_server  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED_URL = (
    "https://www.themoscowtimes.com/2024/06/17/kremlin-confirms-putins-trip-to-north-korea-a85441"
)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of exported models for the whole test session."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(autouse=True)
def isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model_cache: Path
) -> None:
    """No NEWSBOT_* variable or .env of the developer's leaks into a test."""
    for name in list(os.environ):
        if name.startswith("NEWSBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # ONNX exports go to one cache for the session (subprocesses inherit it), not ~/.cache.
    monkeypatch.setenv("XDG_CACHE_HOME", str(model_cache))
    monkeypatch.chdir(tmp_path)


class HashingEmbedder:
    """A deterministic bag-of-words embedder for tests where the model is not the point."""

    name = "test/hashing"
    dimension = 64
    max_tokens = 256

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, (tokens, _) in enumerate(self.token_vectors(texts)):
            vectors[row] = tokens.sum(axis=0)
            vectors[row] /= max(float(np.linalg.norm(vectors[row])), 1e-9)
        return vectors

    def token_vectors(self, texts: list[str], batch_size: int = 64) -> list:
        """One one-hot row per word (its hashed bucket), with the word's character span."""
        result = []
        for text in texts:
            words = list(re.finditer(r"\w+", text.lower()))
            rows = np.zeros((max(len(words), 1), self.dimension), dtype=np.float32)
            for row, word in enumerate(words):
                digest = hashlib.md5(word.group().encode()).hexdigest()
                rows[row, int(digest, 16) % self.dimension] = 1.0
            spans = np.array([w.span() for w in words] or [(0, 0)], dtype=np.int64)
            result.append((rows, spans))
        return result

    def token_batches(self, texts: list[str], batch_size: int = 64) -> Iterator[TokenBatch]:
        return batches_by_length(self, texts, batch_size)

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2

    def count_tokens_many(self, texts: list[str]) -> list[int]:
        return [self.count_tokens(t) for t in texts]


@pytest.fixture
def hashing_embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The real default model, loaded once per test session."""
    model = SentenceTransformerEmbedder()
    model.model  # noqa: B018 - load now, so that the first test is not charged for it
    return model


@pytest.fixture(scope="session")
def onnx_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ONNX export cache for the session: the model is exported (and quantised) once."""
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="session")
def seed_data_dir(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    """A data directory holding an index of seeds/ built with the real model."""
    data_dir = tmp_path_factory.mktemp("seed-data")
    build_index(data_dir, load_articles([SEEDS]), embedder, ChunkSettings())
    return data_dir


@pytest.fixture(scope="session")
def seed_answerer(seed_data_dir: Path, embedder) -> Answerer:
    """A real answerer over the seed article (today is the real date)."""
    return Answerer(
        EmbeddedStorage(seed_data_dir, IndexSpec(embedder.name, ChunkSettings())),
        embedder,
        AnswerSettings(),
    )


@pytest.fixture(scope="session")
def site() -> Iterator[FixtureServer]:
    """A local news site on 127.0.0.1: article pages, feeds, and routes that misbehave."""
    server = FixtureServer().start()
    yield server
    server.stop()


@pytest.fixture
def seed_day() -> date:
    return date(2024, 6, 17)
