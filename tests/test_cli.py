"""The command line: exit codes, JSON fields, stdin questions, errors, settings."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import Settings, SettingsError, load_settings
from retrieval.answering.verifier import load_combiner
from retrieval.index import current_generation
from tests.conftest import FIXTURES, ROOT, SEED_URL, SEEDS

CITATION_FIELDS = {
    "n",
    "url",
    "title",
    "source",
    "author",
    "published",
    "quote",
    "also_reported_by",
}
RESULT_FIELDS = {"rank", "url", "title", "published", "score", "text", "also_reported_by"}


def run(*argv: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), stdout=out)
    return code, out.getvalue()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed_data_dir: Path) -> Path:
    """NEWSBOT_DATA_DIR pointing at a copy of the seed index."""
    target = tmp_path / "data"
    shutil.copytree(seed_data_dir, target)
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(target))
    return target


def test_ask_prints_answer_and_citation(data_dir: Path) -> None:
    code, out = run("ask", "When is Putin visiting Pyongyang?")
    assert code == 0
    assert "June 18" in out and "2024" in out and "[1]" in out
    assert (
        "[1] Kremlin Confirms Putin's Trip to North Korea — The Moscow Times (AFP), June 17, 2024"
        in out
    )
    assert SEED_URL in out


def test_ask_json_fields(data_dir: Path) -> None:
    code, out = run(
        "ask",
        "--json",
        "--top-k",
        "1",
        "--as-of",
        "2024-06-18",
        "Where will Putin go after North Korea?",
    )
    assert code == 0
    record = json.loads(out)
    assert {"question", "answered", "answer", "as_of", "citations", "results"} <= set(record)
    assert record["answered"] is True
    assert "Vietnam" in record["answer"]
    assert record["as_of"] == "2024-06-17"
    assert record["as_of_query"] == "2024-06-18"
    assert set(record["citations"][0]) == CITATION_FIELDS
    assert record["citations"][0]["n"] == 1 and record["citations"][0]["url"] == SEED_URL
    assert len(record["results"]) == 1 and set(record["results"][0]) == RESULT_FIELDS
    assert load_combiner().threshold <= record["confidence"] <= 1
    assert record["short_answer"] == "Vietnam"
    assert "decline_reason" not in record


def test_ask_not_found_json(data_dir: Path) -> None:
    code, out = run("ask", "--json", "Who won the 2018 FIFA World Cup?")
    record = json.loads(out)
    assert code == 0
    assert record["answered"] is False and record["citations"] == [] and record["as_of"] is None
    assert record["closest"][0]["url"] == SEED_URL
    assert 0 <= record["confidence"] < load_combiner().threshold
    assert "short_answer" not in record
    assert record["decline_reason"] in {"weak_evidence", "missing_terms", "no_answer_of_type"}


def test_ask_stdin_one_json_line_per_question(data_dir: Path) -> None:
    questions = (
        "When is Putin visiting Pyongyang?\n\n"
        '{"question": "When is Putin visiting Pyongyang?", "as_of": "2024-06-01"}\n'
        "Who won the 2018 FIFA World Cup?\n"
    )
    code, out = run("ask", "--json", "--as-of", "2024-06-20", "-", stdin=questions)
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["answered"] for r in records] == [True, False, False]
    assert [r["as_of_query"] for r in records] == ["2024-06-20", "2024-06-01", "2024-06-20"]


def test_ask_stdin_bad_lines_are_reported_and_the_rest_answered(data_dir: Path) -> None:
    questions = (
        '{"question": "When is Putin visiting Pyongyang?", "as_of": "2024-13-40"}\n'
        + "x" * 5000
        + "\n"
        + "When is Putin visiting Pyongyang?\n"
    )
    code, out = run("ask", "--json", "-", stdin=questions)
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert "'2024-13-40'" in records[0]["error"]
    assert "too long" in records[1]["error"]
    assert records[2]["answered"] is True


def test_ask_text_mode_not_found_lists_closest_headlines(data_dir: Path) -> None:
    code, out = run("ask", "Who won the 2018 FIFA World Cup?")
    assert code == 0
    assert out.startswith("I couldn't find that in the indexed news.")
    assert "Closest headlines:" in out and "June 17, 2024" in out


def test_malformed_as_of_is_a_usage_error(data_dir: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run("ask", "--as-of", "17/06/2024", "When?")
    assert exit_info.value.code == 2
    assert "'17/06/2024'" in capsys.readouterr().err


def test_ask_without_index_says_run_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "empty"))
    code, _ = run("ask", "When is Putin visiting Pyongyang?")
    assert code == 1
    err = capsys.readouterr().err
    assert "run `newsbot index`" in err and "Traceback" not in err


def test_index_then_ask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "d"))
    code, _ = run("index", str(SEEDS), str(FIXTURES / "changing_story.jsonl"))
    assert code == 0
    err = capsys.readouterr().err
    assert "Indexed 4 articles" in err and "passages/s" in err
    code, out = run("ask", "--json", "--as-of", "2024-05-25", "Where will the summit be held?")
    assert "Vienna" in json.loads(out)["answer"]


def test_index_defaults_to_seeds_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "d"))
    assert run("index")[0] == 0
    assert current_generation(tmp_path / "d") == "gen-000001"


def test_bad_article_fails_index_and_keeps_the_old_one(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"url": "https://x.test/a", "title": "T", "published": "someday", "text": "B"}\n'
    )
    before = current_generation(data_dir)
    code, _ = run("index", str(SEEDS), str(bad))
    assert code == 1
    err = capsys.readouterr().err
    assert f"error: {bad}:1: unparseable 'published'" in err
    assert current_generation(data_dir) == before
    assert run("ask", "--json", "When is Putin visiting Pyongyang?")[0] == 0


def test_invalid_setting_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("NEWSBOT_TOP_K", "many")
    code, _ = run("ask", "When?")
    assert code == 2
    assert "NEWSBOT_TOP_K" in capsys.readouterr().err


def test_settings_from_env_file_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / "custom.env"
    env_file.write_text(
        "NEWSBOT_TOP_K=7\nNEWSBOT_TELEGRAM_ADMIN_USER_IDS=1, 22\nNEWSBOT_EVIDENCE_THRESHOLD=0.4\n"
    )
    monkeypatch.setenv("NEWSBOT_EVIDENCE_THRESHOLD", "0.5")  # the environment wins
    settings = load_settings(env_file)
    assert settings.top_k == 7
    assert settings.telegram_admin_user_ids == (1, 22)
    assert settings.evidence_threshold == 0.5
    monkeypatch.setenv("NEWSBOT_LOG_LEVEL", "chatty")
    with pytest.raises(SettingsError, match="NEWSBOT_LOG_LEVEL"):
        load_settings(env_file)


def test_config_example_lists_every_setting_and_loads() -> None:
    example = ROOT / "config.example.env"
    names = {
        line.split("=", 1)[0]
        for line in example.read_text().splitlines()
        if line.startswith("NEWSBOT_")
    }
    assert names == {f"NEWSBOT_{field.upper()}" for field in Settings.model_fields}
    assert load_settings(example) == Settings(_env_file=None)  # the example shows the defaults


def test_token_is_secret_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_TELEGRAM_TOKEN", "123456:SECRET-TOKEN")
    settings = load_settings(None)
    assert "SECRET-TOKEN" not in repr(settings)
    assert settings.telegram_token is not None
    assert settings.telegram_token.get_secret_value() == "123456:SECRET-TOKEN"


def test_telegram_without_token_exits_with_a_clear_message(capsys: pytest.CaptureFixture) -> None:
    assert run("telegram")[0] == 2
    assert "NEWSBOT_TELEGRAM_TOKEN is not set" in capsys.readouterr().err


def test_run_indexes_seeds_then_starts_the_console(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "d"))
    code, out = run("run", stdin="When is Putin visiting Pyongyang?\n:quit\n")
    assert code == 0
    assert "newsbot console" in out and "June 18" in out


def _subprocess(*argv: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_python_m_bot_help_does_not_import_torch() -> None:
    code = (
        "import sys; from bot.cli import build_parser; from bot.settings import load_settings;"
        "load_settings(None); build_parser().format_help();"
        "assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)
    result = _subprocess("--help", env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0
    for command in ("index", "ask", "console", "telegram"):
        assert command in result.stdout


def test_subprocess_ask_stdin_flushes_json_lines(data_dir: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "NEWSBOT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    result = _subprocess(
        "ask",
        "--json",
        "-",
        env=env,
        stdin="When is Putin visiting Pyongyang?\nWho won the 2018 World Cup?\n",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [json.loads(line)["answered"] for line in lines] == [True, False]
    assert json.loads(lines[0])["as_of_query"] == date.today().isoformat()
    assert "Traceback" not in result.stderr and "Loading weights" not in result.stderr


def test_eval_reports_with_and_without_question_dates(capsys: pytest.CaptureFixture) -> None:
    code, out = run(
        "eval", "--json", "--compare", "hybrid", str(ROOT / "tests/data/seed_golden.json")
    )
    assert code == 0
    record = json.loads(out)
    assert record["questions"] == 20 and record["passages"] == 10
    assert set(record["results"]) == {"hybrid", "hybrid +dates"}
    assert record["results"]["hybrid"]["hit_at_5"] >= 0.9
    assert (
        run("eval", "--compare", "dense,magic", str(ROOT / "tests/data/seed_golden.json"))[0] == 2
    )
    assert "unknown retrieval method(s) magic" in capsys.readouterr().err


def test_eval_unanswerable_reports_the_verifier(tmp_path: Path) -> None:
    code, out = run("eval", "--unanswerable", str(ROOT / "tests/data/news_dev.json"))
    assert code == 0
    assert "Verifier at confidence" in out
    table = [line for line in out.splitlines() if line.startswith("| hybrid")]
    # The retrieval table, then the verifier's rows with and without the questions' dates.
    assert [line.split(" | ")[0] for line in table[-2:]] == ["| hybrid", "| hybrid +dates"]
    cells = table[-1].strip(" |").split(" | ")[1:6]
    answered, declined, precision, auroc, ece = (float(c) for c in cells)
    assert answered >= 0.8 and declined >= 0.8 and auroc >= 0.85 and 0 <= ece <= 0.3
    assert 0.5 <= precision <= 1
    risk = [line for line in out.splitlines() if re.match(r"\| 0\.\d+ \|", line)]
    assert len(risk) >= 5  # the risk-coverage table
    code, out = run("eval", "--json", "--unanswerable", str(ROOT / "tests/data/news_dev.json"))
    record = json.loads(out)["verification"]["hybrid +dates"]
    assert record["unanswerable"] >= 30 and len(record["risk"]) >= 5


def test_ask_stdin_json_line_with_context_follows_up(data_dir: Path) -> None:
    first = "When is Putin visiting Pyongyang?"
    code, out = run("ask", "--json", "--as-of", "2024-06-17", first)
    earlier = json.loads(out)
    follow_up = {"question": "Where does he go after that?", "as_of": "2024-06-17",
                 "context": f"{first}\n{earlier['answer']}"}  # fmt: skip
    alone = {k: v for k, v in follow_up.items() if k != "context"}
    lines = [json.dumps(follow_up), json.dumps(alone), '{"question": "Why?", "context": 7}']
    code, out = run("ask", "--json", "-", stdin="\n".join(lines) + "\n")
    answered, without, rejected = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert answered["answered"] is True and "Vietnam" in answered["answer"]
    # the context is blended into the question's vector: the same passages score otherwise
    assert answered["results"][0]["score"] != without["results"][0]["score"]
    assert '"context" must be a string' in rejected["error"]
