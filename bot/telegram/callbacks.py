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
    # The buttons rate the answer in the message they sit under: data naming another
    # exchange, or a message that is not one of the answers, is not taken at its word.
    message = query.message
    exchange = store.find(message.chat.id, message.message_id) if message else None
    if exchange is None or exchange.id != int(exchange_id):
        await query.answer(texts.FEEDBACK_EXPIRED)
        return
    if exchange.user_id is not None and exchange.user_id != query.from_user.id:
        await query.answer(texts.FEEDBACK_NOT_YOURS)
        return
    store.add_feedback(exchange, query.from_user.id, vote)
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
    if wait := await services(context).browsing.acquire(query.from_user.id):
        await query.answer(texts.slow_down(wait))
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


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other button data (an old keyboard, or forged): stop the spinner, say so."""
    if update.callback_query is not None:
        await update.callback_query.answer(texts.BUTTON_EXPIRED)
