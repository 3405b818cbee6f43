"""Hostile users and unlucky networks: personal inline results, sends not repeated after they
arrived, feedback tied to its answer and asker, quotas on browsing, the token kept out."""

from __future__ import annotations

import io
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import SEED, TOKEN, FakeAnswerer, Harness, make_settings, running
from fake_bot_api import FakeBotApi
from telegram.request import HTTPXRequest
from telegram_updates import callback_update, inline_update, text_update

from bot.telegram.conversations import ConversationStore
from bot.telegram.services import SERVICES_KEY

pytestmark = pytest.mark.anyio

ROOT_DIR = Path(__file__).resolve().parents[2]
CHAT = 8001
GROUP = -100800
RUSSIAN = "Кто президент Франции?"


class CountingAnswerer(FakeAnswerer):
    """A FakeAnswerer that counts how often the article list is read."""

    reads: int = 0

    def list_articles(self) -> list[Any]:
        self.reads += 1
        return super().list_articles()


async def test_inline_results_are_personal_on_every_path(bot: Harness) -> None:
    await bot.send(inline_update(CHAT, "where is putin going"))  # an answer
    await bot.send(inline_update(CHAT, "p"))  # too short: the newest headlines
    calls = bot.api.calls_to("answerInlineQuery")
    assert len(calls) == 2
    assert all(call.params["is_personal"] is True for call in calls)


async def test_an_over_quota_inline_fallback_is_personal(
    tmp_path: Path, fake_api: FakeBotApi, answerer: FakeAnswerer
) -> None:
    settings = make_settings(tmp_path, fake_api, telegram_rate_limit_per_minute=1)
    async with running(settings, answerer, fake_api) as bot:
        await bot.send(inline_update(CHAT, "where is putin going"))
        await bot.send(inline_update(CHAT, "where is putin going now"))
    _, fallback = fake_api.calls_to("answerInlineQuery")
    assert fallback.params["results"][0]["title"] == SEED.title  # the headlines, not an answer
    assert fallback.params["is_personal"] is True and len(answerer.calls) == 1


