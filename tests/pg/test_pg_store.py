"""The PostgreSQL store on a real PostgreSQL with pgvector: the same answers as the embedded
index, dates, updates, copies, two writers at once, a killed writer, and the import."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import psycopg

from retrieval.answering import Answerer, AnswerSettings
from retrieval.articles import Article
from retrieval.chunking import ChunkSettings
from retrieval.evaluation import FAR_FUTURE, evaluate, load_eval_set
from retrieval.index import EmbeddedStorage, IndexSpec, Writer, build_index, update_index
from retrieval.pgstore import PgStorage, import_embedded
from retrieval.sources import load_articles
from tests.conftest import FIXTURES, ROOT, SEEDS, HashingEmbedder

DATA = ROOT / "tests" / "data"
VECTOR_INDEX = "hnsw"  # the default


def pg_storage(url: str, embedder: object) -> PgStorage:
    spec = IndexSpec(embedder.name, ChunkSettings())  # type: ignore[attr-defined]
    return PgStorage(url, spec, vector_index=VECTOR_INDEX)


def pg_writer(url: str, embedder: object) -> Writer:
    storage = pg_storage(url, embedder)
    return Writer(Path("unused"), embedder, ChunkSettings(), storage=storage)  # type: ignore[arg-type]


def _article(url: str, text: str, title: str = "Dam Opens", day: int = 1) -> Article:
    return Article(url, title, "Example", date(2024, 3, day), tuple(text.split("\n\n")))


DAM = _article(
    "https://news.test/dam",
    "The new hydroelectric dam on the river opened on Monday after a decade of work.",
)
BRIDGE = _article("https://news.test/bridge",
                  "A suspension bridge over the bay was closed for repairs after inspectors "
                  "found cracks.", title="Bridge Closed", day=5)  # fmt: skip


def test_migrate_status_and_an_empty_database(database_url: str, hashing_embedder) -> None:
    storage = pg_storage(database_url, hashing_embedder)
    assert storage.version() is None
    assert storage.status()["schema_version"] == 0
    applied = storage.migrate(hashing_embedder.dimension)
    assert [name.split(":")[0] for name in applied] == ["1", "2", "3", "4"]
    assert storage.migrate(hashing_embedder.dimension) == []  # applied once
    status = storage.status()
    assert status["schema_version"] == status["latest_schema"] == 4
    assert status["articles"] == 0
    assert storage.version() is None  # migrated, nothing indexed yet
    storage.close()


def test_same_seed_answers_as_the_embedded_index(
    database_url: str, embedder, seed_answerer: Answerer, seed_day: date
) -> None:
    writer = pg_writer(database_url, embedder)
    report = update_index(writer, load_articles([SEEDS]))  # migrates the empty database
    assert len(report.added) == 1
    answerer = Answerer(writer.storage, embedder, AnswerSettings())
    for question, as_of in [
        ("When is Putin visiting Pyongyang?", seed_day),
        ("Where will Putin go after North Korea?", date(2024, 6, 18)),
        ("Who won the 2018 FIFA World Cup?", seed_day),
    ]:
        ours = answerer.answer(question, as_of=as_of)
        theirs = seed_answerer.answer(question, as_of=as_of)
        assert ours.text == theirs.text
        assert [r.passage_id for r in ours.results] != [] or not theirs.results
        assert [(r.url, r.text) for r in ours.results] == [(r.url, r.text) for r in theirs.results]
    assert "June 18–19, 2024" in answerer.answer("When is Putin visiting Pyongyang?",
                                                 as_of=seed_day).text  # fmt: skip
    writer.storage.close()


def test_golden_set_matches_the_embedded_index(database_url: str, embedder, tmp_path) -> None:
    eval_set = load_eval_set(DATA / "seed_golden.json")
    build_index(tmp_path, eval_set.articles, embedder, ChunkSettings())
    embedded = Answerer(EmbeddedStorage(tmp_path, IndexSpec(embedder.name, ChunkSettings())),
                        embedder, AnswerSettings())  # fmt: skip
    writer = pg_writer(database_url, embedder)
    update_index(writer, eval_set.articles)
    shared = Answerer(writer.storage, embedder, AnswerSettings())
    figures = {}
    for name, answerer in (("embedded", embedded), ("postgres", shared)):
        figures[name] = evaluate(
            lambda q: answerer.answer(q.question, top_k=10, as_of=q.date or FAR_FUTURE),  # noqa: B023
            eval_set.questions,
        )
    print(figures)
    assert figures["postgres"].hit_at_5 >= 0.95
    assert abs(figures["postgres"].hit_at_5 - figures["embedded"].hit_at_5) <= 0.01
    assert abs(figures["postgres"].mrr_at_10 - figures["embedded"].mrr_at_10) <= 0.01
    writer.storage.close()


def test_dates_filter_in_sql(database_url: str, hashing_embedder) -> None:
    writer = pg_writer(database_url, hashing_embedder)
    update_index(writer, [DAM, BRIDGE])
    reader = writer.storage.reader()
    assert [i for i, _ in reader.keyword_search(["bridge"], 5, date(2024, 3, 5))]
    assert reader.keyword_search(["bridge"], 5, date(2024, 3, 4)) == []
    answerer = Answerer(writer.storage, hashing_embedder, AnswerSettings(threshold=-1.0))
    early = answerer.answer("bridge closed for repairs", as_of=date(2024, 3, 2))
    assert all(r.published <= date(2024, 3, 2) for r in early.results)
    assert "https://news.test/bridge" not in [r.url for r in early.results]
    late = answerer.answer("bridge closed for repairs", as_of=date(2024, 3, 9))
    assert late.results[0].url == "https://news.test/bridge"
    writer.storage.close()


def test_add_update_remove_and_copies(database_url: str, hashing_embedder) -> None:
    writer = pg_writer(database_url, hashing_embedder)
    first = update_index(writer, [DAM])
    assert first.added == [DAM.url]
    version = writer.storage.version()
    assert update_index(writer, [DAM]).unchanged == [DAM.url]
    assert writer.storage.version() == version  # nothing written
    changed = _article(DAM.url, "The dam opened on Tuesday, a day late.\n\nIt cost a fortune.")
    assert update_index(writer, [changed]).updated == [DAM.url]
    reader = writer.storage.reader()
    assert reader.version != version
    assert reader.counts() == {"articles": 1, "passages": 1}
    copy = _article("https://mirror.test/dam", BRIDGE.paragraphs[0])
    twin = _article("https://other.test/dam", BRIDGE.paragraphs[0])
    report = update_index(writer, [BRIDGE, copy])  # a copy within the batch
    assert report.added == [BRIDGE.url] and report.duplicates == [(copy.url, BRIDGE.url)]
    assert update_index(writer, [twin]).duplicates == [(twin.url, BRIDGE.url)]  # and later
    assert update_index(writer, [copy]).unchanged == [copy.url]
    listed = {a.url: a.aliases for a in writer.storage.reader().list_articles()}
    assert listed == {DAM.url: (), BRIDGE.url: (copy.url, twin.url)}
    assert writer.storage.reader().find(twin.url).url == BRIDGE.url
    removed = update_index(writer, [], remove=[DAM.url, "https://news.test/never"])
    assert removed.removed == [DAM.url] and removed.not_found == ["https://news.test/never"]
    reader = writer.storage.reader()
    assert reader.find(DAM.url) is None
    assert reader.counts()["articles"] == 1
    with psycopg.connect(database_url) as conn:  # nothing of the removed article is left
        for table in ("passages", "passage_terms", "sentence_vectors"):
            orphans = conn.execute(
                f"SELECT count(*) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM passages p"
                " JOIN articles a ON a.id = p.article_id"
                f" WHERE p.id = t.{'id' if table == 'passages' else 'passage_id'})"
            ).fetchone()
            assert orphans == (0,)
        state = conn.execute("SELECT passages FROM store_state").fetchone()
        assert state == conn.execute("SELECT count(*) FROM passages").fetchone()
    writer.storage.close()


class SlowEmbedder(HashingEmbedder):
    """The hashing embedder, taking its time: two writers' batches overlap."""

    def token_vectors(self, texts: list[str], batch_size: int = 64) -> list:
        time.sleep(0.3)
        return super().token_vectors(texts, batch_size)


