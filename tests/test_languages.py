"""Questions in languages the embedding model cannot read get a reply naming the ones it can."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from bot.app import answer_languages
from bot.cli import main
from bot.console import Console
from bot.settings import Settings
from retrieval.answering import Answerer, detect, language_problem
from retrieval.embedding import DEFAULT_MODEL, model_languages
from tests.conftest import ROOT

ENGLISH_ONLY = ("en",)


@pytest.mark.parametrize(
    ("question", "script", "language"),
    [
        ("Кто президент Франции?", "CYRILLIC", "ru"),
        ("法国总统是谁？", "CJK", "zh"),
        ("フランスの大統領は誰ですか？", "HIRAGANA", "ja"),
        ("누가 프랑스 대통령입니까?", "HANGUL", "ko"),
        ("من هو رئيس فرنسا؟", "ARABIC", "ar"),
        ("Ποιος είναι ο πρόεδρος της Γαλλίας;", "GREEK", "el"),
        ("Qui est le président de la France ?", "LATIN", "fr"),
        ("Wer ist der Präsident von Frankreich?", "LATIN", "de"),
        ("¿Quién es el presidente de Francia?", "LATIN", "es"),
        ("Chi è il presidente della Francia?", "LATIN", "it"),
    ],
)
def test_questions_in_other_languages_are_detected_and_refused(
    question: str, script: str, language: str
) -> None:
    found = detect(question)
    assert found is not None and found.script == script and language in found.languages
    problem = language_problem(question, ENGLISH_ONLY)
    assert problem is not None and problem.startswith("I can only answer questions in English")


@pytest.mark.parametrize(
    "question",
    [
        "When is Putin visiting Pyongyang?",
        "What did Zelensky say about Харків?",  # a name in another script
        "Did Le Pen meet de Gaulle's grandson in La Paz?",  # foreign names, English words
        "Who will die in the Die Hard remake?",
        "Was Mayor Sadiq Khan elected?",
        "2024?",
        "",
    ],
)
def test_english_questions_pass(question: str) -> None:
    assert language_problem(question, ENGLISH_ONLY) is None


def test_no_question_of_an_english_qa_set_is_refused() -> None:
    dataset = json.loads((ROOT / "tests" / "data" / "xquad_en.json").read_text())
    questions = [q["question"] for q in dataset["questions"]]
    refused = [q for q in questions if language_problem(q, ENGLISH_ONLY)]
    assert len(questions) > 100 and refused == []


def test_the_languages_come_from_the_configured_model() -> None:
    assert model_languages(DEFAULT_MODEL) == ("en",)
    assert model_languages("/models/some-multilingual-model") is None
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert answer_languages(settings) == ("en",)
    other = Settings(_env_file=None, embedding_model="/models/x")  # type: ignore[call-arg]
    assert answer_languages(other) is None
    assert language_problem("Кто президент Франции?", answer_languages(other)) is None


def test_the_languages_setting_overrides_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_EMBEDDING_LANGUAGES", "en, ru")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert answer_languages(settings) == ("en", "ru")
    assert language_problem("Кто президент Франции?", ("en", "ru")) is None
    problem = language_problem("法国总统是谁？", ("en", "ru"))
    assert problem is not None and "English or Russian" in problem
    monkeypatch.setenv("NEWSBOT_EMBEDDING_LANGUAGES", "any")
    assert answer_languages(Settings(_env_file=None)) is None  # type: ignore[call-arg]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed_data_dir: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(seed_data_dir, target)
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(target))
    return target


def test_cli_json_names_the_languages_instead_of_answering(data_dir: Path) -> None:
    out = io.StringIO()
    lines = "Кто президент Франции?\nWhen is Putin visiting Pyongyang?\n"
    code = main(["ask", "--json", "-"], stdin=io.StringIO(lines), stdout=out)
    refused, answered = (json.loads(line) for line in out.getvalue().splitlines())
    assert code == 1
    assert refused["question"] == "Кто президент Франции?"
    assert refused["error"].startswith("I can only answer questions in English")
    assert "Cyrillic script" in refused["error"]
    assert answered["answered"] is True


def test_console_names_the_languages(seed_answerer: Answerer) -> None:
    out = io.StringIO()
    stdin = io.StringIO("Кто президент Франции?\n:quit\n")
    assert Console(seed_answerer, stdin, out, languages=ENGLISH_ONLY).run() == 0
    assert "Sorry, I can only answer questions in English: this question seems to be in " \
        "Cyrillic script" in out.getvalue()  # fmt: skip
    assert "[1]" not in out.getvalue()
