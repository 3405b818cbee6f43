"""Reading and loading the PostgreSQL store on a real server: a question's reads see one
snapshot while a writer lands, a bulk load builds the HNSW index after its rows, the shared
quota counts off the event loop, and the feeds' last polls live in the database."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import numpy as np
import psycopg
import pytest

from bot.telegram.limits import Quota
from bot.telegram.shared_state import SharedRateLimiter
from retrieval.articles import Article, Passage
from retrieval.chunking import ChunkSettings
from retrieval.evaluation import FAR_FUTURE
from retrieval.index import IndexSpec, update_index
from retrieval.pgstore import PgStorage, SharedFeeds
from retrieval.sources import SourceProblem, SourceResult
from tests.pg.test_pg_bot_state import storages  # noqa: F401 - the fixture
from tests.pg.test_pg_store import BRIDGE, DAM, _article, pg_storage, pg_writer

FERRY = _article("https://news.test/ferry", "The ferry strike ended after the union accepted "
                 "a raise.", title="Ferry Strike Ends", day=9)  # fmt: skip


def test_a_question_reads_one_snapshot_while_a_writer_lands(
    database_url: str, hashing_embedder
) -> None:
    update_index(pg_writer(database_url, hashing_embedder), [DAM, BRIDGE])
    reader = pg_storage(database_url, hashing_embedder).reader()
    query = hashing_embedder.encode(["hydroelectric dam on the river"])[0]
    other = pg_writer(database_url, hashing_embedder)  # another machine's ingest worker

    def write() -> None:
        update_index(other, [FERRY], remove=[DAM.url])

    with reader.snapshot():
        found = [i for i, _ in reader.search(query, 5)]
        keyword = reader.keyword_search(["dam"], 5, FAR_FUTURE)
        before = reader.counts()
        writer = threading.Thread(target=write)
        writer.start()
        writer.join()  # landed and committed, while the question is still being answered
        passages = reader.passages(found)
        assert {p.article.url for p in passages.values()} == {DAM.url, BRIDGE.url}
        assert reader.keyword_search(["dam"], 5, FAR_FUTURE) == keyword
        assert reader.counts() == before == {"articles": 2, "passages": 2}
        assert reader.find(DAM.url) is not None and reader.find(FERRY.url) is None
    # Outside a snapshot every read sees the latest batches: the dam is gone, the ferry in.
    assert {p.article.url for p in reader.passages(found).values()} == {BRIDGE.url}
    assert reader.find(DAM.url) is None and reader.find(FERRY.url) is not None
    assert reader.counts() == {"articles": 2, "passages": 2}
    assert not reader.keyword_search(["dam"], 5, FAR_FUTURE)
    # The writes kept BM25's document frequencies equal to a count of the postings.
    with psycopg.connect(database_url) as conn:
        kept = conn.execute("SELECT term, passages FROM term_stats ORDER BY term").fetchall()
        counted = conn.execute(
            "SELECT term, count(*) FROM passage_terms GROUP BY term ORDER BY term"
        ).fetchall()
    assert kept == counted and ("dam", 1) not in kept and ("ferri", 1) in kept


def _vector_index(storage: PgStorage) -> int:
    """The object id of the HNSW index: a new one whenever it is built again."""
    with storage.pool().connection() as conn:
        row = conn.execute("SELECT 'passages_by_embedding'::regclass::oid").fetchone()
    assert row is not None
    return int(row[0])


def _load(storage: PgStorage, vectors: np.ndarray, start: int, count: int) -> None:
    """Articles of five passages each, with these vectors, in one batch."""
    with storage.write(dimension=vectors.shape[1]) as writer:
        for number in range(start, start + count):
            url = f"https://bulk.test/{number}"
            texts = [f"passage {number} {p}" for p in range(5)]
            article = Article(url, f"Article {number}", "Bulk", FERRY.published, tuple(texts))
            writer.add_article(article, [Passage(url, p, t) for p, t in enumerate(texts)],
                               vectors[number * 5 : number * 5 + 5], [])  # fmt: skip


def test_a_bulk_load_builds_the_hnsw_index_after_its_rows(database_url: str) -> None:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((6100, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    storage = PgStorage(database_url, IndexSpec("test/random", ChunkSettings()))
    _load(storage, vectors, 0, 10)  # 50 passages: the index is built on them
    small = _vector_index(storage)
    _load(storage, vectors, 10, 1200)  # 6,000 more: dropped, loaded, built again
    bulk = _vector_index(storage)
    _load(storage, vectors, 1210, 10)  # 50 more onto 6,050: inserted into the graph
    assert bulk != small and _vector_index(storage) == bulk
    reader = storage.reader()
    assert reader.size == 6100 and int(storage.status()["hnsw_index_bytes"]) > 0  # type: ignore[call-overload]
    # Passage ids follow the order of the rows: the nearest by HNSW against exact search.
    exact = np.argsort(-(vectors @ vectors[:20].T), axis=0)[:10].T + 1
    recall = np.mean([len({int(i) for i in row} & {i for i, _ in reader.search(q, 10)}) / 10
                      for q, row in zip(vectors[:20], exact, strict=True)])  # fmt: skip
    assert recall >= 0.9
    storage.close()


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_shared_quota_counts_off_the_event_loop(storages, anyio_backend) -> None:  # noqa: F811
    """While the database holds the count up (another replica counting the same user), the
    event loop keeps serving other updates."""
    quota = Quota(SharedRateLimiter(storages[0].pool(), "questions", 3), off_loop=True)
    other = psycopg.connect(storages[1].url, autocommit=True)
    key = "SELECT pg_advisory_lock(hashtextextended('questions', 7))"
    other.execute(key)  # the lock SharedRateLimiter takes for user 7
    release = threading.Timer(10, lambda: other.execute("SELECT pg_advisory_unlock_all()"))
    release.start()  # only if the loop never runs the tick below
    order: list[str] = []

    async def tick() -> None:
        order.append("the loop ran another update")
        await asyncio.to_thread(other.execute, "SELECT pg_advisory_unlock_all()")

    async def count() -> float:
        wait = await quota.acquire(7)
        order.append("counted")
        return wait

    counting = asyncio.ensure_future(count())
    await asyncio.sleep(0)  # the count starts (on the loop, it would block it right here)
    await tick()
    assert await counting == 0.0
    release.cancel()
    other.close()
    assert order == ["the loop ran another update", "counted"]


def test_feed_polls_are_shared(storages) -> None:  # noqa: F811
    one, two = SharedFeeds(storages[0].pool()), SharedFeeds(storages[1].pool())
    feed = "https://example.com/rss"
    first = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    one.record_polls([SourceResult(feed, [], [SourceProblem(feed, "HTTP 404")])], first)
    assert two.polls()[feed].describe() == "failed: HTTP 404"
    two.record_polls([SourceResult(feed, [], [], skipped=["a", "b"])], first.replace(hour=13))
    [(url, poll)] = one.polls().items()
    assert (url, poll.polled_at, poll.ok, poll.describe()) == (
        feed, "2024-06-01T13:00:00+00:00", True, "0 new, 2 known")  # fmt: skip
