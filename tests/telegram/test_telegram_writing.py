"""Written answers in Telegram: checked sentences stream into one edited message."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN_ID, SEED_URL, make_settings, running
from fake_bot_api import FakeBotApi
from telegram_updates import text_update

from retrieval.writing import EARLIER_END, EARLIER_START
from tests.fake_model_api import FakeModelApi, Reply

pytestmark = pytest.mark.anyio

CHAT = 5301
KEY = "sk-telegram-SECRET-9999"
REPLY = (
    "Putin will visit North Korea on June 18–19, 2024. [1] "
    "Putin will also sign a nuclear treaty there. [1] "
    "He will then travel to Vietnam. [1]"
)


@pytest.fixture
def model_api() -> Iterator[FakeModelApi]:
    api = FakeModelApi().start()
    yield api
    api.close()


def llm_settings(tmp_path: Path, fake_api: FakeBotApi, model_api: FakeModelApi) -> Any:
    return make_settings(
        tmp_path,
        fake_api,
        llm_base_url=model_api.base_url,
        llm_model="test-model",
        llm_api_key=KEY,
        llm_timeout=10.0,
    )


async def test_answer_streams_into_one_message_checked_and_paced(
    tmp_path: Path,
    fake_api: FakeBotApi,
    model_api: FakeModelApi,
    seed_answerer: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    model_api.script(Reply(REPLY, delay=0.12))  # about 2.5 s of streaming
    settings = llm_settings(tmp_path, fake_api, model_api)
    async with running(settings, seed_answerer, fake_api) as bot:
        await bot.send(text_update(CHAT, "When is Putin visiting Pyongyang?"))
        [first] = bot.messages(CHAT)  # one message, edited from then on
        edits = [c for c in bot.api.calls_to("editMessageText") if c.params["chat_id"] == CHAT]
        await bot.send(text_update(ADMIN_ID, "/stats"))
        stats = bot.messages(ADMIN_ID)[-1]["text"]
    assert first["text"] == "Putin will visit North Korea on June 18–19, 2024. [1] …"
    assert len(edits) >= 2
    *partial, final = edits
    for edit in partial:
        assert edit.params["text"].endswith(" …")
    for edit in edits:  # the invented sentence never showed
        assert "treaty" not in edit.params["text"]
    sends = [c for c in bot.api.calls_to("sendMessage") if c.params["chat_id"] == CHAT]
    times = [sends[0].at] + [edit.at for edit in edits]
    assert all(later - earlier >= 0.95 for earlier, later in itertools.pairwise(times))
    assert final.params["text"].startswith(
        "Putin will visit North Korea on June 18–19, 2024. [1] He will then travel to Vietnam. [1]"
    )
    assert f'<a href="{SEED_URL}">' in final.params["text"] and "Sources" in final.params["text"]
    assert [b["text"] for b in final.params["reply_markup"]["inline_keyboard"][0]] == ["👍", "👎"]
    assert bot.api.calls_to("sendChatAction")
    assert "Model calls: 1" in stats and "Model fallbacks: 0" in stats
    assert "Model latency p95: " in stats and "n/a" not in stats.split("Model latency p50")[1]
    assert len(model_api.requests) == 1
    for record in caplog.records:
        assert KEY not in record.getMessage()


async def test_model_failure_gives_the_extractive_answer_in_one_message(
    tmp_path: Path, fake_api: FakeBotApi, model_api: FakeModelApi, seed_answerer: Any
) -> None:
    model_api.script(Reply(status=500))
    async with running(llm_settings(tmp_path, fake_api, model_api), seed_answerer, fake_api) as bot:
        await bot.send(text_update(CHAT, "When is Putin visiting Pyongyang?"))
        [sent] = bot.messages(CHAT)
        await bot.send(text_update(ADMIN_ID, "/stats"))
        stats = bot.messages(ADMIN_ID)[-1]["text"]
    assert "June 18–19, 2024" in sent["text"] and f'<a href="{SEED_URL}">' in sent["text"]
    assert not bot.api.calls_to("editMessageText")
    assert "Model calls: 1" in stats and "Model fallbacks: 1" in stats


async def test_without_a_model_nothing_changes(
    tmp_path: Path, fake_api: FakeBotApi, seed_answerer: Any
) -> None:
    async with running(make_settings(tmp_path, fake_api), seed_answerer, fake_api) as bot:
        await bot.send(text_update(CHAT, "When is Putin visiting Pyongyang?"))
        [sent] = bot.messages(CHAT)
        await bot.send(text_update(ADMIN_ID, "/stats"))
        stats = bot.messages(ADMIN_ID)[-1]["text"]
    assert "June 18–19, 2024" in sent["text"] and not bot.api.calls_to("editMessageText")
    assert "Model calls" not in stats


async def test_a_follow_up_gives_the_model_the_earlier_exchange(
    tmp_path: Path, fake_api: FakeBotApi, model_api: FakeModelApi, seed_answerer: Any
) -> None:
    model_api.script(
        "Putin will visit North Korea on June 18–19, 2024. [1]",
        "After North Korea, Putin will travel to Vietnam. [1]",
    )
    async with running(llm_settings(tmp_path, fake_api, model_api), seed_answerer, fake_api) as bot:
        await bot.send(text_update(CHAT, "When is Putin visiting Pyongyang?"))
        # The streamed message (the fake server gives each edit an id of its own).
        answer = next(m for m in bot.api.sent if m["chat"]["id"] == CHAT)
        await bot.send(text_update(CHAT, "Where does he go after that?", reply_to=answer))
        calls = [*bot.api.calls_to("sendMessage"), *bot.api.calls_to("editMessageText")]
        last = max((c for c in calls if c.params["chat_id"] == CHAT), key=lambda c: c.at)
    first, second = model_api.requests
    assert EARLIER_START not in first.user
    earlier = second.user[second.user.index(EARLIER_START) : second.user.index(EARLIER_END)]
    assert "When is Putin visiting Pyongyang?" in earlier and "June 18–19, 2024" in earlier
    assert second.user.index(EARLIER_END) < second.user.index("Where does he go after that?")
    assert "Vietnam" in last.params["text"]
