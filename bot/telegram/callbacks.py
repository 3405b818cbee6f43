"""Button presses: feedback on answers and paging through /sources."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.telegram import texts
from bot.telegram.commands import source_pages, sources_keyboard
from bot.telegram.delivery import preview_options
from bot.telegram.questions import feedback_keyboard
from bot.telegram.services import services

log = logging.getLogger(__name__)


async def feedback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Record a 👍/👎 with the exchange it rates, acknowledge it and tick the button."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    _, exchange_id, vote_text = query.data.split(":")
    vote = 1 if int(vote_text) > 0 else -1
    store = services(context).store
    exchange = store.get(int(exchange_id))
    if exchange is None:
        await query.answer(texts.FEEDBACK_EXPIRED)
        return
    store.add_feedback(exchange, update.effective_user.id if update.effective_user else None, vote)
    await query.answer(texts.FEEDBACK_THANKS)
    try:
        await query.edit_message_reply_markup(feedback_keyboard(exchange.id, vote))
    except BadRequest as exc:
        # "message is not modified" when the same button is pressed twice.
        log.debug("feedback buttons not updated: %s", exc)


async def sources_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show another page of /sources in the same message."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    await query.answer()
    pages = await source_pages(context)
    page = min(max(int(query.data.split(":")[1]), 0), len(pages) - 1)
    try:
        await query.edit_message_text(
            pages[page],
            parse_mode=ParseMode.HTML,
            link_preview_options=preview_options(pages[page]),
            reply_markup=sources_keyboard(page, len(pages)),
        )
    except BadRequest as exc:
        log.debug("sources page not updated: %s", exc)
