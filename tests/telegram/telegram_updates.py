"""Update JSON exactly as Telegram sends it, for feeding the bot in tests."""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

from fake_bot_api import BOT_USER

_update_ids = itertools.count(1)
_message_ids = itertools.count(1)


def utf16_len(text: str) -> int:
    """Telegram's entity offsets and lengths count UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def user(user_id: int, first_name: str = "Ann") -> dict[str, Any]:
    """A human user."""
    return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}


def chat(chat_id: int) -> dict[str, Any]:
    """A private chat for positive ids, a supergroup for negative ones."""
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Ann"}
    return {"id": chat_id, "type": "supergroup", "title": "News fans"}


def entities(text: str) -> list[dict[str, Any]]:
    """The bot_command entity of a leading /command and mention entities, as Telegram adds."""
    found = []
    for match in re.finditer(r"(?:^/[A-Za-z0-9_]+(?:@\w+)?)|(?:@\w{5,})", text):
        kind = "bot_command" if match.group().startswith("/") else "mention"
        offset = utf16_len(text[: match.start()])
        found.append({"type": kind, "offset": offset, "length": utf16_len(match.group())})
    return found


def message(
    chat_id: int,
    text: str | None = None,
    *,
    user_id: int | None = None,
    reply_to: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One message object; text gets its entities computed."""
    body: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": chat(chat_id),
        "from": user(user_id if user_id is not None else abs(chat_id)),
    }
    if text is not None:
        body["text"] = text
        if found := entities(text):
            body["entities"] = found
    if reply_to is not None:
        body["reply_to_message"] = reply_to
    body.update(extra)
    return body


def text_update(chat_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
    """An update carrying one new text message."""
    return {"update_id": next(_update_ids), "message": message(chat_id, text, **kwargs)}


def edited_update(chat_id: int, text: str) -> dict[str, Any]:
    """An update for an edited message."""
    edited = message(chat_id, text, edit_date=int(time.time()))
    return {"update_id": next(_update_ids), "edited_message": edited}


def sticker_update(chat_id: int) -> dict[str, Any]:
    """A sticker, no text."""
    sticker = {
        "file_id": "CAACAgIAAx", "file_unique_id": "AgADAx", "type": "regular",
        "width": 512, "height": 512, "is_animated": False, "is_video": False, "emoji": "😀",
    }  # fmt: skip
    return {"update_id": next(_update_ids), "message": message(chat_id, sticker=sticker)}


def photo_update(chat_id: int, caption: str) -> dict[str, Any]:
    """A photo with a caption."""
    photo = [{"file_id": "AgACAgIAAx", "file_unique_id": "AQADAx", "width": 90, "height": 90}]
    body = message(chat_id, photo=photo, caption=caption)
    return {"update_id": next(_update_ids), "message": body}


def callback_update(user_id: int, bot_message: dict[str, Any], data: str) -> dict[str, Any]:
    """A press of an inline button under one of the bot's messages."""
    query = {
        "id": f"cb{next(_update_ids)}", "from": user(user_id), "message": bot_message,
        "chat_instance": "42", "data": data,
    }  # fmt: skip
    return {"update_id": next(_update_ids), "callback_query": query}


def inline_update(user_id: int, query: str) -> dict[str, Any]:
    """An inline query typed as `@Bot query`."""
    inline = {"id": f"iq{next(_update_ids)}", "from": user(user_id), "query": query, "offset": ""}
    return {"update_id": next(_update_ids), "inline_query": inline}


def added_to_group(chat_id: int, by_user: int, status: str = "member") -> dict[str, Any]:
    """The bot's own membership changing from left to `status` in a group."""
    bot = dict(BOT_USER)
    change = {
        "chat": chat(chat_id), "from": user(by_user), "date": int(time.time()),
        "old_chat_member": {"status": "left", "user": bot},
        "new_chat_member": {"status": status, "user": bot, **_admin_rights(status)},
    }  # fmt: skip
    return {"update_id": next(_update_ids), "my_chat_member": change}


def _admin_rights(status: str) -> dict[str, Any]:
    if status != "administrator":
        return {}
    rights = (
        "can_be_edited can_manage_chat can_delete_messages can_manage_video_chats"
        " can_restrict_members can_promote_members can_change_info can_invite_users"
        " can_post_stories can_edit_stories can_delete_stories is_anonymous"
    )
    return {name: name == "can_manage_chat" for name in rights.split()}
