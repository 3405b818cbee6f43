"""The SQLite conversation store, the per-user quota and the allow-lists."""

from __future__ import annotations

from pathlib import Path

from bot.telegram.conversations import ConversationStore
from bot.telegram.limits import AccessPolicy, RateLimiter


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def record(store: ConversationStore, chat: int, question: str, parent: int | None = None) -> int:
    exchange_id = store.record(
        chat, question, f"Answer to {question} [1]", cited_urls=["https://e.com/1"],
        answered=True, parent_id=parent,
    )  # fmt: skip
    store.delivered(exchange_id, chat, [exchange_id * 10, exchange_id * 10 + 1], 0.5)
    return exchange_id


def test_follow_up_context_survives_a_restart(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "t.sqlite3")
    first = record(store, 1, "Where is Putin going?")
    record(store, 1, "And then?", parent=first)
    store.close()
    reopened = ConversationStore(tmp_path / "t.sqlite3")
    second = reopened.find(1, 21)  # the second part of the second answer
    assert second is not None and second.question == "And then?"
    assert reopened.context_for(second) == (
        "Where is Putin going?\nAnswer to Where is Putin going?\n\nAnd then?\nAnswer to And then?"
    )
    assert reopened.find(2, 21) is None  # another chat's message with the same id


def test_context_is_bounded_in_depth_and_size(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "t.sqlite3")
    parent = None
    for n in range(6):
        parent = record(store, 1, f"q{n} " + "x" * 900, parent)
    exchange = store.get(parent)
    assert exchange is not None
    context = store.context_for(exchange)
    assert len(context) == 2000
    assert "q5" in context and "q2" not in context


def test_old_exchanges_age_out(tmp_path: Path) -> None:
    clock = Clock()
    store = ConversationStore(tmp_path / "t.sqlite3", max_age=3600, clock=clock)
    old = record(store, 1, "old")
    clock.now += 3601
    assert store.find(1, old * 10) is None
    store.prune()
    assert store.usage().questions == 1  # counted even though forgotten


def test_per_chat_cap_prunes_the_oldest(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "t.sqlite3", max_per_chat=3)
    ids = [record(store, 1, f"q{n}") for n in range(5)]
    other = record(store, 2, "other chat")
    store.prune()
    assert [store.get(i) is not None for i in ids] == [False, False, True, True, True]
    assert store.get(other) is not None
    assert store.find(1, ids[0] * 10) is None


def test_usage_counts_and_latency_percentiles(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "t.sqlite3")
    for n in range(1, 21):
        exchange = store.record(1, "q", "a", cited_urls=[], answered=n % 4 != 0, parent_id=None)
        store.delivered(exchange, 1, [n], n / 10)
    usage = store.usage()
    assert (usage.questions, usage.not_found) == (20, 5)
    assert usage.latency_p50 == 1.05
    assert usage.latency_p95 is not None and 1.9 <= usage.latency_p95 <= 2.0


def test_feedback_keeps_question_answer_and_urls(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "t.sqlite3")
    exchange = store.get(record(store, 1, "Where?"))
    assert exchange is not None
    store.add_feedback(exchange, 77, -1)
    assert store.feedback() == [
        (exchange.id, 77, -1, "Where?", "Answer to Where? [1]", ("https://e.com/1",))
    ]


def test_rate_limiter_allows_n_per_window_per_key() -> None:
    clock = Clock()
    limiter = RateLimiter(3, window=60, clock=clock)
    assert [limiter.acquire(1) for _ in range(3)] == [0, 0, 0]
    assert limiter.acquire(1) == 60
    assert limiter.acquire(2) == 0
    clock.now += 30
    assert limiter.acquire(1) == 30
    clock.now += 30
    assert limiter.acquire(1) == 0


def test_access_policy() -> None:
    everyone = AccessPolicy()
    assert everyone.allows(1, 1) and everyone.allows(None, 5)
    chats = AccessPolicy(chat_ids={-100, 7})
    assert chats.allows(-100, 3) and not chats.allows(-200, 3)
    assert chats.allows(None, 7) and not chats.allows(None, 8)  # inline: the user's own chat
    users = AccessPolicy(user_ids={3})
    assert users.allows(-200, 3) and not users.allows(-200, 4)
    assert AccessPolicy(admin_ids={9}).is_admin(9) and not AccessPolicy().is_admin(9)
