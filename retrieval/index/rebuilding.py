"""Rebuilding from scratch without losing what the index holds: its articles and the other
URLs of their copies, read from the newest store that checks out."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.articles import Article
from retrieval.errors import NewsbotError
from retrieval.index.integrity import rebuild_source
from retrieval.index.layout import generation_names
from retrieval.index.reader import open_live_store
from retrieval.index.store import Store
from retrieval.urls import canonical_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Holdings:
    """What an index holds: its articles, and each other URL with its article's URL."""

    articles: list[Article] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)


def held_articles(data_dir: Path) -> Holdings:
    """Everything the index holds, to rebuild it with (nothing when there is no index)."""
    if not generation_names(data_dir):
        return Holdings()
    path, note = rebuild_source(data_dir)
    if note is not None:
        log.warning(note)
    store = Store(path, readonly=True)
    try:
        aliases = {
            other: article.url for article in store.list_articles() for other in article.aliases
        }
        return Holdings(store.all_articles(), aliases)
    finally:
        store.close()


def check_nothing_dropped(data_dir: Path, articles: Sequence[Article], sources: str) -> None:
    """Refuse a rebuild from ``articles`` alone when the index holds articles they lack."""
    store = open_live_store(data_dir)
    if store is None:
        return
    wanted = {canonical_url(a.url) for a in articles}
    try:
        held = store.list_articles()
    finally:
        store.close()
    dropped = [a.url for a in held if not wanted & {a.url, *a.aliases}]
    if dropped:
        raise NewsbotError(
            f"the index in {data_dir} holds {len(dropped)} article"
            f"{'s' if len(dropped) != 1 else ''} that {sources} lack (such as {dropped[0]}): "
            "`newsbot index --existing` rebuilds with them as well, `newsbot index --replace` "
            "without them"
        )
