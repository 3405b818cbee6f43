"""Canonical article URLs and story-text hashes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from retrieval.articles import Article
from retrieval.urls import canonical_url, content_hash, is_web_url, redacted

STORY = "https://www.example-news.com/2024/05/02/summit-geneva"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (STORY, STORY),
        (f"{STORY}#comments", STORY),
        (f"{STORY}?utm_source=rss&utm_medium=feed&utm_campaign=daily", STORY),
        (f"{STORY}?UTM_Source=x", STORY),
        (f"{STORY}?fbclid=IwAR0abc&gclid=xyz", STORY),
        (f"{STORY}?mc_cid=1a2b&mc_eid=3c4d", STORY),
        (f"{STORY}?ref=homepage&cmpid=social&ocid=msn", STORY),
        (f"{STORY}?page=2&utm_source=x&id=7#top", f"{STORY}?page=2&id=7"),
        (f"{STORY}?id=7&page=2", f"{STORY}?id=7&page=2"),  # order kept
        (f"{STORY}?q=a%20b&x=1+2", f"{STORY}?q=a%20b&x=1+2"),  # encoding kept
        (f"{STORY}?", STORY),
        ("HTTPS://WWW.Example-News.COM/2024/Story", "https://www.example-news.com/2024/Story"),
        ("https://example-news.com:443/a", "https://example-news.com/a"),
        ("http://example-news.com:80/a", "http://example-news.com/a"),
        ("http://example-news.com:8080/a", "http://example-news.com:8080/a"),
        ("https://example-news.com", "https://example-news.com/"),
        ("https://example-news.com?id=3", "https://example-news.com/?id=3"),
        ("https://reader:s3cret@example-news.com/a", "https://example-news.com/a"),
        ("http://[::1]:8000/a?utm_term=x", "http://[::1]:8000/a"),
        ("  https://example-news.com/a  ", "https://example-news.com/a"),
        # Secrets are dropped like credentials: never stored, never cited.
        (f"{STORY}?token=abc&id=7", f"{STORY}?id=7"),
        (f"{STORY}?id=7&api_key=1&Signature=2&sig=3&key=4&access_token=5", f"{STORY}?id=7"),
        (f"{STORY}?X-Amz-Credential=a&X-Amz-Security-Token=b&page=2", f"{STORY}?page=2"),
        (f"{STORY}?monkey=1&keyword=2", f"{STORY}?monkey=1&keyword=2"),  # not secrets
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_is_idempotent() -> None:
    once = canonical_url(f"{STORY}?b=2&utm_source=x&a=1#frag")
    assert canonical_url(once) == once == f"{STORY}?b=2&a=1"


def test_path_case_is_significant() -> None:
    assert canonical_url(f"{STORY}/A") != canonical_url(f"{STORY}/a")


def _article(url: str, *paragraphs: str) -> Article:
    return Article(url, "Leaders to Meet", "Example News", date(2024, 5, 2), paragraphs)


def test_content_hash_ignores_url_case_and_white_space() -> None:
    first = _article(STORY, "The leaders will meet in Geneva.", "Talks are expected to last.")
    second = _article(
        "https://other.example/syndicated/123",
        "The  leaders will meet\nin GENEVA.",
        " talks are expected to last. ",
    )
    assert content_hash(first) == content_hash(second)
    assert len(content_hash(first)) == 64


def test_content_hash_differs_for_different_text() -> None:
    first = _article(STORY, "The leaders will meet in Geneva.")
    moved = replace(first, paragraphs=("The leaders will meet in Vienna.",))
    assert content_hash(first) != content_hash(moved)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://reader:s3cret@example-news.com/a", "https://example-news.com/a"),
        (
            "https://example-news.com/a?id=7&token=abc#top",
            "https://example-news.com/a?id=7&token=REDACTED#top",
        ),
        (
            "https://example-news.com/a?feed_token=1;sig=2&page=3",
            "https://example-news.com/a?feed_token=REDACTED;sig=REDACTED&page=3",
        ),
        ("https://example-news.com/a?Api-Key=1", "https://example-news.com/a?Api-Key=REDACTED"),
        (
            "https://u:p@[::1/a?key=1",
            "https://[::1/a?key=REDACTED",
        ),  # does not parse: still redacted
        (STORY, STORY),
    ],
)
def test_redacted(url: str, shown: str) -> None:
    assert redacted(url) == shown


@pytest.mark.parametrize(
    ("url", "web"),
    [
        ("https://example-news.com/a", True),
        ("HTTP://example-news.com", True),
        ("http://", False),
        ("https:///path", False),
        ("http://:80/", False),
        ("ftp://example-news.com/a", False),
        ("example-news.com/a", False),
        ("http://[::1/", False),
    ],
)
def test_is_web_url(url: str, web: bool) -> None:
    assert is_web_url(url) is web
