"""`newsbot health` and the webhook's /healthz: does the live index load, and how fresh is it."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.settings import Settings
from retrieval.errors import NewsbotError

if TYPE_CHECKING:
    from retrieval.storage import Storage


class UnhealthyError(NewsbotError):
    """The live index cannot serve questions; the message says why."""


@dataclass(frozen=True)
class Health:
    """What the live generation holds."""

    generation: int
    articles: int
    passages: int
    built_at: str
    newest: date | None  # publication date of the newest article

    def newest_age_days(self, today: date) -> int | None:
        """Days from the newest article's publication to ``today``."""
        return None if self.newest is None else (today - self.newest).days

    def as_dict(self, today: date) -> dict[str, object]:
        """The /healthz body (and `--json`-style figures)."""
        return {
            "status": "ok",
            "generation": self.generation,
            "articles": self.articles,
            "passages": self.passages,
            "built_at": self.built_at,
            "newest_article": self.newest.isoformat() if self.newest else None,
            "newest_article_age_days": self.newest_age_days(today),
        }

    def lines(self, today: date) -> list[str]:
        """The report `newsbot health` prints."""
        age = self.newest_age_days(today)
        newest = "none" if self.newest is None else f"{self.newest.isoformat()} ({age} days old)"
        return [
            f"ok: generation {self.generation} (built {self.built_at})",
            f"articles: {self.articles} ({self.passages} passages)",
            f"newest article: {newest}",
        ]


def read_health(settings: Settings, data_dir: Path | None = None) -> Health:
    """Load the live generation as the answerer would (model, passage settings, vectors,
    store) and sum it up; raises UnhealthyError or another NewsbotError when it cannot.
    With NEWSBOT_DATABASE_URL (and no ``data_dir``), the database's store instead."""
    from bot.app import chunk_settings, index_policy, make_embedder, make_storage
    from retrieval.index import IndexSpec, open_index

    if settings.database_url is not None and data_dir is None:
        storage = make_storage(settings, make_embedder(settings))
        try:
            return database_health(storage)
        finally:
            storage.close()  # type: ignore[attr-defined]
    data_dir = data_dir or settings.data_dir
    spec = IndexSpec(make_embedder(settings).name, chunk_settings(settings), index_policy(settings))
    try:
        reader = open_index(data_dir, spec)
    except (sqlite3.Error, OSError) as exc:
        raise UnhealthyError(f"the index in {data_dir} does not load: {exc}") from None
    try:
        counts = reader.counts()
        articles = reader.list_articles()
        vectors = reader.size  # reads the FAISS file, which answering reads on first search
    except (RuntimeError, sqlite3.Error, OSError) as exc:  # FAISS raises RuntimeError
        raise UnhealthyError(f"the index in {data_dir} cannot be read: {exc}") from None
    finally:
        reader.close()
    if vectors != counts["passages"]:
        raise UnhealthyError(
            f"the index in {data_dir} holds {vectors} vectors for {counts['passages']} passages:"
            " run `newsbot index --existing` to rebuild it"
        )
    manifest = reader.manifest
    return Health(
        generation=manifest.generation,
        articles=counts["articles"],
        passages=counts["passages"],
        built_at=manifest.built_at,
        newest=articles[0].published if articles else None,
    )


def database_health(storage: Storage) -> Health:
    """The database's store as the answerer reads it (model and passage settings checked):
    its write counter as the generation, and when an article last landed."""
    reader = storage.reader()  # nothing indexed, another model, no server: raises
    counts = reader.counts()
    articles = reader.list_articles()
    return Health(
        generation=int(reader.version),
        articles=counts["articles"],
        passages=counts["passages"],
        built_at=storage.last_write() or "never",  # type: ignore[attr-defined]
        newest=articles[0].published if articles else None,
    )


class HealthProbe:
    """`read_health` for a server's /healthz, loading each generation (or each state of the
    database's store) once: they never change."""

    def __init__(self, settings: Settings, today: Callable[[], date] = date.today) -> None:
        self._settings = settings
        self._today = today
        self._seen: tuple[str | None, Health] | None = None
        self._database: Storage | None = None  # with NEWSBOT_DATABASE_URL, opened once

    def report(self) -> dict[str, object]:
        """The /healthz body; raises NewsbotError when the live index cannot load."""
        from retrieval.index import current_generation

        if self._settings.database_url is None:
            name = current_generation(self._settings.data_dir)
            if self._seen is None or self._seen[0] != name:
                self._seen = (name, read_health(self._settings))  # no index: raises
            return self._seen[1].as_dict(self._today())
        if self._database is None:
            from bot.app import make_embedder, make_storage

            self._database = make_storage(self._settings, make_embedder(self._settings))
        version = self._database.version()  # the server is down: raises
        if self._seen is None or self._seen[0] != version:
            self._seen = (version, database_health(self._database))
        return self._seen[1].as_dict(self._today())


def health_command(settings: Settings, stdout: TextIO, today: date | None = None) -> int:
    """Print the live index's generation, size and freshness; exit 1 when it cannot load."""
    try:
        health = read_health(settings)
    except NewsbotError as exc:
        print(f"error: unhealthy: {exc}", file=sys.stderr)
        return 1
    stdout.write("\n".join(health.lines(today or date.today())) + "\n")
    return 0
