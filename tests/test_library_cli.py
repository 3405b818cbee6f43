"""`newsbot add/remove/list/stats/feeds` against a local web site, and crash safety."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli import main
from retrieval.chunking import ChunkSettings
from retrieval.index import IndexSpec, Writer, build_index, open_index, update_index
from retrieval.sources import load_articles
from tests.conftest import ROOT, SEED_URL, SEEDS
from tests.ingest.server import FixtureServer

TRAM = "/news/2024/05/14/tram-line-approved.html"
FERRY = "/news/2024/05/20/ferry-strike-ends.html"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(directory))
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW_PRIVATE_NETWORKS", "true")  # the local site
    return directory


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), stdin=io.StringIO(), stdout=out), out.getvalue()


def listed(*argv: str) -> list[dict]:
    code, out = run("list", "--json", *argv)
    assert code == 0
    return [json.loads(line) for line in out.splitlines()]


def test_add_a_feed_then_ask(site: FixtureServer, data_dir: Path, capsys) -> None:
    code, _ = run("add", site.url("/feeds/news.rss"))
    err = capsys.readouterr().err
    assert code == 0, err
    assert "Done: added 3, updated 0, unchanged 0, duplicates 0, failed 0" in err
    assert f"source 1/1: {site.url('/feeds/news.rss')}: 3 article(s)" in err
    urls = {a["url"] for a in listed()}
    assert urls == {site.url(TRAM), site.url(FERRY), site.url("/news/lighthouse-reopens.html")}
    code, out = run("ask", "--json", "--as-of", "2024-06-01", "When will the ferry strike end?")
    record = json.loads(out)
    assert record["answered"] and record["citations"][0]["url"] == site.url(FERRY)


def test_add_again_is_unchanged_and_copies_are_recorded(site, data_dir: Path, capsys) -> None:
    run("add", site.url(TRAM))
    capsys.readouterr()
    code, _ = run(
        "add", site.url(TRAM) + "?utm_source=x#top", site.url("/print/tram-line-approved.html")
    )
    err = capsys.readouterr().err
    assert code == 0
    assert "added 0, updated 0, unchanged 1, duplicates 1, failed 0" in err
    [article] = listed()
    assert article["other_urls"] == [site.url("/print/tram-line-approved.html")]


def test_bad_sources_are_reported_one_line_each(site, data_dir: Path, capsys) -> None:
    code, _ = run(
        "add",
        str(SEEDS),
        site.url("/status/404"),
        site.url("/feeds/mixed.xml"),
        site.url("/index.html"),
        "/no/such/dir",
    )
    err = capsys.readouterr().err
    assert code == 1
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert any(site.url("/status/404") in line and "404" in line for line in errors)
    assert any(site.url("/index.html") in line and "no article text" in line for line in errors)
    assert any("/no/such/dir" in line for line in errors)
    assert any("without a link" in line or "no link" in line for line in errors)
    # The good ones went in all the same.
    urls = {a["url"] for a in listed()}
    assert SEED_URL in urls and len(urls) >= 2


def test_add_shows_and_stores_no_credentials_or_query_secrets(site, data_dir: Path, capsys) -> None:
    gone = site.url("/status/404?id=1&token=t0ps3cret").replace("http://", "http://me:pa55@")
    code, _ = run("add", gone, site.url(f"{FERRY}?sig=s1gnature&page=1"))
    err = capsys.readouterr().err
    assert code == 1
    assert f"error: {site.url('/status/404?id=1&token=REDACTED')}: HTTP 404 Not Found" in err
    assert f"source 2/2: {site.url(f'{FERRY}?sig=REDACTED&page=1')}: 1 article(s)" in err
    for secret in ("pa55", "me:", "t0ps3cret", "s1gnature"):
        assert secret not in err
    [article] = listed()
    assert article["url"] == site.url(f"{FERRY}?page=1")


def test_a_feed_gives_at_most_its_item_limit_per_poll(
    site, data_dir: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("NEWSBOT_FEED_MAX_ITEMS", "2")
    feed = site.url("/feeds/news.rss")
    assert run("add", feed)[0] == 0
    assert f"{feed}: 2 article(s), 1 feed item(s) left for the next poll" in capsys.readouterr().err
    assert run("add", feed)[0] == 0
    assert f"{feed}: 1 article(s)\n" in capsys.readouterr().err
    assert len(listed()) == 3


def test_the_default_refuses_the_local_site(site, data_dir: Path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("NEWSBOT_FETCH_ALLOW_PRIVATE_NETWORKS")
    code, _ = run("add", site.url(FERRY))
    err = capsys.readouterr().err
    assert code == 1
    assert (
        f"error: {site.url(FERRY)}: refused: 127.0.0.1 is a loopback address "
        "(set NEWSBOT_FETCH_ALLOW_PRIVATE_NETWORKS=true to allow it)"
    ) in err


def test_index_reports_a_bad_record_by_line_without_a_traceback(
    tmp_path: Path, data_dir: Path, capsys
) -> None:
    dump = tmp_path / "dump.jsonl"
    good = {"url": "https://example-news.com/a", "title": "T", "published": "2024-05-02",
            "text": "The leaders of Northland and Southland will meet in Geneva."}  # fmt: skip
    bad = {**good, "url": "https://example-news.com/b", "text": "Lone \ud800 surrogate."}
    dump.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    code, _ = run("index", str(dump))
    err = capsys.readouterr().err
    assert code == 1
    assert f"error: {dump}:2: invalid text in 'text' (a lone surrogate U+D800)" in err
    assert "Traceback" not in err


def test_remove_list_and_stats(site, data_dir: Path, capsys) -> None:
    run("add", str(SEEDS), site.url(TRAM))
    code, out = run("stats", "--json")
    stats = json.loads(out)
    assert code == 0 and stats["articles"] == 2 and stats["passages"] > 10
    assert stats["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert {"generation", "bytes_on_disk", "reclaimable_bytes", "feeds", "other_urls"} <= set(stats)
    code, _ = run("remove", site.url(TRAM), "https://nowhere.test/x")
    err = capsys.readouterr().err
    assert code == 1
    assert f"removed {site.url(TRAM)}" in err and "https://nowhere.test/x: not in the index" in err
    assert [a["url"] for a in listed()] == [SEED_URL]
    code, out = run("ask", "--json", "When was the tram line approved?")
    assert all(c["url"] != site.url(TRAM) for c in json.loads(out)["citations"])


def test_list_text(site, data_dir: Path) -> None:
    run("add", str(SEEDS))
    code, out = run("list")
    assert code == 0 and "Kremlin Confirms Putin's Trip" in out and SEED_URL in out


def test_feeds_add_list_poll_remove(site, data_dir: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("NEWSBOT_FEEDS", site.url("/feeds/news.atom"))
    assert run("feeds", "add", site.url("/feeds/news.rss"))[0] == 0
    assert run("feeds", "list")[1].splitlines() == [
        site.url("/feeds/news.rss"),
        site.url("/feeds/news.atom") + "  (NEWSBOT_FEEDS)",
    ]
    assert run("feeds", "poll")[0] == 0
    assert "added 3" in capsys.readouterr().err  # both feeds name the tram and ferry stories
    assert run("feeds", "poll")[0] == 0
    assert "added 0" in capsys.readouterr().err  # items already indexed are not fetched
    assert run("feeds", "remove", site.url("/feeds/news.rss"))[0] == 0
    assert run("feeds", "remove", "https://unknown.test/rss")[0] == 1
    assert run("feeds", "add")[0] == 2
    assert run("feeds", "list")[1].splitlines() == [
        site.url("/feeds/news.atom") + "  (NEWSBOT_FEEDS)"
    ]


def test_list_without_index(data_dir: Path, capsys) -> None:
    assert run("list")[0] == 1
    assert "newsbot index" in capsys.readouterr().err


# --- crash safety and two writers, with real processes ----------------------------------


def _generated_jsonl(path: Path, count: int, paragraphs: int = 4) -> list[str]:
    urls = []
    with path.open("w") as out:
        for i in range(count):
            url = f"https://generated.test/story/{i}"
            urls.append(url)
            text = "\n\n".join(
                f"Report {i}, part {p}: the council of district {i} voted on budget line {p} "
                f"for roads, schools and the harbour, officials said on Tuesday."
                for p in range(paragraphs)
            )
            out.write(
                json.dumps(
                    {
                        "url": url,
                        "title": f"District {i} budget vote",
                        "published": "2024-05-01",
                        "text": text,
                    }
                )
                + "\n"
            )
    return urls


def _env(data_dir: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "NEWSBOT_DATA_DIR": str(data_dir),
        "NEWSBOT_FETCH_ALLOW_PRIVATE_NETWORKS": "true",
        "HF_HUB_OFFLINE": "1",
    }


def _check_consistent(data_dir: Path, expected_urls: set[str]) -> int:
    """The index loads, vectors and passages match, and each article is whole or absent."""
    import faiss

    index = open_index(
        data_dir, IndexSpec("sentence-transformers/all-MiniLM-L6-v2", ChunkSettings())
    )
    ids = set(faiss.vector_to_array(index.vectors.id_map).tolist())
    passages = index.store.passages(ids)
    assert set(passages) == ids and index.store.counts()["passages"] == len(ids)
    articles = {a.url for a in index.store.list_articles()}
    assert SEED_URL in articles and articles - {SEED_URL} <= expected_urls
    per_article: dict[str, int] = {}
    for passage in passages.values():
        per_article[passage.article.url] = per_article.get(passage.article.url, 0) + 1
    assert set(per_article) == articles  # no article without passages, no passage without one
    index.close()
    return len(articles) - 1


def test_sigkill_during_add_leaves_a_loadable_index(tmp_path: Path, embedder) -> None:
    data_dir = tmp_path / "data"
    env = _env(data_dir)
    writer = Writer(data_dir, embedder, ChunkSettings())
    build_index(data_dir, load_articles([SEEDS]), embedder, ChunkSettings())
    urls = set(_generated_jsonl(tmp_path / "big.jsonl", 60, paragraphs=2))
    # A commit every 10 articles: six points at which the new state becomes live.
    command = [
        sys.executable,
        "-m",
        "bot",
        "add",
        "--commit-every",
        "10",
        str(tmp_path / "big.jsonl"),
    ]
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True, timeout=300)
    full = time.perf_counter() - started
    assert _check_consistent(data_dir, urls) == 60
    seen_counts = set()
    for fraction in (0.5, 0.7, 0.85, 0.95):
        update_index(writer, [], remove=sorted(urls))
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(full * fraction)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        count = _check_consistent(data_dir, urls)
        assert count % 10 == 0  # whole commits only
        seen_counts.add(count)
    # The kills landed at different points: before, between or after the commits.
    assert len(seen_counts) >= 2, seen_counts


def test_two_writers_at_once(tmp_path: Path, embedder) -> None:
    data_dir = tmp_path / "data"
    env = _env(data_dir)
    first = _generated_jsonl(tmp_path / "a.jsonl", 20, paragraphs=2)
    second = [u.replace("generated.test", "other.test") for u in first]
    (tmp_path / "b.jsonl").write_text(
        (tmp_path / "a.jsonl")
        .read_text()
        .replace("generated.test", "other.test")
        .replace("District", "Ward")
        .replace("council", "assembly")
    )
    build_index(data_dir, load_articles([SEEDS]), embedder, ChunkSettings())
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "add", str(tmp_path / name)],
            env=env,
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a.jsonl", "b.jsonl")
    ]
    errors = [p.communicate(timeout=300)[1] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], errors
    assert _check_consistent(data_dir, set(first) | set(second)) == 40
