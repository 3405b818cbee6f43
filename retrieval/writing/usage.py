"""What the model costs: calls, fallbacks and latency; failures logged at most once a minute."""

from __future__ import annotations

import logging
import statistics
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

# One failure line a minute at most: a model server that is down fails every question.
FAILURE_LOG_INTERVAL = 60.0


@dataclass(frozen=True)
class UsageFigures:
    """Model calls, how many ended in the extractive answer, and model latency (ms)."""

    calls: int
    fallbacks: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None


class ModelUsage:
    """Counts model calls and keeps the latest latencies (bounded: the bot runs for months)."""

    def __init__(self, keep: int = 1000) -> None:
        self._lock = threading.Lock()
        self._calls = 0
        self._fallbacks = 0
        self._latencies: deque[float] = deque(maxlen=keep)

    def record(self, elapsed_ms: float, *, fell_back: bool) -> None:
        """One model call that took ``elapsed_ms``; ``fell_back`` when its answer was not used."""
        with self._lock:
            self._calls += 1
            self._fallbacks += fell_back
            self._latencies.append(elapsed_ms)

    def figures(self) -> UsageFigures:
        """The counts so far and the p50/p95 latency of the latest calls."""
        with self._lock:
            latencies = sorted(self._latencies)
            calls, fallbacks = self._calls, self._fallbacks
        if not latencies:
            return UsageFigures(calls, fallbacks, None, None)
        if len(latencies) == 1:
            return UsageFigures(calls, fallbacks, latencies[0], latencies[0])
        cuts = statistics.quantiles(latencies, n=20, method="inclusive")
        return UsageFigures(calls, fallbacks, statistics.median(latencies), cuts[18])


class FailureLog:
    """Logs a model failure, then stays quiet about further ones for a minute."""

    def __init__(self, log: logging.Logger, clock: Callable[[], float]) -> None:
        self._log = log
        self._clock = clock
        self._lock = threading.Lock()
        self._last: float | None = None
        self._quiet = 0

    def failed(self, reason: str) -> None:
        """Note a failure; log it unless one was logged in the last minute."""
        with self._lock:
            now = self._clock()
            if self._last is not None and now - self._last < FAILURE_LOG_INTERVAL:
                self._quiet += 1
                return
            quiet, self._quiet, self._last = self._quiet, 0, now
        more = f" ({quiet} more failure(s) since the last report)" if quiet else ""
        self._log.warning("the language model failed: %s; answering extractively%s", reason, more)
