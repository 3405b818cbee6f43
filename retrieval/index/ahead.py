"""An iterator run in a thread of its own, a few items ahead of its consumer."""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar, cast

T = TypeVar("T")
_POLL_SECONDS = 0.1  # how soon a producer blocked on a full queue sees that it may stop


def running_ahead(items: Iterator[T], depth: int) -> Generator[T, None, None]:
    """``items`` in order, taken from ``items`` by a thread of their own up to ``depth``
    ahead: work that releases the GIL (a model call) overlaps the consumer's. An exception
    of ``items`` is raised to the consumer; closing the generator stops the thread."""
    handed: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand(more: bool, item: object) -> bool:
        while not stop.is_set():
            try:
                handed.put((more, item), timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand(True, item):
                    return
            hand(False, None)
        except BaseException as exc:  # handed to the consumer, which raises it
            hand(False, exc)

    thread = threading.Thread(target=produce, name="newsbot-ahead", daemon=True)
    thread.start()
    try:
        while True:
            more, item = handed.get()
            if not more:
                if isinstance(item, BaseException):
                    raise item
                return
            yield cast(T, item)
    finally:
        stop.set()
        thread.join()
