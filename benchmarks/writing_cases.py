"""Not a benchmark: written sentences with what they should come to, for bench_writing.py.

Each case is a question asked as of a date over the news fixtures (the seed article and, from
tests/fixtures/, a report from Vietnam and the changing story), and one sentence a model
might write, citing an article by its URL (the benchmark turns that into the prompt's
``[n]``), marked with the article's text that states it, or none. The unsupported ones are
the kind a word count misses as well as the kind it catches: a claim made of the source's
own words, a changed fact, an invented one; a few carry a name or number the source lacks,
which the hard rules catch whatever the support check says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from retrieval.articles import Article

ROOT = Path(__file__).resolve().parent.parent
SEED = (
    "https://www.themoscowtimes.com/2024/06/17/kremlin-confirms-putins-trip-to-north-korea-a85441"
)
VIETNAM_URL = "https://www.reuters.com/world/asia-pacific/putin-arrives-vietnam-2024-06-20/"
GENEVA = "https://www.example-news.com/2024/05/02/summit-geneva"
VIENNA = "https://www.example-news.com/2024/05/20/summit-vienna"
HARVEST = "https://www.example-news.com/2024/04/11/harvest"
JUNE = date(2024, 6, 17)
LATE_JUNE = date(2024, 6, 21)
MAY = date(2024, 5, 25)


@dataclass(frozen=True)
class Case:
    """A written sentence citing ``url``; ``quote`` is the article's text that states it (None
    when the article does not). A stated sentence is supported only when the passages the
    prompt carries hold the quote: the model saw nothing else of the article."""

    question: str
    as_of: date
    url: str
    sentence: str
    quote: str | None


def fixture_articles() -> list[Article]:
    """The articles the cases cite, besides the seed article."""
    from retrieval.sources import load_articles

    fixtures = ROOT / "tests" / "fixtures"
    return load_articles([fixtures / "putin_vietnam.jsonl", fixtures / "changing_story.jsonl"])


def _cases(
    question: str, as_of: date, url: str, good: list[tuple[str, str]], bad: list[str]
) -> list[Case]:
    return [Case(question, as_of, url, s, quote) for s, quote in good] + [
        Case(question, as_of, url, s, None) for s in bad
    ]


CASES = [
    *_cases("When is Putin visiting Pyongyang?", JUNE, SEED, [
        ("Putin will visit North Korea on June 18–19, 2024.", "on June 18-19 will go"),
        ("He will then travel to Vietnam.", "Putin will then travel to"),
        ("The Kremlin announced the visit on Monday.", "the Kremlin announced Monday"),
        ("It is his second trip to North Korea since he first came to power 24 years ago.",
         "his second trip"),
        ("Putin will visit North Korea this week, the Kremlin said.",
         "visit North Korea this week"),
    ], [
        "Putin will also sign a nuclear treaty there.",
        "Putin will sign a defence pact and an arms deal.",
        "The visit was called off at the last minute.",
        "Putin will address the parliament in Pyongyang during the visit.",
        "Putin will visit North Korea on June 21, 2024.",
        "Putin will visit Pyongyang for the first time.",
    ]),
    *_cases("Who did Putin meet on his first trip to North Korea?", JUNE, SEED, [
        ("On his first trip, Putin met former leader Kim Jong Il.", "met with former leader"),
    ], [
        "On his first trip, Putin signed a trade agreement with the North.",
        "On his first trip, Putin met the South Korean president.",
    ]),
    *_cases("What have Washington and Seoul said Russia gave Pyongyang?", JUNE, SEED, [
        ("Washington and Seoul say Russia has given Pyongyang technical help for its satellite "
         "program.", "technical help for its satellite program"),
        ("They say Russia has also sent aid to the food-deprived country.",
         "aid to the food-deprived country"),
    ], [
        "Washington and Seoul say Russia has given Pyongyang fighter jets and missiles.",
        "Washington and Seoul say Russia has given Pyongyang nothing at all.",
    ]),
    *_cases("When did Putin visit China?", JUNE, SEED, [
        ("Putin made a two-day trip to China in May.", "two-day trip to China in May"),
    ], [
        "Putin cancelled his trip to China.",
        "Putin made a week-long trip to China in March.",
    ]),
    # True, but of another story: it does not answer the question.
    Case("When did Putin visit China?", JUNE, HARVEST,
         "Farmers in Northland expect a record wheat harvest.", None),
    *_cases("Who helped found North Korea?", JUNE, SEED, [
        ("The Soviet Union helped found North Korea after the Korean War in the 1950s.",
         "Soviet Union having helped found"),
    ], [
        "China helped found North Korea after the Second World War.",
        "North Korea founded itself without help from abroad.",
    ]),
    *_cases("Where did Putin go after North Korea?", LATE_JUNE, VIETNAM_URL, [
        ("Putin arrived in Hanoi on June 20, 2024 for a state visit to Vietnam.",
         "arrived in Hanoi"),
        ("Vietnam's leaders welcomed Putin at the presidential palace.",
         "welcomed Putin at the presidential palace"),
        ("The two sides signed agreements on energy and education.", "energy and education"),
    ], [
        "In Hanoi, Putin and Vietnam's leaders signed an arms deal.",
        "Vietnam's leaders refused to meet Putin.",
        "The two sides signed agreements on weapons and oil.",
    ]),
    *_cases("Where will the Northland-Southland summit be held?", MAY, VIENNA, [
        ("The summit has been moved to Vienna and will be held on June 10.", "moved to Vienna"),
        ("The change followed a request from Southland's delegation for more time to prepare.",
         "request from Southland's delegation"),
    ], [
        "The summit has been cancelled.",
        "The summit will be held in Geneva on June 10.",
        "Northland asked to move the summit.",
    ]),
    *_cases("What will the leaders' talks focus on?", date(2024, 5, 5), GENEVA, [
        ("The talks are expected to focus on the disputed border and on trade.",
         "disputed border and on trade"),
    ], [
        "The talks are expected to focus on climate change and migration.",
        "The talks are expected to end the border dispute.",
    ]),
    *_cases("What harvest do farmers in Northland expect?", date(2024, 4, 20), HARVEST, [
        ("Farmers in Northland expect a record wheat harvest after a mild winter and a wet "
         "spring.", "record wheat harvest"),
        ("Bread prices are forecast to fall by the autumn.", "forecast to fall by the autumn"),
    ], [
        "Farmers in Northland expect a poor harvest after a drought.",
        "Bread prices are forecast to rise sharply.",
    ]),
]  # fmt: skip
