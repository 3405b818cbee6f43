"""Dates: publication-date parsing and relative dates written absolutely."""

from __future__ import annotations

from datetime import date

import pytest

from retrieval.dates import (
    check_not_future,
    describe_age,
    parse_date,
    parse_iso_day,
    resolve_relative_dates,
)
from retrieval.errors import InvalidDateError

MONDAY = date(2024, 6, 17)  # the seed article's publication date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Putin will visit North Korea on Tuesday.",
            "Putin will visit North Korea on Tuesday (June 18, 2024).",
        ),
        (
            "the Kremlin announced Monday, confirming plans",
            "the Kremlin announced Monday (June 17, 2024), confirming plans",
        ),
        (
            "Officials said on Friday that talks had stalled.",
            "Officials said on Friday (June 14, 2024) that talks had stalled.",
        ),
        ("The vote is scheduled for Sunday.", "The vote is scheduled for Sunday (June 23, 2024)."),
        (
            "Putin on June 18-19 will go to Pyongyang.",
            "Putin on June 18–19, 2024 will go to Pyongyang.",
        ),
        ("The summit opens on June 20.", "The summit opens on June 20, 2024."),
        ("It ends on 21 June.", "It ends on 21 June 2024."),
        ("He met her on June 20, 2023.", "He met her on June 20, 2023."),
        ("The talks happened in December.", "The talks happened in December 2023."),
        ("He visited China in May.", "He visited China in May 2024."),
        ("Markets rose yesterday.", "Markets rose yesterday (June 16, 2024)."),
        ("The decision is due tomorrow.", "The decision is due tomorrow (June 18, 2024)."),
        ("Shares fell today.", "Shares fell today (June 17, 2024)."),
        ("Putin will visit this week.", "Putin will visit this week (the week of June 17, 2024)."),
        ("Talks resume next week.", "Talks resume next week (the week of June 24, 2024)."),
        ("Prices rose last week.", "Prices rose last week (the week of June 10, 2024)."),
        ("The law takes effect next month.", "The law takes effect next month (July 2024)."),
        ("Sales fell last month.", "Sales fell last month (May 2024)."),
        ("Elections are due next year.", "Elections are due next year (2025)."),
        ("He came to power 24 years ago.", "He came to power 24 years ago (in 2000)."),
        ("It happened three days ago.", "It happened three days ago (June 14, 2024)."),
        ("No dates here.", "No dates here."),
        ("He may go in March.", "He may go in March 2024."),
    ],
)
def test_resolve_relative_dates(text: str, expected: str) -> None:
    assert resolve_relative_dates(text, MONDAY) == expected


def test_resolution_across_a_year_boundary() -> None:
    december = date(2024, 12, 30)
    assert resolve_relative_dates("The summit opens on January 3.", december) == (
        "The summit opens on January 3, 2025."
    )
    assert resolve_relative_dates("It starts next month.", december) == (
        "It starts next month (January 2025)."
    )


def test_already_resolved_text_is_left_alone() -> None:
    once = resolve_relative_dates("Putin will visit on Tuesday, June 18.", MONDAY)
    assert once == "Putin will visit on Tuesday, June 18, 2024."
    assert resolve_relative_dates(once, MONDAY) == once


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("June 17, 2024", date(2024, 6, 17)),
        ("Jun. 17, 2024", date(2024, 6, 17)),
        ("17 June 2024", date(2024, 6, 17)),
        ("Monday, June 17, 2024", date(2024, 6, 17)),
        ("2024-06-17", date(2024, 6, 17)),
        ("2024-06-17T08:30:00+03:00", date(2024, 6, 17)),
        ("Sept 3, 2023", date(2023, 9, 3)),
    ],
)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "soon",
        "June 31, 2024",
        "2024-13-01",
        "17/06/2024",
        "2024-06-17T25:00:00",
        "2024-06-17T24:00",
        "2024-06-17 10:61",
        "2024-06-17T10:30:61Z",
    ],
)
def test_parse_date_rejects(text: str) -> None:
    with pytest.raises(InvalidDateError, match="date"):
        parse_date(text)


@pytest.mark.parametrize("text", ["2024-06-17T23:59:60Z", "2024-06-17T00:00:00+02:00"])
def test_parse_date_takes_real_times(text: str) -> None:
    assert parse_date(text) == date(2024, 6, 17)


def test_a_publication_date_may_be_a_day_ahead_not_more() -> None:
    today = date(2026, 12, 1)
    check_not_future(date(2026, 12, 2), today)
    with pytest.raises(InvalidDateError, match="more than a day in the future"):
        check_not_future(date(2026, 12, 3), today)


def test_parse_iso_day_names_the_value() -> None:
    assert parse_iso_day("2024-06-20") == date(2024, 6, 20)
    with pytest.raises(InvalidDateError, match=r"'2024-6-x'.*YYYY-MM-DD"):
        parse_iso_day("2024-6-x")


def test_describe_age() -> None:
    assert describe_age(MONDAY, MONDAY) == "the same day as"
    assert describe_age(MONDAY, date(2024, 6, 19)) == "2 days before"
    assert describe_age(MONDAY, date(2024, 8, 1)) == "6 weeks before"
    assert describe_age(MONDAY, date(2026, 11, 29)) == "2 years before"
    assert describe_age(date(2024, 6, 20), MONDAY) == "3 days after"