def test_two_writers_at_once_both_land_without_duplicates(database_url: str) -> None:
    articles = [_article(f"https://news.test/{n}", f"Story number {n} about topic {n * 7}.",
                         title=f"Story {n}", day=1 + n % 20) for n in range(12)]  # fmt: skip
    shared = articles[4:8]  # both writers carry these
    batches = [articles[:8], articles[4:]]
    errors: list[BaseException] = []

    def run(batch: list[Article]) -> None:
        try:
            update_index(pg_writer(database_url, SlowEmbedder()), batch)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with psycopg.connect(database_url) as conn:
        urls = [r[0] for r in conn.execute("SELECT url FROM articles ORDER BY url")]
        assert sorted(urls) == sorted(a.url for a in articles)
        per_article = conn.execute(
            "SELECT count(*) FROM passages GROUP BY article_id HAVING count(*) > 1"
        ).fetchall()
        assert per_article == []
        assert conn.execute("SELECT version FROM store_state").fetchone() == (2,)
    assert {a.url for a in shared} <= set(urls)


KILLABLE = """
import sys, time
from pathlib import Path
from retrieval.chunking import ChunkSettings
from retrieval.index import IndexSpec, Writer
from retrieval.ingest import ingest
from retrieval.pgstore import PgStorage
from tests.conftest import HashingEmbedder

class Marking(HashingEmbedder):
    calls = 0
    def token_vectors(self, texts, batch_size=64):
        Marking.calls += 1
        if Marking.calls == 3:  # two batches committed, the third is being embedded
            Path(sys.argv[3]).write_text("ready")
            time.sleep(60)
        return super().token_vectors(texts, batch_size)

embedder = Marking()
spec = IndexSpec(embedder.name, ChunkSettings())
storage = PgStorage(sys.argv[1], spec, vector_index=sys.argv[4])
writer = Writer(Path("unused"), embedder, ChunkSettings(), storage=storage)
print(ingest([sys.argv[2]], writer, None, commit_every=2).line())
"""


