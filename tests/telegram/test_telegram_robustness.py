"""Long answers, hostile text, flood control, failed sends, errors and token hygiene."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path

import pytest
from conftest import SEED, TOKEN, FakeAnswerer, Harness, found, make_settings, running
from fake_bot_api import FakeBotApi, parse_telegram_html, too_many_requests, utf16_len
from telegram_updates import text_update

from bot.telegram import TelegramStartError, delivery, run_bot
from retrieval.answer import Answer
from retrieval.errors import IndexMissingError

pytestmark = pytest.mark.anyio

CHAT = 6001
SENTENCE = "Putin & Kim met in Pyongyang <again> on Tuesday, officials said. "
LONG_TEXT = (SENTENCE * 48).strip() + "\n\n" + (SENTENCE * 46).strip() + " [1] [2]"


def long_answer(question: str) -> Answer:
    return found(question, LONG_TEXT, SEED, SEED)


@pytest.mark.parametrize("answerer", [FakeAnswerer(reply=long_answer)])
async def test_a_6000_character_answer_arrives_in_valid_html_parts(
    bot: Harness, answerer: FakeAnswerer
) -> None:
    update = text_update(CHAT, "Tell me everything")
    await bot.send(update)
    first, second = bot.messages(CHAT)
    assert first["reply_parameters"]["message_id"] == update["message"]["message_id"]
    assert "reply_parameters" not in second
    assert "reply_markup" not in first and "inline_keyboard" in second["reply_markup"]
    for part in (first, second):
        assert part["parse_mode"] == "HTML"
        assert utf16_len(part["text"]) <= 4096
        assert parse_telegram_html(part["text"])[1] is None
    assert first["text"].endswith("officials said.")
    assert "link_preview_options" not in first  # no links in the first part
    assert second["link_preview_options"] == {"is_disabled": True}  # two links


async def test_hostile_html_in_the_question_and_answer_is_escaped(
    bot: Harness, answerer: FakeAnswerer
) -> None:
    answerer.reply = lambda q: found(q, f"You asked {q} [1]", SEED)
    await bot.send(text_update(CHAT, '<a href="tg://x">hi</a> & <b>'))
    [sent] = bot.messages(CHAT)
    assert sent["parse_mode"] == "HTML"  # accepted as HTML by the fake server's parser
    assert 'You asked &lt;a href="tg://x"&gt;hi&lt;/a&gt; &amp; &lt;b&gt; [1]' in sent["text"]


async def test_429_is_retried_after_the_delay(bot: Harness) -> None:
    bot.api.fail_next("sendMessage", 429, too_many_requests(1))
    await bot.send(text_update(CHAT, "Where is Putin going?"))
    rejected, accepted = bot.api.calls_to("sendMessage")
    assert rejected.params == accepted.params
    assert accepted.at - rejected.at >= 1.0
    assert len(bot.api.sent) == 1


async def test_a_network_error_is_retried(bot: Harness) -> None:
    bot.api.fail_next(
        "sendMessage", 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
    )
    await bot.send(text_update(CHAT, "Where is Putin going?"))
    assert len(bot.api.calls_to("sendMessage")) == 2
    assert len(bot.api.sent) == 1


async def test_rejected_html_goes_out_as_plain_text(bot: Harness) -> None:
    bad = {"ok": False, "error_code": 400, "description": "Bad Request: can't parse entities: x"}
    bot.api.fail_next("sendMessage", 400, bad)
    await bot.send(text_update(CHAT, "Where is Putin going?"))
    html_try, plain = bot.messages(CHAT)
    assert html_try["parse_mode"] == "HTML" and "parse_mode" not in plain
    assert plain["text"].startswith("Putin visits Pyongyang. [1]\n\nSources\n[1] Kremlin Confirms")
    assert f"({SEED.url})" in plain["text"]
    assert plain["reply_parameters"] == html_try["reply_parameters"]
    assert plain["reply_markup"] == html_try["reply_markup"]


async def test_a_failed_send_is_logged_and_the_bot_goes_on(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: bot was blocked by the user",
    }
    bot.api.fail_next("sendMessage", 403, blocked)
    await bot.send(text_update(CHAT, "Where is Putin going?"))
    assert "could not send a reply in chat 6001" in caplog.text
    await bot.send(text_update(CHAT, "And now?"))
    assert len(bot.api.sent) == 1


async def test_an_unexpected_error_gets_a_short_reply_and_a_logged_traceback(
    bot: Harness, answerer: FakeAnswerer, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(question: str) -> Answer:
        raise RuntimeError("internal detail: /srv/index.faiss")

    answerer.reply = explode
    await bot.send(text_update(CHAT, "Where is Putin going?"))
    [sent] = bot.messages(CHAT)
    assert sent["text"] == "Sorry, something went wrong while answering. Please try again later."
    assert "Traceback" in caplog.text and "internal detail" in caplog.text


async def test_a_missing_index_is_explained(bot: Harness, answerer: FakeAnswerer) -> None:
    def missing(question: str) -> Answer:
        raise IndexMissingError("no index in /data")

    answerer.reply = missing
    await bot.send(text_update(CHAT, "Where is Putin going?"))
    [sent] = bot.messages(CHAT)
    assert sent["text"] == "I can't search the news right now; the index isn't available."


async def test_typing_is_renewed_while_answering(
    bot: Harness, answerer: FakeAnswerer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "TYPING_INTERVAL", 0.05)
    slow_reply = answerer.reply
    answerer.reply = lambda q: (time.sleep(0.4), slow_reply(q))[1]
    await bot.send(text_update(CHAT, "Where is Putin going?"))
    actions = bot.api.calls_to("sendChatAction")
    assert len(actions) >= 4
    assert actions[-1].at < bot.api.calls_to("sendMessage")[0].at


async def test_a_slow_question_does_not_stall_others(bot: Harness, answerer: FakeAnswerer) -> None:
    release = threading.Event()
    normal = answerer.reply

    def maybe_slow(question: str) -> Answer:
        if question == "slow":
            release.wait(5)
        return normal(question)

    answerer.reply = maybe_slow
    slow = asyncio.create_task(bot.send(text_update(CHAT, "slow")))
    # Once the slow question is being answered (a fixed 50 ms wait let a loaded machine
    # batch the fast one with it), the fast one must not wait for it.
    for _ in range(500):
        if ("slow", None) in answerer.calls:
            break
        await asyncio.sleep(0.01)
    assert answerer.batches == [1]
    await asyncio.wait_for(bot.send(text_update(CHAT + 1, "fast")), 2)
    assert len(bot.messages(CHAT + 1)) == 1 and bot.messages(CHAT) == []
    release.set()
    await slow
    assert len(bot.messages(CHAT)) == 1


async def test_the_token_never_reaches_the_logs(
    tmp_path: Path, answerer: FakeAnswerer, caplog: pytest.LogCaptureFixture
) -> None:
    # A token no other test uses, and httpx back at its default level, so that this test
    # fails unless build_application itself keeps the token out.
    token = "5151:ANOTHER-never-logged"
    logging.getLogger("httpx").setLevel(logging.NOTSET)
    logging.getLogger("httpcore").setLevel(logging.NOTSET)
    caplog.set_level(logging.DEBUG)
    api = FakeBotApi(token).start()
    try:
        settings = make_settings(tmp_path, api, telegram_token=token)
        async with running(settings, answerer, api) as bot:
            await bot.send(text_update(CHAT, "Where is Putin going?"))
            answerer.reply = lambda q: 1 / 0  # type: ignore[assignment, return-value]
            await bot.send(text_update(CHAT, "And an error?"))
    finally:
        api.close()
    assert "Calling Bot API endpoint `sendMessage`" in caplog.text  # debug logs were captured
    assert "ZeroDivisionError" in caplog.text
    assert token not in caplog.text
    assert "ANOTHER-never-logged" not in caplog.text


@pytest.mark.usefixtures("main_loop")
def test_a_rejected_token_fails_without_repeating_it(
    tmp_path: Path, answerer: FakeAnswerer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api = FakeBotApi("1:other-token").start()
    try:
        with pytest.raises(TelegramStartError) as failure:
            run_bot(make_settings(tmp_path, api), answerer)
    finally:
        api.close()
    assert str(failure.value) == "Telegram rejected NEWSBOT_TELEGRAM_TOKEN"
    assert TOKEN not in caplog.text


async def test_questions_arriving_together_are_answered_in_one_batch(
    bot: Harness, answerer: FakeAnswerer
) -> None:
    await asyncio.gather(*(bot.send(text_update(CHAT + n, f"Question {n}?")) for n in range(12)))
    assert sorted(q for q, _ in answerer.calls) == sorted(f"Question {n}?" for n in range(12))
    assert max(answerer.batches) > 1 and sum(answerer.batches) == 12
    for n in range(12):
        assert len(bot.messages(CHAT + n)) == 1


async def test_a_failing_question_fails_alone_in_its_batch(
    bot: Harness, answerer: FakeAnswerer
) -> None:
    normal = answerer.reply

    def fail_one(question: str) -> Answer:
        if question == "bad":
            raise RuntimeError("index went away")
        return normal(question)

    answerer.reply = fail_one
    await asyncio.gather(bot.send(text_update(CHAT, "bad")), bot.send(text_update(CHAT + 1, "ok")),
                         bot.send(text_update(CHAT + 2, "fine")))  # fmt: skip
    assert answerer.batches[0] == 3  # one batch, which failed, then each on its own
    assert "Putin visits Pyongyang" not in bot.messages(CHAT)[0]["text"]
    for chat in (CHAT + 1, CHAT + 2):
        assert "Putin visits Pyongyang" in bot.messages(chat)[0]["text"]
