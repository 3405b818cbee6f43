"""`newsbot telegram`: the long-running front-end, started from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.settings import Settings


def index_if_missing(settings: Settings, seeds: Path) -> int:
    """`newsbot run`'s first step: index ``seeds`` when there is no index at all (a lost
    ``CURRENT`` beside complete generations is recovered from, not rebuilt); an exit code."""
    from bot import library
    from bot.app import make_embedder, make_storage

    if make_storage(settings, make_embedder(settings)).version() is not None:
        return 0
    print("No index yet: indexing seeds/ first.", file=sys.stderr)
    return library.index_command(settings, [seeds])


def telegram_command(settings: Settings) -> int:
    """Run the Telegram bot until interrupted."""
    if settings.telegram_token is None:
        print(
            "error: NEWSBOT_TELEGRAM_TOKEN is not set: get a token from @BotFather and put it"
            " in the environment or .env (see config.example.env)",
            file=sys.stderr,
        )
        return 2
    from bot.app import make_answerer
    from bot.telegram import run_bot

    answerer = make_answerer(settings)
    answerer.reader()
    answerer.answer("warm-up")  # load the model now, not while the first user waits
    run_bot(settings, answerer)
    return 0