def test_a_killed_writer_loses_only_its_open_batch(database_url: str, tmp_path: Path) -> None:
    source = tmp_path / "articles.jsonl"
    source.write_text("".join(
        f'{{"url": "https://news.test/k{n}", "title": "Story {n}", "published": "2024-03-0{n}",'
        f' "text": "Killed writer story {n} about the number {n * 11}."}}\n' for n in range(1, 8)
    ))  # fmt: skip
    ready = tmp_path / "ready"
    script = tmp_path / "killable.py"
    script.write_text(KILLABLE)
    command = [sys.executable, str(script), database_url, str(source), str(ready), VECTOR_INDEX]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert process.poll() is None, process.stderr.read().decode()  # type: ignore[union-attr]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone() == (4,)
    rerun = [sys.executable, "-c", KILLABLE.replace("Marking.calls == 3", "False"), database_url,
             str(source), str(ready), VECTOR_INDEX]  # fmt: skip
    done = subprocess.run(rerun, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "added 3, updated 0, unchanged 4" in done.stdout
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT url) FROM articles").fetchone() == (
            7,
            7,
        )
        assert conn.execute("SELECT passages FROM store_state").fetchone() == conn.execute(
            "SELECT count(*) FROM passages").fetchone()  # fmt: skip


def test_import_moves_an_embedded_index_without_reembedding(
    database_url: str, tmp_path: Path, embedder
) -> None:
    articles = load_articles([SEEDS, FIXTURES / "changing_story.jsonl",
                              FIXTURES / "syndicated.jsonl"])  # fmt: skip
    build_index(tmp_path, articles, embedder, ChunkSettings())
    spec = IndexSpec(embedder.name, ChunkSettings())
    embedded = EmbeddedStorage(tmp_path, spec)
    copy = Article("https://mirror.test/putin", articles[0].title, "Mirror", articles[0].published,
                   articles[0].paragraphs)  # fmt: skip
    update_index(Writer(tmp_path, embedder, ChunkSettings(), storage=embedded), [copy])
    storage = pg_storage(database_url, embedder)
    report = import_embedded(tmp_path, storage, spec)
    assert report.articles == embedded.reader().counts()["articles"]
    assert report.aliases == 1
    assert storage.reader().find(copy.url).url == articles[0].url
    assert storage.reader().counts() == embedded.reader().counts()
    again = import_embedded(tmp_path, storage, spec)  # a stopped import is completed by a rerun
    assert again.articles == 0 and again.unchanged == report.articles
    ours = Answerer(storage, embedder, AnswerSettings())
    theirs = Answerer(embedded, embedder, AnswerSettings())
    question = "When is Putin visiting Pyongyang?"
    assert ours.answer(question, as_of=date(2024, 6, 17)).text == theirs.answer(
        question, as_of=date(2024, 6, 17)).text  # fmt: skip
    storage.close()
