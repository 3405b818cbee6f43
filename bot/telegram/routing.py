"""Reading a message: which command it is, what the question is, whom it addresses."""

from __future__ import annotations

import re

from telegram import Message, MessageEntity


def command_argument(message: Message) -> str:
    """The text after a leading /command (or /command@Bot), newlines kept."""
    text = message.text or ""
    entity = message.entities[0] if message.entities else None
    if entity is None or entity.type != MessageEntity.BOT_COMMAND or entity.offset != 0:
        return text.strip()
    command = message.parse_entity(entity)
    return text[len(command) :].strip()


def mentions_bot(message: Message, username: str, bot_id: int) -> bool:
    """Whether the message @mentions this bot (by username or as a text mention)."""
    for entity, value in message.parse_entities(
        [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    ).items():
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            return True
        if entity.type == MessageEntity.MENTION and value.lower() == f"@{username.lower()}":
            return True
    return False


def strip_mention(text: str, username: str) -> str:
    """The question without the @BotUsername that addressed it."""
    return re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE).strip()


def replied_bot_message(message: Message, bot_id: int) -> Message | None:
    """The bot's own message this one replies to, if any."""
    parent = message.reply_to_message
    if parent is not None and parent.from_user is not None and parent.from_user.id == bot_id:
        return parent
    return None
