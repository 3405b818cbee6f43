"""Two bot replicas on one PostgreSQL database (NEWSBOT_DATABASE_URL), as behind one webhook
URL: threads, feedback, quotas, the feed poll and its record, and new articles, whichever
replica gets what."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN_ID, FakeAnswerer, make_settings, running
from fake_bot_api import FakeBotApi
from telegram_updates import callback_update, text_update
from test_telegram_freshness import FEED

from bot.telegram.app import POLL_JOB
from bot.telegram.services import SERVICES_KEY
from retrieval.answering import Answerer, AnswerSettings
from retrieval.articles import Article
from retrieval.chunking import ChunkSettings
from retrieval.index import IndexSpec, Writer, update_index
from retrieval.pgstore import PgStorage, poll_lock
from retrieval.sources import POLLS_FILE, load_articles
from tests.conftest import SEEDS
from tests.ingest.server import FixtureServer

pytestmark = pytest.mark.anyio

GROUP = -1009876543210
MEMBER = 5001
FERRY = Article(
    "https://news.test/ferry", "Ferry Strike Ends", "News Test", date(2024, 6, 16),
    ("The ferry workers' strike ended on Sunday after the union accepted a 7 percent raise.",),
)  # fmt: skip


def replica_settings(tmp_path: Path, api: FakeBotApi, url: str, name: str, **more: Any):  # type: ignore[no-untyped-def]
    """A replica's settings: its own (empty) data directory, the shared database."""
    return make_settings(tmp_path / name, api, database_url=url, **more)


@pytest.fixture
def migrated(database_url: str) -> str:
    storage = PgStorage(database_url, IndexSpec("test/hashing", ChunkSettings()))
    storage.migrate(384)
    storage.close()
    return database_url


async def test_a_follow_up_is_answered_by_the_other_replica(
    tmp_path: Path, fake_api: FakeBotApi, migrated: str
) -> None:
    one, two = FakeAnswerer(), FakeAnswerer()
    async with (
        running(replica_settings(tmp_path, fake_api, migrated, "one"), one, fake_api) as first,
        running(replica_settings(tmp_path, fake_api, migrated, "two"), two, fake_api) as second,
    ):
        await first.send(text_update(GROUP, "/ask Where is Putin going?", user_id=MEMBER))
        answer = first.last_sent(GROUP)
        await second.send(text_update(GROUP, "And after that?", user_id=MEMBER + 1,
                                      reply_to=answer))  # fmt: skip
        assert two.calls == [("And after that?", "Where is Putin going?\nPutin visits Pyongyang.")]
        follow_up = second.last_sent(GROUP)
        # The press on the follow-up's button reaches replica one, twice (a redelivery).
        up = follow_up["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        await first.send(callback_update(MEMBER + 1, follow_up, up))
        await second.send(callback_update(MEMBER + 1, follow_up, up))
        store = first.app.bot_data[SERVICES_KEY].store
        [(_, user, vote, question, _, _)] = store.feedback()
        assert (user, vote, question) == (MEMBER + 1, 1, "And after that?")


async def test_the_quota_is_shared_by_the_replicas(
    tmp_path: Path, fake_api: FakeBotApi, migrated: str
) -> None:
    one, two = FakeAnswerer(), FakeAnswerer()
    limit = {"telegram_rate_limit_per_minute": 2}
    async with (
        running(replica_settings(tmp_path, fake_api, migrated, "one", **limit), one,
                fake_api) as first,
        running(replica_settings(tmp_path, fake_api, migrated, "two", **limit), two,
                fake_api) as second,
    ):  # fmt: skip
        await first.send(text_update(MEMBER, "Question one?"))
        await second.send(text_update(MEMBER, "Question two?"))
        await first.send(text_update(MEMBER, "Question three?"))
        assert len(one.calls) + len(two.calls) == 2
        assert second.messages(MEMBER)[-1]["text"].startswith("You're asking faster")


async def test_one_replica_polls_the_feeds(
    tmp_path: Path, fake_api: FakeBotApi, migrated: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.telegram.freshness")
    settings = replica_settings(tmp_path, fake_api, migrated, "one",
                                feeds=("https://feeds.invalid/never.rss",))  # fmt: skip
    async with running(settings, FakeAnswerer(), fake_api) as bot:
        assert bot.app.job_queue is not None
        [job] = bot.app.job_queue.get_jobs_by_name(POLL_JOB)
        other = PgStorage(migrated, IndexSpec("test/hashing", ChunkSettings()))
        with poll_lock(other.pool()) as held:  # another replica is polling right now
            assert held
            await job.run(bot.app)
        other.close()
    assert "feed poll skipped: another replica is polling the feeds" in caplog.messages


async def test_a_replica_sees_articles_another_machine_added(
    tmp_path: Path, fake_api: FakeBotApi, database_url: str, embedder: Any
) -> None:
    spec = IndexSpec(embedder.name, ChunkSettings())
    ingest = Writer(tmp_path, embedder, ChunkSettings(), storage=PgStorage(database_url, spec))
    update_index(ingest, load_articles([SEEDS]))
    replica = Answerer(PgStorage(database_url, spec), embedder, AnswerSettings())
    settings = replica_settings(tmp_path, fake_api, database_url, "one")
    async with running(settings, replica, fake_api) as bot:
        await bot.send(text_update(MEMBER, "Why did the ferry strike end?"))
        assert "news.test/ferry" not in bot.messages(MEMBER)[-1]["text"]
        update_index(ingest, [FERRY])  # the ingest worker, elsewhere
        await bot.send(text_update(MEMBER, "Why did the ferry strike end?"))
        assert 'href="https://news.test/ferry"' in bot.messages(MEMBER)[-1]["text"]
    ingest.storage.close()  # type: ignore[attr-defined]


async def test_a_feeds_last_poll_is_shown_by_every_replica(
    tmp_path: Path, fake_api: FakeBotApi, migrated: str, site: FixtureServer
) -> None:
    local = {"fetch_timeout": 1.0, "fetch_allow_private_networks": True}  # the site is local
    async with (
        running(replica_settings(tmp_path, fake_api, migrated, "one", **local), FakeAnswerer(),
                fake_api) as first,
        running(replica_settings(tmp_path, fake_api, migrated, "two", **local), FakeAnswerer(),
                fake_api) as second,
    ):  # fmt: skip
        await first.send(text_update(ADMIN_ID, f"/follow {site.url(FEED)}"))
        await second.send(text_update(ADMIN_ID, "/feeds"))
        listing = second.messages(ADMIN_ID)[-1]["text"]
    assert listing.startswith("<b>Followed feeds</b> (1)\n• " + site.url(FEED))
    assert "✅" in listing and "UTC: 3 new, 0 known" in listing
    assert not any((tmp_path / name / POLLS_FILE).exists() for name in ("one", "two"))
