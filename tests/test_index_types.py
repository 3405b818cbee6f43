"""Index types: flat up to a size, then IVF (or an explicit type), through real generations."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import faiss
import numpy as np
import pytest

from bot.app import index_policy
from bot.settings import Settings, SettingsError, load_settings
from retrieval.articles import Article
from retrieval.chunking import ChunkSettings, embedding_text
from retrieval.errors import IndexMismatchError
from retrieval.index import (
    STORE,
    IndexReader,
    IndexSpec,
    Writer,
    build_index,
    open_index,
    read_manifest,
    update_index,
)
from retrieval.index.policy import DEFAULT_POLICY, IndexPolicy, list_count
from retrieval.index.vectors import build, configure, contents, kind_of, remove
from tests.conftest import HashingEmbedder

WORDS = [f"w{i}" for i in range(400)]


def _articles(count: int, start: int = 0) -> list[Article]:
    """Articles of one passage each, with distinct bag-of-words text."""
    rng = np.random.default_rng(start)
    return [
        Article(
            f"https://news.test/{n}",
            f"Story {n}",
            "Example",
            date(2024, 3, 1),
            (" ".join(rng.choice(WORDS, 25)) + ".",),
        )
        for n in range(start, start + count)
    ]


def _writer(tmp_path: Path, embedder: HashingEmbedder, **policy: object) -> Writer:
    return Writer(tmp_path / "data", embedder, ChunkSettings(), index=IndexPolicy(**policy))  # type: ignore[arg-type]


def _open(writer: Writer) -> IndexReader:
    return open_index(writer.data_dir, writer.spec)


def _stored_ids(reader: IndexReader) -> set[int]:
    with sqlite3.connect(reader.directory / STORE) as db:
        return {row[0] for row in db.execute("SELECT id FROM passages")}


def _assert_vectors_match_store(reader: IndexReader) -> None:
    ids, _ = contents(reader.vectors)
    assert sorted(ids.tolist()) == sorted(_stored_ids(reader))
    assert reader.manifest.passages == reader.size == len(ids)


def test_auto_stays_flat_up_to_the_limit(tmp_path: Path, hashing_embedder: HashingEmbedder) -> None:
    writer = _writer(tmp_path, hashing_embedder, flat_max_passages=100)
    update_index(writer, _articles(100))
    reader = _open(writer)
    assert (reader.manifest.index_type, kind_of(reader.vectors)) == ("flat", "flat")
    assert reader.manifest.ivf_lists == reader.manifest.trained_passages == 0


def test_auto_converts_above_the_limit_keeping_every_vector(
    tmp_path: Path, hashing_embedder: HashingEmbedder
) -> None:
    writer = _writer(tmp_path, hashing_embedder, flat_max_passages=100)
    articles = _articles(120)
    update_index(writer, articles[:90])
    flat = _open(writer)
    flat_ids, flat_vectors = contents(flat.vectors)
    update_index(writer, articles[90:])  # crosses the limit: converted when committed
    reader = _open(writer)
    assert kind_of(reader.vectors) == reader.manifest.index_type == "ivf"
    assert reader.manifest.trained_passages == 120
    assert reader.manifest.ivf_lists == faiss.extract_index_ivf(reader.vectors).nlist
    _assert_vectors_match_store(reader)
    # The converted vectors are the flat ones to within 8-bit quantisation.
    approximate = reader.vectors.reconstruct_batch(flat_ids)
    assert np.abs(approximate - flat_vectors).max() < 0.02
    # Every passage finds itself first.
    query = hashing_embedder.encode([embedding_text("Story 7", articles[7].paragraphs[0])])[0]
    best = reader.search(query, 3)[0][0]
    assert reader.store.passages([best])[best].article.url == articles[7].url


def test_explicit_flat_never_converts(tmp_path: Path, hashing_embedder: HashingEmbedder) -> None:
    writer = _writer(tmp_path, hashing_embedder, kind="flat", flat_max_passages=10)
    manifest = build_index(writer.data_dir, _articles(200), hashing_embedder, ChunkSettings(),
                           index=writer.index)  # fmt: skip
    update_index(writer, _articles(20, start=500))
    assert manifest.index_type == "flat"
    assert read_manifest(_open(writer).directory).index_type == "flat"


def test_update_on_ivf_removes_and_keeps_similarities(
    tmp_path: Path, hashing_embedder: HashingEmbedder
) -> None:
    writer = _writer(tmp_path, hashing_embedder, kind="ivf", nprobe=1000)
    articles = _articles(150)
    build_index(writer.data_dir, articles, hashing_embedder, ChunkSettings(), index=writer.index)
    gone = articles[3]
    query = hashing_embedder.encode([embedding_text(gone.title, gone.paragraphs[0])])[0]
    before = _open(writer)
    gone_id = before.search(query, 1)[0][0]
    assert before.store.passages([gone_id])[gone_id].article.url == gone.url
    report = update_index(writer, _articles(30, start=1000), remove=[gone.url])
    assert report.removed == [gone.url] and len(report.added) == 30
    reader = _open(writer)
    assert reader.manifest.index_type == "ivf"
    assert reader.manifest.trained_passages == 150  # 179 is not 4 times 150: no retraining
    _assert_vectors_match_store(reader)
    assert gone_id not in {i for i, _ in reader.search(query, 50)}
    with pytest.raises(RuntimeError):
        reader.vectors.reconstruct(gone_id)
    # Passages found by keyword search get their cosine from the IVF's direct map: the
    # search's score, and the exact cosine to within 8-bit quantisation.
    scores = dict(reader.search(query, 5))
    kept = list(scores)
    passages = reader.store.passages(kept)
    exact = (
        hashing_embedder.encode(
            [embedding_text(passages[i].article.title, passages[i].text) for i in kept]
        )
        @ query
    )
    assert reader.similarities(query, kept) == pytest.approx([scores[i] for i in kept], abs=1e-4)
    assert reader.similarities(query, kept) == pytest.approx(exact.tolist(), abs=0.02)


def test_ivf_is_retrained_when_the_corpus_has_grown_fourfold(
    tmp_path: Path, hashing_embedder: HashingEmbedder
) -> None:
    writer = _writer(tmp_path, hashing_embedder, flat_max_passages=20)
    update_index(writer, _articles(40))
    assert read_manifest(_open(writer).directory).trained_passages == 40
    update_index(writer, _articles(100, start=40))  # 140: not yet 4 times 40
    assert read_manifest(_open(writer).directory).trained_passages == 40
    update_index(writer, _articles(30, start=140))
    reader = _open(writer)
    assert (reader.manifest.index_type, reader.manifest.trained_passages) == ("ivf", 170)
    assert reader.manifest.ivf_lists == list_count(170)
    _assert_vectors_match_store(reader)


def test_auto_index_that_shrinks_stays_ivf(
    tmp_path: Path, hashing_embedder: HashingEmbedder
) -> None:
    writer = _writer(tmp_path, hashing_embedder, flat_max_passages=50)
    articles = _articles(60)
    update_index(writer, articles)
    update_index(writer, [], remove=[a.url for a in articles[:30]])
    reader = _open(writer)
    assert reader.manifest.index_type == "ivf" and reader.size == 30
    _assert_vectors_match_store(reader)


def test_recall_at_10_with_the_default_nprobe_on_clustered_vectors() -> None:
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((300, 64)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    points = centres[rng.integers(300, size=20_000)] + rng.normal(0, 0.08, (20_000, 64))
    points = (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)
    queries = points[rng.choice(20_000, 200, replace=False)] + rng.normal(0, 0.05, (200, 64))
    queries = queries.astype(np.float32)
    ids = np.arange(20_000, dtype=np.int64) * 5  # store ids need not be positions
    exact = build("flat", ids, points).search(queries, 10)[1]
    ivf = build("ivf", ids, points)
    configure(ivf, DEFAULT_POLICY)
    found = ivf.search(queries, 10)[1]
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, exact, strict=True)])
    assert recall >= 0.9
    configure(ivf, IndexPolicy(nprobe=1))  # the knob is live: one list finds less
    fewer = ivf.search(queries, 10)[1]
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(fewer, exact, strict=True)]) < recall


def test_ivf_direct_map_survives_write_read_and_removal(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    points = rng.standard_normal((2000, 32)).astype(np.float32)
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    ids = np.arange(2000, dtype=np.int64) + 10_000
    faiss.write_index(build("ivf", ids, points), str(tmp_path / "v.faiss"))
    loaded = remove(faiss.read_index(str(tmp_path / "v.faiss")), [10_000, 10_001])
    faiss.write_index(loaded, str(tmp_path / "w.faiss"))
    again = faiss.read_index(str(tmp_path / "w.faiss"))
    assert again.ntotal == 1998
    assert np.abs(again.reconstruct(10_005) - points[5]).max() < 0.02
    with pytest.raises(RuntimeError):
        again.reconstruct(10_001)


def test_search_knobs_are_set_on_load(tmp_path: Path, hashing_embedder: HashingEmbedder) -> None:
    writer = _writer(tmp_path, hashing_embedder, kind="ivf")
    update_index(writer, _articles(100))
    spec = IndexSpec(writer.spec.model, writer.chunking, IndexPolicy(nprobe=7))
    assert faiss.extract_index_ivf(open_index(writer.data_dir, spec).vectors).nprobe == 7


def test_manifest_of_an_earlier_format_is_refused_with_the_rebuild_command(
    tmp_path: Path, hashing_embedder: HashingEmbedder
) -> None:
    writer = _writer(tmp_path, hashing_embedder)
    update_index(writer, _articles(5))
    directory = _open(writer).directory
    data = json.loads((directory / "manifest.json").read_text())
    assert data["index_type"] == "flat" and data["ivf_lists"] == 0
    for name in ("index_type", "ivf_lists", "trained_passages", "files"):
        del data[name]  # as written before approximate indexes, at format version 2
    (directory / "manifest.json").write_text(json.dumps({**data, "format_version": 2}))
    with pytest.raises(IndexMismatchError, match="newsbot index"):
        _open(writer)


def test_unknown_index_type_names_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match="'annoy'; expected one of auto, flat, ivf"):
        IndexPolicy(kind="annoy")
    with pytest.raises(ValueError, match="nprobe must be positive"):
        IndexPolicy(nprobe=0)


def test_index_settings_are_validated_and_passed_on(monkeypatch: pytest.MonkeyPatch) -> None:
    assert index_policy(Settings(_env_file=None)) == DEFAULT_POLICY  # type: ignore[call-arg]
    monkeypatch.setenv("NEWSBOT_INDEX_TYPE", "annoy")
    with pytest.raises(SettingsError, match=r"NEWSBOT_INDEX_TYPE: .*'auto', 'flat', 'ivf'"):
        load_settings(None)
    monkeypatch.setenv("NEWSBOT_INDEX_TYPE", "ivf")
    monkeypatch.setenv("NEWSBOT_IVF_NPROBE", "0")
    with pytest.raises(SettingsError, match="NEWSBOT_IVF_NPROBE"):
        load_settings(None)
    monkeypatch.setenv("NEWSBOT_IVF_NPROBE", "12")
    monkeypatch.setenv("NEWSBOT_FLAT_MAX_PASSAGES", "1000")
    assert index_policy(load_settings(None)) == IndexPolicy("ivf", 1000, 12)
