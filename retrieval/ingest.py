"""Keeping the index fresh: reading sources and feeding new articles into the index."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from retrieval.articles import Article
from retrieval.index import UpdateReport, Writer, update_index
from retrieval.sources import (
    DEFAULT_LIMITS,
    Fetcher,
    ItemCallback,
    SourceLimits,
    SourceProblem,
    SourceResult,
    read_source,
)
from retrieval.urls import canonical_url

COMMIT_EVERY = 50  # articles: a long run keeps what it has done if it is stopped


@dataclass
class IngestSummary:
    """What an ingest run did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    passages: int = 0
    seconds: float = 0.0
    problems: list[SourceProblem] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """How many sources (or feed items) could not be read."""
        return len(self.problems)

    def absorb(self, report: UpdateReport) -> None:
        """Count one committed update."""
        self.added += len(report.added)
        self.updated += len(report.updated)
        self.unchanged += len(report.unchanged)
        self.duplicates += len(report.duplicates)
        self.passages += report.passages
        self.seconds += report.seconds

    def line(self) -> str:
        """The one-line summary printed at the end of a run."""
        return (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
            f"duplicates {self.duplicates}, failed {self.failed}"
        )


def ingest(
    sources: Sequence[str],
    writer: Writer,
    fetcher: Fetcher,
    *,
    on_source: Callable[[SourceResult], None] | None = None,
    commit_every: int = COMMIT_EVERY,
    limits: SourceLimits = DEFAULT_LIMITS,
    on_item: ItemCallback | None = None,
) -> IngestSummary:
    """Read each source and add its articles, committing every ``commit_every`` articles.

    A source that fails is reported (through ``on_source`` and in the summary) and the rest
    go on; nothing already indexed is lost. Feed items already in the index are not fetched;
    ``on_item`` hears of each one that is, as it is fetched.
    """
    summary = IngestSummary()
    known = _KnownUrls(writer)
    pending: list[Article] = []
    for source in sources:
        result = read_source(source, fetcher, skip=known, limits=limits, on_item=on_item)
        summary.problems.extend(result.problems)
        if on_source is not None:
            on_source(result)
        pending.extend(result.articles)
        while len(pending) >= commit_every:
            summary.absorb(update_index(writer, pending[:commit_every]))
            pending = pending[commit_every:]
    if pending:
        summary.absorb(update_index(writer, pending))
    return summary


class _KnownUrls:
    """Whether a (feed item) URL is already indexed, read from the live index."""

    def __init__(self, writer: Writer) -> None:
        self.storage = writer.storage

    def __call__(self, url: str) -> bool:
        if self.storage.version() is None:
            return False
        return self.storage.reader().find(canonical_url(url)) is not None
