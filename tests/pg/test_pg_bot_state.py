"""Bot state shared by replicas, on a real PostgreSQL: conversations, feedback, quotas,
followed feeds and the feed-poll lock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.telegram.shared_state import SharedConversationStore, SharedRateLimiter
from retrieval.chunking import ChunkSettings
from retrieval.errors import NewsbotError
from retrieval.index import IndexSpec
from retrieval.pgstore import PgStorage, SharedFeeds, poll_lock
from tests.telegram.test_telegram_store import Clock, record


@pytest.fixture
def storages(database_url: str) -> Iterator[tuple[PgStorage, PgStorage]]:
    """Two processes' worth of storage on one database (each with its own pool)."""
    spec = IndexSpec("test/hashing", ChunkSettings())
    first, second = PgStorage(database_url, spec), PgStorage(database_url, spec)
    first.migrate(64)
    yield first, second
    first.close()
    second.close()


def test_a_thread_recorded_by_one_replica_is_followed_by_another(storages) -> None:
    one = SharedConversationStore(storages[0].pool())
    two = SharedConversationStore(storages[1].pool())
    first = record(one, 1, "Where is Putin going?")
    record(one, 1, "And then?", parent=first)
    second = two.find(1, 21)  # the second part of the second answer, asked of replica two
    assert second is not None and second.question == "And then?"
    assert two.context_for(second) == (
        "Where is Putin going?\nAnswer to Where is Putin going?\n\nAnd then?\nAnswer to And then?"
    )
    assert two.find(2, 21) is None


def test_age_and_per_chat_limits(storages) -> None:
    clock = Clock()
    store = SharedConversationStore(storages[0].pool(), max_age=3600, max_per_chat=3,
                                    clock=clock)  # fmt: skip
    ids = [record(store, 1, f"q{n}") for n in range(5)]
    other = record(store, 2, "other chat")
    store.prune()
    assert [store.get(i) is not None for i in ids] == [False, False, True, True, True]
    assert store.get(other) is not None and store.find(1, ids[0] * 10) is None
    clock.now += 3601
    assert store.get(other) is None
    store.prune()
    assert store.usage().questions == 6


def test_usage_counts_and_latency_percentiles(storages) -> None:
    store = SharedConversationStore(storages[0].pool())
    for n in range(1, 21):
        exchange = store.record(1, "q", "a", cited_urls=[], answered=n % 4 != 0, parent_id=None)
        store.delivered(exchange, 1, [n], n / 10)
    usage = SharedConversationStore(storages[1].pool()).usage()
    assert (usage.questions, usage.not_found) == (20, 5)
    assert usage.latency_p50 == 1.05


def test_feedback_lands_once_whichever_replica_gets_it(storages) -> None:
    one = SharedConversationStore(storages[0].pool())
    two = SharedConversationStore(storages[1].pool())
    exchange = one.get(record(one, 1, "Where?"))
    assert exchange is not None
    one.add_feedback(exchange, 77, 1)
    two.add_feedback(exchange, 77, 1)  # the same press, delivered again to another replica
    two.add_feedback(exchange, 77, -1)  # the user changes their mind
    one.add_feedback(exchange, 78, 1)
    assert one.feedback() == [
        (exchange.id, 77, -1, "Where?", "Answer to Where? [1]", ("https://e.com/1",)),
        (exchange.id, 78, 1, "Where?", "Answer to Where? [1]", ("https://e.com/1",)),
    ]


def test_rate_limits_are_shared_between_replicas(storages) -> None:
    clock = Clock()
    one = SharedRateLimiter(storages[0].pool(), "questions", 3, window=60, clock=clock)
    two = SharedRateLimiter(storages[1].pool(), "questions", 3, window=60, clock=clock)
    inline = SharedRateLimiter(storages[1].pool(), "inline", 3, window=60, clock=clock)
    assert [one.acquire(1), two.acquire(1), one.acquire(1)] == [0, 0, 0]
    assert two.acquire(1) == 60
    assert one.acquire(2) == 0 and inline.acquire(1) == 0
    clock.now += 30
    assert one.acquire(1) == 30
    clock.now += 30
    assert two.acquire(1) == 0


def test_followed_feeds_are_shared(storages) -> None:
    one, two = SharedFeeds(storages[0].pool()), SharedFeeds(storages[1].pool())
    assert one.add(["https://Example.com/rss", "https://b.test/atom"]) == [
        "https://example.com/rss", "https://b.test/atom"]  # fmt: skip
    assert two.add(["https://example.com/rss"]) == []
    assert two.load() == ["https://example.com/rss", "https://b.test/atom"]
    assert two.remove(["https://b.test/atom", "https://never.test/"]) == ["https://b.test/atom"]
    assert one.load() == ["https://example.com/rss"]
    with pytest.raises(NewsbotError, match="http"):
        one.add(["ftp://x.test/feed"])


def test_one_replica_polls_the_feeds_at_a_time(storages) -> None:
    with poll_lock(storages[0].pool()) as first, poll_lock(storages[1].pool()) as second:
        assert (first, second) == (True, False)
    with poll_lock(storages[1].pool()) as after:
        assert after is True  # released when the first poll ended
