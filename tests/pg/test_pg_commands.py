"""The commands that read state with NEWSBOT_DATABASE_URL set read the database, not the
(empty) data directory: `newsbot health`, the webhook's /healthz probe, `newsbot feedback`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.health import HealthProbe
from bot.settings import Settings
from bot.telegram.shared_state import SharedConversationStore
from retrieval.index import update_index
from retrieval.sources import load_articles
from tests.conftest import SEEDS
from tests.pg.test_pg_store import BRIDGE, pg_writer


@pytest.fixture
def database(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """NEWSBOT_DATABASE_URL set, and NEWSBOT_DATA_DIR an empty directory."""
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "empty"))
    return database_url


def _run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), stdout=out), out.getvalue()


def test_health_and_the_probe_read_the_database(
    database: str, embedder, capsys: pytest.CaptureFixture
) -> None:
    assert _run("health")[0] == 1
    assert "nothing is indexed in postgresql://postgres:***@" in capsys.readouterr().err
    writer = pg_writer(database, embedder)
    update_index(writer, load_articles([SEEDS]))
    code, out = _run("health")
    assert code == 0 and "articles: 1 (" in out and "newest article: 2024-06-17" in out
    probe = HealthProbe(Settings(_env_file=None))  # type: ignore[call-arg]
    first = probe.report()
    assert (first["status"], first["articles"], first["newest_article"]) == ("ok", 1, "2024-06-17")
    update_index(writer, [BRIDGE])  # another machine adds an article: the probe sees it
    second = probe.report()
    assert second["articles"] == 2 and int(second["generation"]) > int(first["generation"])  # type: ignore[call-overload]
    writer.storage.close()  # type: ignore[attr-defined]


def test_feedback_lists_the_votes_every_replica_recorded(database: str, embedder) -> None:
    writer = pg_writer(database, embedder)
    writer.storage.migrate(embedder.dimension)  # type: ignore[attr-defined]
    store = SharedConversationStore(writer.storage.pool())  # type: ignore[attr-defined]
    recorded = store.record(7, "Who won?", "The home side. [1]", answered=True,
                            cited_urls=["https://news.test/match"], parent_id=None)  # fmt: skip
    exchange = store.get(recorded)
    assert exchange is not None
    store.add_feedback(exchange, 42, -1)
    code, out = _run("feedback", "--json")
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == [{
        "exchange_id": exchange.id, "user_id": 42, "vote": -1, "question": "Who won?",
        "answer": "The home side. [1]", "cited_urls": ["https://news.test/match"]}]  # fmt: skip
    writer.storage.close()  # type: ignore[attr-defined]


def test_feeds_poll_waits_its_turn_with_the_replicas(
    database: str, embedder, capsys: pytest.CaptureFixture
) -> None:
    from retrieval.pgstore import poll_lock

    writer = pg_writer(database, embedder)
    writer.storage.migrate(embedder.dimension)  # type: ignore[attr-defined]
    feed = "http://127.0.0.1:9/closed-feed.xml"  # nothing listens: the poll's read fails
    assert _run("feeds", "add", feed)[0] == 0
    capsys.readouterr()
    with poll_lock(writer.storage.pool()) as held:  # type: ignore[attr-defined]
        assert held  # a replica is polling
        assert _run("feeds", "poll")[0] == 0
        assert "Another process is polling the feeds now" in capsys.readouterr().err
    code, _ = _run("feeds", "poll")  # its turn: it reads the feed, which fails
    assert code == 1, code
    err = capsys.readouterr().err
    assert "Another process" not in err and "127.0.0.1:9" in err
    assert _run("feeds", "remove", feed)[0] == 0
    writer.storage.close()  # type: ignore[attr-defined]
