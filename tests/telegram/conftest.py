"""Fixtures for the Telegram front-end: a fake Bot API server and a bot wired to it."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fake_bot_api import FakeBotApi
from telegram import Update
from telegram.ext import Application

from bot.settings import Settings
from bot.telegram import build_application
from retrieval.answer import NOT_FOUND_TEXT, Answer, Citation, Question
from retrieval.articles import ArticleSummary

TOKEN = "4242:SECRET-test-token"
ADMIN_ID = 9001
SEED_URL = (
    "https://www.themoscowtimes.com/2024/06/17/kremlin-confirms-putins-trip-to-north-korea-a85441"
)
SEED_TITLE = "Kremlin Confirms Putin's Trip to North Korea"
SEED = ArticleSummary(SEED_URL, SEED_TITLE, "The Moscow Times", datetime.date(2024, 6, 17), "AFP")


def cite(article: ArticleSummary, n: int = 1, quote: str = "") -> Citation:
    """A citation of an article."""
    return Citation(n, article.url, article.title, article.source, article.published, quote)


def found(question: str, text: str, *articles: ArticleSummary) -> Answer:
    """An answered Answer citing `articles` in order."""
    citations = tuple(cite(a, n) for n, a in enumerate(articles, start=1))
    return Answer(question, True, text, datetime.date(2024, 6, 20), citations, as_of=SEED.published)


def not_found(question: str, *closest: ArticleSummary) -> Answer:
    """A not-found Answer offering the closest headlines."""
    return Answer(question, False, NOT_FOUND_TEXT, datetime.date(2024, 6, 20), closest=closest)


@dataclass
class FakeAnswerer:
    """A deterministic answerer: answers with `reply(question)` and records every call."""

    reply: Callable[[str], Answer] = lambda q: found(q, "Putin visits Pyongyang. [1]", SEED)
    articles: list[ArticleSummary] = field(default_factory=lambda: [SEED])
    calls: list[tuple[str, str | None]] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(
        self,
        question: str,
        *,
        top_k: int | None = None,
        as_of: datetime.date | None = None,
        context: str | None = None,
    ) -> Answer:
        with self._lock:
            self.calls.append((question, context))
        return self.reply(question)

    def answer_many(self, questions: Sequence[Question]) -> list[Answer]:
        with self._lock:
            self.batches.append(len(questions))
        return [self.answer(q.text, context=q.context) for q in questions]

    def list_articles(self) -> list[ArticleSummary]:
        return list(self.articles)

    def stats(self) -> dict[str, int]:
        return {"articles": len(self.articles), "passages": 10 * len(self.articles)}


@dataclass
class Harness:
    """A bot Application talking to the fake server, fed with update JSON."""

    app: Application  # type: ignore[type-arg]
    api: FakeBotApi

    async def send(self, update: dict[str, Any]) -> None:
        """Process one update through every handler, as polling would."""
        await self.app.process_update(Update.de_json(update, self.app.bot))

    def messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Parameters of every sendMessage, optionally for one chat."""
        calls = self.api.calls_to("sendMessage")
        return [c.params for c in calls if chat_id is None or c.params["chat_id"] == chat_id]

    def last_sent(self, chat_id: int) -> dict[str, Any]:
        """The last message the server returned for a sendMessage to this chat."""
        return [m for m in self.api.sent if m["chat"]["id"] == chat_id][-1]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def main_loop() -> Iterator[None]:
    """A fresh event loop for `run_bot`, which runs (and then closes) the main thread's loop."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()


@pytest.fixture
def fake_api() -> Iterator[FakeBotApi]:
    api = FakeBotApi(TOKEN).start()
    yield api
    api.close()


def make_settings(data_dir: Path, api: FakeBotApi, **overrides: Any) -> Settings:
    """Settings for a bot talking to the fake server."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "telegram_token": TOKEN,
        "telegram_base_url": api.base_url,
        "telegram_admin_user_ids": (ADMIN_ID,),
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@contextlib.asynccontextmanager
async def running(settings: Settings, answerer: Any, api: FakeBotApi) -> AsyncIterator[Harness]:
    """An initialized Application (getMe done) that is shut down afterwards."""
    app = build_application(settings, answerer)
    await app.initialize()
    try:
        yield Harness(app, api)
    finally:
        await app.shutdown()
        await app.post_shutdown(app)  # type: ignore[misc]


@pytest.fixture
def answerer() -> FakeAnswerer:
    return FakeAnswerer()


@pytest.fixture
async def bot(
    tmp_path: Path, fake_api: FakeBotApi, answerer: FakeAnswerer
) -> AsyncIterator[Harness]:
    async with running(make_settings(tmp_path, fake_api), answerer, fake_api) as harness:
        yield harness


@pytest.fixture
async def seed_bot(
    tmp_path: Path, fake_api: FakeBotApi, seed_answerer: Any
) -> AsyncIterator[Harness]:
    async with running(make_settings(tmp_path, fake_api), seed_answerer, fake_api) as harness:
        yield harness
