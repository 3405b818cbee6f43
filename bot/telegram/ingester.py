"""The ingest worker: reads sources into the index in a worker thread, one ingest at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from retrieval.ingest import IngestSummary


class Ingester:
    """Runs ``ingest`` (sources in, a summary out) off the event loop, one call at a time;
    ``feeds`` names the feeds followed now. Both are built in the composition root."""

    def __init__(
        self,
        ingest: Callable[[list[str]], IngestSummary],
        feeds: Callable[[], list[str]],
    ) -> None:
        self._ingest = ingest
        self._feeds = feeds
        self._lock = asyncio.Lock()

    @property
    def busy(self) -> bool:
        """Whether an ingest (a poll or an /add) is running now."""
        return self._lock.locked()

    def followed_feeds(self) -> list[str]:
        """The feeds followed now, read afresh each time."""
        return self._feeds()

    async def ingest(self, sources: Sequence[str]) -> IngestSummary:
        """Add ``sources`` to the index off the event loop, after any ingest already running."""
        async with self._lock:
            return await asyncio.to_thread(self._ingest, list(sources))
