"""Private chats: /start, /help, questions, follow-ups and odd messages, via the fake server."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SEED_TITLE, SEED_URL, FakeAnswerer, Harness, make_settings, running
from fake_bot_api import FakeBotApi
from telegram_updates import edited_update, photo_update, sticker_update, text_update

pytestmark = pytest.mark.anyio

CHAT = 5001


async def test_start_greets_with_examples_from_the_articles(bot: Harness) -> None:
    await bot.send(text_update(CHAT, "/start"))
    [sent] = bot.messages(CHAT)
    assert sent["parse_mode"] == "HTML"
    assert "Hi, Ann!" in sent["text"]
    assert f"“{SEED_TITLE}”" in sent["text"]


async def test_help_lists_the_commands(bot: Harness) -> None:
    await bot.send(text_update(CHAT, "/help"))
    [sent] = bot.messages(CHAT)
    for command in ("/ask", "/sources", "/stats", "/add", "/help"):
        assert command in sent["text"]


async def test_question_is_answered_as_a_reply_with_a_link(seed_bot: Harness) -> None:
    update = text_update(CHAT, "When will Putin visit North Korea?")
    await seed_bot.send(update)
    [sent] = seed_bot.messages(CHAT)
    assert sent["reply_parameters"]["message_id"] == update["message"]["message_id"]
    assert sent["parse_mode"] == "HTML"
    assert f'<a href="{SEED_URL}">{SEED_TITLE}</a> — The Moscow Times, 17 Jun 2024' in sent["text"]
    assert "Tuesday" in sent["text"]
    assert "link_preview_options" not in sent  # one link: its preview may show
    buttons = sent["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == ["👍", "👎"]
    actions = seed_bot.api.calls_to("sendChatAction")
    assert actions and actions[0].params == {"chat_id": CHAT, "action": "typing"}


async def test_reply_to_an_answer_is_a_follow_up(seed_bot: Harness) -> None:
    await seed_bot.send(text_update(CHAT, "When is Putin visiting Pyongyang?"))
    answer = seed_bot.last_sent(CHAT)
    update = text_update(CHAT, "Where does he go after that?", reply_to=answer)
    await seed_bot.send(update)
    follow_up = seed_bot.messages(CHAT)[-1]
    assert follow_up["reply_parameters"]["message_id"] == update["message"]["message_id"]
    assert "Vietnam" in follow_up["text"]


async def test_follow_up_passes_the_thread_as_context(bot: Harness, answerer: FakeAnswerer) -> None:
    await bot.send(text_update(CHAT, "Where is Putin going?"))
    await bot.send(text_update(CHAT, "And then?", reply_to=bot.last_sent(CHAT)))
    await bot.send(text_update(CHAT, "Unrelated question"))
    (_, first), (_, second), (_, third) = answerer.calls
    assert first is None and third is None
    assert second == "Where is Putin going?\nPutin visits Pyongyang."


async def test_unknown_question_says_not_found_with_closest_headlines(seed_bot: Harness) -> None:
    await seed_bot.send(text_update(CHAT, "Who won the 2018 FIFA World Cup?"))
    [sent] = seed_bot.messages(CHAT)
    assert sent["text"].startswith("I couldn't find that in the indexed news.")
    assert "Closest headlines" in sent["text"]
    assert f'href="{SEED_URL}"' in sent["text"]


async def test_long_question_gets_a_short_refusal(bot: Harness, answerer: FakeAnswerer) -> None:
    await bot.send(text_update(CHAT, "why " * 1250))  # 5,000 characters
    [sent] = bot.messages(CHAT)
    assert "too long (4999 characters)" in sent["text"] and "under 500" in sent["text"]
    assert answerer.calls == []


@pytest.mark.parametrize(
    "question",
    [
        "<b>Putin</b> & <script>alert(1)</script>?",
        "Путин 🇷🇺 in Pyongyang? 🤔",
        "When will بوتين visit كوريا?",  # mostly English; Arabic alone gets the language reply
    ],
)
async def test_odd_text_is_answered(bot: Harness, answerer: FakeAnswerer, question: str) -> None:
    await bot.send(text_update(CHAT, question))
    [sent] = bot.messages(CHAT)
    assert answerer.calls[0][0] == question
    assert "Putin visits Pyongyang." in sent["text"]


async def test_sticker_gets_a_hint_and_edits_are_ignored(
    bot: Harness, answerer: FakeAnswerer
) -> None:
    await bot.send(sticker_update(CHAT))
    await bot.send(edited_update(CHAT, "Where is Putin going?"))
    [sent] = bot.messages(CHAT)
    assert sent["text"] == "I can only answer questions sent as text."
    assert answerer.calls == []


async def test_photo_caption_is_a_question(bot: Harness, answerer: FakeAnswerer) -> None:
    await bot.send(photo_update(CHAT, "Who is this with Putin?"))
    [sent] = bot.messages(CHAT)
    assert answerer.calls == [("Who is this with Putin?", None)]
    assert "Putin visits Pyongyang." in sent["text"]


async def test_unknown_command_points_to_help(bot: Harness) -> None:
    await bot.send(text_update(CHAT, "/frobnicate"))
    [sent] = bot.messages(CHAT)
    assert "/help" in sent["text"]


async def test_follow_up_context_survives_a_restart(
    tmp_path: Path, fake_api: FakeBotApi, answerer: FakeAnswerer
) -> None:
    settings = make_settings(tmp_path, fake_api)
    async with running(settings, answerer, fake_api) as bot:
        await bot.send(text_update(CHAT, "Where is Putin going?"))
        answer = bot.last_sent(CHAT)
    async with running(settings, answerer, fake_api) as restarted:
        await restarted.send(text_update(CHAT, "And then?", reply_to=answer))
    assert answerer.calls[-1] == (
        "And then?",
        "Where is Putin going?\nPutin visits Pyongyang.",
    )
