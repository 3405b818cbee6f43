"""Rendering answers as Telegram HTML and splitting them into parts Telegram accepts."""

from __future__ import annotations

import dataclasses
import datetime
import re

import pytest
from conftest import SEED, found, not_found
from fake_bot_api import parse_telegram_html, utf16_len

from bot.telegram.formatting import render_answer, render_source_pages
from bot.telegram.splitting import pack, split_plain, text_atoms, to_plain_text
from retrieval.articles import ArticleSummary

HOSTILE = ArticleSummary(
    'https://example.com/a?x=1&y="2"<script>',
    "<b>Breaking</b> & <a href='javascript:alert(1)'>click</a>",
    "Evil & Co <i>",
    datetime.date(2024, 1, 2),
)


def assert_valid_parts(parts: list[str]) -> None:
    """Every part parses as Telegram HTML and fits the limit; links are never cut."""
    for part in parts:
        _, problem = parse_telegram_html(part)
        assert problem is None, (problem, part[:200])
        assert utf16_len(part) <= 4096
        assert part.count("<a href=") == part.count("</a>")


def test_citations_are_numbered_links_with_outlet_and_date() -> None:
    [part] = render_answer(found("q", "Putin goes to Pyongyang [1], then Vietnam [2].", SEED, SEED))
    assert "[1] <a href=" in part and "[2] <a href=" in part
    assert "</a> — The Moscow Times, 17 Jun 2024" in part
    assert_valid_parts([part])


def test_hostile_article_and_answer_text_is_escaped() -> None:
    answer = found("q", "Text with <b>tags</b> & <script>x</script> [1]", HOSTILE)
    [part] = render_answer(dataclasses.replace(answer, age_note="Old <news> & more"))
    assert_valid_parts([part])
    visible, _ = parse_telegram_html(part)
    assert "Text with <b>tags</b> & <script>x</script> [1]" in visible
    assert "<b>Breaking</b> & <a href='javascript:alert(1)'>click</a>" in visible
    assert 'href="https://example.com/a?x=1&amp;y=&quot;2&quot;&lt;script&gt;"' in part
    assert "<i>Old &lt;news&gt; &amp; more</i>" in part
    assert re.findall(r"<(\w+)", part) == ["i", "b", "a"]  # only the bot's own tags


def test_non_web_links_are_not_linked() -> None:
    bad = ArticleSummary("javascript:alert(1)", "Title", "Outlet", datetime.date(2024, 1, 2))
    [part] = render_answer(found("q", "Text [1]", bad))
    assert "<a " not in part and "Title — Outlet" in part


def test_not_found_lists_the_closest_headlines() -> None:
    [part] = render_answer(not_found("q", SEED))
    assert part.startswith("I couldn't find that in the indexed news.")
    assert "<b>Closest headlines</b>\n• <a href=" in part


def test_a_6000_character_answer_splits_into_valid_parts_at_sentence_ends() -> None:
    sentence = "Putin & Kim met in Pyongyang <again> on Tuesday, officials said. "
    text = (sentence * 48).strip() + "\n\n" + (sentence * 46).strip() + " [1]"
    assert 5800 < len(text) < 6500
    parts = render_answer(found("q", text, SEED, HOSTILE))
    assert len(parts) == 2
    assert_valid_parts(parts)
    for part in parts[:-1]:
        assert part.endswith("said.")
    visible = " ".join(parse_telegram_html(p)[0] for p in parts)
    assert visible.count("Putin & Kim met in Pyongyang <again>") == 94
    assert parts[-1].count("<a href=") == 2  # the sources stay together, links whole


def test_a_paragraph_without_sentence_ends_splits_at_words_then_characters() -> None:
    words = " ".join(["naïve&"] * 1500)
    blob = "🦀" * 5000
    parts = pack([text_atoms(words), text_atoms(blob)])
    assert_valid_parts(parts)
    assert all(not p.endswith("&amp") for p in parts)
    joined = "".join(parse_telegram_html(p)[0] for p in parts)
    assert joined.count("🦀") == 5000 and joined.count("naïve&") == 1500


def test_right_to_left_and_emoji_count_as_telegram_counts() -> None:
    text = "🇷🇺 " * 1500 + "خبر"
    parts = pack([text_atoms(text)])
    assert len(parts) == 2  # 6,003 UTF-16 units: too long for one message
    assert_valid_parts(parts)


def test_plain_text_fallback_keeps_link_addresses() -> None:
    [part] = render_answer(found("q", "Fish & chips [1]", SEED))
    plain = to_plain_text(part)
    assert plain.startswith("Fish & chips [1]")
    assert f"Kremlin Confirms Putin's Trip to North Korea ({SEED.url})" in plain
    assert "<" not in plain


def test_split_plain_respects_the_limit() -> None:
    parts = split_plain("One sentence here. " * 600)
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)


@pytest.mark.parametrize("count", [1, 10, 11, 25])
def test_source_pages_hold_ten_articles_each(count: int) -> None:
    articles = [SEED] * count
    pages = render_source_pages(articles)
    assert len(pages) == -(-count // 10)
    assert_valid_parts(pages)
    assert pages[-1].count("<a href=") == count - 10 * (len(pages) - 1)
    assert f"\n{count}. <a href" in pages[-1]


def test_source_pages_with_huge_addresses_still_fit() -> None:
    long = ArticleSummary("https://e.com/" + "x" * 1500, "T", "O", datetime.date(2024, 1, 1))
    pages = render_source_pages([long] * 10)
    assert len(pages) > 1
    assert_valid_parts(pages)
