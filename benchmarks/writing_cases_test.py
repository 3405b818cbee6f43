"""Not a benchmark: a second set of written sentences, for bench_writing.py's report only.

Written after the first set (``writing_cases.py``) and before any change to the check was
tried on it, over ten articles of ``tests/data/news_quiz_test.json`` (fictional wire reports
of the project's own): nothing is fitted or chosen on it. Same format as the first set. Most
unsupported sentences are the hard kind, made of the article's own words with the claim
changed (a number, party or outcome moved to another place of the article, a negation, an
opposite verb); a few invent a fact outright.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from benchmarks.writing_cases import Case, _cases
from retrieval.articles import Article

ROOT = Path(__file__).resolve().parent.parent
QUIZ = ROOT / "tests" / "data" / "news_quiz_test.json"
SITE = "https://news.example"


def quiz_articles() -> list[Article]:
    """The quiz set's articles, each paragraph as the loader would have read it."""
    from retrieval.evaluation import article_urls, joined, load_eval_set

    return list(joined(load_eval_set(QUIZ).articles, article_urls(QUIZ)))


CASES: list[Case] = [
    *_cases("Why did Eisberg reject the takeover bid?", date(2024, 2, 28),
            f"{SITE}/2024/02/27/eisberg-bid", [
        ("Eisberg said the €6.4 billion bid from Vandermeulen significantly undervalues the "
         "company.", "significantly undervalues"),
        ("The family foundation that controls 38% of the shares said it would not sell at any "
         "price this year.", "would not sell"),
    ], [
        "Vandermeulen said it would raise the offer to €58 a share.",
        "The Eisberg family foundation said it would sell this year.",
        "Eisberg shares fell 22% on the news.",
        "Eisberg employs 5,600 people, mostly in Belgium.",
    ]),
    *_cases("What did Basel voters decide about the stadium?", date(2024, 11, 26),
            f"{SITE}/2024/11/25/basel-stadium", [
        ("Basel-Stadt voters rejected the 290 million franc stadium plan, with 54.7% voting "
         "no.", "54.7% voting no"),
        ("The government will look at renovating the existing ground instead.",
         "renovating the existing ground"),
    ], [
        "Basel voters approved the new football stadium.",
        "The stadium plan was approved with 61.2% in favour.",
        "Turnout was 54.7%.",
    ]),
    *_cases("How hot did it get in Spain?", date(2025, 7, 15),
            f"{SITE}/2025/07/15/spain-heat", [
        ("A town in southern Spain recorded 46.2C on Monday, a national record for July.",
         "46.2C on Monday"),
        ("The reading was taken in Almadén del Sol, in Córdoba province.", "Almadén del Sol"),
    ], [
        "Two farm workers died of heatstroke in Seville.",
        "Authorities in Córdoba ordered outdoor work to stop for the whole day.",
        "The weather agency said the heatwave was the first of the summer.",
        "Portugal recorded a new national record of 46.2C.",
    ]),
    *_cases("How many measles cases are there in Lyon?", date(2024, 4, 4),
            f"{SITE}/2024/04/03/lyon-measles", [
        ("The outbreak in Lyon has grown to 140 confirmed cases since early February.",
         "140 confirmed cases"),
        ("Eighteen patients have been admitted to hospital and no one has died.",
         "Eighteen patients"),
    ], [
        "Most of the cases are in vaccinated adults.",
        "Eighteen patients have died.",
        "Vaccination coverage in Lyon has risen above 95%.",
    ]),
    *_cases("Who won the Belgian Cup?", date(2024, 4, 22), f"{SITE}/2024/04/22/belgian-cup", [
        ("KV Scheldestad won the Belgian Cup for the first time, beating Sporting Hasselt 2-1 "
         "after extra time.", "beating Sporting Hasselt 2-1"),
        ("Samuel Adeyemi headed the winner in the 112th minute.", "headed the winner"),
    ], [
        "Sporting Hasselt won the Belgian Cup for the first time.",
        "Scheldestad were relegated to the second division.",
        "Samuel Adeyemi scored the winner from a penalty in the 88th minute.",
    ]),
    *_cases("What did archaeologists find under the Norwegian farm?", date(2024, 10, 9),
            f"{SITE}/2024/10/08/viking-ship", [
        ("Archaeologists found the remains of a Viking ship burial near Tønsberg.",
         "Viking ship burial"),
        ("The team also found a sword, a bronze brooch and the bones of a horse.",
         "a sword, a bronze brooch"),
    ], [
        "The wooden hull of the ship survives almost whole.",
        "Excavation of the ship began last summer.",
        "The farmer, Ola Berge, will pay compensation to the state.",
    ]),
    *_cases("What did the hackers steal from Atlântico Telecom?", date(2024, 3, 26),
            f"{SITE}/2024/03/26/atlantico-breach", [
        ("Hackers stole the names, addresses and phone numbers of about 9 million customers.",
         "names, addresses and phone numbers"),
        ("The company said bank details and passwords were not affected.",
         "bank details and passwords were not affected"),
    ], [
        "The hackers stole bank details and passwords of 9 million customers.",
        "Atlântico said it would pay the ransom.",
        "Atlântico's shares rose 6.8% in Lisbon.",
    ]),
    *_cases("What happened to the ferry off Norway?", date(2024, 8, 19),
            f"{SITE}/2024/08/19/ferry-aground", [
        ("A ferry carrying 312 people ran aground near the island of Stord on Sunday evening.",
         "ran aground near the island of Stord"),
        ("All passengers were taken off safely by lifeboats and rescue vessels.",
         "taken off safely"),
    ], [
        "Four people died when the ferry ran aground.",
        "The ferry was sailing from Stavanger to Bergen.",
        "Vestlinjen said the ship had left its normal route in fog.",
    ]),
    *_cases("What caused the blackout in Tallinn?", date(2024, 11, 13),
            f"{SITE}/2024/11/13/tallinn-blackout", [
        ("The blackout followed a fire at a substation, caused by a faulty transformer.",
         "faulty transformer"),
        ("Sabotage had been ruled out, the company said.", "sabotage had been ruled out"),
    ], [
        "The fire at the substation was caused by sabotage.",
        "The city's airport closed for five hours.",
        "It was the first blackout in Estonia since 2006.",
    ]),
    *_cases("How much did the Lehtola painting sell for?", date(2024, 11, 14),
            f"{SITE}/2024/11/14/lehtola-auction", [
        ("A painting by Aino Lehtola sold for €18.5 million at an auction in London.",
         "sold for €18.5 million"),
        ("The painting had been expected to fetch between €8 million and €12 million.",
         "expected to fetch between"),
    ], [
        "The buyer, a collector from Turku, was named by the auction house.",
        "The painting sold below its estimate.",
        "Five bidders competed for the painting for 80 years.",
    ]),
]  # fmt: skip
