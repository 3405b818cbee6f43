"""Commands that manage what is indexed: index, add, remove, list, stats, feeds."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.progress import ProgressPrinter
from bot.settings import Settings

if TYPE_CHECKING:
    from retrieval.articles import Article
    from retrieval.index import Store
    from retrieval.sources import SourceResult


def index_command(
    settings: Settings, paths: list[Path], existing: bool = False, replace: bool = False
) -> int:
    """Rebuild the index from scratch from ``paths`` (and, with ``existing``, what it holds);
    refuse to drop articles the index holds that ``paths`` lack unless ``replace``."""
    from bot.app import chunk_settings, index_policy, make_embedder
    from retrieval.index import Holdings, build_index, check_nothing_dropped, held_articles
    from retrieval.sources import load_articles

    articles = load_articles(paths)
    if settings.database_url is not None:
        return _index_database(settings, articles, existing)
    held = held_articles(settings.data_dir) if existing else Holdings()
    if not existing and not replace:
        check_nothing_dropped(settings.data_dir, articles, " ".join(map(str, paths)))
    articles = held.articles + articles
    progress = ProgressPrinter(sys.stderr)
    manifest = build_index(settings.data_dir, articles, make_embedder(settings),
                           chunk_settings(settings), progress=progress,
                           index=index_policy(settings), aliases=held.aliases)  # fmt: skip
    elapsed = progress.last_elapsed or 1e-9
    print(
        f"Indexed {manifest.articles} articles, {manifest.passages} passages "
        f"({manifest.passages / elapsed:.0f} passages/s) into {settings.data_dir} "
        f"(generation {manifest.generation}).",
        file=sys.stderr,
    )
    return 0


def _index_database(settings: Settings, articles: list[Article], existing: bool) -> int:
    """Rebuild the database's index from ``articles`` (and, with ``existing``, the articles
    it holds, or those of the embedded index in the data directory when it holds none)."""
    from retrieval.index import open_live_store, rebuild

    progress = ProgressPrinter(sys.stderr)
    from bot.app import make_writer

    writer = make_writer(settings, progress)
    storage = writer.storage
    if existing:
        held = storage.all_articles() if storage.version() else []  # type: ignore[attr-defined]
        if not held and (store := open_live_store(settings.data_dir)) is not None:
            held = store.all_articles()  # moving an embedded index in, re-embedded
            store.close()
        articles = held + articles
    passages = rebuild(writer, articles)
    elapsed = progress.last_elapsed or 1e-9
    counts = storage.reader().counts()
    print(f"Indexed {counts['articles']} articles, {passages} passages "
          f"({passages / elapsed:.0f} passages/s) into the database.", file=sys.stderr)  # fmt: skip
    return 0


def add_command(
    settings: Settings, sources: list[str], commit_every: int = 50, feeds: bool = False
) -> int:
    """Add articles from files, directories, JSONL, HTML, article URLs and feed URLs; with
    ``feeds``, note each source's outcome as the feed's last poll (see /feeds)."""
    from bot.app import followed_feeds, make_fetcher, make_writer, source_limits
    from bot.feedbook import FeedBook
    from retrieval.ingest import ingest
    from retrieval.sources import redacted

    done = 0
    results: list[SourceResult] = []

    def report(result: SourceResult) -> None:
        nonlocal done
        done += 1
        results.append(result)
        for problem in result.problems:
            print(f"error: {problem}", file=sys.stderr, flush=True)
        left = f", {result.left} feed item(s) left for the next poll" if result.left else ""
        print(
            f"source {done}/{len(sources)}: {result.source}: {len(result.articles)} article(s)"
            + left,
            file=sys.stderr,
            flush=True,
        )

    def fetching(number: int, total: int, url: str) -> None:
        print(f"  item {number}/{total}: {redacted(url)}", file=sys.stderr, flush=True)

    writer = make_writer(settings, ProgressPrinter(sys.stderr), on_wait=_say_waiting(settings))
    with make_fetcher(settings) as fetcher:
        summary = ingest(sources, writer, fetcher, on_source=report, commit_every=commit_every,
                         limits=source_limits(settings), on_item=fetching)  # fmt: skip
    if feeds:
        FeedBook(settings.data_dir, settings.feeds, followed_feeds(settings)).record(results)
    rate = summary.passages / summary.seconds if summary.seconds else 0.0
    print(f"Done: {summary.line()} ({summary.passages} passages, {rate:.0f} passages/s).",
          file=sys.stderr)  # fmt: skip
    return 1 if summary.failed else 0


def remove_command(settings: Settings, urls: list[str]) -> int:
    """Take articles out of the index by URL."""
    from bot.app import make_writer
    from retrieval.index import update_index

    report = update_index(make_writer(settings, on_wait=_say_waiting(settings)), [], remove=urls)
    for url in report.removed:
        print(f"removed {url}", file=sys.stderr)
    for url in report.not_found:
        print(f"error: {url}: not in the index", file=sys.stderr)
    return 1 if report.not_found else 0


def list_command(settings: Settings, as_json: bool, stdout: TextIO) -> int:
    """Print the indexed articles, newest first."""
    from bot.formatting import render_sources

    articles = _database(settings).list_articles() if settings.database_url else (
        _open_store(settings).list_articles())  # fmt: skip
    if not as_json:
        stdout.write(render_sources(articles) + "\n")
        return 0
    for article in articles:
        record = {"url": article.url, "title": article.title, "source": article.source,
                  "author": article.author, "published": article.published.isoformat(),
                  "other_urls": list(article.aliases)}  # fmt: skip
        stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


def stats_command(settings: Settings, as_json: bool, stdout: TextIO) -> int:
    """Print what the index holds and how big it is."""
    from retrieval.errors import IndexMismatchError
    from retrieval.index import read_manifest

    if settings.database_url is not None:
        return _print_stats(_database_stats(settings), as_json, stdout)
    store = _open_store(settings)
    directory = store.path.parent  # the live generation, or the one it fell back to
    try:
        manifest = read_manifest(directory)
    except (OSError, ValueError, TypeError) as exc:
        raise IndexMismatchError(
            f"the manifest in {directory} is unreadable ({exc}): the index is damaged;"
            " `newsbot index --existing` rebuilds it from its articles"
        ) from None
    stats = {
        **store.counts(),
        "other_urls": store.alias_count(),
        "generation": manifest.generation,
        "model": manifest.model,
        "built_at": manifest.built_at,
        "bytes_on_disk": sum(p.stat().st_size for p in directory.iterdir()),
        "reclaimable_bytes": store.free_bytes(),
        "feeds": len(set(_followed(settings)) | set(settings.feeds)),
    }
    return _print_stats(stats, as_json, stdout)


def _print_stats(stats: dict[str, object], as_json: bool, stdout: TextIO) -> int:
    if as_json:
        stdout.write(json.dumps(stats) + "\n")
    else:
        for key, value in stats.items():
            stdout.write(f"{key.replace('_', ' ')}: {value}\n")
    return 0


def feeds_command(settings: Settings, action: str, urls: list[str], stdout: TextIO) -> int:
    """Follow, unfollow, list or poll RSS/Atom feeds."""
    if action in ("add", "remove") and not urls:
        print(f"error: `newsbot feeds {action}` needs at least one feed URL", file=sys.stderr)
        return 2
    from bot.app import followed_feeds

    feed_list = followed_feeds(settings)
    if action == "add":
        for url in feed_list.add(urls):
            print(f"following {url}", file=sys.stderr)
        return 0
    if action == "remove":
        removed = feed_list.remove(urls)
        for url in dict.fromkeys(u for u in urls if u not in removed):
            where = " (set in NEWSBOT_FEEDS)" if url in settings.feeds else ""
            print(f"error: {url}: not a followed feed{where}", file=sys.stderr)
        return 0 if set(removed) == set(urls) else 1
    followed = feed_list.load()
    if action == "list":
        for url in followed:
            stdout.write(f"{url}\n")
        for url in settings.feeds:
            stdout.write(f"{url}  (NEWSBOT_FEEDS)\n")
        return 0
    feeds = list(dict.fromkeys([*settings.feeds, *followed]))
    if not feeds:
        print("No feeds are followed: `newsbot feeds add URL` or set NEWSBOT_FEEDS.",
              file=sys.stderr)  # fmt: skip
        return 0
    with feed_list.poll_turn() as ours:
        if not ours:
            print("Another process is polling the feeds now: nothing done.", file=sys.stderr)
            return 0
        return add_command(settings, feeds, feeds=True)


def _open_store(settings: Settings) -> Store:
    from retrieval.errors import IndexMissingError
    from retrieval.index import open_live_store

    store = open_live_store(settings.data_dir)
    if store is None:
        raise IndexMissingError(
            f"no index in {settings.data_dir}: run `newsbot index` or `newsbot add` first"
        )
    return store


def _say_waiting(settings: Settings) -> Callable[[], None]:
    """Tell the user when another process holds the writers' lock."""

    def waiting() -> None:
        print(f"Waiting for another newsbot process writing to {settings.data_dir} ...",
              file=sys.stderr, flush=True)  # fmt: skip

    return waiting


def _database(settings: Settings):  # type: ignore[no-untyped-def]
    """The database's live view (NEWSBOT_DATABASE_URL)."""
    from bot.app import make_embedder, make_storage

    return make_storage(settings, make_embedder(settings)).reader()


def _database_stats(settings: Settings) -> dict[str, object]:
    from bot.app import make_embedder, make_storage

    storage = make_storage(settings, make_embedder(settings))
    storage.reader()  # says so when nothing is indexed
    status = storage.status()  # type: ignore[attr-defined]
    keys = ("articles", "passages", "writes", "model", "hnsw_index_bytes",
            "keyword_index_bytes", "database_bytes", "followed_feeds")  # fmt: skip
    stats = {key: status[key] for key in keys}
    stats["other_urls"] = int(status["article_urls"]) - int(status["articles"])
    stats["feeds"] = len(set(_followed(settings)) | set(settings.feeds))
    return stats


def _followed(settings: Settings) -> list[str]:
    from bot.app import followed_feeds

    return followed_feeds(settings).load()
