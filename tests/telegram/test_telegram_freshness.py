"""Keeping the news fresh: the feed-polling job and /add, against a local news site."""

from __future__ import annotations

import asyncio
import datetime
import logging
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN_ID, SEED_URL, Harness, make_settings, running
from fake_bot_api import FakeBotApi
from telegram_updates import text_update

from bot.telegram import build_application
from bot.telegram.app import POLL_JOB
from bot.telegram.services import SERVICES_KEY
from retrieval.answering import Answerer, AnswerSettings
from retrieval.chunking import ChunkSettings
from retrieval.index import CURRENT, EmbeddedStorage, IndexSpec
from retrieval.sources import FEEDS_FILE, add_feeds
from tests.ingest.server import FixtureServer

pytestmark = pytest.mark.anyio

CHAT = 7301
FEED = "/feeds/news.rss"
FERRY = "/news/2024/05/20/ferry-strike-ends.html"
LIGHTHOUSE = "/news/lighthouse-reopens.html"
FERRY_QUESTION = "Why did the ferry strike end?"
FRESHNESS_LOG = "bot.telegram.freshness"


@pytest.fixture
def data_dir(tmp_path: Path, seed_data_dir: Path) -> Path:
    """A copy of the seed index that the test may add to."""
    return Path(shutil.copytree(seed_data_dir, tmp_path / "data"))


@pytest.fixture
def feeds() -> tuple[str, ...]:
    """NEWSBOT_FEEDS, as paths on the site."""
    return ()


@pytest.fixture
async def fresh_bot(
    data_dir: Path, fake_api: FakeBotApi, embedder: Any, site: FixtureServer, feeds: tuple[str]
) -> AsyncIterator[Harness]:
    """A bot over a real answerer on `data_dir`, following `feeds` on the site."""
    answerer = Answerer(
        EmbeddedStorage(data_dir, IndexSpec(embedder.name, ChunkSettings())),
        embedder,
        AnswerSettings(),
    )
    settings = make_settings(
        data_dir,
        fake_api,
        feeds=tuple(site.url(f) for f in feeds),
        fetch_timeout=1.0,
        fetch_allow_private_networks=True,  # the local news site is on 127.0.0.1
    )
    async with running(settings, answerer, fake_api) as harness:
        yield harness


async def poll(bot: Harness) -> None:
    """Run the feed-polling job now, as its schedule would."""
    assert bot.app.job_queue is not None
    [job] = bot.app.job_queue.get_jobs_by_name(POLL_JOB)
    await job.run(bot.app)


def fetched(site: FixtureServer, since: int = 0) -> list[str]:
    """The paths the site was asked for, from request number `since` on."""
    return [path.split("?")[0] for path, _ in site.requests[since:]]


def cites(reply: dict[str, Any], url: str) -> bool:
    """Whether a reply is an answer whose sources link to `url` (not a closest headline)."""
    _, found, sources = reply["text"].partition("<b>Sources</b>")
    return bool(found) and f'href="{url}"' in sources


def freshness_records(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == FRESHNESS_LOG]


async def test_polls_are_scheduled_at_the_configured_interval(
    tmp_path: Path, fake_api: FakeBotApi, answerer: Any
) -> None:
    settings = make_settings(tmp_path, fake_api, feed_poll_minutes=5)
    async with running(settings, answerer, fake_api) as bot:
        assert bot.app.job_queue is not None
        [job] = bot.app.job_queue.get_jobs_by_name(POLL_JOB)
        assert job.job.trigger.interval == datetime.timedelta(minutes=5)
    app = build_application(settings, answerer, poll_feeds=False)
    assert app.job_queue is not None and app.job_queue.jobs() == ()
    app.bot_data[SERVICES_KEY].store.close()


