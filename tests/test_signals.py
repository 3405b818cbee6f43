"""The verifier's signals, each on a small table of cases (pure functions, no model)."""

from __future__ import annotations

from datetime import date

import pytest

from retrieval.answering.signals import IDF_FLOOR, coverage, idf, question_terms, time_fit
from retrieval.answering.spans import answer_kind, answer_span

KINDS = [
    ("When is Putin visiting Pyongyang?", "when"),
    ("Putin Pyongyang trip date", "when"),
    ("Since when had the looted painting hung in the Riga museum?", "when"),
    ("How many ducks will Portugal cull?", "number"),
    ("How long did the Gdynia dockworkers' strike last?", "number"),
    ("By how much did Norway's central bank cut its rate?", "number"),
    ("Who won the women's Rotterdam Marathon?", "who"),
    ("Where did Storm Dara make landfall?", "where"),
    ("Which country will Putin visit next?", "where"),
    ("Which rocket launched the satellite?", "which"),
    ("What did the Kremlin call the visit?", "other"),
    ("Why are Belgian rail drivers striking?", "other"),
]


@pytest.mark.parametrize(("question", "kind"), KINDS)
def test_answer_kind(question: str, kind: str) -> None:
    assert answer_kind(question) == kind


SPANS = [
    ("When is Putin visiting Pyongyang?",
     '"President Vladimir Putin on June 18–19, 2024 will go to the North Korean Democratic '
     'Republic on a friendly state visit," the Kremlin said on Monday (June 17, 2024).',
     "June 18–19, 2024"),
    ("Where will Putin go after North Korea?", "Putin will then travel to Vietnam.", "Vietnam"),
    ("How long did the Gdynia dockworkers' strike last?",
     "Dockworkers at the Port of Gdynia returned to work on Wednesday, ending a 43-day strike.",
     "43-day strike"),
    ("How many ducks will Portugal cull?",
     "Portugal ordered the culling of 60,000 ducks on Tuesday.", "60,000 ducks"),
    ("Who won the women's Rotterdam Marathon?",
     "Ruth Chepkoech of Kenya won the Rotterdam Marathon on Sunday.", "Ruth Chepkoech"),
    ("Who did Putin meet on his first trip to North Korea?",
     "During that first trip, the Russian president met with former leader Kim Jong Il.",
     "Kim Jong Il"),
    # The sentence holds nothing of the asked type that the question does not already say.
    ("When did Portugal order the cull?", "Portugal ordered the cull of ducks.", None),
    ("How many ducks will Portugal cull?", "Portugal will cull ducks near Aveiro.", None),
    ("Where did Storm Dara make landfall?", "Storm Dara was strong.", None),
    ("Who won the Rotterdam Marathon?", "The Rotterdam Marathon was run on Sunday.", None),
]  # fmt: skip


@pytest.mark.parametrize(("question", "sentence", "span"), SPANS)
def test_answer_span(question: str, sentence: str, span: str | None) -> None:
    assert answer_span(answer_kind(question), sentence, question) == span


def test_coverage_weights_a_missing_name_by_its_rarity() -> None:
    terms = question_terms("How many pigs is Denmark culling because of swine fever?")
    assert terms == ["pigs", "Denmark", "culling", "swine", "fever"]
    # In a 1,000-passage index "culling" is common, "Denmark" and "swine" rare.
    frequencies = {"pigs": 20, "denmark": 3, "culling": 200, "swine": 2, "fever": 30}
    text = "Portugal ordered the culling of 60,000 pigs after swine fever was found."
    share, missing = coverage(terms, text, frequencies, 1000)
    assert missing == ["Denmark"]
    weight = idf(3, 1000) / sum(idf(frequencies[t.lower()], 1000) for t in terms)
    assert share == pytest.approx(1 - weight)
    assert 0.6 < share < 0.9  # one rare name of five terms weighs more than a fifth
    full, none_missing = coverage(terms, text + " Denmark", frequencies, 1000)
    assert (full, none_missing) == (1.0, [])


def test_idf_is_one_for_an_unseen_word_and_falls_with_frequency() -> None:
    assert idf(0, 1000) == pytest.approx(1.0)
    assert idf(1, 1000) > idf(10, 1000) > idf(500, 1000) > idf(1000, 1000) >= IDF_FLOOR
    assert idf(10, 10) == pytest.approx(IDF_FLOOR, abs=0.02)  # a title word in every passage


TIME_FIT = [
    # question, published, reference, (outside the time frame, age share)
    ("Which company hit a record value this week?", date(2025, 3, 12), date(2025, 3, 13),
     (0.0, 1 / 365)),
    ("Which company hit a record value this week?", date(2025, 3, 12), date(2025, 11, 20),
     (1.0, 253 / 365)),
    ("What happened in May 2024?", date(2024, 5, 20), date(2024, 6, 18), (0.0, 0.0)),
    ("What happened in May 2024?", date(2024, 4, 28), date(2024, 6, 18), (1.0, 0.0)),
    ("Where did Putin travel in May?", date(2024, 6, 17), date(2024, 6, 18), (0.0, 0.0)),
    ("What is the latest on the summit?", date(2024, 5, 20), date(2025, 5, 20), (0.0, 1.0)),
    ("When is the summit?", date(2024, 5, 20), date(2024, 6, 1), (0.0, 12 / 365)),
    ("Who founded the company?", date(2000, 1, 1), date(2025, 1, 1), (0.0, 0.0)),
]  # fmt: skip


@pytest.mark.parametrize(("question", "published", "reference", "expected"), TIME_FIT)
def test_time_fit(
    question: str, published: date, reference: date, expected: tuple[float, float]
) -> None:
    assert time_fit(question, published, reference) == pytest.approx(expected)
