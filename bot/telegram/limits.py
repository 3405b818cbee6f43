"""Per-user question quotas and the chat and user allow-lists."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol


class RateLimiter:
    """A sliding-window limit of events per key, e.g. questions per user per minute."""

    def __init__(
        self,
        per_window: int,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_window = per_window
        self._window = window
        self._clock = clock
        self._events: dict[int, deque[float]] = {}

    def acquire(self, key: int) -> float:
        """Count one event for `key` and return 0, or return the seconds to wait if over."""
        now = self._clock()
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self._window:
            events.popleft()
        if len(events) >= self._per_window:
            return events[0] + self._window - now
        events.append(now)
        if len(self._events) > 10_000:
            self._forget_idle(now)
        return 0.0

    def _forget_idle(self, now: float) -> None:
        # Keeps memory bounded when many users have each asked once long ago.
        idle = [k for k, e in self._events.items() if not e or e[-1] <= now - self._window]
        for key in idle:
            del self._events[key]


class Limiter(Protocol):
    """Counts events per key: the in-memory ``RateLimiter`` or the database's shared one."""

    def acquire(self, key: int) -> float:
        """Count one event for `key` and return 0, or return the seconds to wait if over."""
        ...


class Quota:
    """A limiter as async handlers use it: a count in the database (every replica's) runs
    in a worker thread, so its round trip never holds up the event loop; one in memory is
    counted on the loop (microseconds, and ``RateLimiter`` is not thread-safe)."""

    def __init__(self, limiter: Limiter, *, off_loop: bool = False) -> None:
        self.limiter = limiter
        self._off_loop = off_loop

    async def acquire(self, key: int) -> float:
        """Count one event for `key` and return 0, or return the seconds to wait if over."""
        if self._off_loop:
            return await asyncio.to_thread(self.limiter.acquire, key)
        return self.limiter.acquire(key)


@dataclass(frozen=True)
class AccessPolicy:
    """Who may use the bot; an empty allow-list allows everyone."""

    chat_ids: Collection[int] = ()
    user_ids: Collection[int] = ()
    admin_ids: Collection[int] = ()

    def allows(self, chat_id: int | None, user_id: int | None) -> bool:
        """Whether an update from this chat and user should be handled."""
        if self.user_ids and user_id not in self.user_ids:
            return False
        if self.chat_ids:
            # An inline query has no chat: it is treated as coming from the user's private chat.
            effective_chat = chat_id if chat_id is not None else user_id
            if effective_chat not in self.chat_ids:
                return False
        return True

    def is_admin(self, user_id: int | None) -> bool:
        """Whether this user may use the admin commands, /stats and /add."""
        return user_id is not None and user_id in self.admin_ids
