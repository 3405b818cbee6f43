"""The Telegram front-end: `run_bot` for `newsbot telegram`, `build_application` for tests."""

from bot.telegram.app import TelegramStartError, build_application, run_bot

__all__ = ["TelegramStartError", "build_application", "run_bot"]
