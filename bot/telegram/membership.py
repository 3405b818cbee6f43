"""Who the bot talks to: the allow-list gate, and the hello when added to a group."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.telegram import texts
from bot.telegram.services import services

log = logging.getLogger(__name__)

_OUTSIDE = {ChatMemberStatus.LEFT, ChatMemberStatus.BANNED}
_INSIDE = {
    ChatMemberStatus.MEMBER,
    ChatMemberStatus.ADMINISTRATOR,
    ChatMemberStatus.OWNER,
}


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop updates from chats and users outside the allow-lists before any handler runs."""
    chat = update.effective_chat
    user = update.effective_user
    chat_id = chat.id if chat else None
    user_id = user.id if user else None
    if not services(context).access.allows(chat_id, user_id):
        log.info(
            "ignoring update %s from chat %s, user %s",
            update.update_id,
            chat_id,
            user_id,
        )
        raise ApplicationHandlerStop


async def joined_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Post one short message on how to ask when the bot is added to a group."""
    change = update.my_chat_member
    if change is None or change.chat.type not in {ChatType.GROUP, ChatType.SUPERGROUP}:
        return
    old, new = change.old_chat_member.status, change.new_chat_member.status
    if old not in _OUTSIDE or new not in _INSIDE:
        return
    sees_all = bool(context.bot.bot.can_read_all_group_messages) or (
        new == ChatMemberStatus.ADMINISTRATOR
    )
    try:
        await context.bot.send_message(
            change.chat.id,
            texts.group_intro(context.bot.username, sees_all),
            parse_mode="HTML",
        )
    except TelegramError as exc:
        log.warning("could not greet chat %s: %s", change.chat.id, exc)
