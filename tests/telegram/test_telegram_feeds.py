"""/follow, /unfollow, /feeds and the admins' command menus, against a local news site."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import test_telegram_freshness as freshness
from conftest import ADMIN_ID, Harness, make_settings, running
from fake_bot_api import FakeBotApi
from telegram_updates import text_update
from test_telegram_freshness import FEED, poll

from retrieval.sources import FEEDS_FILE, POLLS_FILE, load_polls
from tests.ingest.server import FixtureServer

pytestmark = pytest.mark.anyio

# The freshness tests' bot over a real answerer on a copy of the seed index, and the local site.
data_dir, feeds, fresh_bot = freshness.data_dir, freshness.feeds, freshness.fresh_bot

CHAT = 7401


def texts(bot: Harness, chat: int) -> list[str]:
    return [m["text"] for m in bot.messages(chat)]


async def test_an_admin_follows_a_feed_which_is_read_at_once(
    fresh_bot: Harness, data_dir: Path, site: FixtureServer
) -> None:
    await fresh_bot.send(text_update(ADMIN_ID, f"/follow {site.url(FEED)}"))
    following, listing = texts(fresh_bot, ADMIN_ID)
    assert following == "Following 1 feed(s); reading them now…"
    assert listing.startswith("<b>Followed feeds</b> (1)\n• " + site.url(FEED))
    assert "✅" in listing and "UTC: 3 new, 0 known" in listing
    assert json.loads((data_dir / FEEDS_FILE).read_text()) == [site.url(FEED)]
    [(url, last)] = load_polls(data_dir).items()
    assert url == site.url(FEED) and (last.articles, last.problems) == (3, 0)

    await fresh_bot.send(text_update(ADMIN_ID, f"/follow {site.url(FEED)}"))
    assert texts(fresh_bot, ADMIN_ID)[-1] == f"Already following {site.url(FEED)}."


async def test_feeds_shows_each_feeds_last_poll_and_its_failure(
    fresh_bot: Harness, data_dir: Path, site: FixtureServer
) -> None:
    await fresh_bot.send(text_update(ADMIN_ID, "/feeds"))
    assert texts(fresh_bot, ADMIN_ID)[-1].startswith("No feeds are followed.")
    await fresh_bot.send(text_update(ADMIN_ID, f"/follow {site.url('/feeds/gone.rss')}"))
    await poll(fresh_bot)  # the scheduled poll records its outcome as well
    await fresh_bot.send(text_update(ADMIN_ID, "/feeds"))
    listing = texts(fresh_bot, ADMIN_ID)[-1]
    assert "⚠️" in listing and "UTC: failed: HTTP 404 Not Found" in listing
    assert (data_dir / POLLS_FILE).exists()


async def test_unfollow_stops_following_and_says_what_it_could_not(
    fresh_bot: Harness, site: FixtureServer
) -> None:
    await fresh_bot.send(text_update(ADMIN_ID, f"/follow {site.url(FEED)}"))
    gone = site.url("/feeds/other.rss")
    await fresh_bot.send(text_update(ADMIN_ID, f"/unfollow {site.url(FEED)} {gone}"))
    assert texts(fresh_bot, ADMIN_ID)[-1] == (
        f"No longer following {site.url(FEED)}.\n{gone} is not a followed feed (see /feeds)."
    )
    await fresh_bot.send(text_update(ADMIN_ID, "/feeds"))
    assert texts(fresh_bot, ADMIN_ID)[-1].startswith("No feeds are followed.")


@pytest.mark.parametrize("command", ["/follow", "/follow file:///etc/passwd", "/unfollow"])
async def test_feed_commands_without_a_web_link_show_the_usage(
    fresh_bot: Harness, command: str
) -> None:
    await fresh_bot.send(text_update(ADMIN_ID, command))
    assert texts(fresh_bot, ADMIN_ID)[-1].startswith("Usage: " + command.split()[0])


@pytest.mark.parametrize("command", ["/follow https://news.example/rss", "/unfollow x", "/feeds"])
async def test_feed_commands_are_for_admins_only(
    fresh_bot: Harness, data_dir: Path, command: str
) -> None:
    await fresh_bot.send(text_update(CHAT, command))
    assert texts(fresh_bot, CHAT) == ["Only the bot's admins can manage the followed feeds."]
    assert not (data_dir / FEEDS_FILE).exists()


async def test_admins_get_their_own_command_menu(
    tmp_path: Path, fake_api: FakeBotApi, answerer: object
) -> None:
    settings = make_settings(tmp_path, fake_api, telegram_admin_user_ids=(ADMIN_ID, 42))
    async with running(settings, answerer, fake_api) as bot:
        assert bot.app.post_init is not None
        await bot.app.post_init(bot.app)
    menus = {
        json.dumps(call.params["scope"], sort_keys=True): [
            c["command"] for c in call.params["commands"]
        ]
        for call in fake_api.calls_to("setMyCommands")
    }
    assert menus['{"type": "all_private_chats"}'] == ["help", "sources"]
    admin_menu = ["help", "sources", "stats", "add", "follow", "unfollow", "feeds"]
    for admin in (42, ADMIN_ID):
        assert menus[json.dumps({"chat_id": admin, "type": "chat"})] == admin_menu
