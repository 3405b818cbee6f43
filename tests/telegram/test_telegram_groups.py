"""Group chats: /ask, /ask@Bot, mentions, replies, and chatter left alone."""

from __future__ import annotations

import pytest
from conftest import SEED_URL, TOKEN, FakeAnswerer, Harness, make_settings, running
from fake_bot_api import BOT_USER, FakeBotApi
from telegram_updates import added_to_group, text_update

pytestmark = pytest.mark.anyio

GROUP = -1001234567890
MEMBER = 4001


async def test_ask_addressed_to_this_bot_is_answered_as_a_reply(seed_bot: Harness) -> None:
    update = text_update(
        GROUP, "/ask@NewsTestBot When will Putin visit North Korea?", user_id=MEMBER
    )
    await seed_bot.send(update)
    [sent] = seed_bot.messages(GROUP)
    assert sent["reply_parameters"]["message_id"] == update["message"]["message_id"]
    assert sent["parse_mode"] == "HTML"
    assert f'href="{SEED_URL}"' in sent["text"]


async def test_plain_ask_keeps_the_question_lines(bot: Harness, answerer: FakeAnswerer) -> None:
    await bot.send(text_update(GROUP, "/ask Where is\nPutin going?", user_id=MEMBER))
    assert answerer.calls == [("Where is\nPutin going?", None)]
    assert len(bot.messages(GROUP)) == 1


async def test_other_bots_commands_and_chatter_are_ignored(
    bot: Harness, answerer: FakeAnswerer
) -> None:
    await bot.send(text_update(GROUP, "/ask@SomeOtherBot Where is Putin going?", user_id=MEMBER))
    await bot.send(text_update(GROUP, "Where is Putin going?", user_id=MEMBER))
    await bot.send(text_update(GROUP, "/frobnicate", user_id=MEMBER))
    assert answerer.calls == []
    assert bot.api.calls_to("sendMessage") == []
    assert bot.api.calls_to("sendChatAction") == []


async def test_ask_without_a_question_shows_usage(bot: Harness, answerer: FakeAnswerer) -> None:
    await bot.send(text_update(GROUP, "/ask@NewsTestBot", user_id=MEMBER))
    [sent] = bot.messages(GROUP)
    assert sent["text"].startswith("Usage: /ask")
    assert answerer.calls == []


async def test_mention_is_a_question(bot: Harness, answerer: FakeAnswerer) -> None:
    await bot.send(text_update(GROUP, "@NewsTestBot where is Putin going?", user_id=MEMBER))
    await bot.send(text_update(GROUP, "@SomeoneElse where is Putin going?", user_id=MEMBER))
    assert answerer.calls == [("where is Putin going?", None)]
    assert len(bot.messages(GROUP)) == 1


async def test_reply_to_an_answer_in_a_group_is_a_follow_up(
    bot: Harness, answerer: FakeAnswerer
) -> None:
    await bot.send(text_update(GROUP, "/ask Where is Putin going?", user_id=MEMBER))
    answer = bot.last_sent(GROUP)
    update = text_update(GROUP, "And after that?", user_id=MEMBER + 1, reply_to=answer)
    await bot.send(update)
    assert answerer.calls[1] == (
        "And after that?",
        "Where is Putin going?\nPutin visits Pyongyang.",
    )
    follow_up = bot.messages(GROUP)[-1]
    assert follow_up["reply_parameters"]["message_id"] == update["message"]["message_id"]


async def test_reply_to_someone_else_is_ignored(bot: Harness, answerer: FakeAnswerer) -> None:
    other = text_update(GROUP, "I think he goes to Vietnam", user_id=MEMBER)["message"]
    await bot.send(text_update(GROUP, "Really?", user_id=MEMBER + 1, reply_to=other))
    assert answerer.calls == []


async def test_joining_a_group_posts_one_hint(bot: Harness) -> None:
    await bot.send(added_to_group(GROUP, MEMBER))
    [sent] = bot.messages(GROUP)
    assert "/ask" in sent["text"] and "@NewsTestBot" not in sent["text"]
    assert "reply_parameters" not in sent


async def test_hint_mentions_the_bot_when_it_sees_all_messages(
    tmp_path, answerer: FakeAnswerer
) -> None:
    api = FakeBotApi(TOKEN, bot_user={**BOT_USER, "can_read_all_group_messages": True}).start()
    try:
        async with running(make_settings(tmp_path, api), answerer, api) as bot:
            await bot.send(added_to_group(GROUP, MEMBER))
            [sent] = bot.messages(GROUP)
            assert "mention @NewsTestBot" in sent["text"]
    finally:
        api.close()


async def test_start_in_a_group_explains_how_to_ask_there(bot: Harness) -> None:
    await bot.send(text_update(GROUP, "/start@NewsTestBot", user_id=MEMBER))
    [sent] = bot.messages(GROUP)
    assert sent["text"].startswith("Hi! Ask me about the news with /ask")
