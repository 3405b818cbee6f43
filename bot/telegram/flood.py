"""Flood control for calls to Telegram: AIORateLimiter, plus retries of network errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

NETWORK_RETRIES = 3
RETRY_AFTER_RETRIES = 3

Result = bool | dict[str, Any] | list[dict[str, Any]]
# Calls that make something new in a chat: sent twice, the user sees it twice.
NOT_REPEATABLE_PREFIXES = ("send", "forward", "copy")
# Failures that happened before the request left this machine, or that Telegram answered.
_NOT_SENT = (TelegramError, httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def may_have_arrived(error: NetworkError) -> bool:
    """Whether Telegram may have carried out a request that failed with ``error``: a read
    or write timeout or a dropped connection may come after it did; a refused connection,
    a connection pool timeout or an error status from Telegram come before."""
    cause = error.__cause__
    return cause is not None and not isinstance(cause, _NOT_SENT)


def safe_to_repeat(endpoint: str, error: NetworkError) -> bool:
    """Whether to send a failed request again: never a send that may have arrived."""
    return not (endpoint.startswith(NOT_REPEATABLE_PREFIXES) and may_have_arrived(error))


class FloodControl(AIORateLimiter):
    """Telegram's rate limits with `RetryAfter` retries, and retries of transient network errors.

    A message whose request timed out after it was sent may have been delivered (PTB's
    `TimedOut` is a `NetworkError`), so sends are repeated only when they cannot have been.
    Chat actions bypass the limiter: they are best-effort hints, and throttling them would
    delay the answers they announce.
    """

    def __init__(self, network_retries: int = NETWORK_RETRIES, backoff: float = 0.5) -> None:
        super().__init__(max_retries=RETRY_AFTER_RETRIES)
        self._network_retries = network_retries
        self._backoff = backoff

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        """Send one request, retrying 429s (via AIORateLimiter) and network failures."""
        if endpoint == "sendChatAction":
            return await callback(*args, **kwargs)
        for attempt in range(self._network_retries + 1):
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except BadRequest:
                raise
            except NetworkError as exc:
                if not safe_to_repeat(endpoint, exc):
                    log.warning("%s failed (%s) after it may have reached Telegram; "
                                "not sending it again", endpoint, exc)  # fmt: skip
                    raise
                if attempt == self._network_retries:
                    raise
                delay = self._backoff * 2**attempt
                log.info("%s failed (%s); retrying in %.1f s", endpoint, exc, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")
