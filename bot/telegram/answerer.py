"""The seam to the retrieval core, and running it off the event loop."""

from __future__ import annotations

import asyncio
import datetime
import os
import time
from collections.abc import Sequence
from typing import Protocol

from retrieval.answer import Answer, Question
from retrieval.articles import ArticleSummary

# /start, /sources and inline headlines read the article list from a copy at most this old,
# not from the store each time (this process's ingests refresh it at once).
ARTICLES_MAX_AGE = 30.0


class AnswererLike(Protocol):
    """A synchronous, thread-safe answerer; the bot calls it with `asyncio.to_thread`."""

    def answer(
        self,
        question: str,
        *,
        top_k: int | None = None,
        as_of: datetime.date | None = None,
        context: str | None = None,
    ) -> Answer:
        """Answer one question, blending `context` (an earlier exchange) into retrieval."""
        ...

    def answer_many(self, questions: Sequence[Question]) -> list[Answer]:
        """Answer several questions at once, in order."""
        ...

    def list_articles(self) -> list[ArticleSummary]:
        """Every indexed article, newest first."""
        ...

    def stats(self) -> dict[str, int]:
        """Index size: {"articles": n, "passages": n}."""
        ...


class OffLoopAnswerer:
    """Answers off the event loop, batching questions that arrive together.

    Answering is CPU-bound and most of its cost for one question is the model call, which
    costs little more for fifty questions than for one. So the first question waits
    ``wait_ms`` for others (a group chat's burst), then up to ``max_batch`` questions are
    answered in a worker thread with one encode. At most ``slots`` batches run at once (more
    than the cores only adds contention, but one slow question must not stall the rest);
    questions arriving while the slots are busy gather into the next batch.
    """

    def __init__(self, answerer: AnswererLike, *, wait_ms: float = 5.0, max_batch: int = 16,
                 slots: int | None = None) -> None:  # fmt: skip
        self._answerer = answerer
        self._wait = wait_ms / 1000
        self._max_batch = max_batch
        self._slots = asyncio.Semaphore(slots or os.cpu_count() or 2)
        self._pending: list[tuple[Question, asyncio.Future[Answer]]] = []
        self._collector: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._articles: list[ArticleSummary] | None = None
        self._articles_read = 0.0
        self._articles_lock = asyncio.Lock()

    async def answer(self, question: str, *, context: str | None = None) -> Answer:
        """Answer once this question's batch has been through the answerer."""
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._pending.append((Question(question, context=context), future))
        if self._collector is None or self._collector.done():
            self._collector = asyncio.create_task(self._collect())
        return await future

    async def _collect(self) -> None:
        await asyncio.sleep(self._wait)
        while self._pending:
            await self._slots.acquire()
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            task = asyncio.create_task(self._run(batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[tuple[Question, asyncio.Future[Answer]]]) -> None:
        try:
            outcomes = await asyncio.to_thread(self._answer_batch, [q for q, _ in batch])
        except asyncio.CancelledError:  # shutting down: no waiter may hang
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:  # one question alone, and it failed
            outcomes = [exc] * len(batch)
        finally:
            self._slots.release()
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # its handler was cancelled meanwhile
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _answer_batch(self, questions: list[Question]) -> list[Answer | Exception]:
        """Answers in order; if the batch fails, each question on its own, so that one bad
        question fails alone."""
        try:
            return list(self._answerer.answer_many(questions))
        except Exception:
            if len(questions) == 1:
                raise
        outcomes: list[Answer | Exception] = []
        for question in questions:
            try:
                outcomes.append(self._answerer.answer(question.text, context=question.context))
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    async def list_articles(self) -> list[ArticleSummary]:
        """Every indexed article, newest first, read at most ARTICLES_MAX_AGE seconds ago."""
        async with self._articles_lock:  # callers arriving together share one read
            now = time.monotonic()
            if self._articles is None or now - self._articles_read > ARTICLES_MAX_AGE:
                self._articles = await asyncio.to_thread(self._answerer.list_articles)
                self._articles_read = now
            return self._articles

    def forget_articles(self) -> None:
        """Read the article list afresh next time (the index has just changed)."""
        self._articles = None

    async def stats(self) -> dict[str, int]:
        """Index size."""
        return await asyncio.to_thread(self._answerer.stats)
