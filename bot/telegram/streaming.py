"""Written answers in Telegram: the model off the event loop, its checked text streamed into
one message that is edited as sentences pass the check."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from collections.abc import Callable

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.telegram.delivery import preview_options, reply_html
from bot.telegram.splitting import escape_html
from retrieval.answer import Answer
from retrieval.writing import AnswerWriter, UsageFigures

log = logging.getLogger(__name__)

# Telegram allows about one edit a second in a chat before it answers 429.
EDIT_INTERVAL = 1.0
# Model calls wait on the network, not the CPU: many may be open at once, and they must not
# take the worker threads that answering needs.
MODEL_THREADS = 32
# Shown after the text while more may come.
MORE = " …"


class EditPacer:
    """Keeps each chat's message edits at least ``interval`` seconds apart."""

    def __init__(
        self, interval: float = EDIT_INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._next: dict[int, float] = {}

    async def wait(self, chat_id: int) -> None:
        """Return when this chat may have its next edit (and book the slot after it)."""
        now = self._clock()
        ready = max(now, self._next.get(chat_id, 0.0))
        self._next[chat_id] = ready + self.interval
        if len(self._next) > 10_000:  # forget chats that have been quiet a while
            self._next = {chat: t for chat, t in self._next.items() if t > now}
        if ready > now:
            await asyncio.sleep(ready - now)


class OffLoopWriter:
    """Runs the writer in threads of its own, passing its checked text back to the loop."""

    def __init__(self, writer: AnswerWriter, pacer: EditPacer | None = None) -> None:
        self.writer = writer
        self.pacer = pacer or EditPacer()
        self._pool = concurrent.futures.ThreadPoolExecutor(MODEL_THREADS, "newsbot-model")

    async def write(
        self, answer: Answer, on_text: Callable[[str], None], context: str | None = None
    ) -> Answer:
        """The written (or the given) answer; ``on_text`` gets each checked prefix, on the loop.
        ``context`` is the earlier exchange a follow-up refers to."""
        loop = asyncio.get_running_loop()

        def progress(text: str) -> None:
            loop.call_soon_threadsafe(on_text, text)

        return await loop.run_in_executor(self._pool, self.writer.write, answer, progress, context)

    def figures(self) -> UsageFigures:
        """Model calls, fallbacks and latency so far."""
        return self.writer.usage.figures()

    def close(self) -> None:
        """Stop taking work; calls under way end by their own timeout."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.writer.client.close()


class StreamedReply:
    """One reply to a question that shows the checked text as it grows, then the answer."""

    def __init__(self, question: Message, pacer: EditPacer) -> None:
        self.question = question
        self.pacer = pacer
        self.sent: Message | None = None
        self._latest = ""
        self._shown = ""
        self._changed = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def update(self, text: str) -> None:
        """Show ``text`` (checked sentences only) as soon as the chat's edit pace allows."""
        self._latest = text
        self._changed.set()
        if self._task is None:
            self._task = asyncio.create_task(self._show_updates())

    async def _show_updates(self) -> None:
        while True:
            await self._changed.wait()
            if self._closing:
                return
            await self.pacer.wait(self.question.chat_id)
            self._changed.clear()
            if self._closing:
                return
            if self._latest != self._shown:
                await self._show(self._latest)

    async def _show(self, text: str) -> None:
        html = escape_html(text) + MORE
        try:
            if self.sent is None:
                self.sent = await self.question.reply_text(
                    html,
                    parse_mode=ParseMode.HTML,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                    reply_parameters=ReplyParameters(
                        self.question.message_id, allow_sending_without_reply=True
                    ),
                )
            else:
                await self.sent.edit_text(html, parse_mode=ParseMode.HTML)
            self._shown = text
        except TelegramError as exc:  # the final message still goes out
            log.debug("could not show the partial answer in %s: %s", self.question.chat_id, exc)

    async def finish(self, parts: list[str], markup: InlineKeyboardMarkup | None) -> list[Message]:
        """Replace the partial text with the final answer's parts; the messages it is in."""
        self._closing = True
        self._changed.set()
        if self._task is not None:
            await self._task
        if self.sent is None:
            return await reply_html(self.question, parts, markup)
        await self.pacer.wait(self.question.chat_id)
        try:
            await self.sent.edit_text(
                parts[0],
                parse_mode=ParseMode.HTML,
                link_preview_options=preview_options(parts[0]),
                reply_markup=markup if len(parts) == 1 else None,
            )
        except TelegramError as exc:
            log.warning("could not edit the answer in chat %s: %s", self.question.chat_id, exc)
            with contextlib.suppress(TelegramError):
                await self.sent.delete()
            return await reply_html(self.question, parts, markup)
        rest = await reply_html(self.question, parts[1:], markup) if len(parts) > 1 else []
        return [self.sent, *rest]
