"""Sentence vectors pooled at indexing time, kept in the store, used when answering."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from retrieval.answer import Question
from retrieval.answering import Answerer, AnswerSettings
from retrieval.articles import Article
from retrieval.chunking import ChunkSettings, embedding_text
from retrieval.embedding import pool, sentence_spans
from retrieval.errors import IndexMismatchError
from retrieval.index import (
    FORMAT_VERSION,
    EmbeddedStorage,
    IndexSpec,
    Writer,
    build_index,
    current_generation,
    open_index,
    update_index,
)
from retrieval.index.rows import pack_rows, unpack_rows
from retrieval.sentences import split_sentences
from retrieval.sources import load_articles
from tests.conftest import SEEDS, HashingEmbedder


def test_sentence_spans_cover_each_sentence_in_order() -> None:
    text = 'He said "Go now." Then U.S. officials left.  A third one!'
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == split_sentences(text)
    assert spans == sorted(spans)


def test_pooled_passage_vector_is_the_encoded_vector(embedder) -> None:
    title = "Kremlin Confirms Putin's Trip to North Korea"
    passage = "Putin will visit Pyongyang on Tuesday. He will then travel to Vietnam."
    text = embedding_text(title, passage)
    pooled = pool(embedder.token_vectors([text])[0], len(text) - len(passage),
                  sentence_spans(passage))  # fmt: skip
    assert float(pooled.passage @ embedder.encode([text])[0]) > 0.9999
    assert pooled.sentences.shape == (2, embedder.dimension)
    assert np.allclose(np.linalg.norm(pooled.sentences, axis=1), 1.0, atol=1e-5)
    # Each sentence's vector is closest to its own sentence encoded alone.
    alone = embedder.encode(split_sentences(passage))
    similarity = pooled.sentences @ alone.T
    assert similarity[0, 0] > similarity[0, 1] and similarity[1, 1] > similarity[1, 0]


def test_a_sentence_past_the_truncation_gets_the_passage_vector() -> None:
    rows = np.eye(4, dtype=np.float32)
    offsets = np.array([(0, 0), (0, 3), (4, 7), (0, 0)])  # [CLS] abc def [SEP]
    pooled = pool((rows, offsets), 0, [(0, 3), (4, 7), (8, 12)])
    assert np.allclose(pooled.sentences[0], [0, 1, 0, 0])
    assert np.allclose(pooled.sentences[1], [0, 0, 1, 0])
    assert np.allclose(pooled.sentences[2], pooled.passage)


def _article(url: str, text: str) -> Article:
    return Article(url, "A title", "Outlet", date(2024, 5, 1), (text,))


def test_store_keeps_sentence_vectors_until_the_article_goes(
    tmp_path: Path, hashing_embedder: HashingEmbedder
) -> None:
    writer = Writer(tmp_path, hashing_embedder, ChunkSettings())
    one = _article("https://a.example/1", "The dam opened in May. It holds four lakes of water.")
    two = _article("https://a.example/2", "A bridge was closed. Traffic moved to the ferry.")
    update_index(writer, [one, two])
    reader = open_index(tmp_path, IndexSpec(hashing_embedder.name, ChunkSettings()))
    stored = reader.store.sentence_vectors(range(1, 10))
    assert sorted(stored) == [1, 2]
    expected = hashing_embedder.encode(["The dam opened in May.", "It holds four lakes of water."])
    assert np.allclose(stored[1], expected, atol=0.01)  # int8 on disk
    reader.close()
    update_index(writer, [], remove=[one.url])
    reader = open_index(tmp_path, IndexSpec(hashing_embedder.name, ChunkSettings()))
    assert sorted(reader.store.sentence_vectors(range(1, 10))) == [2]
    reader.close()


class CountingEmbedder:
    """The real model, counting the texts it is asked to encode."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.encoded: list[str] = []

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        self.encoded.extend(texts)
        return self.inner.encode(texts, batch_size)


@pytest.fixture
def seed_copy(tmp_path: Path, seed_data_dir: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(seed_data_dir, copy)
    return copy


def test_answering_encodes_only_the_question(seed_copy: Path, embedder) -> None:
    counting = CountingEmbedder(embedder)
    spec = IndexSpec(embedder.name, ChunkSettings())
    answer = Answerer(EmbeddedStorage(seed_copy, spec), counting, AnswerSettings()).answer(
        "Where will Putin go after North Korea?"
    )
    assert answer.answered and "Vietnam" in answer.text
    assert counting.encoded == ["Where will Putin go after North Korea?"]


def test_an_index_of_an_earlier_format_is_refused(seed_copy: Path, embedder) -> None:
    """Indexes written before every generation kept sentence vectors are rebuilt, not read."""
    manifest_path = seed_copy / str(current_generation(seed_copy)) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "format_version": 3}))
    spec = IndexSpec(embedder.name, ChunkSettings())
    with pytest.raises(IndexMismatchError, match=f"format version 3, expected {FORMAT_VERSION}"):
        Answerer(EmbeddedStorage(seed_copy, spec), embedder).answer("When is Putin visiting?")


def test_build_stores_vectors_for_every_passage(tmp_path: Path, embedder) -> None:
    build_index(tmp_path, load_articles([SEEDS]), embedder, ChunkSettings())
    reader = open_index(tmp_path, IndexSpec(embedder.name, ChunkSettings()))
    ids = list(reader.store.passages(range(1, 1000)))
    stored = reader.store.sentence_vectors(ids)
    passages = reader.store.passages(ids)
    assert sorted(stored) == sorted(ids)
    for i in ids:
        assert len(stored[i]) == len(split_sentences(passages[i].text))
    reader.close()


def test_packed_rows_keep_their_direction() -> None:
    rng = np.random.default_rng(3)
    rows = rng.standard_normal((6, 384)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    data = pack_rows(rows)
    assert len(data) == 6 * 4 + 6 * 384  # a quarter of float32, plus a scale per row
    back = unpack_rows(data, 6)
    cosines = np.sum(back * rows, axis=1) / np.linalg.norm(back, axis=1)
    assert cosines.min() > 0.999


def test_a_batch_encodes_once_and_answers_repeats_once(seed_copy: Path, embedder) -> None:
    counting = CountingEmbedder(embedder)
    answerer = Answerer(
        EmbeddedStorage(seed_copy, IndexSpec(embedder.name, ChunkSettings())), counting
    )
    asked = [Question("Where will Putin go after North Korea?"),
             Question("When is Putin visiting  Pyongyang?"),
             Question("Where will Putin go after North Korea?"),
             Question("Who won the 2018 FIFA World Cup?")]  # fmt: skip
    answers = answerer.answer_many(asked)
    assert counting.encoded == ["Where will Putin go after North Korea?",
                                "When is Putin visiting Pyongyang?",
                                "Who won the 2018 FIFA World Cup?"]  # fmt: skip
    one_by_one = [answerer.answer(q.text) for q in asked]
    assert [a.text for a in answers] == [a.text for a in one_by_one]
    assert "Vietnam" in answers[0].text and answers[0] == answers[2]
    assert answers[0].timings is not answers[2].timings
    assert not answers[3].answered
