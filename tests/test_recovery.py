"""Nothing lost: a missing or bad `CURRENT`, damaged files, killed writers, risky rebuilds."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import FIXTURES, ROOT, SEED_URL, SEEDS

STORY = FIXTURES / "changing_story.jsonl"
REPORTS = FIXTURES / "disagreeing_reports.jsonl"
QUESTION = "Where will the Northland-Southland summit be held?"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(directory))
    return directory


@pytest.fixture
def stderr(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture):  # type: ignore[no-untyped-def]
    """What a command said on stderr since last asked: its own lines and its log records
    (pytest takes the records, which in a real run go to stderr)."""

    def said() -> str:
        text = capsys.readouterr().err + caplog.text
        caplog.clear()
        return text

    return said


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), stdin=io.StringIO(), stdout=out), out.getvalue()


def urls() -> set[str]:
    code, out = run("list", "--json")
    assert code == 0
    return {json.loads(line)["url"] for line in out.splitlines()}


def story_urls() -> set[str]:
    return {json.loads(line)["url"] for line in STORY.read_text().splitlines()}


@pytest.fixture
def two_generations(data_dir: Path, stderr) -> Path:
    """gen-000001 holds the seed article, gen-000002 (live) also the changing story."""
    assert run("index", str(SEEDS))[0] == 0
    assert run("add", str(STORY))[0] == 0
    stderr()
    assert (data_dir / "CURRENT").read_text().strip() == "gen-000002"
    return data_dir


def generations(data_dir: Path) -> list[str]:
    return sorted(p.name for p in data_dir.glob("gen-*"))


def assert_one_clean_line(err: str, *words: str) -> None:
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if all(w in line for w in words)]
    assert lines, err


# --- a missing or empty CURRENT ---------------------------------------------------------


@pytest.mark.parametrize("pointer", ["missing", "empty"])
@pytest.mark.parametrize("command", ["add", "index --existing", "ask"])
def test_lost_current_recovers_from_the_newest_complete_generation(
    two_generations: Path, stderr, pointer: str, command: str
) -> None:
    current = two_generations / "CURRENT"
    if pointer == "missing":
        current.unlink()
    else:
        current.write_text("")
    if command == "add":
        code, _ = run("add", str(REPORTS))
    elif command == "ask":
        code, out = run("ask", "--json", "--as-of", "2024-06-01", QUESTION)
        assert json.loads(out)["citations"][0]["url"] in story_urls()
    else:
        code, _ = run("index", "--existing", str(SEEDS))
    err = stderr()
    assert code == 0, err
    assert_one_clean_line(err, "CURRENT", "gen-000002")
    expected = {SEED_URL} | story_urls()
    if command == "add":
        expected |= {json.loads(line)["url"] for line in REPORTS.read_text().splitlines()}
    assert urls() == expected
    assert "gen-000002" in generations(two_generations)  # the generation recovered from stays


def test_lost_current_with_no_complete_generation_refuses_and_deletes_nothing(
    two_generations: Path, stderr
) -> None:
    (two_generations / "CURRENT").unlink()
    (two_generations / "gen-000002" / "manifest.json").unlink()
    (two_generations / "gen-000001" / "vectors.faiss").write_bytes(b"not an index")
    for argv in (["add", str(REPORTS)], ["ask", QUESTION], ["stats"]):
        code, _ = run(*argv)
        err = stderr()
        assert code == 1, (argv, err)
        assert_one_clean_line(err, "error:", "CURRENT", "gen-000002", "gen-000001")
    assert generations(two_generations) == ["gen-000001", "gen-000002"]
    # The rebuild reads the newest store that checks out, and still deletes nothing.
    code, _ = run("index", "--existing")
    err = stderr()
    assert code == 0, err
    assert_one_clean_line(err, "CURRENT", "rebuilding from the articles in gen-000002")
    assert urls() == {SEED_URL} | story_urls()
    assert generations(two_generations) == ["gen-000001", "gen-000002", "gen-000003"]


def test_run_with_a_lost_current_does_not_rebuild_from_seeds(
    two_generations: Path, stderr, monkeypatch: pytest.MonkeyPatch
) -> None:
    (two_generations / "CURRENT").unlink()
    monkeypatch.chdir(ROOT)  # `run` indexes seeds/ when there is no index at all
    code = main(["run"], stdin=io.StringIO(":quit\n"), stdout=io.StringIO())
    err = stderr()
    assert code == 0, err
    assert "No index yet" not in err
    assert urls() == {SEED_URL} | story_urls()


# --- CURRENT naming something else ------------------------------------------------------


@pytest.mark.parametrize("target", ["relative", "absolute", "symlink", "not-a-generation"])
def test_current_outside_the_data_directory_is_refused(
    data_dir: Path, tmp_path: Path, stderr, target: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(elsewhere))
    assert run("index", str(STORY))[0] == 0
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(data_dir))
    assert run("index", str(SEEDS))[0] == 0
    stderr()
    pointer = {
        "relative": "../elsewhere/gen-000001",
        "absolute": str(elsewhere / "gen-000001"),
        "symlink": "gen-000009",
        "not-a-generation": "store",
    }[target]
    if target == "symlink":
        (data_dir / "gen-000009").symlink_to(elsewhere / "gen-000001")
    if target == "not-a-generation":
        shutil.copytree(data_dir / "gen-000001", data_dir / "store")
    (data_dir / "CURRENT").write_text(pointer + "\n")
    for argv in (["ask", QUESTION], ["stats"], ["add", str(REPORTS)]):
        code, out = run(*argv)
        err = stderr()
        assert code == 1, (argv, out, err)
        assert_one_clean_line(err, "error:", "CURRENT")
        assert "Vienna" not in out


# --- refusals that would lose articles --------------------------------------------------


def test_a_mismatch_names_the_rebuild_that_keeps_articles(
    two_generations: Path, stderr, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSBOT_MAX_PASSAGE_TOKENS", "200")
    assert run("ask", QUESTION)[0] == 1
    err = stderr()
    assert "`newsbot index --existing`" in err
    assert "run `newsbot index` " not in err and "run `newsbot index`:" not in err
    assert run("index", "--existing")[0] == 0
    assert urls() == {SEED_URL} | story_urls()


def test_plain_index_refuses_to_drop_articles_not_in_its_sources(
    two_generations: Path, stderr
) -> None:
    code, _ = run("index", str(SEEDS))
    err = stderr()
    assert code == 1
    assert_one_clean_line(err, "error:", "3 articles", "--replace", "--existing")
    assert generations(two_generations)[-1] == "gen-000002"
    assert urls() == {SEED_URL} | story_urls()
    assert run("index", str(SEEDS), str(STORY))[0] == 0  # everything is in the sources
    assert run("index", "--replace", str(SEEDS))[0] == 0
    assert urls() == {SEED_URL}


def test_index_existing_keeps_the_urls_of_copies(data_dir: Path, tmp_path: Path, stderr) -> None:
    first = json.loads(STORY.read_text().splitlines()[0])
    copy = tmp_path / "copy.jsonl"
    copy.write_text(json.dumps({**first, "url": "https://mirror.test/geneva-summit"}) + "\n")
    assert run("index", str(STORY))[0] == 0
    assert run("add", str(copy))[0] == 0

    def aliases() -> dict[str, list[str]]:
        _, out = run("list", "--json")
        return {r["url"]: r["other_urls"] for r in map(json.loads, out.splitlines())}

    before = aliases()
    assert before[first["url"]] == ["https://mirror.test/geneva-summit"]
    assert run("index", "--existing")[0] == 0
    assert aliases() == before
    stderr()
    run("add", str(copy))
    assert "duplicates 0" in stderr()  # known: not fetched or added again


# --- damaged files ----------------------------------------------------------------------


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _bad_header(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[:16] = b"\x00garbage-header\x00"
    path.write_bytes(bytes(data))


def _flip_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(data))


DAMAGE = {
    "faiss-truncated": ("vectors.faiss", _truncate),
    "faiss-header": ("vectors.faiss", _bad_header),
    "faiss-bytes": ("vectors.faiss", _flip_middle),
    "sqlite-truncated": ("store.sqlite", _truncate),
    "sqlite-header": ("store.sqlite", _bad_header),
    "manifest-garbage": ("manifest.json", lambda p: p.write_text("{not json")),
    "manifest-missing": ("manifest.json", lambda p: p.unlink()),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_generation_falls_back_and_names_the_recovery(
    two_generations: Path, stderr, damage: str
) -> None:
    name, spoil = DAMAGE[damage]
    spoil(two_generations / "gen-000002" / name)
    code, out = run("ask", "--json", "--as-of", "2024-06-18", "When is Putin visiting?")
    err = stderr()
    assert code == 0, err
    assert json.loads(out)["citations"][0]["url"] == SEED_URL  # from gen-000001
    assert_one_clean_line(err, "gen-000002", "damaged", name, "newsbot index --existing")
    code, out = run("stats", "--json")
    err = stderr()
    assert code == 0, err
    assert json.loads(out)["generation"] == 1
    assert_one_clean_line(err, "gen-000002", "damaged", name)
    code, _ = run("add", str(REPORTS))
    err = stderr()
    assert code == 1
    assert_one_clean_line(err, "error:", "gen-000002", "damaged", "newsbot index --existing")
    code, _ = run("index", "--existing")
    err = stderr()
    assert code == 0, err
    assert "Traceback" not in err
    # The store of the damaged generation still holds the story unless it is what broke.
    kept = {SEED_URL} if name == "store.sqlite" else {SEED_URL} | story_urls()
    assert urls() == kept
    code, out = run("ask", "--json", "--as-of", "2024-06-01", QUESTION)
    assert code == 0 and "damaged" not in stderr()


def test_the_last_two_complete_generations_are_kept(two_generations: Path) -> None:
    assert run("add", str(REPORTS))[0] == 0
    assert generations(two_generations) == ["gen-000002", "gen-000003"]


# --- writers killed while writing each file --------------------------------------------

KILLER = """
import os, signal, sys, threading, time
from pathlib import Path

