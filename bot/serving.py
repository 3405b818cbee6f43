"""`newsbot telegram`: the long-running front-end, started from the command line."""

from __future__ import annotations

import sys

from bot.settings import Settings


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
