"""/follow, /unfollow and /feeds: admins manage the followed RSS/Atom feeds from a chat."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.telegram.delivery import keep_typing, reply_short
from bot.telegram.freshness import is_web_url
from bot.telegram.routing import command_argument
from bot.telegram.services import Services, services
from bot.telegram.splitting import escape_html
from retrieval.errors import NewsbotError
from retrieval.sources import FeedPoll, redacted

log = logging.getLogger(__name__)

ADMINS_ONLY = "Only the bot's admins can manage the followed feeds."
FOLLOW_USAGE = "Usage: /follow <i>feed url</i>, for example /follow https://example.com/news.rss"
UNFOLLOW_USAGE = "Usage: /unfollow <i>feed url</i> (see /feeds for the followed ones)"
NO_FEEDS = "No feeds are followed. Add one with /follow <i>feed url</i>."


async def _for_admin(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> tuple[Message, Services] | None:
    """The message and the services when an admin sent it; else refuse and return None."""
    message, found = update.effective_message, services(context)
    if message is None:
        return None
    if not found.access.is_admin(update.effective_user.id if update.effective_user else None):
        await reply_short(message, ADMINS_ONLY)
        return None
    return message, found


def _urls(update: Update) -> list[str]:
    message = update.effective_message
    return list(dict.fromkeys(command_argument(message).split())) if message else []


async def follow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/follow <url> ...: follow feeds, and read them once now so the reply says if they work."""
    if (sender := await _for_admin(update, context)) is None:
        return
    message, found = sender
    urls = _urls(update)
    if not urls or not all(is_web_url(url) for url in urls):
        await reply_short(message, FOLLOW_USAGE)
        return
    try:
        added = found.ingester.feeds.follow(urls)
    except NewsbotError as exc:
        await reply_short(message, escape_html(str(exc)))
        return
    if not added:
        await reply_short(message, "Already following " + ", ".join(map(escape_html, urls)) + ".")
        return
    await reply_short(message, f"Following {len(added)} feed(s); reading them now…")
    thread_id = message.message_thread_id if message.is_topic_message else None
    async with keep_typing(context.bot, message.chat_id, thread_id):
        try:
            await found.ingester.poll(added)
        except NewsbotError as exc:
            log.error("/follow: reading the new feeds failed: %s", exc)
    await reply_short(message, _listing(found, added))


async def unfollow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/unfollow <url> ...: stop following feeds (those in NEWSBOT_FEEDS stay)."""
    if (sender := await _for_admin(update, context)) is None:
        return
    message, found = sender
    urls = _urls(update)
    if not urls:
        await reply_short(message, UNFOLLOW_USAGE)
        return
    removed, fixed, unknown = found.ingester.feeds.unfollow(urls)
    lines = [f"No longer following {escape_html(url)}." for url in removed]
    lines += [f"{escape_html(url)} is set in NEWSBOT_FEEDS: change it there." for url in fixed]
    lines += [f"{escape_html(url)} is not a followed feed (see /feeds)." for url in unknown]
    await reply_short(message, "\n".join(lines))


async def feeds(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/feeds: each followed feed with when it was last read and what that gave."""
    if (sender := await _for_admin(update, context)) is None:
        return
    message, found = sender
    followed = found.ingester.followed_feeds()
    await reply_short(message, _listing(found, followed) if followed else NO_FEEDS)


def _listing(found: Services, urls: list[str]) -> str:
    polls = found.ingester.feeds.polls()
    lines = [f"<b>Followed feeds</b> ({len(urls)})"]
    for url in urls:
        lines.append(f"• {escape_html(url)}\n  {escape_html(_describe(polls.get(url)))}")
    return "\n".join(lines)


def _describe(poll: FeedPoll | None) -> str:
    if poll is None:
        return "not read yet"
    mark = "✅" if poll.ok else "⚠️"
    when = poll.polled_at.replace("T", " ").removesuffix("+00:00")
    return f"{mark} {when} UTC: {redacted(poll.describe())}"
