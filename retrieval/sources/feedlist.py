"""The feeds a data directory follows, kept beside the index in feeds.json (and their last
polls, in feed-polls.json)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from pathlib import Path

from retrieval.errors import NewsbotError
from retrieval.sources.feedpolls import FeedPoll, load_polls, record_polls
from retrieval.sources.reading import SourceResult
from retrieval.urls import canonical_url

FEEDS_FILE = "feeds.json"


def load_feeds(data_dir: Path) -> list[str]:
    """The feed URLs added with `newsbot feeds add`, in the order they were added."""
    path = data_dir / FEEDS_FILE
    try:
        feeds = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except ValueError as exc:
        raise NewsbotError(f"{path}: not a JSON list of feed URLs ({exc})") from None
    if not isinstance(feeds, list) or not all(isinstance(f, str) for f in feeds):
        raise NewsbotError(f"{path}: not a JSON list of feed URLs")
    return feeds


def save_feeds(data_dir: Path, feeds: list[str]) -> None:
    """Replace the feed list atomically."""
    data_dir.mkdir(parents=True, exist_ok=True)
    temporary = data_dir / f".{FEEDS_FILE}.tmp"
    temporary.write_text(json.dumps(feeds, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, data_dir / FEEDS_FILE)


def add_feeds(data_dir: Path, urls: list[str]) -> list[str]:
    """Follow these feeds too; returns the ones that were new."""
    feeds = load_feeds(data_dir)
    new = []
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise NewsbotError(f"{url}: a feed must be an http(s) URL")
        try:
            url = canonical_url(url)
        except ValueError:
            raise NewsbotError(f"{url}: not a valid URL") from None
        if url not in feeds:
            feeds.append(url)
            new.append(url)
    save_feeds(data_dir, feeds)
    return new


def remove_feeds(data_dir: Path, urls: list[str]) -> list[str]:
    """Stop following these feeds; returns those of ``urls`` that were followed."""
    feeds = load_feeds(data_dir)
    wanted = {url: _canonical(url) for url in urls}
    save_feeds(data_dir, [f for f in feeds if f not in wanted.values()])
    return [url for url, canonical in wanted.items() if canonical in feeds]


def _canonical(url: str) -> str:
    try:
        return canonical_url(url)
    except ValueError:  # not a URL: it cannot be followed either
        return url


class FileFeeds:
    """The feed list of a data directory, as an object (the shared store has another)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def load(self) -> list[str]:
        """The followed feed URLs, in the order they were added."""
        return load_feeds(self.data_dir)

    def add(self, urls: list[str]) -> list[str]:
        """Follow these feeds too; returns the ones that were new."""
        return add_feeds(self.data_dir, urls)

    def remove(self, urls: list[str]) -> list[str]:
        """Stop following these feeds; returns those of ``urls`` that were followed."""
        return remove_feeds(self.data_dir, urls)

    def polls(self) -> dict[str, FeedPoll]:
        """The last poll of each feed, by feed URL (empty when none was recorded)."""
        return load_polls(self.data_dir)

    def record_polls(self, results: Iterable[SourceResult], when: datetime) -> None:
        """Note the outcome of reading each of these feeds at ``when``, replacing earlier notes."""
        record_polls(self.data_dir, results, when)

    def poll_turn(self) -> AbstractContextManager[bool]:
        """Whether this process may poll now: always, as the index's writers' lock already
        puts one data directory's ingests in turn."""
        return nullcontext(True)
