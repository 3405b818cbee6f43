"""The ingest worker: reads sources into the index in a worker thread, one ingest at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.feedbook import FeedBook
    from retrieval.ingest import IngestSummary
    from retrieval.sources import SourceResult

# Sources in, a summary out; each source's result goes to the callback when one is given.
IngestSources = Callable[[list[str], Callable[["SourceResult"], None] | None], "IngestSummary"]


class Ingester:
    """Runs ``ingest`` off the event loop, one call at a time; ``feeds`` are the feeds
    followed and their last polls. Both are built in the composition root."""

    def __init__(self, ingest: IngestSources, feeds: FeedBook) -> None:
        self._ingest = ingest
        self.feeds = feeds
        self._lock = asyncio.Lock()

    @property
    def busy(self) -> bool:
        """Whether an ingest (a poll or an /add) is running now."""
        return self._lock.locked()

    def followed_feeds(self) -> list[str]:
        """The feeds followed now, read afresh each time."""
        return self.feeds.urls()

    async def ingest(self, sources: Sequence[str]) -> IngestSummary:
        """Add ``sources`` to the index off the event loop, after any ingest already running."""
        async with self._lock:
            return await asyncio.to_thread(self._ingest, list(sources), None)

    async def poll(self, feeds: Sequence[str]) -> IngestSummary:
        """Read feeds as ``ingest`` does, noting each one's outcome as its last poll."""
        results: list[SourceResult] = []
        async with self._lock:
            summary = await asyncio.to_thread(self._ingest, list(feeds), results.append)
            await asyncio.to_thread(self.feeds.record, results)
        return summary
