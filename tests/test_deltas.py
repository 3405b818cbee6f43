"""Commits that append: a generation as a shared base plus deltas, merged on a schedule."""

# The fixtures of test_recovery are imported, then named as parameters.
# ruff: noqa: F811

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from retrieval.chunking import ChunkSettings
from retrieval.index import Writer, current_generation, deltas, keywords, open_index
from retrieval.index import update_index as update
from retrieval.index.deltas import VECTOR_DELTA
from retrieval.index.keywords import KEYWORD_DELTA, KEYWORDS
from retrieval.index.postings import read_postings, save_keywords
from retrieval.index.vectors import contents
from tests.conftest import ROOT, HashingEmbedder
from tests.test_keywords import _articles, _check_same_as_fts5
from tests.test_recovery import (  # noqa: F401  (fixtures)
    KILLER,
    QUESTION,
    REPORTS,
    data_dir,
    run,
    stderr,
    story_urls,
    two_generations,
    urls,
)

# Every commit onto a live generation appends, however small the index.
APPEND_ALWAYS = "from retrieval.index import deltas, keywords\n" + (
    "deltas.DELTA_MIN_PASSAGES = 1; deltas.DELTA_SHARE = 1e9; keywords.MIN_PASSAGES = 1\n"
)


@pytest.fixture
def appending(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deltas, "DELTA_MIN_PASSAGES", 1)
    monkeypatch.setattr(deltas, "DELTA_SHARE", 1e9)
    monkeypatch.setattr(keywords, "MIN_PASSAGES", 1)


@pytest.fixture
def writer(tmp_path: Path) -> Writer:
    return Writer(tmp_path / "data", HashingEmbedder(), ChunkSettings())


def live(writer: Writer) -> Path:
    return writer.data_dir / str(current_generation(writer.data_dir))


def whole_copy(writer: Writer, tmp_path: Path) -> Path:
    """The same articles as the live generation, written as one whole generation."""
    reader = open_index(writer.data_dir, writer.spec)
    again = Writer(tmp_path / "whole", writer.embedder, writer.chunking)
    update(again, reader.store.all_articles())
    reader.close()
    return live(again)


def test_a_commit_copies_the_base_and_writes_only_what_changed(
    appending: None, writer: Writer, tmp_path: Path
) -> None:
    first, second, third = _articles(80, seed=1), _articles(30, seed=2), _articles(20, seed=3)
    update(writer, first)
    base = live(writer)
    assert not (base / VECTOR_DELTA).exists()  # a first write is whole
    saved = {name: (base / name).read_bytes() for name in ("vectors.faiss", KEYWORDS)}
    inodes = {name: (base / name).stat().st_ino for name in saved}
    update(writer, second, remove=[a.url for a in first[:10]])
    update(writer, third, remove=[second[0].url, first[10].url])
    top = live(writer)
    for name, content in saved.items():
        assert (top / name).read_bytes() == content  # the base unchanged, in a file of its own
        assert (top / name).stat().st_ino != inodes[name]
    assert (top / VECTOR_DELTA).exists() and (top / KEYWORD_DELTA).exists()
    reader = open_index(writer.data_dir, writer.spec)
    ids, vectors = contents(reader.vectors)
    stored = reader.store.counts()["passages"]
    assert len(ids) == len(set(ids.tolist())) == stored == reader.manifest.passages
    assert set(reader.store.passages(ids.tolist())) == set(ids.tolist())
    # The same vectors, postings and rankings as a generation written whole.
    whole = open_index(whole_copy(writer, tmp_path).parent, writer.spec)
    whole_ids, whole_vectors = contents(whole.vectors)
    by_text = {p.text: i for i, p in reader.store.passages(ids.tolist()).items()}
    row = {i: n for n, i in enumerate(ids.tolist())}
    for n, passage in whole.store.passages(whole_ids.tolist()).items():
        mine = by_text[passage.text]
        position = whole_ids.tolist().index(n)
        assert np.allclose(vectors[row[mine]], whole_vectors[position])
    merged = read_postings(top / KEYWORDS, top / KEYWORD_DELTA)
    save_keywords(top / "store.sqlite", tmp_path / "fresh.npz")
    fresh = read_postings(tmp_path / "fresh.npz")
    assert np.array_equal(merged.ids, fresh.ids) and np.array_equal(merged.days, fresh.days)
    assert _postings(merged) == _postings(fresh)
    _check_same_as_fts5(writer.data_dir)
    query = writer.embedder.encode(["dam flood river"])[0]
    assert [s for _, s in reader.search(query, 5)] == pytest.approx(
        [s for _, s in whole.search(query, 5)], abs=1e-5
    )


def _postings(data) -> set[tuple[str, int, int]]:  # type: ignore[no-untyped-def]
    terms = np.array(data.terms, dtype=object)[data.term_ids]
    return set(zip(terms.tolist(), data.pids.tolist(), data.counts.tolist(), strict=True))


