"""The seam to the retrieval core, and running it off the event loop."""

from __future__ import annotations

import asyncio
import datetime
import os
from typing import Protocol

from retrieval.answer import Answer
from retrieval.articles import ArticleSummary


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

    def list_articles(self) -> list[ArticleSummary]:
        """Every indexed article, newest first."""
        ...

    def stats(self) -> dict[str, int]:
        """Index size: {"articles": n, "passages": n}."""
        ...


class OffLoopAnswerer:
    """Runs a synchronous answerer in worker threads, a bounded number of answers at a time.

    Answering is CPU-bound: more concurrent answers than cores only adds contention, and
    queueing the rest keeps replies in arrival order under a burst.
    """

    def __init__(self, answerer: AnswererLike, slots: int | None = None) -> None:
        self._answerer = answerer
        self._slots = asyncio.Semaphore(slots or os.cpu_count() or 2)

    async def answer(self, question: str, *, context: str | None = None) -> Answer:
        """Answer off the event loop once a slot is free."""
        async with self._slots:
            return await asyncio.to_thread(self._answerer.answer, question, context=context)

    async def list_articles(self) -> list[ArticleSummary]:
        """Every indexed article, newest first."""
        return await asyncio.to_thread(self._answerer.list_articles)

    async def stats(self) -> dict[str, int]:
        """Index size."""
        return await asyncio.to_thread(self._answerer.stats)
