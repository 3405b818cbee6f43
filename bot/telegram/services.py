"""What every handler needs, built once in `build_application` and kept in `bot_data`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram.ext import ContextTypes

from bot.telegram.answerer import OffLoopAnswerer
from bot.telegram.conversations import ConversationStore
from bot.telegram.ingester import Ingester
from bot.telegram.limits import AccessPolicy, Quota

if TYPE_CHECKING:
    from bot.telegram.shared_state import SharedConversationStore, SharedState
    from bot.telegram.streaming import OffLoopWriter

SERVICES_KEY = "newsbot.services"


@dataclass(frozen=True)
class Services:
    """The answerer, the conversation store, the access policy, the quotas, the ingester, the
    language-model writer (None unless one is configured), the languages the model reads and
    what replicas share (the database, None unless NEWSBOT_DATABASE_URL is set)."""

    answerer: OffLoopAnswerer
    store: ConversationStore | SharedConversationStore
    access: AccessPolicy
    questions: Quota
    inline_queries: Quota
    max_question_length: int
    ingester: Ingester
    browsing: Quota  # /start, /sources, its buttons, short inline queries
    writer: OffLoopWriter | None = None
    languages: tuple[str, ...] | None = None  # what questions may be asked in; None: any
    shared: SharedState | None = None  # with NEWSBOT_DATABASE_URL: what replicas share


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    """The services of the application this handler runs in."""
    found = context.bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found