def test_changes_past_the_share_are_merged_into_a_new_base(
    monkeypatch: pytest.MonkeyPatch, writer: Writer
) -> None:
    monkeypatch.setattr(deltas, "DELTA_MIN_PASSAGES", 1)
    monkeypatch.setattr(keywords, "MIN_PASSAGES", 1)
    update(writer, _articles(100, seed=4))
    inode = (live(writer) / "vectors.faiss").stat().st_ino
    update(writer, _articles(5, seed=5))  # a few passages onto about 150: appended
    assert (live(writer) / VECTOR_DELTA).exists()
    update(writer, _articles(60, seed=6))  # past a quarter of the base: merged
    merged = live(writer)
    assert not (merged / VECTOR_DELTA).exists() and not (merged / KEYWORD_DELTA).exists()
    assert (merged / "vectors.faiss").stat().st_ino != inode
    reader = open_index(writer.data_dir, writer.spec)
    assert reader.size == reader.store.counts()["passages"] == reader.manifest.passages
    assert reader.store.counts()["articles"] == 165


def test_small_indexes_are_written_whole(writer: Writer) -> None:
    update(writer, _articles(40, seed=7))
    update(writer, _articles(5, seed=8))
    assert not (live(writer) / VECTOR_DELTA).exists()
    assert len(list(writer.data_dir.glob("gen-*/vectors.faiss"))) == 2
    first, second = sorted(writer.data_dir.glob("gen-*/vectors.faiss"))
    assert first.stat().st_ino != second.stat().st_ino


def test_an_unchanged_base_keeps_its_checksums(appending: None, writer: Writer) -> None:
    update(writer, _articles(50, seed=9))
    before = json.loads((live(writer) / "manifest.json").read_text())["files"]
    update(writer, _articles(5, seed=10))
    after = json.loads((live(writer) / "manifest.json").read_text())["files"]
    assert after["vectors.faiss"] == before["vectors.faiss"]
    assert set(after) >= {VECTOR_DELTA, KEYWORD_DELTA, "store.sqlite"}


# --- the new crash windows and damage ---------------------------------------------------


@pytest.fixture
def appended(appending: None, two_generations: Path) -> Path:
    """The two generations of test_recovery, gen-000003 a delta on gen-000002's base."""
    assert run("add", str(REPORTS))[0] == 0
    assert (two_generations / "gen-000003" / VECTOR_DELTA).exists()
    return two_generations


@pytest.mark.parametrize("target", [VECTOR_DELTA, KEYWORD_DELTA, KEYWORDS, "vectors.faiss"])
def test_a_writer_killed_while_appending_leaves_the_previous_index(
    appending: None, two_generations: Path, stderr, target: str
) -> None:
    env = {**os.environ, "NEWSBOT_DATA_DIR": str(two_generations)}
    script = APPEND_ALWAYS + KILLER
    command = [sys.executable, "-c", script, str(two_generations), target, "add", str(REPORTS)]
    process = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, timeout=300)
    assert process.returncode == -signal.SIGKILL, process.stderr.decode()
    assert (two_generations / "CURRENT").read_text().strip() == "gen-000002"
    code, out = run("ask", "--json", "--as-of", "2024-06-01", QUESTION)
    err = stderr()
    assert code == 0 and "damaged" not in err and "Traceback" not in err, err
    assert json.loads(out)["citations"][0]["url"] in story_urls()
    assert run("add", str(REPORTS))[0] == 0  # the rerun completes the commit
    assert len(urls()) == 6
    assert (two_generations / "gen-000003" / VECTOR_DELTA).exists()


def test_a_damaged_delta_falls_back_to_the_generation_before(appended: Path, stderr) -> None:
    delta = appended / "gen-000003" / VECTOR_DELTA
    delta.write_bytes(delta.read_bytes()[:100])
    code, out = run("ask", "--json", "--as-of", "2024-06-01", QUESTION)
    err = stderr()
    assert code == 0, err
    assert "gen-000003" in err and "damaged" in err and VECTOR_DELTA in err
    assert json.loads(out)["citations"][0]["url"] in story_urls()  # gen-000002 holds it


def test_a_damaged_base_falls_back_to_the_generation_before(appended: Path, stderr) -> None:
    base = appended / "gen-000003" / "vectors.faiss"
    before = appended / "gen-000002" / "vectors.faiss"
    assert base.read_bytes() == before.read_bytes()  # the same base, in a file of its own
    with open(base, "r+b") as handle:
        handle.write(b"\x00garbage-header\x00")
    code, out = run("ask", "--json", "--as-of", "2024-06-01", QUESTION)
    err = stderr()
    assert code == 0, err
    assert "gen-000003" in err and "damaged" in err and "vectors.faiss" in err
    assert json.loads(out)["citations"][0]["url"] in story_urls()  # gen-000002 holds it
    assert before.read_bytes() != base.read_bytes()  # the damage stayed in gen-000003