data_dir, target = Path(sys.argv[1]), sys.argv[2]

def watch():
    while True:
        for build in data_dir.glob(".build-*"):
            path = build / target
            if path.exists() and path.stat().st_size > 0:
                os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.0005)

replace = os.replace

def replace_then_die(source, destination):
    if target == "CURRENT" and str(destination).endswith("CURRENT"):
        os.kill(os.getpid(), signal.SIGKILL)  # the new CURRENT is written, not yet swapped
    replace(source, destination)

os.replace = replace_then_die
if target != "CURRENT":
    threading.Thread(target=watch, daemon=True).start()
from bot.cli import main
sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.parametrize("target", ["store.sqlite", "vectors.faiss", "manifest.json", "CURRENT"])
def test_a_writer_killed_while_writing_leaves_the_previous_index(
    two_generations: Path, stderr, target: str
) -> None:
    env = {**os.environ, "NEWSBOT_DATA_DIR": str(two_generations)}
    command = [sys.executable, "-c", KILLER, str(two_generations), target, "add", str(REPORTS)]
    process = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, timeout=300)
    assert process.returncode == -signal.SIGKILL, process.stderr.decode()
    assert (two_generations / "CURRENT").read_text().strip() == "gen-000002"
    code, out = run("ask", "--json", "--as-of", "2024-06-01", QUESTION)
    err = stderr()
    assert code == 0 and "damaged" not in err and "Traceback" not in err, err
    assert json.loads(out)["citations"][0]["url"] in story_urls()
    assert run("add", str(REPORTS))[0] == 0
    assert len(urls()) == 6
