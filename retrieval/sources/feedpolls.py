"""When each followed feed was last read and with what result, kept beside the feed list."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from retrieval.sources.reading import SourceResult

POLLS_FILE = "feed-polls.json"


@dataclass(frozen=True)
class FeedPoll:
    """One read of a feed: when (UTC, ISO), new articles, items already indexed, problems."""

    polled_at: str
    articles: int
    skipped: int
    problems: int
    first_problem: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the feed and every new item in it were read."""
        return self.problems == 0

    def describe(self) -> str:
        """The result in a few words, e.g. "3 new, 20 known" or "failed: HTTP 404"."""
        read = f"{self.articles} new, {self.skipped} known"
        if self.ok:
            return read
        if self.articles == 0 and self.skipped == 0:
            return f"failed: {self.first_problem}"
        return f"{read}, {self.problems} failed (first: {self.first_problem})"


def poll_of(result: SourceResult, when: datetime) -> FeedPoll:
    """What reading a feed at ``when`` gave, as its last poll."""
    return FeedPoll(
        polled_at=when.isoformat(timespec="seconds"),
        articles=len(result.articles),
        skipped=len(result.skipped),
        problems=len(result.problems),
        first_problem=result.problems[0].reason if result.problems else None,
    )


def load_polls(data_dir: Path) -> dict[str, FeedPoll]:
    """The last poll of each feed, by feed URL; empty when none was recorded (or unreadable)."""
    try:
        records = json.loads((data_dir / POLLS_FILE).read_text(encoding="utf-8"))
        return {url: FeedPoll(**record) for url, record in records.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}  # a record of past polls is never worth failing over


def record_polls(data_dir: Path, results: Iterable[SourceResult], when: datetime) -> None:
    """Note the outcome of reading each of these feeds at ``when``, replacing earlier notes."""
    polls = load_polls(data_dir)
    for result in results:
        polls[result.source] = poll_of(result, when)
    data_dir.mkdir(parents=True, exist_ok=True)
    temporary = data_dir / f".{POLLS_FILE}.tmp"
    records = {url: asdict(poll) for url, poll in polls.items()}
    temporary.write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, data_dir / POLLS_FILE)
