"""The model's thread a few calls ahead: order, errors, and stopping when the caller does."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest

from retrieval.index.ahead import running_ahead


def test_items_arrive_in_order_and_all() -> None:
    assert list(running_ahead(iter(range(50)), depth=3)) == list(range(50))
    assert list(running_ahead(iter([]), depth=3)) == []


def test_an_error_of_the_producer_reaches_the_consumer_after_what_came_before() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise RuntimeError("model crashed")

    got: list[int] = []
    with pytest.raises(RuntimeError, match="model crashed"):
        for item in running_ahead(failing(), depth=5):
            got.append(item)
    assert got == [1, 2]


def test_closing_early_stops_the_thread() -> None:
    taken = itertools.count()
    endless = (next(taken) for _ in itertools.repeat(None))
    ahead = running_ahead(endless, depth=2)
    assert [next(ahead), next(ahead)] == [0, 1]
    ahead.close()
    assert not [t for t in threading.enumerate() if t.name == "newsbot-ahead"]
    # two handed on, two queued, one more taken while the queue was full
    assert next(taken) <= 2 + 2 + 1
