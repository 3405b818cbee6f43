"""The one error handler: log the traceback, tell the user something short."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.telegram import texts

log = logging.getLogger(__name__)


async def report_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log an unhandled error; where there is a chat, apologise without internal detail."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling update %s", update_id, exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(texts.SOMETHING_WRONG)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(texts.SOMETHING_WRONG)
    except TelegramError as exc:
        log.warning("could not tell chat about the error: %s", exc)
