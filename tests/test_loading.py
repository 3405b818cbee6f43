"""The article loader: the seed format, JSONL, repairs, and malformed input."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from retrieval.errors import ArticleFormatError
from retrieval.sources import load_articles, read_text_article, repair_paragraphs
from tests.conftest import FIXTURES, SEED_URL, SEEDS


def test_seed_article_fields() -> None:
    [article] = load_articles([SEEDS])
    assert article.title == "Kremlin Confirms Putin's Trip to North Korea"
    assert article.author == "AFP"
    assert article.published == date(2024, 6, 17)
    assert article.url == SEED_URL
    assert article.source == "The Moscow Times"
    assert len(article.paragraphs) == 10
    assert article.paragraphs[0].startswith("Russian President Vladimir Putin will visit")


def test_seed_article_repairs() -> None:
    [article] = load_articles([SEEDS])
    body = "\n".join(article.paragraphs)
    assert "kremlin.ru" not in body  # photo credit
    assert "Related article" not in body
    assert any(p.endswith("Putin will then travel to Vietnam.") for p in article.paragraphs)
    assert "Vietnam." not in article.paragraphs


def test_broken_paragraph_is_rejoined() -> None:
    article = read_text_article(FIXTURES / "broken_paragraph.txt")
    assert article.paragraphs == (
        "Fisheries ministers from five countries agreed on Friday to cut the cod quota by a fifth.",
        "The agreement will be signed in Oslo next week. Delegates will then travel to Reykjavik.",
    )


def test_related_article_lines_are_not_body_text() -> None:
    article = read_text_article(FIXTURES / "related_line.txt")
    assert len(article.paragraphs) == 2
    assert all("Related" not in p and "Read more" not in p for p in article.paragraphs)


def test_photo_credit_lines_are_dropped() -> None:
    article = read_text_article(FIXTURES / "photo_credit.txt")
    assert article.paragraphs[0].startswith("A powerful storm made landfall")
    assert len(article.paragraphs) == 2
    assert article.url == "https://www.example-news.com/2024/10/10/storm"
    assert article.source == "example-news.com"


def test_stray_whitespace_is_normalised() -> None:
    article = read_text_article(FIXTURES / "whitespace.txt")
    assert article.title == "Election Results Announced"
    assert article.author == "Electoral Desk"
    assert article.published == date(2025, 5, 5)
    assert article.url == "https://www.example-news.com/2025/05/05/election"
    assert article.paragraphs[0] == (
        "The results of the election were announced late on Sunday, with turnout at 61 percent."
    )
    assert len(article.paragraphs) == 2


def test_headings_are_not_glued_to_the_next_paragraph() -> None:
    paragraphs = repair_paragraphs(["Sanctions Tighten", "The ministers agreed on new rules."])
    assert paragraphs == ["Sanctions Tighten", "The ministers agreed on new rules."]


def test_jsonl_articles() -> None:
    articles = load_articles([FIXTURES / "changing_story.jsonl"])
    assert [a.published for a in articles] == [
        date(2024, 5, 2),
        date(2024, 5, 20),
        date(2024, 4, 11),
    ]
    assert articles[1].author == "Foreign Desk"
    assert articles[1].source == "Example News"
    assert len(articles[0].paragraphs) == 2


def test_directory_is_read_recursively(tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "one.txt").write_text((FIXTURES / "related_line.txt").read_text())
    (tmp_path / "two.jsonl").write_text((FIXTURES / "changing_story.jsonl").read_text())
    assert len(load_articles([tmp_path])) == 4


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"title": "T", "published": "2024-01-01", "text": "Body."}, "missing or invalid 'url'"),
        (
            {"url": "https://x.test/a", "title": "T", "published": "yesterday", "text": "Body."},
            "unparseable 'published'",
        ),
        (
            {"url": "https://x.test/a", "title": "T", "published": "2024-02-30", "text": "Body."},
            "unparseable 'published'",
        ),
        (
            {"url": "https://x.test/a", "title": "T", "published": "2024-01-01", "text": "  \n\n "},
            "empty 'text'",
        ),
        (
            {"url": "https://x.test/a", "published": "2024-01-01", "text": "Body."},
            "missing 'title'",
        ),
    ],
)
def test_malformed_jsonl_names_file_and_line(tmp_path: Path, record: dict, message: str) -> None:
    good = {"url": "https://x.test/ok", "title": "Fine", "published": "2024-01-01", "text": "Ok."}
    path = _write(tmp_path, "dump.jsonl", json.dumps(good) + "\n" + json.dumps(record) + "\n")
    with pytest.raises(ArticleFormatError) as error:
        load_articles([path])
    assert f"{path}:2" in str(error.value)
    assert message in str(error.value)


def test_bad_json_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "dump.jsonl", '\n{"url": "https://x.test/a", "title": \n')
    with pytest.raises(ArticleFormatError, match=rf"{path}:2: bad JSON"):
        load_articles([path])


def test_duplicate_url_is_an_error(tmp_path: Path) -> None:
    line = json.dumps(
        {"url": "https://x.test/a", "title": "T", "published": "2024-01-01", "text": "Body."}
    )
    path = _write(tmp_path, "dump.jsonl", f"{line}\n{line}\n")
    with pytest.raises(ArticleFormatError, match=r"dump.jsonl:2: duplicate article URL"):
        load_articles([path])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Title\n\nJune 17, 2024\n\nBody text here.\n", "no 'Original url:' line"),
        (
            "Title\n\nBy AFP\n\nSometime in June\n\nBody.\n\nOriginal url:\n\nhttps://x.test/a\n",
            ":5: unparseable publication date",
        ),
        ("Title\n\nJune 17, 2024\n\nOriginal url:\n\nhttps://x.test/a\n", "empty body"),
        ("\n\n   \n", "empty article file"),
    ],
)
def test_malformed_text_article(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "bad.txt", text)
    with pytest.raises(ArticleFormatError) as error:
        load_articles([path])
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_non_utf8_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Caf\xe9 news\n".encode("latin-1"))
    with pytest.raises(ArticleFormatError, match="not UTF-8"):
        load_articles([path])


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ArticleFormatError, match="no such file or directory"):
        load_articles([tmp_path / "nope"])
