"""Embedding progress: the count reaches its total, on a terminal and in a log."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from bot.progress import ProgressPrinter
from retrieval.articles import Article
from retrieval.chunking import ChunkSettings
from retrieval.index import (
    BuildProgress,
    IndexSpec,
    Writer,
    build_index,
    encoding,
    open_index,
    update_index,
)
from tests.conftest import HashingEmbedder


def _articles(count: int, prefix: str = "a") -> list[Article]:
    return [
        Article(
            url=f"https://example.com/{prefix}{n}",
            title=f"Report number {n}",
            source="Example",
            published=date(2024, 1, 1 + n % 28),
            paragraphs=tuple(
                f"Paragraph {p} of report {n} says that item {n * 7 + p} moved "
                f"{'far ' * (p + n % 5)}across the harbour on Tuesday."
                for p in range(1 + n % 4)
            ),
        )
        for n in range(count)
    ]


@pytest.fixture
def small_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows of 5 passages (with model calls of 2), so a tiny build spans many of each."""
    monkeypatch.setattr(encoding, "WINDOW_PASSAGES", 5)


def test_build_progress_reaches_its_total(
    tmp_path: Path, hashing_embedder: HashingEmbedder, small_windows: None
) -> None:
    reports: list[BuildProgress] = []
    articles = _articles(23)
    manifest = build_index(tmp_path, articles, hashing_embedder, ChunkSettings(), batch_size=2,
                           progress=reports.append)  # fmt: skip
    done = [r.passages_done for r in reports]
    assert len(reports) > 5 and done == sorted(set(done))  # many steps, each further on
    assert done[-1] == reports[-1].passages_total == manifest.passages
    assert reports[-1].articles_done == reports[-1].articles_total == len(articles)
    assert {r.passages_total for r in reports} == {manifest.passages}


def test_windows_do_not_change_the_vectors(
    tmp_path: Path, hashing_embedder: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles = _articles(17)
    build_index(tmp_path / "whole", articles, hashing_embedder, ChunkSettings())
    monkeypatch.setattr(encoding, "WINDOW_PASSAGES", 3)
    build_index(tmp_path / "windows", articles, hashing_embedder, ChunkSettings(), batch_size=2)
    spec = IndexSpec(hashing_embedder.name, ChunkSettings())
    whole, windows = open_index(tmp_path / "whole", spec), open_index(tmp_path / "windows", spec)
    ids = list(range(1, whole.size + 1))
    assert whole.size == windows.size > 17
    assert np.allclose(whole.vectors.reconstruct_batch(ids), windows.vectors.reconstruct_batch(ids))
    first, second = whole.store.sentence_vectors(ids), windows.store.sentence_vectors(ids)
    assert first.keys() == second.keys() and all(np.allclose(first[i], second[i]) for i in ids)
    assert [p.text for p in whole.store.passages(ids).values()] == [
        p.text for p in windows.store.passages(ids).values()
    ]


def test_update_progress_reaches_its_total(
    tmp_path: Path, hashing_embedder: HashingEmbedder, small_windows: None
) -> None:
    build_index(tmp_path, _articles(3), hashing_embedder, ChunkSettings())
    reports: list[BuildProgress] = []
    writer = Writer(tmp_path, hashing_embedder, ChunkSettings(), batch_size=2,
                    progress=reports.append)  # fmt: skip
    report = update_index(writer, _articles(9, prefix="b"))
    assert reports[-1].passages_done == reports[-1].passages_total == report.passages > 0


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stream", [io.StringIO(), _Terminal()], ids=["log", "terminal"])
def test_printer_shows_done_of_total_rate_and_time_left(stream: io.StringIO) -> None:
    printer = ProgressPrinter(stream, every=0.0)
    for done in (100, 250, 400):
        printer(BuildProgress(done // 10, 40, done, 400, elapsed=done / 50))
    output = stream.getvalue()
    assert "400/400" in output
    if isinstance(stream, _Terminal):  # a tqdm bar redrawn in place, timed by tqdm's clock
        assert "\r" in output and "embedding" in output and "passages/s" in output
    else:
        lines = output.splitlines()
        assert lines[0] == ("embedding: articles 10/40, passages 100/400, 50 passages/s, "
                            "0:06 left")  # fmt: skip
        assert lines[-1].endswith("400/400, 50 passages/s, 0:00 left")
