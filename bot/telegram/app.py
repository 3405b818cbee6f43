"""Building and running the Telegram application: all routing in one place."""

from __future__ import annotations

import asyncio
import datetime
import logging

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    Update,
)
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.app import answer_languages, ingest_callables, make_answer_writer, quiet_http_logs
from bot.settings import Settings
from bot.telegram import callbacks, commands, feeds, freshness, inline, membership, questions
from bot.telegram.answerer import AnswererLike, OffLoopAnswerer
from bot.telegram.conversations import ConversationStore
from bot.telegram.errors import report_error
from bot.telegram.flood import FloodControl
from bot.telegram.ingester import Ingester
from bot.telegram.limits import AccessPolicy, Limiter, Quota, RateLimiter
from bot.telegram.redaction import redact_in_logs
from bot.telegram.services import SERVICES_KEY, Services
from bot.telegram.streaming import OffLoopWriter
from retrieval.answering import Answerer
from retrieval.errors import NewsbotError

log = logging.getLogger(__name__)

DATABASE_NAME = "telegram.sqlite3"
POLL_JOB = "poll-feeds"
# The first poll waits until start-up (getMe, the command menu) is done.
FIRST_POLL_AFTER = datetime.timedelta(seconds=10)
_PRIVATE_COMMANDS = [
    BotCommand("help", "How to ask, and the commands"),
    BotCommand("sources", "The indexed articles"),
]
# Shown only in each admin's private chat with the bot (a scope per admin).
_ADMIN_COMMANDS = [
    *_PRIVATE_COMMANDS,
    BotCommand("stats", "Usage figures"),
    BotCommand("add", "Add an article or feed by its link"),
    BotCommand("follow", "Follow a news feed"),
    BotCommand("unfollow", "Stop following a feed"),
    BotCommand("feeds", "The followed feeds and their last poll"),
]
_GROUP_COMMANDS = [
    BotCommand("ask", "Ask a question about the news"),
    BotCommand("help", "How to ask"),
    BotCommand("sources", "The indexed articles"),
]


class TelegramStartError(NewsbotError):
    """The bot could not start: the token was rejected or a dependency is missing."""


