"""Keeping the news fresh: the feed-polling job, and /add for admins."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from typing import TYPE_CHECKING

from telegram import Update
from telegram.ext import ContextTypes

from bot.telegram import texts
from bot.telegram.delivery import keep_typing, reply_short
from bot.telegram.routing import command_argument
from bot.telegram.services import services
from retrieval.errors import NewsbotError
from retrieval.sources import redacted

if TYPE_CHECKING:
    from retrieval.ingest import IngestSummary

log = logging.getLogger(__name__)


def _log_summary(what: str, summary: IngestSummary) -> None:
    log.info("%s: %s", what, summary.line())
    for problem in summary.problems:
        log.warning("%s: %s", what, redacted(str(problem)))


async def poll_feeds(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The repeating job: read every followed feed into the index; a failure waits for next time."""
    found = services(context)
    ingester = found.ingester
    if ingester.busy:
        log.info("feed poll skipped: the previous ingest is still running")
        return
    with found.shared.poll_turn() if found.shared else nullcontext(True) as ours:
        if not ours:
            log.info("feed poll skipped: another replica is polling the feeds")
            return
        try:
            feeds = ingester.followed_feeds()
            if not feeds:
                return
            summary = await ingester.poll(feeds)
        except Exception:
            log.exception("polling the feeds failed; trying again at the next poll")
            return
        finally:
            found.answerer.forget_articles()
    _log_summary(f"polled {len(feeds)} feed(s)", summary)


def is_web_url(source: str) -> bool:
    """An http(s) URL with a host: the only kind of source a chat may add (never a path)."""
    scheme, _, rest = source.partition("://")
    return scheme.lower() in {"http", "https"} and rest[:1] not in {"", "/", "?", "#"}


async def add(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/add <url> ...: admins add article pages or feeds; the reply sums up what changed."""
    message = update.effective_message
    if message is None:
        return
    found = services(context)
    user_id = update.effective_user.id if update.effective_user else None
    if not found.access.is_admin(user_id):
        await reply_short(message, texts.ADD_ADMINS_ONLY)
        return
    sources = list(dict.fromkeys(command_argument(message).split()))
    if not sources:
        await reply_short(message, texts.ADD_USAGE)
        return
    if refused := [source for source in sources if not is_web_url(source)]:
        await reply_short(message, texts.not_web_urls([redacted(s) for s in refused]))
        return
    await reply_short(message, texts.adding(len(sources)))
    thread_id = message.message_thread_id if message.is_topic_message else None
    async with keep_typing(context.bot, message.chat_id, thread_id):
        try:
            summary = await found.ingester.ingest(sources)
        except NewsbotError as exc:
            log.error("/add failed: %s", exc)
            await reply_short(message, texts.ADD_FAILED)
            return
        finally:
            found.answerer.forget_articles()
    _log_summary(f"/add by user {user_id}", summary)
    await reply_short(message, texts.added(summary.line(), [str(p) for p in summary.problems]))
