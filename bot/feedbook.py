"""The feeds a data directory follows (NEWSBOT_FEEDS plus its own list) and their last polls."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from retrieval.pgstore import SharedFeeds
    from retrieval.sources import FeedPoll, FileFeeds, SourceResult

    FeedList = FileFeeds | SharedFeeds


class FeedBook:
    """Following and unfollowing feeds, and noting each read, as `newsbot feeds` does."""

    def __init__(
        self, data_dir: Path, fixed: Sequence[str] = (), feeds: FeedList | None = None
    ) -> None:
        from retrieval.sources import FileFeeds

        self.data_dir = data_dir
        self.fixed = tuple(fixed)  # NEWSBOT_FEEDS: followed, but not removable from here
        # The followed list and each feed's last poll: the data directory's, or the
        # database's with NEWSBOT_DATABASE_URL.
        self.feeds = feeds or FileFeeds(data_dir)

    def urls(self) -> list[str]:
        """Every followed feed, NEWSBOT_FEEDS first, read afresh each time."""
        return list(dict.fromkeys([*self.fixed, *self.feeds.load()]))

    def follow(self, urls: Sequence[str]) -> list[str]:
        """Follow these feeds too; the ones that were new (canonical URLs)."""
        return self.feeds.add(list(urls))

    def unfollow(self, urls: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
        """Stop following feeds: those removed, those set in NEWSBOT_FEEDS, those unknown."""
        removed = self.feeds.remove(list(urls))
        rest = [url for url in dict.fromkeys(urls) if url not in removed]
        fixed = [url for url in rest if url in self.fixed]
        return removed, fixed, [url for url in rest if url not in fixed]

    def polls(self) -> dict[str, FeedPoll]:
        """When each feed was last read, and what that gave (in the database when the list is)."""
        return self.feeds.polls()

    def record(self, results: Iterable[SourceResult]) -> None:
        """Note these reads of feeds as their last polls, now."""
        self.feeds.record_polls(results, datetime.now(UTC))
