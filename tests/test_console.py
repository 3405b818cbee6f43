"""The console REPL, driven through injected streams."""

from __future__ import annotations

import io
from datetime import date

from bot.console import Console
from retrieval.answering import Answerer
from tests.conftest import SEED_URL


def converse(answerer: Answerer, text: str, **options: object) -> str:
    out = io.StringIO()
    assert Console(answerer, io.StringIO(text), out, **options).run() == 0  # type: ignore[arg-type]
    return out.getvalue()


def test_question_answer_and_quit(seed_answerer: Answerer) -> None:
    out = converse(seed_answerer, "When is Putin visiting Pyongyang?\n:quit\nnever read\n")
    assert "June 18" in out and SEED_URL in out
    assert out.count("newsbot> ") == 2


def test_help_sources_and_unknown_commands(seed_answerer: Answerer) -> None:
    out = converse(seed_answerer, ":help\n:sources\n:frobnicate\n")
    assert ":sources" in out and ":quit" in out
    assert "1 indexed article(s)" in out and "Kremlin Confirms Putin's Trip" in out
    assert "Unknown command :frobnicate" in out


def test_verbose_shows_the_retrieval_trace(seed_answerer: Answerer) -> None:
    quiet = converse(seed_answerer, "Where will Putin go after North Korea?\n")
    loud = converse(seed_answerer, "Where will Putin go after North Korea?\n", verbose=True)
    assert "retrieval trace" not in quiet
    assert "retrieval trace" in loud and "1. 0." in loud and "timings (ms)" in loud
    toggled = converse(seed_answerer, ":verbose\nWhere will Putin go after North Korea?\n")
    assert "retrieval trace" in toggled


def test_long_and_empty_input(seed_answerer: Answerer) -> None:
    out = converse(seed_answerer, "\n" + "why " * 1500 + "\n")
    assert "too long (5999 characters" in out


def test_as_of_is_used(seed_answerer: Answerer) -> None:
    out = converse(seed_answerer, "When is Putin visiting Pyongyang?\n", as_of=date(2024, 6, 1))
    assert "as of 2024-06-01" in out
    assert "I couldn't find that in the indexed news." in out


def test_end_of_input_leaves_cleanly(seed_answerer: Answerer) -> None:
    assert converse(seed_answerer, "").endswith("newsbot> \n")


class Recording:
    """Wraps an answerer and keeps the context each question was asked with."""

    def __init__(self, answerer: Answerer) -> None:
        self.answerer = answerer
        self.contexts: list[str | None] = []

    def answer(self, question: str, **options: object) -> object:
        self.contexts.append(options.get("context"))  # type: ignore[arg-type]
        return self.answerer.answer(question, **options)  # type: ignore[arg-type]

    def list_articles(self) -> object:
        return self.answerer.list_articles()


def test_plus_follows_up_on_the_last_answers(seed_answerer: Answerer) -> None:
    asked = Recording(seed_answerer)
    out = converse(
        asked,  # type: ignore[arg-type]
        "When is Putin visiting Pyongyang?\n"
        "+ Where does he go after that?\n"
        "+Who did he meet there in 2000?\n"
        "Where does he go after that?\n",
    )
    first, second, third, fresh = asked.contexts
    assert first is None and fresh is None  # a plain line starts a new thread
    assert second is not None and second.startswith("When is Putin visiting Pyongyang?\n")
    assert "June 18" in second and "[1]" not in second  # the answer, without its markers
    assert third is not None and "Where does he go after that?\n" in third
    assert third.index("Pyongyang?") < third.index("after that?")  # oldest first
    assert "Vietnam" in out.split("newsbot> ")[2]


def test_plus_with_nothing_to_follow(seed_answerer: Answerer) -> None:
    asked = Recording(seed_answerer)
    out = converse(asked, "+ When is Putin visiting Pyongyang?\n+\n")  # type: ignore[arg-type]
    assert "Nothing to follow up yet" in out and "June 18" in out
    assert asked.contexts == [None]
    assert "Sorry, the question is empty." in out


def test_thread_text_is_bounded() -> None:
    from bot.followups import CONTEXT_CHARS, thread_text

    turns = [(f"question {n}?", f"answer {n} [1][2]." + "x" * 900) for n in range(5)]
    text = thread_text(turns)
    assert len(text) <= CONTEXT_CHARS and "question 4?" in text
    assert "question 1?" not in text and "[1]" not in text
    assert thread_text(turns[:1]).startswith("question 0?\nanswer 0.")
