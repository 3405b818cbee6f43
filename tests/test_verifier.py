"""The verifier with the real model: the shipped weights load and decide fixed examples."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from retrieval.answer import NOT_FOUND_TEXT
from retrieval.answering import Answerer, AnswerSettings
from retrieval.answering.signals import Signals
from retrieval.answering.verifier import Combiner, Verifier, load_combiner
from retrieval.chunking import ChunkSettings
from retrieval.errors import NewsbotError
from retrieval.evaluation import load_eval_set
from retrieval.index import EmbeddedStorage, IndexSpec, build_index

DATA = Path(__file__).resolve().parent / "data"
SIGNALS = (
    "top_similarity", "cited_similarity", "sentence_similarity", "margin", "coverage",
    "soft_coverage", "sentence_coverage", "name_coverage", "numbers_found", "rarest_missing",
    "typed", "type_found", "measure_missing", "outside_time_frame", "age", "agreement",
    "shares_word",
)  # fmt: skip


@pytest.fixture(scope="module")
def news(tmp_path_factory: pytest.TempPathFactory, embedder) -> Answerer:
    """The written news articles of tests/data/news_dev.json, all of them indexed."""
    data_dir = tmp_path_factory.mktemp("news")
    build_index(data_dir, load_eval_set(DATA / "news_dev.json").articles, embedder, ChunkSettings())
    storage = EmbeddedStorage(data_dir, IndexSpec(embedder.name, ChunkSettings()))
    return Answerer(storage, embedder, AnswerSettings())


def test_shipped_weights_load_and_name_every_signal() -> None:
    combiner = load_combiner()
    assert set(combiner.features) <= set(SIGNALS)
    assert len(combiner.weights) == len(combiner.typical) == len(combiner.features)
    assert 0.05 < combiner.threshold < 0.95


def test_weights_that_do_not_fit_are_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "weights.json"
    bad.write_text('{"features": ["a"], "weights": [1, 2], "bias": 0, "typical": [0], '
                   '"threshold": 0.5}')  # fmt: skip
    with pytest.raises(NewsbotError, match="differ in length"):
        load_combiner(bad)


def test_the_reason_names_the_signals_that_pull_down_most() -> None:
    combiner = Combiner(("coverage", "type_found", "top_similarity"), (4.0, 2.0, 1.0), -4.0,
                        (0.9, 1.0, 0.6), 0.5)  # fmt: skip
    verifier = Verifier(combiner)
    missing = Signals(
        {"coverage": 0.2, "type_found": 1.0, "top_similarity": 0.6}, None, ("X",), "who"
    )
    untyped = Signals({"coverage": 0.9, "type_found": 0.0, "top_similarity": 0.1}, None, (), "who")
    assert verifier.verify(missing).reason == "missing_terms"
    assert verifier.verify(untyped).reason == "no_answer_of_type"
    sure = Signals({"coverage": 1.0, "type_found": 1.0, "top_similarity": 0.9}, "Y", (), "who")
    verdict = verifier.verify(sure)
    assert verdict.answered and verdict.reason is None and verdict.confidence > 0.5


@pytest.mark.parametrize(
    ("question", "as_of", "short"),
    [
        ("How long did the Gdynia dockworkers' strike last?", date(2025, 5, 2), "43-day strike"),
        ("Where did Storm Dara make landfall?", date(2025, 9, 10), "A Coruna"),
        ("Who won the women's Rotterdam Marathon?", date(2025, 4, 15), "Ruth Chepkoech"),
        ("How many ducks will Portugal cull?", date(2025, 2, 19), "60,000 ducks"),
    ],
)
def test_answerable_news_is_answered_with_a_short_answer(
    news: Answerer, question: str, as_of: date, short: str
) -> None:
    answer = news.answer(question, as_of=as_of)
    assert answer.answered, answer.signals
    assert answer.confidence >= news.verifier.min_confidence
    assert answer.short_answer == short
    assert answer.decline_reason is None


@pytest.mark.parametrize(
    ("question", "as_of", "reasons"),
    [
        # Another country's cull is indexed, and a vaccine story about bird flu.
        ("How many pigs is Denmark culling because of swine fever?", date(2025, 2, 19),
         {"missing_terms"}),
        ("Where did Hurricane Milton make landfall?", date(2025, 9, 10),
         {"missing_terms", "weak_evidence"}),
        # The only report of a record market value is eight months old.
        ("Which European company hit a record market value this week?", date(2025, 11, 20),
         {"outside_time_frame"}),
    ],
)  # fmt: skip
def test_on_topic_news_without_the_answer_is_declined(
    news: Answerer, question: str, as_of: date, reasons: set[str]
) -> None:
    answer = news.answer(question, as_of=as_of)
    assert not answer.answered, answer.signals
    assert answer.text == NOT_FOUND_TEXT and answer.citations == ()
    assert answer.confidence < news.verifier.min_confidence
    assert answer.decline_reason in reasons
    assert answer.closest  # the nearest headlines are still offered


def test_a_declined_answer_names_the_missing_terms_and_the_closest_report(news: Answerer) -> None:
    answer = news.answer("How many pigs is Denmark culling because of swine fever?",
                         as_of=date(2025, 2, 19))  # fmt: skip
    assert "Denmark" in answer.missing_terms and "swine" in answer.missing_terms
    assert answer.closest_report is not None
    assert answer.closest_report.title.startswith("Portugal Orders Cull of 60,000 Ducks")


def test_min_confidence_setting_overrides_the_calibrated_default(news: Answerer) -> None:
    strict = Answerer(news.storage, news.embedder, AnswerSettings(min_confidence=1.0))
    answer = strict.answer("How many ducks will Portugal cull?", as_of=date(2025, 2, 19))
    assert not answer.answered and answer.confidence > 0.5
    assert answer.closest_report is not None  # related, but under the bar
