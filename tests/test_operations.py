"""Operating newsbot: --version, each command's example, `health` and `feedback --json`."""

from __future__ import annotations

import io
import json
import shlex
import shutil
from datetime import date
from importlib.metadata import version
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from bot.examples import EXAMPLES
from bot.telegram.app import DATABASE_NAME
from bot.telegram.conversations import ConversationStore
from retrieval.index import CURRENT, current_generation
from tests.conftest import SEED_URL


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), stdin=io.StringIO(), stdout=out), out.getvalue()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed_data_dir: Path) -> Path:
    target = Path(shutil.copytree(seed_data_dir, tmp_path / "data"))
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(target))
    return target


def test_version_comes_from_the_package_metadata(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as leaving:
        run("--version")
    assert leaving.value.code == 0
    assert capsys.readouterr().out == f"newsbot {version('newsbot')}\n"


def test_every_command_has_an_example_that_parses() -> None:
    parser = build_parser()
    [commands] = [a for a in parser._actions if a.dest == "command"]
    assert set(commands.choices) == set(EXAMPLES)  # type: ignore[arg-type]
    for name, sub in commands.choices.items():  # type: ignore[union-attr]
        assert f"example:\n  {EXAMPLES[name]}" in sub.format_help()
        words = shlex.split(EXAMPLES[name].split(" |")[0].split(" >")[0])
        words = words[words.index("newsbot") + 1 :]
        assert parser.parse_args(words).command == name


def test_health_reports_generation_size_and_freshness(data_dir: Path) -> None:
    code, out = run("health")
    age = (date.today() - date(2024, 6, 17)).days
    assert code == 0
    assert out.splitlines()[0].startswith("ok: generation 1 (built 20")
    assert out.splitlines()[1:] == [
        "articles: 1 (10 passages)",
        f"newest article: 2024-06-17 ({age} days old)",
    ]


def test_health_fails_with_a_message_without_an_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "empty"))
    assert run("health") == (1, "")
    assert capsys.readouterr().err.startswith("error: unhealthy: no index in ")


@pytest.mark.parametrize("damage", ["vectors", "manifest", "model"])
def test_health_fails_when_the_index_cannot_load(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, damage: str
) -> None:
    live = data_dir / str(current_generation(data_dir))
    if damage == "vectors":
        (live / "vectors.faiss").write_bytes(b"not a faiss index")
    elif damage == "manifest":
        (live / "manifest.json").write_text("{")
    else:
        monkeypatch.setenv("NEWSBOT_EMBEDDING_MODEL", "another/model")
    code, out = run("health")
    err = capsys.readouterr().err
    assert (code, out) == (1, "") and err.startswith("error: unhealthy: ")
    assert "Traceback" not in err
    assert (data_dir / CURRENT).exists()


def test_feedback_exports_each_vote_with_its_exchange(
    data_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    assert run("feedback", "--json") == (0, "")
    assert "No feedback yet" in capsys.readouterr().err
    store = ConversationStore(data_dir / DATABASE_NAME)
    first = store.record(7, "When is Putin visiting?", "June 18–19. [1]", cited_urls=[SEED_URL],
                         answered=True, parent_id=None)  # fmt: skip
    second = store.record(8, "Who won?", "I couldn't find that.", cited_urls=[],
                          answered=False, parent_id=None)  # fmt: skip
    for exchange, user, vote in ((first, 7, 1), (second, 8, -1)):
        found = store.get(exchange)
        assert found is not None
        store.add_feedback(found, user, vote)
    store.close()
    code, out = run("feedback", "--json")
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == [
        {"exchange_id": first, "user_id": 7, "vote": 1, "question": "When is Putin visiting?",
         "answer": "June 18–19. [1]", "cited_urls": [SEED_URL]},
        {"exchange_id": second, "user_id": 8, "vote": -1, "question": "Who won?",
         "answer": "I couldn't find that.", "cited_urls": []},
    ]  # fmt: skip
    code, out = run("feedback")
    assert code == 0 and out.startswith("👍 When is Putin visiting?\n    June 18–19. [1]\n")
    assert out.endswith("2 votes: 1 👍, 1 👎\n")
