"""Time frames in questions, resolved against the question date."""

from __future__ import annotations

from datetime import date

import pytest

from retrieval.answering.timeframe import Window, question_window

WEDNESDAY = date(2024, 6, 19)


@pytest.mark.parametrize(
    ("question", "window"),
    [
        ("What happened today?", (date(2024, 6, 19), date(2024, 6, 19))),
        ("What did he say yesterday?", (date(2024, 6, 18), date(2024, 6, 18))),
        ("What did Putin do this week?", (date(2024, 6, 17), date(2024, 6, 19))),
        ("What happened last week?", (date(2024, 6, 10), date(2024, 6, 16))),
        ("Any news this month?", (date(2024, 6, 1), date(2024, 6, 30))),
        ("What changed last month?", (date(2024, 5, 1), date(2024, 5, 31))),
        ("Who won the election last year?", (date(2023, 1, 1), date(2023, 12, 31))),
        ("What happened in the past 3 days?", (date(2024, 6, 16), date(2024, 6, 19))),
        ("What did Putin do in May?", (date(2024, 5, 1), date(2024, 5, 31))),
        ("What did Putin do in September?", (date(2023, 9, 1), date(2023, 9, 30))),
        ("Putin visits in June 2024", (date(2024, 6, 1), date(2024, 6, 30))),
        ("Who won the World Cup in 2018?", (date(2018, 1, 1), date(2018, 12, 31))),
    ],
)
def test_question_window(question: str, window: tuple[date, date]) -> None:
    assert question_window(question, WEDNESDAY) == Window(*window)


@pytest.mark.parametrize(
    "question", ["May I ask about Putin?", "When is Putin visiting Pyongyang?", "Who is Kim?"]
)
def test_no_window(question: str) -> None:
    assert question_window(question, WEDNESDAY) is None


def test_window_contains() -> None:
    window = Window(date(2024, 5, 1), date(2024, 5, 31))
    assert date(2024, 5, 31) in window and date(2024, 6, 1) not in window