async def test_a_send_that_timed_out_after_arriving_is_not_repeated(
    tmp_path: Path, fake_api: FakeBotApi, answerer: FakeAnswerer,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    original = HTTPXRequest.__init__

    def quick(self: HTTPXRequest, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **{**kwargs, "read_timeout": 0.5})

    monkeypatch.setattr(HTTPXRequest, "__init__", quick)
    async with running(make_settings(tmp_path, fake_api), answerer, fake_api) as bot:
        fake_api.stall_next("sendMessage", 1.5)
        await bot.send(text_update(CHAT, "Where is Putin going?"))
        assert len(fake_api.calls_to("sendMessage")) == 1  # delivered once, not retried
        assert "may have reached Telegram; not sending it again" in caplog.text
        await bot.send(text_update(CHAT, "And next?"))  # the bot goes on
    assert len(fake_api.sent) == 2


async def answered_in_group(bot: Harness, asker: int) -> dict[str, Any]:
    await bot.send(text_update(GROUP, "/ask Where is Putin going?", user_id=asker))
    return bot.last_sent(GROUP)


def feedback_rows(bot: Harness) -> list[Any]:
    return bot.app.bot_data[SERVICES_KEY].store.feedback()


async def test_only_the_asker_can_rate_an_answer(bot: Harness) -> None:
    answer = await answered_in_group(bot, asker=CHAT)
    up = answer["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await bot.send(callback_update(CHAT + 1, answer, up))
    [ack] = bot.api.calls_to("answerCallbackQuery")
    assert ack.params["text"] == "Only the person who asked can rate this answer."
    assert feedback_rows(bot) == []
    await bot.send(callback_update(CHAT, answer, up))
    assert [row[1:3] for row in feedback_rows(bot)] == [(CHAT, 1)]


def test_a_store_from_before_askers_were_kept_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "telegram.sqlite3"
    db = sqlite3.connect(path)
    with db:  # the exchanges table as it was
        db.execute(
            "CREATE TABLE exchanges (id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL,"
            " parent_id INTEGER, question TEXT NOT NULL, answer TEXT NOT NULL, cited_urls TEXT"
            " NOT NULL, answered INTEGER NOT NULL, latency REAL, created REAL NOT NULL)"
        )
        db.execute("INSERT INTO exchanges VALUES (1, 5, NULL, 'q', 'a', '[]', 1, NULL, 1e12)")
    db.close()
    store = ConversationStore(path, clock=lambda: 1e12)
    old = store.get(1)
    new = store.get(store.record(5, "q2", "a2", cited_urls=[], answered=True, parent_id=None,
                                 user_id=42))  # fmt: skip
    store.close()
    assert old is not None and old.user_id is None
    assert new is not None and new.user_id == 42


async def test_forged_feedback_data_rates_nothing(bot: Harness) -> None:
    first = await answered_in_group(bot, asker=CHAT)
    await bot.send(text_update(CHAT + 5, "Where else?"))  # exchange 2, in another chat
    other = bot.last_sent(CHAT + 5)
    other_id = other["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[1]
    # Exchange 2's id under exchange 1's message, and an answer's data under a message
    # that is not an answer.
    await bot.send(callback_update(CHAT, first, f"fb:{other_id}:-1"))
    await bot.send(callback_update(CHAT + 5, {**other, "message_id": 1}, f"fb:{other_id}:-1"))
    acks = [call.params["text"] for call in bot.api.calls_to("answerCallbackQuery")]
    assert acks == ["That answer is too old to rate."] * 2
    assert feedback_rows(bot) == []


@pytest.mark.parametrize("data", ["fb:" + "9" * 40 + ":1", "fb:99999999999999999999:-1",
                                  "src:" + "9" * 30, "nonsense"])  # fmt: skip
async def test_huge_or_unknown_button_data_is_answered_without_an_error(
    bot: Harness, data: str, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.send(text_update(CHAT, "Where is Putin going?"))
    await bot.send(callback_update(CHAT, bot.last_sent(CHAT), data))
    [ack] = bot.api.calls_to("answerCallbackQuery")
    assert ack.params["text"] == "That button no longer works."
    assert "OverflowError" not in caplog.text and "error while handling" not in caplog.text


async def test_browsing_is_rate_limited(
    tmp_path: Path, fake_api: FakeBotApi, answerer: FakeAnswerer
) -> None:
    settings = make_settings(tmp_path, fake_api, telegram_browse_limit_per_minute=3)
    async with running(settings, answerer, fake_api) as bot:
        await bot.send(text_update(CHAT, "/start"))
        await bot.send(text_update(CHAT, "/sources"))
        page = bot.last_sent(CHAT)
        await bot.send(callback_update(CHAT, page, "src:0"))
        await bot.send(text_update(CHAT, "/sources"))  # the fourth in a minute
        await bot.send(callback_update(CHAT, page, "src:0"))
        await bot.send(inline_update(CHAT, ""))
        await bot.send(text_update(CHAT + 1, "/sources"))  # another user has their own quota
    *_, slow = bot.messages(CHAT)
    assert slow["text"].startswith("You're asking faster than I can keep up.")
    acks = [call.params.get("text") for call in fake_api.calls_to("answerCallbackQuery")]
    assert acks[0] is None and acks[1].startswith("You're asking faster")
    [inline] = fake_api.calls_to("answerInlineQuery")
    assert inline.params["results"] == [] and inline.params["is_personal"] is True
    assert bot.messages(CHAT + 1)[0]["text"].startswith("<b>Indexed articles</b>")


@pytest.mark.parametrize("answerer", [CountingAnswerer()])
async def test_the_article_list_is_not_read_for_every_request(
    bot: Harness, answerer: CountingAnswerer
) -> None:
    for text in ("/start", "/sources", "/sources", "/start"):
        await bot.send(text_update(CHAT, text))
    await bot.send(callback_update(CHAT, bot.last_sent(CHAT), "src:0"))
    await bot.send(inline_update(CHAT, ""))
    assert answerer.reads == 1
    bot.app.bot_data[SERVICES_KEY].answerer.forget_articles()  # what an ingest does
    await bot.send(text_update(CHAT, "/sources"))
    assert answerer.reads == 2


ARABIC = "متى يزور بوتين كوريا؟"


@pytest.mark.parametrize(
    ("question", "script"), [(RUSSIAN, "Cyrillic script"), (ARABIC, "Arabic script")]
)
async def test_a_question_in_another_language_names_the_languages(
    bot: Harness, answerer: FakeAnswerer, question: str, script: str
) -> None:
    await bot.send(text_update(CHAT, question))
    [reply] = bot.messages(CHAT)
    assert reply["text"].startswith("I can only answer questions in English")
    assert script in reply["text"] and answerer.calls == []
    await bot.send(inline_update(CHAT, question))
    [call] = bot.api.calls_to("answerInlineQuery")
    [notice] = call.params["results"]
    assert notice["description"].startswith("I can only answer questions in English")
    assert answerer.calls == [] and call.params["is_personal"] is True


async def test_encoded_tokens_and_bad_log_records_are_redacted(
    bot: Harness, capsys: pytest.CaptureFixture
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("newsbot.test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("fetching https://x/bot%s/getMe", TOKEN.replace(":", "%3A"))
        logger.warning("fetching https://x/bot%s/getMe", TOKEN.replace(":", "%3a"))
        logger.warning("secret part alone: %s", TOKEN.split(":")[1])
        logger.warning("a bad record %d", TOKEN)  # formatting fails: logging would dump it
    finally:
        logger.removeHandler(handler)
    logged = stream.getvalue() + capsys.readouterr().err
    assert "SECRET-test-token" not in logged
    assert logged.count("<token>") == 4 and "Logging error" not in logged


def test_warnings_are_redacted() -> None:
    code = (
        "import warnings\n"
        "from bot.telegram.redaction import redact_in_logs\n"
        f"redact_in_logs({TOKEN!r})\n"
        f"warnings.warn('calling https://api/bot{TOKEN}/getMe')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT_DIR, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "UserWarning: calling https://api/bot<token>/getMe" in result.stderr
    assert "SECRET" not in result.stderr
