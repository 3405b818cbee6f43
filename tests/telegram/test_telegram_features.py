"""Feedback buttons, /sources paging, /stats, inline mode, allow-lists and quotas."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from conftest import ADMIN_ID, SEED, FakeAnswerer, Harness, make_settings, not_found, running
from fake_bot_api import FakeBotApi
from telegram_updates import callback_update, inline_update, text_update

from bot.telegram.services import SERVICES_KEY
from retrieval.articles import ArticleSummary

pytestmark = pytest.mark.anyio

CHAT = 7001


def article(n: int) -> ArticleSummary:
    day = datetime.date(2024, 1, 1) + datetime.timedelta(days=n)
    return ArticleSummary(f"https://news.example/{n}", f"Story {n}", "Example News", day)


async def test_feedback_is_recorded_acknowledged_and_ticked(bot: Harness) -> None:
    await bot.send(text_update(CHAT, "Where is Putin going?"))
    answer = bot.last_sent(CHAT)
    down = answer["reply_markup"]["inline_keyboard"][0][1]["callback_data"]
    await bot.send(callback_update(CHAT, answer, down))
    [ack] = bot.api.calls_to("answerCallbackQuery")
    assert ack.params["text"] == "Thanks for the feedback!"
    [edit] = bot.api.calls_to("editMessageReplyMarkup")
    assert edit.params["message_id"] == answer["message_id"]
    buttons = edit.params["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == ["👍", "👎 ✓"]
    store = bot.app.bot_data[SERVICES_KEY].store
    [(_, user, vote, question, text, urls)] = store.feedback()
    assert (user, vote, question) == (CHAT, -1, "Where is Putin going?")
    assert text == "Putin visits Pyongyang. [1]" and urls == (SEED.url,)


async def test_feedback_on_a_forgotten_answer_says_so(bot: Harness) -> None:
    await bot.send(text_update(CHAT, "Where is Putin going?"))
    await bot.send(callback_update(CHAT, bot.last_sent(CHAT), "fb:999:1"))
    [ack] = bot.api.calls_to("answerCallbackQuery")
    assert ack.params["text"] == "That answer is too old to rate."


@pytest.mark.parametrize(
    "answerer", [FakeAnswerer(articles=[article(n) for n in range(24, 0, -1)])]
)
async def test_sources_are_paged_newest_first(bot: Harness) -> None:
    await bot.send(text_update(CHAT, "/sources"))
    [page] = bot.messages(CHAT)
    assert page["text"].startswith("<b>Indexed articles</b> (24, newest first)")
    assert page["text"].index("Story 24") < page["text"].index("Story 15")
    assert "Story 14" not in page["text"]
    assert page["link_preview_options"] == {"is_disabled": True}
    nav = page["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in nav] == ["1/3", "Older ▶"]
    await bot.send(callback_update(CHAT, bot.last_sent(CHAT), nav[1]["callback_data"]))
    [edit] = bot.api.calls_to("editMessageText")
    assert '11. <a href="https://news.example/14">Story 14</a>' in edit.params["text"]
    nav = edit.params["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in nav] == ["◀ Newer", "2/3", "Older ▶"]


async def test_stats_for_admins_only(bot: Harness, answerer: FakeAnswerer) -> None:
    answerer.reply = lambda q: not_found(q, SEED) if "cup" in q else FakeAnswerer().reply(q)
    await bot.send(text_update(CHAT, "Where is Putin going?"))
    await bot.send(text_update(CHAT, "Who won the world cup?"))
    await bot.send(text_update(CHAT, "/stats"))
    assert bot.messages(CHAT)[-1]["text"] == "Only the bot's admins can see /stats."
    await bot.send(text_update(ADMIN_ID, "/stats"))
    [stats] = bot.messages(ADMIN_ID)
    for line in ("Articles: 1", "Passages: 10", "Questions answered: 2", "Not found: 1 (50%)"):
        assert line in stats["text"]
    assert "Latency p95: 0." in stats["text"]


async def test_inline_query_offers_the_answer_and_headlines(bot: Harness) -> None:
    await bot.send(inline_update(CHAT, "where is putin going"))
    [call] = bot.api.calls_to("answerInlineQuery")
    first, headline = call.params["results"]
    assert first["id"] == "answer" and first["description"] == "Putin visits Pyongyang. [1]"
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML" and f'href="{SEED.url}"' in content["message_text"]
    assert (
        headline["url"] == SEED.url and headline["description"] == "The Moscow Times, 17 Jun 2024"
    )


async def test_short_inline_query_offers_the_newest_headlines(
    bot: Harness, answerer: FakeAnswerer
) -> None:
    await bot.send(inline_update(CHAT, ""))
    [call] = bot.api.calls_to("answerInlineQuery")
    assert [r["title"] for r in call.params["results"]] == [SEED.title]
    assert answerer.calls == []


async def test_over_the_quota_a_user_is_asked_to_slow_down(
    tmp_path: Path, fake_api: FakeBotApi, answerer: FakeAnswerer
) -> None:
    settings = make_settings(tmp_path, fake_api, telegram_rate_limit_per_minute=2)
    async with running(settings, answerer, fake_api) as bot:
        for n in range(3):
            await bot.send(text_update(CHAT, f"Question {n}?"))
        await bot.send(text_update(CHAT + 1, "Another user?"))
        *_, slow = bot.messages(CHAT)
        assert slow["text"].startswith("You're asking faster than I can keep up.")
        assert len(answerer.calls) == 3 and len(bot.messages(CHAT + 1)) == 1


async def test_allow_lists_ignore_everyone_else(
    tmp_path: Path, fake_api: FakeBotApi, answerer: FakeAnswerer
) -> None:
    settings = make_settings(
        tmp_path, fake_api, telegram_allowed_chat_ids=(CHAT, -100500), telegram_allowed_user_ids=()
    )
    async with running(settings, answerer, fake_api) as bot:
        await bot.send(text_update(CHAT + 1, "Not allowed?"))
        await bot.send(text_update(-100600, "/ask Not allowed?", user_id=CHAT))
        await bot.send(inline_update(CHAT + 1, "not allowed"))
        assert fake_api.calls_to("sendMessage") == fake_api.calls_to("answerInlineQuery") == []
        await bot.send(text_update(-100500, "/ask Allowed?", user_id=CHAT + 1))
        assert answerer.calls == [("Allowed?", None)]
