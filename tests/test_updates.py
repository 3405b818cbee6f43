"""Incremental updates: new, changed, unchanged, copies, removals, and two writers."""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path

import pytest

from retrieval.articles import Article
from retrieval.chunking import ChunkSettings
from retrieval.errors import IndexMismatchError, NewsbotError
from retrieval.index import (
    STORE,
    IndexReader,
    IndexSpec,
    Writer,
    build_index,
    current_generation,
    open_index,
    update_index,
    write_lock,
)
from retrieval.sources import load_articles
from tests.conftest import SEEDS, HashingEmbedder


def _article(url: str, text: str, title: str = "Dam Opens", day: int = 1) -> Article:
    return Article(url, title, "Example", date(2024, 3, day), tuple(text.split("\n\n")))


DAM = _article(
    "https://news.test/dam",
    "The new hydroelectric dam on the river opened on Monday after a decade of construction.",
)
BRIDGE = _article(
    "https://news.test/bridge",
    "A suspension bridge over the bay was closed for repairs after inspectors found cracks.",
    title="Bridge Closed",
)


@pytest.fixture
def writer(tmp_path: Path, hashing_embedder: HashingEmbedder) -> Writer:
    return Writer(tmp_path / "data", hashing_embedder, ChunkSettings())


def reader(writer: Writer) -> IndexReader:
    return open_index(writer.data_dir, writer.spec)


def assert_consistent(index: IndexReader) -> None:
    """Every vector id is a passage of a stored article, and every passage has a vector."""
    ids = set(faiss_ids(index))
    rows = index.store.passages(ids)
    assert set(rows) == ids
    assert index.store.counts()["passages"] == len(ids) == index.size


def faiss_ids(index: IndexReader) -> list[int]:
    import faiss

    return list(faiss.vector_to_array(index.vectors.id_map))


def search_urls(writer: Writer, text: str) -> list[str]:
    index = reader(writer)
    hits = index.search(writer.embedder.encode([text])[0], 10)
    return [p.article.url for p in index.store.passages(i for i, _ in hits).values()]


def test_add_to_an_empty_data_dir(writer: Writer) -> None:
    report = update_index(writer, [DAM, BRIDGE])
    assert report.added == [DAM.url, BRIDGE.url] and report.passages == 2
    index = reader(writer)
    assert index.store.counts() == {"articles": 2, "passages": 2}
    assert_consistent(index)


def test_same_url_same_text_is_unchanged_and_writes_nothing(writer: Writer) -> None:
    update_index(writer, [DAM])
    before = current_generation(writer.data_dir)
    tracked = _article(DAM.url + "?utm_source=feed&utm_medium=rss#comments", DAM.paragraphs[0])
    report = update_index(writer, [DAM, tracked])
    assert report.unchanged == [DAM.url] and not report.added
    assert current_generation(writer.data_dir) == before


def test_changed_text_replaces_old_passages(writer: Writer) -> None:
    update_index(writer, [DAM, BRIDGE])
    changed = _article(DAM.url, "The dam opening was postponed because turbines failed tests.")
    report = update_index(writer, [changed])
    assert report.updated == [DAM.url]
    index = reader(writer)
    texts = [p.text for p in index.store.passages(faiss_ids(index)).values()]
    assert "The dam opening was postponed because turbines failed tests." in texts
    assert not any("decade of construction" in t for t in texts)
    assert index.store.counts() == {"articles": 2, "passages": 2}
    assert_consistent(index)


def test_same_text_under_two_urls_is_stored_once(writer: Writer) -> None:
    copy = _article("https://mirror.test/syndicated/dam", DAM.paragraphs[0])
    update_index(writer, [DAM])
    report = update_index(writer, [copy])
    assert report.duplicates == [(copy.url, DAM.url)]
    index = reader(writer)
    assert index.store.counts()["articles"] == 1
    [summary] = index.store.list_articles()
    assert summary.url == DAM.url and summary.aliases == (copy.url,)
    # Known by either URL: adding the copy again is "unchanged".
    assert update_index(writer, [copy]).unchanged == [copy.url]


def test_copies_within_one_batch(writer: Writer) -> None:
    copy = _article("https://mirror.test/dam", DAM.paragraphs[0])
    report = update_index(writer, [DAM, copy])
    assert report.added == [DAM.url] and report.duplicates == [(copy.url, DAM.url)]
    assert reader(writer).store.find(copy.url).url == DAM.url


