"""Flood control for calls to Telegram: AIORateLimiter, plus retries of network errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

NETWORK_RETRIES = 3
RETRY_AFTER_RETRIES = 3

Result = bool | dict[str, Any] | list[dict[str, Any]]


class FloodControl(AIORateLimiter):
    """Telegram's rate limits with `RetryAfter` retries, and retries of transient network errors.

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
                if attempt == self._network_retries:
                    raise
                delay = self._backoff * 2**attempt
                log.info("%s failed (%s); retrying in %.1f s", endpoint, exc, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")
