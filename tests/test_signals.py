"""The verifier's signals, each on a small table of cases (pure functions, no model)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from retrieval.answering.signals import (
    IDF_FLOOR,
    coverage,
    idf,
    names,
    question_terms,
    soft_coverage,
    time_fit,
)
from retrieval.answering.spans import answer_kind, answer_span, answer_spans, fits

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
    # The name that does what the question asks about, before a longer name.
    ("Who announced the visit?",
     "Russian President Vladimir Putin will visit North Korea this week, the Kremlin "
     "announced Monday.", "Kremlin"),
    ("Who announced it?", "The visit was announced by the Kremlin, Vladimir Putin's office.",
     "Kremlin"),
    ("Who will visit Pyongyang?", "Kim Jong Un said Putin will visit Pyongyang.", "Putin"),
    # The sentence holds nothing of the asked type that the question does not already say.
    ("When did Portugal order the cull?", "Portugal ordered the cull of ducks.", None),
    ("How many ducks will Portugal cull?", "Portugal will cull ducks near Aveiro.", None),
    ("Where did Storm Dara make landfall?", "Storm Dara was strong.", None),
    ("Who won the Rotterdam Marathon?", "The Rotterdam Marathon was run on Sunday.", None),
]  # fmt: skip


@pytest.mark.parametrize(("question", "sentence", "span"), SPANS)
def test_answer_span(question: str, sentence: str, span: str | None) -> None:
    assert answer_span(answer_kind(question), sentence, question) == span


FITS = [
    # question, a number with the words after it, whether it is of the asked measure
    ("How many turbines will Latvia's wind farm have?", "50 turbines, officials said", True),
    ("How many turbines will Latvia's wind farm have?", "700 megawatts of power", False),
    ("How many frog species live on Borneo?", "180 species of frog", True),
    ("How long did the strike last?", "43 days.", True),
    ("How long did the strike last?", "4,000 workers joined", False),
    ("How long is the comet's nucleus?", "3.2 km long", True),
    ("How much will the farm cost?", "€2.1 billion to build", True),
    ("How much will the farm cost?", "40 turbines will be built", False),
    ("By how much did the bank cut its rate?", "0.25 percentage points", True),
    ("By how much did the bank cut its rate?", "2026, the bank said", False),
    ("What is Halvorsen worth now?", "912 flats", True),  # no measure asked: any number
]  # fmt: skip


@pytest.mark.parametrize(("question", "number", "expected"), FITS)
def test_a_number_fits_the_measure_asked_for(question: str, number: str, expected: bool) -> None:
    assert fits(question, number) is expected


def test_a_number_of_the_asked_measure_is_the_preferred_span() -> None:
    question = "How many turbines will the wind farm have?"
    sentence = "The 700-megawatt farm, to open in 2031, will have 50 turbines."
    spans = answer_spans("number", sentence, question)
    assert min(spans)[2] == "50 turbines"
    assert [p for p, _, span in spans if span.startswith("700")] == [1]


def test_names_are_the_capitalised_terms_and_the_numbers() -> None:
    terms = question_terms("How many seats did the Green Alliance win in South Moravia in 2020?")
    assert names(terms) == ["Green", "Alliance", "South", "Moravia", "2020"]


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


def test_soft_coverage_counts_a_missing_word_by_its_closest_match() -> None:
    # Word vectors of a toy table: "price" and "cost" point the same way, "weather" not.
    table = {"price": (1.0, 0.0), "cost": (0.8, 0.6), "weather": (0.0, 1.0)}

    def vectors(words):
        return np.array([table.get(w, (0.0, 0.0)) for w in words])

    terms = ["price", "Halvorsen"]
    frequencies = {"price": 10, "halvorsen": 10}
    exact = coverage(terms, "Halvorsen cost", frequencies, 1000)[0]
    soft = soft_coverage(terms, "Halvorsen cost", frequencies, 1000, vectors)
    assert exact == pytest.approx(0.5)
    assert soft == pytest.approx(0.5 + 0.5 * 0.8)
    assert soft_coverage(terms, "Halvorsen weather", frequencies, 1000, vectors) == pytest.approx(
        0.5
    )
    assert soft_coverage(terms, "Halvorsen price", frequencies, 1000, vectors) == 1.0


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
    # A month without its year may mean an earlier year's: the 2024 report is no evidence
    # against, asked in 2026; with the year named it is.
    ("Where did Putin travel in May?", date(2024, 6, 17), date(2026, 12, 1), (0.0, 0.0)),
    ("Where did Putin travel in May 2026?", date(2024, 6, 17), date(2026, 12, 1), (1.0, 0.0)),
    ("What is the latest on the summit?", date(2024, 5, 20), date(2025, 5, 20), (0.0, 1.0)),
    ("When is the summit?", date(2024, 5, 20), date(2024, 6, 1), (0.0, 12 / 365)),
    ("Who founded the company?", date(2000, 1, 1), date(2025, 1, 1), (0.0, 0.0)),
]  # fmt: skip


@pytest.mark.parametrize(("question", "published", "reference", "expected"), TIME_FIT)
def test_time_fit(
    question: str, published: date, reference: date, expected: tuple[float, float]
) -> None:
    assert time_fit(question, published, reference) == pytest.approx(expected)
