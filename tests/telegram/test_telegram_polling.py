"""A full long-polling run: a burst of 100 questions from 20 chats, each answered once."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import SEED_URL, make_settings
from fake_bot_api import FakeBotApi
from telegram import Update
from telegram_updates import text_update

from bot.telegram import build_application

pytestmark = pytest.mark.anyio

QUESTIONS = (
    "When will Putin visit North Korea?",
    "Who accuses Pyongyang of sending weapons to Moscow?",
    "Where does Putin travel after North Korea?",
    "Who won the 2018 FIFA World Cup?",
    "How long has Putin been in power?",
)
PRIVATE_CHATS = [8100 + n for n in range(10)]
GROUPS = [-1008200 - n for n in range(10)]


def burst() -> list[dict[str, Any]]:
    """Five questions from each of 10 private chats and 10 supergroups, interleaved."""
    updates = []
    for question in QUESTIONS:
        for chat in PRIVATE_CHATS:
            updates.append(text_update(chat, question))
        for n, group in enumerate(GROUPS):
            updates.append(text_update(group, f"/ask@NewsTestBot {question}", user_id=8300 + n))
    return updates


async def test_a_burst_of_100_questions_from_20_chats_is_answered_once_each(
    tmp_path: Path, fake_api: FakeBotApi, seed_answerer: Any
) -> None:
    app = build_application(make_settings(tmp_path, fake_api), seed_answerer)
    seed_answerer.answer("warm up")  # the model loads once per process; not part of the figure
    updates = burst()
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES
        )
        one_by_one = []
        for n, question in enumerate(QUESTIONS * 2):
            pushed = time.monotonic()
            fake_api.push_update(text_update(8500 + n, question))
            [*_, reply] = await asyncio.to_thread(fake_api.wait_for, "sendMessage", n + 1)
            one_by_one.append(reply.at - pushed)
        fake_api.forget_calls()
        pushed = time.monotonic()
        for update in updates:
            fake_api.push_update(update)
        try:
            await asyncio.to_thread(fake_api.wait_for, "sendMessage", count=100, timeout=60)
        finally:
            await app.updater.stop()
            await app.stop()
    replies = fake_api.calls_to("sendMessage")
    assert len(replies) == 100
    answered = {(c.params["chat_id"], c.params["reply_parameters"]["message_id"]) for c in replies}
    asked = {(u["message"]["chat"]["id"], u["message"]["message_id"]) for u in updates}
    assert answered == asked
    assert sum(SEED_URL in c.params["text"] for c in replies) == 100  # answers and closest
    assert not any("faster than I can keep up" in c.params["text"] for c in replies)

    print(f"\none at a time (10 questions): {percentiles(one_by_one)}")
    print(f"burst of 100 questions from 20 chats: {percentiles([c.at - pushed for c in replies])}")
    assert max(one_by_one) < 5


def percentiles(latencies: list[float]) -> str:
    """p50, p95 and max of reply latencies, for the docs table."""
    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p95 = statistics.quantiles(ordered, n=20, method="inclusive")[18]
    return f"p50 {p50:.2f} s, p95 {p95:.2f} s, max {ordered[-1]:.2f} s"
