"""`newsbot eval --backend`: both stores side by side on a real PostgreSQL, in a throwaway
schema that leaves the database's own store alone."""

from __future__ import annotations

import json

import psycopg
import pytest

from bot.cli import main
from retrieval.index import update_index
from retrieval.sources import load_articles
from tests.conftest import ROOT, SEEDS
from tests.pg.test_pg_store import pg_writer
from tests.test_cli import run

GOLDEN = str(ROOT / "tests" / "data" / "seed_golden.json")


def _schemas(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'newsbot_scratch_%'"
        ).fetchall()
    return [r[0] for r in rows]


def test_eval_measures_both_backends_side_by_side(
    database_url: str, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = pg_writer(database_url, embedder)
    update_index(writer, load_articles([SEEDS]))  # the database's own store, in public
    before = writer.storage.reader().counts()  # type: ignore[attr-defined]
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", database_url)
    code, out = run("eval", "--json", "--compare", "hybrid", "--backend", "embedded,postgres",
                    GOLDEN)  # fmt: skip
    assert code == 0
    record = json.loads(out)
    assert record["backends"] == ["embedded", "postgres"]
    assert set(record["results"]) == {"hybrid (embedded)", "hybrid (embedded) +dates",
                                      "hybrid (postgres)", "hybrid (postgres) +dates"}  # fmt: skip
    for rows in ("hybrid ({}) +dates", "hybrid ({})"):
        embedded, postgres = (record["results"][rows.format(b)] for b in ("embedded", "postgres"))
        assert embedded["hit_at_5"] >= 0.9
        assert abs(postgres["hit_at_5"] - embedded["hit_at_5"]) <= 0.01
        assert abs(postgres["mrr_at_10"] - embedded["mrr_at_10"]) <= 0.01
    assert _schemas(database_url) == []  # dropped, with the passages in it
    assert writer.storage.reader().counts() == before  # type: ignore[attr-defined]
    writer.storage.close()  # type: ignore[attr-defined]


def test_eval_backend_needs_a_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.delenv("NEWSBOT_DATABASE_URL", raising=False)
    assert main(["eval", "--backend", "postgres", GOLDEN]) == 2
    assert "needs NEWSBOT_DATABASE_URL" in capsys.readouterr().err
    assert main(["eval", "--backend", "embedded,faiss", GOLDEN]) == 2
    assert "unknown backend(s) faiss" in capsys.readouterr().err
