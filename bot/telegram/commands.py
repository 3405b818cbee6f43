"""/start, /help, /sources, /stats and unknown commands."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.telegram import texts
from bot.telegram.delivery import reply_html, reply_short
from bot.telegram.formatting import render_source_pages
from bot.telegram.services import services
from retrieval.articles import ArticleSummary


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet and suggest example questions drawn from the indexed articles."""
    message = update.effective_message
    if message is None:
        return
    if message.chat.type != ChatType.PRIVATE:
        sees_all = bool(context.bot.bot.can_read_all_group_messages)
        await reply_short(message, texts.group_intro(context.bot.username, sees_all))
        return
    if not await _may_browse(update, context):
        return
    articles = await services(context).answerer.list_articles()
    user = update.effective_user
    text = texts.welcome(user.first_name if user else None, texts.example_questions(articles))
    await reply_short(message, text)


async def _may_browse(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Count a /start or /sources against the user's quota; over it, ask them to wait."""
    message = update.effective_message
    user_id = update.effective_user.id if update.effective_user else None
    key = user_id if user_id is not None else (message.chat_id if message else 0)
    wait = await services(context).browsing.acquire(key)
    if wait and message is not None:
        await reply_short(message, texts.slow_down(wait))
    return not wait


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain how to ask and list the commands."""
    if update.effective_message is not None:
        await reply_short(update.effective_message, texts.HELP)


def sources_keyboard(page: int, pages: int) -> InlineKeyboardMarkup | None:
    """Previous/next buttons for a page of /sources, or none when there is one page."""
    if pages <= 1:
        return None
    row = []
    if page > 0:
        row.append(InlineKeyboardButton("◀ Newer", callback_data=f"src:{page - 1}"))
    row.append(InlineKeyboardButton(f"{page + 1}/{pages}", callback_data=f"src:{page}"))
    if page < pages - 1:
        row.append(InlineKeyboardButton("Older ▶", callback_data=f"src:{page + 1}"))
    return InlineKeyboardMarkup([row])


PAGES_KEY = "newsbot.source_pages"


def pages_for(articles: list[ArticleSummary], cache: dict[str, Any]) -> list[str]:
    """The /sources pages of this article list, rendered once per list (the answerer hands
    out the same list until the index changes; 2,000 articles took 130 ms to render)."""
    rendered = cache.get(PAGES_KEY)
    if rendered is None or rendered[0] is not articles:
        rendered = cache[PAGES_KEY] = (articles, render_source_pages(articles))
    return list(rendered[1])


async def source_pages(context: ContextTypes.DEFAULT_TYPE) -> list[str]:
    """Every page of the /sources listing."""
    articles = await services(context).answerer.list_articles()
    return pages_for(articles, context.bot_data)


async def sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the indexed articles, newest first, one page at a time."""
    message = update.effective_message
    if message is None or not await _may_browse(update, context):
        return
    pages = await source_pages(context)
    await reply_html(message, pages[:1], sources_keyboard(0, len(pages)))


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def _milliseconds(value: float | None) -> str:
    return "n/a" if value is None else _seconds(value / 1000)


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Index size and usage figures, for admins."""
    message = update.effective_message
    if message is None:
        return
    found = services(context)
    if not found.access.is_admin(update.effective_user.id if update.effective_user else None):
        await reply_short(message, texts.ADMINS_ONLY)
        return
    index = await found.answerer.stats()
    usage = found.store.usage()
    rate = f"{usage.not_found / usage.questions:.0%}" if usage.questions else "n/a"
    figures = {
        "Articles": str(index.get("articles", 0)),
        "Passages": str(index.get("passages", 0)),
        "Questions answered": str(usage.questions),
        "Not found": f"{usage.not_found} ({rate})",
        "Latency p50": _seconds(usage.latency_p50),
        "Latency p95": _seconds(usage.latency_p95),
    }
    if found.writer is not None:
        model = found.writer.figures()
        figures["Model calls"] = str(model.calls)
        figures["Model fallbacks"] = str(model.fallbacks)
        figures["Model latency p50"] = _milliseconds(model.latency_p50_ms)
        figures["Model latency p95"] = _milliseconds(model.latency_p95_ms)
    await reply_short(message, texts.usage_stats(figures))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not know, in a private chat."""
    if update.effective_message is not None:
        await reply_short(update.effective_message, texts.UNKNOWN_COMMAND)
