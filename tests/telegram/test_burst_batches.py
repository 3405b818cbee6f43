"""How the bot's batcher splits a burst of questions into batches for the answerer."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest
from conftest import FakeAnswerer

from bot.telegram.answerer import OffLoopAnswerer
from retrieval.answer import Answer, Question

pytestmark = pytest.mark.anyio


class _HeldAnswerer(FakeAnswerer):
    """Holds its first batch until released, so that the rest of a burst queues up."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def answer_many(self, questions: Sequence[Question]) -> list[Answer]:
        if not self.batches:
            self.release.wait(timeout=10)
        return super().answer_many(questions)


async def _burst(answerer: FakeAnswerer, count: int, **options: int) -> list[Answer]:
    batcher = OffLoopAnswerer(answerer, wait_ms=1, **options)
    return await asyncio.gather(*(batcher.answer(f"Question {n}?") for n in range(count)))


async def test_a_burst_goes_in_batches_of_even_size() -> None:
    answerer = FakeAnswerer()
    answers = await _burst(answerer, 50, max_batch=16, slots=4)
    assert sorted(answerer.batches) == [12, 12, 13, 13]  # not 16, 16, 16 and a last 2
    assert [a.question for a in answers] == [f"Question {n}?" for n in range(50)]


async def test_questions_arriving_while_the_slots_are_busy_gather_into_even_batches() -> None:
    answerer = _HeldAnswerer()
    batcher = OffLoopAnswerer(answerer, wait_ms=1, max_batch=16, slots=1)
    first = asyncio.ensure_future(batcher.answer("First?"))
    await asyncio.sleep(0.05)  # the first batch (one question) is held in its slot
    rest = [asyncio.ensure_future(batcher.answer(f"Question {n}?")) for n in range(20)]
    await asyncio.sleep(0.05)
    answerer.release.set()
    answers = await asyncio.gather(first, *rest)
    assert answerer.batches == [1, 10, 10]  # 20 waiting: two of 10, not 16 and 4
    assert [a.question for a in answers] == ["First?"] + [f"Question {n}?" for n in range(20)]


async def test_a_small_burst_is_one_batch() -> None:
    answerer = FakeAnswerer()
    await _burst(answerer, 12, max_batch=16)
    assert answerer.batches == [12]
