"""Bad input to the command line: each bad question gets its own error, the process goes on."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import ROOT, SEEDS

GOOD = "When is Putin visiting Pyongyang?"


def run_bytes(*argv: str, stdin: bytes) -> tuple[int, str]:
    """Run the CLI with stdin as the bytes a pipe would give (strict UTF-8, like sys.stdin)."""
    out = io.StringIO()
    code = main(list(argv), stdin=io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"), stdout=out)
    return code, out.getvalue()


def run(*argv: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), stdin=io.StringIO(stdin), stdout=out), out.getvalue()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed_data_dir: Path) -> Path:
    """NEWSBOT_DATA_DIR pointing at a copy of the seed index."""
    target = tmp_path / "data"
    shutil.copytree(seed_data_dir, target)
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(target))
    return target


def test_invalid_utf8_rejects_its_line_and_the_next_is_answered(data_dir: Path) -> None:
    code, out = run_bytes("ask", "--json", "-", stdin=f"Putin \xff\n{GOOD}\n".encode("latin-1"))
    bad, good = (json.loads(line) for line in out.splitlines())
    assert code == 1
    assert bad == {"question": "Putin \ufffd", "error": "the question is not valid UTF-8 text"}
    assert good["answered"] is True and good["question"] == GOOD


def test_a_lone_surrogate_in_a_json_line_is_rejected(data_dir: Path) -> None:
    lines = '{"question": "Putin \\ud800?"}\n' + GOOD + "\n"
    code, out = run("ask", "--json", "-", stdin=lines)
    bad, good = (json.loads(line) for line in out.splitlines())
    assert code == 1
    assert bad["error"] == "the question is not valid UTF-8 text"
    assert good["answered"] is True


@pytest.mark.parametrize(
    "line",
    [
        f'{{"question": "{GOOD}", "as_of": 12}}',
        f'{{"question": "{GOOD}", "as_of": ["2024-06-18"]}}',
        f'{{"question": "{GOOD}", "as_of": {{"y": 2024}}}}',
        f'{{"question": "{GOOD}", "as_of": "\\ud800"}}',
        '{"question": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
)
def test_a_bad_json_line_gets_an_error_line(data_dir: Path, line: str) -> None:
    code, out = run("ask", "--json", "-", stdin=f"{line}\n{GOOD}\n")
    bad, good = (json.loads(text) for text in out.splitlines())
    assert code == 1
    assert set(bad) == {"question", "error"} and bad["error"]
    assert good["answered"] is True


def test_ask_text_mode_reports_bad_bytes_and_goes_on(data_dir: Path) -> None:
    code, out = run_bytes("ask", "-", stdin=b"\xc3\x28 Putin?\n" + GOOD.encode() + b"\n")
    assert code == 1
    assert out.startswith("error: the question is not valid UTF-8 text\n\n")
    assert "June 18" in out


def test_subprocess_stdin_with_a_bad_byte(data_dir: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "NEWSBOT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1",
           "XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "-"],
        input=b"Putin \xff\nWhen is Putin visiting?\n",
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert "Traceback" not in result.stderr.decode(), result.stderr.decode()
    bad, good = (json.loads(line) for line in result.stdout.decode().splitlines())
    assert bad["error"] == "the question is not valid UTF-8 text"
    assert good["question"] == "When is Putin visiting?" and "answered" in good
    assert result.returncode == 1


def test_console_survives_bad_bytes(data_dir: Path) -> None:
    code, out = run_bytes("console", stdin=b"Putin \xff\n" + GOOD.encode() + b"\n:quit\n")
    assert code == 0
    assert "Sorry, the question is not valid UTF-8 text." in out
    assert "June 18" in out


@pytest.mark.parametrize("value", ["0", "-3", "101", "many"])
def test_top_k_out_of_range_is_a_usage_error(
    value: str, data_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run("ask", "--top-k", value, GOOD)
    assert exit_info.value.code == 2
    assert "--top-k" in capsys.readouterr().err


def test_top_k_in_range_is_used(data_dir: Path) -> None:
    code, out = run("ask", "--json", "--top-k", "2", GOOD)
    assert code == 0 and len(json.loads(out)["results"]) <= 2


def test_an_empty_data_dir_setting_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("NEWSBOT_DATA_DIR", "")
    code, _ = run("index", str(SEEDS))
    err = capsys.readouterr().err
    assert code == 2
    assert "NEWSBOT_DATA_DIR" in err and "empty" in err
    assert list(tmp_path.iterdir()) == []  # nothing written into the working directory


@pytest.mark.parametrize("command", [["ask", GOOD], ["stats"], ["index", str(SEEDS)]])
def test_a_data_dir_that_is_a_file_is_named(
    command: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:  # fmt: skip
    (tmp_path / "data").write_text("not a directory")
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "data"))
    code, _ = run(*command)
    err = capsys.readouterr().err
    assert code == 2
    assert "NEWSBOT_DATA_DIR" in err and "not a directory" in err and "Traceback" not in err


@pytest.mark.parametrize("command", [["index", str(SEEDS)], ["feeds", "add", "https://a/rss"]])
def test_a_data_dir_that_cannot_be_created_is_named(
    command: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:  # fmt: skip
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "file" / "data"))
    code, _ = run(*command)
    err = capsys.readouterr().err
    assert code == 2
    assert f"NEWSBOT_DATA_DIR={tmp_path / 'file' / 'data'} is not a writable directory" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_data_dir_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    target = tmp_path / "data"
    target.mkdir(mode=0o500)
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(target))
    code, _ = run("index", str(SEEDS))
    assert code == 2
    assert "is not a writable directory: Permission denied" in capsys.readouterr().err


def test_an_unwritable_model_cache_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSBOT_MODEL_CACHE_DIR", str(tmp_path / "file" / "models"))
    code, _ = run("index", str(SEEDS))
    err = capsys.readouterr().err
    assert code == 1
    assert "NEWSBOT_MODEL_CACHE_DIR" in err and str(tmp_path / "file") in err
    assert "Traceback" not in err


@pytest.mark.parametrize("manifest", ["{not json", '{"unknown": 1}', "[]"])
def test_stats_on_a_bad_manifest_says_so(
    manifest: str, data_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    generation = (data_dir / "CURRENT").read_text().strip()
    (data_dir / generation / "manifest.json").write_text(manifest)
    code, _ = run("stats")
    err = capsys.readouterr().err
    assert code == 1
    # One line naming the damaged manifest and the recovery command (the integrity check
    # finds it before stats reads it), no traceback.
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert "manifest" in err and "newsbot index --existing" in err