@pytest.mark.parametrize("feeds", [(FEED,)])
async def test_a_poll_makes_new_articles_answerable_without_a_restart(
    fresh_bot: Harness, site: FixtureServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=FRESHNESS_LOG)
    await fresh_bot.send(text_update(CHAT, FERRY_QUESTION))
    assert not cites(fresh_bot.messages(CHAT)[-1], site.url(FERRY))

    await poll(fresh_bot)
    assert freshness_records(caplog) == [
        (
            logging.INFO,
            "polled 1 feed(s): added 3, updated 0, unchanged 0, duplicates 0, failed 0",
        )
    ]
    await fresh_bot.send(text_update(CHAT, FERRY_QUESTION))
    assert cites(fresh_bot.messages(CHAT)[-1], site.url(FERRY))

    caplog.clear()
    before = len(site.requests)
    await poll(fresh_bot)
    assert freshness_records(caplog) == [
        (
            logging.INFO,
            "polled 1 feed(s): added 0, updated 0, unchanged 0, duplicates 0, failed 0",
        )
    ]
    assert fetched(site, before) == [FEED]  # indexed items are not fetched again


async def test_feeds_followed_later_are_polled_and_a_missing_one_is_logged(
    fresh_bot: Harness, data_dir: Path, site: FixtureServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=FRESHNESS_LOG)
    before = len(site.requests)
    await poll(fresh_bot)
    assert fetched(site, before) == [] and freshness_records(caplog) == []

    add_feeds(data_dir, [site.url("/feeds/gone.rss")])  # `newsbot feeds add`, bot running
    await poll(fresh_bot)
    assert fetched(site, before) == ["/feeds/gone.rss"]
    assert freshness_records(caplog) == [
        (
            logging.INFO,
            "polled 1 feed(s): added 0, updated 0, unchanged 0, duplicates 0, failed 1",
        ),
        (logging.WARNING, f"polled 1 feed(s): {site.url('/feeds/gone.rss')}: HTTP 404 Not Found"),
    ]
    await fresh_bot.send(text_update(CHAT, "When will Putin visit North Korea?"))
    assert cites(fresh_bot.messages(CHAT)[-1], SEED_URL)


async def test_a_failed_poll_is_logged_and_the_next_one_runs(
    fresh_bot: Harness, data_dir: Path, site: FixtureServer, caplog: pytest.LogCaptureFixture
) -> None:
    (data_dir / FEEDS_FILE).write_text("{not json", encoding="utf-8")
    await poll(fresh_bot)
    [failure] = [r for r in caplog.records if r.name == FRESHNESS_LOG]
    assert failure.levelno == logging.ERROR and failure.exc_info is not None
    assert "feeds.json: not a JSON list of feed URLs" in caplog.text

    (data_dir / FEEDS_FILE).unlink()
    add_feeds(data_dir, [site.url("/feeds/gone.rss")])
    before = len(site.requests)
    await poll(fresh_bot)
    assert fetched(site, before) == ["/feeds/gone.rss"]


@pytest.mark.parametrize("feeds", [("/slow",)])
async def test_a_poll_is_skipped_while_the_previous_one_runs(
    fresh_bot: Harness, site: FixtureServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=FRESHNESS_LOG)
    before = len(site.requests)
    await asyncio.gather(poll(fresh_bot), poll(fresh_bot))
    assert fetched(site, before) == ["/slow"]
    messages = [message for _, message in freshness_records(caplog)]
    assert messages[0] == "feed poll skipped: the previous ingest is still running"
    assert messages[1].endswith("failed 1")


async def test_an_admin_adds_articles_by_link(fresh_bot: Harness, site: FixtureServer) -> None:
    command = text_update(ADMIN_ID, f"/add {site.url(FERRY)} {site.url('/news/gone.html')}")
    await fresh_bot.send(command)
    adding, done = fresh_bot.messages(ADMIN_ID)
    assert adding["text"] == "Adding 2 sources…"
    assert done["text"] == (
        "<b>Done:</b> added 1, updated 0, unchanged 0, duplicates 0, failed 1\n"
        f"• {site.url('/news/gone.html')}: HTTP 404 Not Found"
    )
    assert done["parse_mode"] == "HTML"
    assert done["reply_parameters"]["message_id"] == command["message"]["message_id"]
    assert fresh_bot.api.calls_to("sendChatAction")

    await fresh_bot.send(text_update(CHAT, FERRY_QUESTION))
    assert cites(fresh_bot.messages(CHAT)[-1], site.url(FERRY))


