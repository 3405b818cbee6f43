"""Sending replies: split parts, plain-text fallback, link previews, and the typing action."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from telegram import (
    Bot,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, TelegramError

from bot.telegram.splitting import split_plain, to_plain_text

log = logging.getLogger(__name__)

# Telegram shows "typing…" for about 5 s, so it is renewed a little sooner.
TYPING_INTERVAL = 4.0

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def preview_options(part: str) -> LinkPreviewOptions | None:
    """Turn link previews off when a message has several links; one link may show its card."""
    return _NO_PREVIEW if part.count("<a href=") > 1 else None


@contextlib.asynccontextmanager
async def keep_typing(bot: Bot, chat_id: int, thread_id: int | None = None) -> AsyncIterator[None]:
    """Show "typing…" in a chat until the block exits, renewing it every TYPING_INTERVAL."""

    async def renew() -> None:
        while True:
            try:
                await bot.send_chat_action(chat_id, ChatAction.TYPING, message_thread_id=thread_id)
            except TelegramError as exc:
                log.debug("chat action in %s failed: %s", chat_id, exc)
            await asyncio.sleep(TYPING_INTERVAL)

    task = asyncio.create_task(renew())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _send(
    message: Message,
    text: str,
    *,
    html: bool,
    first: bool,
    markup: InlineKeyboardMarkup | None,
) -> Message:
    # Only the first part quotes the question; PTB would otherwise quote every part in groups.
    return await message.reply_text(
        text,
        parse_mode=ParseMode.HTML if html else None,
        link_preview_options=preview_options(text) if html else _NO_PREVIEW,
        reply_parameters=(
            ReplyParameters(message.message_id, allow_sending_without_reply=True) if first else None
        ),
        do_quote=None if first else False,
        reply_markup=markup,
    )


async def reply_html(
    message: Message, parts: Sequence[str], markup: InlineKeyboardMarkup | None = None
) -> list[Message]:
    """Send HTML parts as a reply to `message`; the keyboard goes on the last part.

    When Telegram rejects a part's HTML the same text goes out as plain text. A failed send
    is logged and ends the reply; what was sent is returned.
    """
    sent: list[Message] = []
    for index, part in enumerate(parts):
        last_markup = markup if index == len(parts) - 1 else None
        try:
            try:
                sent.append(
                    await _send(message, part, html=True, first=index == 0, markup=last_markup)
                )
            except BadRequest as exc:
                if "parse entities" not in exc.message.lower():
                    raise
                log.warning("Telegram rejected a reply's HTML (%s); sending plain text", exc)
                pieces = split_plain(to_plain_text(part))
                for n, piece in enumerate(pieces):
                    piece_markup = last_markup if n == len(pieces) - 1 else None
                    first = index == 0 and n == 0
                    sent.append(
                        await _send(message, piece, html=False, first=first, markup=piece_markup)
                    )
        except TelegramError as exc:
            log.warning("could not send a reply in chat %s: %s", message.chat_id, exc)
            break
    return sent


async def reply_short(message: Message, html_text: str) -> Message | None:
    """Send one short HTML reply, logging instead of raising if it cannot be sent."""
    sent = await reply_html(message, [html_text])
    return sent[0] if sent else None