def test_removal_takes_passages_out_of_search_at_once(writer: Writer) -> None:
    update_index(writer, [DAM, BRIDGE])
    assert BRIDGE.url in search_urls(writer, "suspension bridge cracks")
    report = update_index(writer, [], remove=[BRIDGE.url + "#top", "https://news.test/none"])
    assert report.removed == [BRIDGE.url]
    assert report.not_found == ["https://news.test/none"]
    assert BRIDGE.url not in search_urls(writer, "suspension bridge cracks")
    assert_consistent(reader(writer))
    assert reader(writer).store.find(BRIDGE.url) is None


def test_passage_ids_are_never_reused(writer: Writer) -> None:
    update_index(writer, [DAM, BRIDGE])
    first = set(faiss_ids(reader(writer)))
    update_index(writer, [], remove=[BRIDGE.url])
    update_index(writer, [_article("https://news.test/new", "A brand new story about ports.")])
    new_ids = set(faiss_ids(reader(writer))) - first
    assert new_ids and min(new_ids) > max(first)


def test_update_on_top_of_a_full_build(writer: Writer, hashing_embedder) -> None:
    build_index(writer.data_dir, load_articles([SEEDS]), hashing_embedder, ChunkSettings())
    update_index(writer, [DAM])
    index = reader(writer)
    assert index.store.counts()["articles"] == 2
    assert_consistent(index)


def test_update_refuses_an_index_of_another_model(writer: Writer, tmp_path: Path) -> None:
    update_index(writer, [DAM])
    other = Writer(writer.data_dir, _OtherModel(), ChunkSettings())
    with pytest.raises(IndexMismatchError, match="run `newsbot index --existing`"):
        update_index(other, [BRIDGE])


class _OtherModel(HashingEmbedder):
    name = "test/other"


def test_a_failed_update_changes_nothing(writer: Writer, monkeypatch: pytest.MonkeyPatch) -> None:
    update_index(writer, [DAM])
    before = current_generation(writer.data_dir)

    def broken(texts: list[str], batch_size: int = 64) -> list:
        raise RuntimeError("model crashed")

    monkeypatch.setattr(writer.embedder, "token_vectors", broken)
    with pytest.raises(RuntimeError):
        update_index(writer, [BRIDGE], remove=[DAM.url])
    assert current_generation(writer.data_dir) == before
    assert reader(writer).store.counts()["articles"] == 1
    assert not list(writer.data_dir.glob(".build-*"))


def test_second_writer_waits_for_the_first(writer: Writer) -> None:
    waited = threading.Event()
    update_index(writer, [DAM])
    patient = Writer(writer.data_dir, writer.embedder, writer.chunking, on_wait=waited.set)
    results: list[object] = []
    with write_lock(writer.data_dir):
        thread = threading.Thread(target=lambda: results.append(update_index(patient, [BRIDGE])))
        thread.start()
        assert waited.wait(5)
        time.sleep(0.2)
        assert not results  # still waiting
    thread.join(10)
    assert results and reader(writer).store.counts()["articles"] == 2


def test_writer_can_give_up_with_a_clear_message(writer: Writer) -> None:
    impatient = Writer(writer.data_dir, writer.embedder, writer.chunking, lock_timeout=0.2)
    with write_lock(writer.data_dir), pytest.raises(NewsbotError, match="another newsbot"):
        update_index(impatient, [DAM])


def test_store_is_compacted_copy(writer: Writer) -> None:
    update_index(writer, [DAM, BRIDGE])
    update_index(writer, [], remove=[DAM.url])
    name = current_generation(writer.data_dir)
    assert (writer.data_dir / str(name) / STORE).exists()
    assert sorted(p.name for p in writer.data_dir.glob("gen-*"))[-1] == name


def test_answerer_sees_an_update_without_restart(writer: Writer) -> None:
    from retrieval.answering import Answerer
    from retrieval.index import EmbeddedStorage

    update_index(writer, [DAM])
    spec = IndexSpec(writer.embedder.name, ChunkSettings())
    answerer = Answerer(EmbeddedStorage(writer.data_dir, spec), writer.embedder)
    assert answerer.stats()["articles"] == 1
    update_index(writer, [BRIDGE])
    answer = answerer.answer("suspension bridge closed cracks", as_of=date(2024, 12, 31))
    assert answer.results[0].url == BRIDGE.url


def test_a_copy_under_another_headline_stays_a_copy(writer: Writer) -> None:
    copy = _article("https://mirror.test/dam", DAM.paragraphs[0], title="Dam Finally Opens")
    update_index(writer, [DAM, copy])
    before = current_generation(writer.data_dir)
    report = update_index(writer, [copy, DAM])  # a feed polled again
    assert sorted(report.unchanged) == sorted([copy.url, DAM.url]) and not report.updated
    assert current_generation(writer.data_dir) == before  # nothing was written
    assert [a.title for a in reader(writer).store.list_articles()] == ["Dam Opens"]
