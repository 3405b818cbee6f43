"""Keeping the bot token out of every log record, whichever library writes it."""

from __future__ import annotations

import logging
import traceback
import warnings
from typing import Any
from urllib.parse import quote

PLACEHOLDER = "<token>"
# The part of "123456:AbC..." after the colon is the secret; it is redacted on its own too,
# so that no encoding of the colon ("%3A" in a logged URL) lets the token through.
MIN_SECRET_PART = 8

# Process-wide, like logging itself: PTB logs its API URL (token included) at DEBUG when a
# Bot is built, and InvalidToken's message repeats the token, so silencing httpx alone
# is not enough.
_secrets: set[str] = set()
_previous_factory: Any = None
_previous_formatwarning: Any = None


def _forms(secret: str) -> set[str]:
    """The token as written, URL-encoded, and its secret part alone."""
    forms = {secret, quote(secret, safe=""), quote(secret, safe="").lower()}
    _, colon, part = secret.partition(":")
    if colon and len(part) >= MIN_SECRET_PART:
        forms.add(part)
    return forms


def _redact(text: str) -> str:
    # Longest first, so that the whole token goes before its secret part does.
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, PLACEHOLDER)
    return text


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string, or an argument whose str() raises
        # Formatting would fail again in the handler, and logging's "--- Logging error ---"
        # dump prints the raw message and arguments to stderr: log them redacted instead.
        message = f"{record.msg!r} (unformattable logging arguments: {record.args!r})"
        record.msg, record.args = _redact(message), ()
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
    """From now on, replace `secret` with a placeholder in every log record, traceback and
    printed warning."""
    global _previous_factory, _previous_formatwarning
    _secrets.update(_forms(secret))
    if _previous_factory is None:
        _previous_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_factory)
    if _previous_formatwarning is None:
        # warnings.warn output (printed, or logged by logging.captureWarnings) is made here.
        _previous_formatwarning = warnings.formatwarning
        warnings.formatwarning = _formatwarning


def _formatwarning(*args: Any, **kwargs: Any) -> str:
    return _redact(str(_previous_formatwarning(*args, **kwargs)))
