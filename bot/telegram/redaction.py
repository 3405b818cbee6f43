"""Keeping the bot token out of every log record, whichever library writes it."""

from __future__ import annotations

import logging
import traceback
from typing import Any

PLACEHOLDER = "<token>"

# Process-wide, like logging itself: PTB logs its API URL (token included) at DEBUG when a
# Bot is built, and InvalidToken's message repeats the token, so silencing httpx alone
# is not enough.
_secrets: set[str] = set()
_previous_factory: Any = None


def _redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, PLACEHOLDER)
    return text


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        return
    if any(secret in message for secret in _secrets):
        record.msg, record.args = _redact(message), ()
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if any(secret in text for secret in _secrets):
            record.exc_text = _redact(text)


def _factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record: logging.LogRecord = _previous_factory(*args, **kwargs)
    _scrub(record)
    return record


def redact_in_logs(secret: str) -> None:
    """From now on, replace `secret` with a placeholder in every log record and traceback."""
    global _previous_factory
    _secrets.add(secret)
    if _previous_factory is None:
        _previous_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_factory)