def add_handlers(app: Application) -> None:  # type: ignore[type-arg]
    """The router: which update goes to which handler."""
    new_message = filters.UpdateType.MESSAGE
    private = filters.ChatType.PRIVATE & new_message
    groups = filters.ChatType.GROUPS & new_message
    app.add_handler(TypeHandler(Update, membership.gate), group=-1)
    app.add_handler(CommandHandler("start", commands.start, filters=new_message))
    app.add_handler(CommandHandler("help", commands.help_command, filters=new_message))
    app.add_handler(CommandHandler("ask", questions.ask, filters=new_message))
    app.add_handler(CommandHandler("sources", commands.sources, filters=new_message))
    app.add_handler(CommandHandler("stats", commands.stats, filters=new_message))
    app.add_handler(CommandHandler("add", freshness.add, filters=new_message))
    app.add_handler(CommandHandler("follow", feeds.follow, filters=new_message))
    app.add_handler(CommandHandler("unfollow", feeds.unfollow, filters=new_message))
    app.add_handler(CommandHandler("feeds", feeds.feeds, filters=new_message))
    app.add_handler(MessageHandler(private & filters.COMMAND, commands.unknown_command))
    app.add_handler(
        MessageHandler(private & (filters.TEXT | filters.CAPTION), questions.private_text)
    )
    app.add_handler(MessageHandler(private & ~filters.StatusUpdate.ALL, questions.not_text))
    app.add_handler(MessageHandler(groups & filters.TEXT & ~filters.COMMAND, questions.group_text))
    # Bounded ids: the exchange id must fit SQLite's 64-bit integers.
    app.add_handler(CallbackQueryHandler(callbacks.feedback, pattern=r"^fb:\d{1,18}:-?1$"))
    app.add_handler(CallbackQueryHandler(callbacks.sources_page, pattern=r"^src:\d{1,6}$"))
    app.add_handler(CallbackQueryHandler(callbacks.stale_button))  # last: any other data
    app.add_handler(InlineQueryHandler(inline.inline_query))
    app.add_handler(ChatMemberHandler(membership.joined_group, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_error_handler(report_error)


async def _post_init(app: Application) -> None:  # type: ignore[type-arg]
    try:
        await app.bot.set_my_commands(_PRIVATE_COMMANDS, scope=BotCommandScopeAllPrivateChats())
        await app.bot.set_my_commands(_GROUP_COMMANDS, scope=BotCommandScopeAllGroupChats())
    except TelegramError as exc:
        log.warning("could not set the command menu: %s", exc)
    found = app.bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    for admin in sorted(found.access.admin_ids):
        # A private chat's id is the user's id; it fails for an admin who never wrote to the bot.
        try:
            await app.bot.set_my_commands(_ADMIN_COMMANDS, scope=BotCommandScopeChat(admin))
        except TelegramError as exc:
            log.warning("could not set the admin command menu for user %s: %s", admin, exc)


async def _post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
    found = app.bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    found.store.close()
    if found.writer is not None:
        found.writer.close()
    if found.shared is not None:
        found.shared.close()


def schedule_polls(app: Application, minutes: float) -> None:  # type: ignore[type-arg]
    """Poll the followed feeds every `minutes`; each run reads the feed list afresh."""
    if app.job_queue is None:
        raise TelegramStartError(
            'feed polling needs APScheduler: pip install "python-telegram-bot[job-queue]"'
        )
    app.job_queue.run_repeating(
        freshness.poll_feeds,
        interval=datetime.timedelta(minutes=minutes),
        first=FIRST_POLL_AFTER,
        name=POLL_JOB,
        # A poll that is late (a slow start, a suspended machine) still runs, once.
        job_kwargs={"misfire_grace_time": None, "coalesce": True},
    )


def _quota(limiter: Limiter, shared: object | None) -> Quota:
    """The limiter for async handlers: off the event loop when it counts in the database."""
    return Quota(limiter, off_loop=shared is not None)


def build_application(
    settings: Settings, answerer: AnswererLike, *, poll_feeds: bool = True
) -> Application:  # type: ignore[type-arg]
    """An Application wired to the answerer, talking to `settings.telegram_base_url`.

    With `poll_feeds` the followed feeds are read every `settings.feed_poll_minutes`.
    """
    if settings.telegram_token is None:
        raise TelegramStartError("NEWSBOT_TELEGRAM_TOKEN is not set")
    quiet_http_logs()
    redact_in_logs(settings.telegram_token.get_secret_value())
    if settings.llm_api_key is not None:
        redact_in_logs(settings.llm_api_key.get_secret_value())
    # The writer's checks need the answerer's verifier and index: a stand-in answerer has none.
    writer = make_answer_writer(settings, answerer) if isinstance(answerer, Answerer) else None
    per_minute = settings.telegram_rate_limit_per_minute
    app = (
        ApplicationBuilder()
        .token(settings.telegram_token.get_secret_value())
        .base_url(settings.telegram_base_url)
        .rate_limiter(FloodControl())
        .concurrent_updates(True)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    shared = None
    if settings.database_url is not None:  # state every replica shares, in PostgreSQL
        from bot.telegram.shared_state import open_shared_state

        shared = open_shared_state(settings.database_url.get_secret_value(), per_minute,
                                   settings.telegram_browse_limit_per_minute,
                                   settings.database_pool_size)  # fmt: skip
    app.bot_data[SERVICES_KEY] = Services(
        answerer=OffLoopAnswerer(
            answerer, wait_ms=settings.batch_wait_ms, max_batch=settings.batch_max_questions
        ),
        store=shared.conversations
        if shared
        else ConversationStore(settings.data_dir / DATABASE_NAME),
        access=AccessPolicy(
            chat_ids=frozenset(settings.telegram_allowed_chat_ids),
            user_ids=frozenset(settings.telegram_allowed_user_ids),
            admin_ids=frozenset(settings.telegram_admin_user_ids),
        ),
        questions=_quota(shared.questions if shared else RateLimiter(per_minute), shared),
        inline_queries=_quota(shared.inline_queries if shared else RateLimiter(per_minute), shared),
        max_question_length=settings.telegram_max_question_length,
        ingester=Ingester(*ingest_callables(settings)),
        writer=OffLoopWriter(writer) if writer is not None else None,
        browsing=_quota(
            shared.browsing if shared else RateLimiter(settings.telegram_browse_limit_per_minute),
            shared,
        ),
        languages=answer_languages(settings),
        shared=shared,
    )
    add_handlers(app)
    if poll_feeds:
        schedule_polls(app, settings.feed_poll_minutes)
    return app


def run_bot(settings: Settings, answerer: AnswererLike) -> None:
    """Run the bot until interrupted: long polling, or a webhook when one is configured."""
    app = build_application(settings, answerer)
    try:
        if settings.telegram_webhook_url:
            from bot.health import HealthProbe
            from bot.telegram.webhook import serve_webhook

            secret = settings.telegram_webhook_secret
            probe = HealthProbe(settings)
            serve = serve_webhook(
                app,
                url=settings.telegram_webhook_url,
                listen=settings.telegram_webhook_listen,
                port=settings.telegram_webhook_port,
                secret=secret.get_secret_value() if secret else None,
                check=lambda: asyncio.to_thread(probe.report),
            )
            asyncio.run(serve)
        else:
            app.run_polling(allowed_updates=Update.ALL_TYPES)
    except InvalidToken:
        # PTB's message repeats the token, so it is not passed on.
        raise TelegramStartError("Telegram rejected NEWSBOT_TELEGRAM_TOKEN") from None
    except ImportError as exc:
        if exc.name == "tornado":
            raise TelegramStartError(
                'webhook mode needs tornado: pip install "python-telegram-bot[webhooks]"'
            ) from None
        raise
