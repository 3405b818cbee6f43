"""Handlers that turn messages into questions and answer them, with follow-up context."""

from __future__ import annotations

import logging
import time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import ContextTypes

from bot.telegram import texts
from bot.telegram.conversations import Exchange
from bot.telegram.delivery import keep_typing, reply_html, reply_short
from bot.telegram.formatting import render_answer
from bot.telegram.routing import (
    command_argument,
    mentions_bot,
    replied_bot_message,
    strip_mention,
)
from bot.telegram.services import services
from bot.telegram.splitting import escape_html
from bot.telegram.streaming import StreamedReply
from retrieval.answering import language_problem
from retrieval.errors import NewsbotError

log = logging.getLogger(__name__)


def feedback_keyboard(exchange_id: int, chosen: int = 0) -> InlineKeyboardMarkup:
    """The 👍/👎 buttons under an answer; the chosen one is ticked."""
    up = "👍 ✓" if chosen > 0 else "👍"
    down = "👎 ✓" if chosen < 0 else "👎"
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(up, callback_data=f"fb:{exchange_id}:1"),
                InlineKeyboardButton(down, callback_data=f"fb:{exchange_id}:-1"),
            ]
        ]
    )


def _parent_exchange(message: Message, context: ContextTypes.DEFAULT_TYPE) -> Exchange | None:
    parent = replied_bot_message(message, context.bot.id)
    if parent is None:
        return None
    return services(context).store.find(message.chat_id, parent.message_id)


async def answer_question(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    question: str,
    parent: Exchange | None,
) -> None:
    """Check limits, answer off the event loop while "typing…", reply, remember the exchange.

    With a language model configured, its checked sentences stream into the reply as they
    pass the check; the reply ends as the final answer with its sources.
    """
    message = update.effective_message
    if message is None:
        return
    found = services(context)
    question = question.strip()
    if len(question) > found.max_question_length:
        await reply_short(message, texts.too_long(len(question), found.max_question_length))
        return
    if problem := language_problem(question, found.languages):
        await reply_short(message, escape_html(problem))
        return
    user_id = update.effective_user.id if update.effective_user else message.chat_id
    wait = await found.questions.acquire(user_id)
    if wait:
        await reply_short(message, texts.slow_down(wait))
        return
    started = time.perf_counter()
    thread_id = message.message_thread_id if message.is_topic_message else None
    history = found.store.context_for(parent) if parent else None
    streamed = StreamedReply(message, found.writer.pacer) if found.writer else None
    async with keep_typing(context.bot, message.chat_id, thread_id):
        try:
            answer = await found.answerer.answer(question, context=history)
        except NewsbotError as exc:
            log.error("answering failed: %s", exc)
            await reply_short(message, texts.INDEX_UNAVAILABLE)
            return
        if found.writer is not None and streamed is not None:
            answer = await found.writer.write(answer, streamed.update, history)
    exchange_id = found.store.record(
        message.chat_id,
        question,
        answer.text,
        cited_urls=[c.url for c in answer.citations],
        answered=answer.answered,
        parent_id=parent.id if parent else None,
        user_id=update.effective_user.id if update.effective_user else None,
    )
    parts, keyboard = render_answer(answer), feedback_keyboard(exchange_id)
    if streamed is not None:
        sent = await streamed.finish(parts, keyboard)
    else:
        sent = await reply_html(message, parts, keyboard)
    found.store.delivered(
        exchange_id,
        message.chat_id,
        [m.message_id for m in sent],
        time.perf_counter() - started,
    )


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask <question>, in any chat; a reply to one of the bot's answers is a follow-up."""
    message = update.effective_message
    if message is None:
        return
    question = command_argument(message)
    if not question:
        await reply_short(message, texts.ASK_USAGE)
        return
    await answer_question(update, context, question, _parent_exchange(message, context))


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text (or captioned media) in a private chat is a question."""
    message = update.effective_message
    if message is None:
        return
    question = message.text or message.caption or ""
    if not question.strip():
        await reply_short(message, texts.TEXT_ONLY)
        return
    await answer_question(update, context, question, _parent_exchange(message, context))


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups, answer replies to the bot and messages that mention it; ignore the rest."""
    message = update.effective_message
    if message is None or not message.text:
        return
    username = context.bot.username
    is_reply = replied_bot_message(message, context.bot.id) is not None
    if not is_reply and not mentions_bot(message, username, context.bot.id):
        return
    question = strip_mention(message.text, username)
    if not question:
        await reply_short(message, texts.ASK_USAGE)
        return
    await answer_question(update, context, question, _parent_exchange(message, context))


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, voice notes and the like in a private chat get a short hint."""
    if update.effective_message is not None:
        await reply_short(update.effective_message, texts.TEXT_ONLY)