async def test_add_is_refused_to_everyone_else(fresh_bot: Harness, site: FixtureServer) -> None:
    before = len(site.requests)
    await fresh_bot.send(text_update(CHAT, f"/add {site.url(LIGHTHOUSE)}"))
    [refusal] = fresh_bot.messages(CHAT)
    assert refusal["text"] == "Only the bot's admins can add sources."
    assert fetched(site, before) == []


@pytest.mark.parametrize(
    "sources", ["/etc/passwd", "file:///etc/passwd", "http:/etc/passwd", "https:///etc/passwd"]
)
async def test_add_takes_only_web_links(
    fresh_bot: Harness, data_dir: Path, site: FixtureServer, sources: str
) -> None:
    live = (data_dir / CURRENT).read_text()
    before = len(site.requests)
    await fresh_bot.send(text_update(ADMIN_ID, f"/add {site.url(LIGHTHOUSE)} {sources}"))
    [refusal] = fresh_bot.messages(ADMIN_ID)
    assert refusal["text"].startswith("Only http(s) links can be added from Telegram")
    assert f"<code>{sources}</code>" in refusal["text"]
    assert site.url(LIGHTHOUSE) not in refusal["text"]
    assert fetched(site, before) == [] and (data_dir / CURRENT).read_text() == live


async def test_add_without_a_link_shows_the_usage(fresh_bot: Harness) -> None:
    await fresh_bot.send(text_update(ADMIN_ID, "/add"))
    [usage] = fresh_bot.messages(ADMIN_ID)
    assert usage["text"].startswith("Usage: /add <i>url</i>")


async def test_add_never_echoes_credentials_or_query_secrets(
    fresh_bot: Harness, site: FixtureServer, caplog: pytest.LogCaptureFixture
) -> None:
    secret_page = site.url("/news/gone.html?id=4&token=t0ps3cret").replace(
        "http://", "http://reader:pa55word@"
    )
    article = site.url(f"{FERRY}?key=k3y-value")
    with caplog.at_level(logging.DEBUG):
        await fresh_bot.send(text_update(ADMIN_ID, f"/add {secret_page} {article}"))
    _adding, done = fresh_bot.messages(ADMIN_ID)
    assert done["text"].endswith(
        f"• {site.url('/news/gone.html?id=4&amp;token=REDACTED')}: HTTP 404 Not Found"
    )
    shown = done["text"] + caplog.text
    for secret in ("pa55word", "reader:", "t0ps3cret", "k3y-value"):
        assert secret not in shown
    await fresh_bot.send(text_update(CHAT, FERRY_QUESTION))
    answer = fresh_bot.messages(CHAT)[-1]
    assert cites(answer, site.url(FERRY)) and "k3y-value" not in str(answer)


async def test_add_refuses_a_local_address_by_default(
    data_dir: Path, fake_api: FakeBotApi, embedder: Any, site: FixtureServer
) -> None:
    storage = EmbeddedStorage(data_dir, IndexSpec(embedder.name, ChunkSettings()))
    answerer = Answerer(storage, embedder, AnswerSettings())
    settings = make_settings(data_dir, fake_api, fetch_timeout=1.0)
    before = len(site.requests)
    async with running(settings, answerer, fake_api) as bot:
        await bot.send(text_update(ADMIN_ID, f"/add {site.url(FERRY)}"))
        _adding, done = bot.messages(ADMIN_ID)
    assert "failed 1" in done["text"]
    assert "127.0.0.1 is a loopback address" in done["text"]
    assert "NEWSBOT_FETCH_ALLOW_PRIVATE_NETWORKS=true" in done["text"]
    assert fetched(site, before) == []
