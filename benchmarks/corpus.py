"""Eval QA sets as articles: one article per passage for scoring, news-like ones for load.

The QA sets use the format of ``../shared/eval/README.md``. They are read from there (or
from a path given on the command line) and never copied into the project: rgb_en_fact is
licensed for non-commercial use only.
"""

from __future__ import annotations

import argparse
import random
import re
from datetime import date, timedelta
from pathlib import Path

from retrieval.articles import Article
from retrieval.embedding import Embedder
from retrieval.evaluation import EvalSet, load_eval_set
from retrieval.evaluation import passage_id as passage_id  # the benchmarks read ids back
from retrieval.sentences import split_sentences


def _shared_eval() -> Path:
    """``shared/eval`` beside the checkout, or beside a folder above it (a git worktree)."""
    checkout = Path(__file__).resolve().parents[1]
    found = (p / "shared" / "eval" for p in checkout.parents)
    return next((p for p in found if p.is_dir()), checkout.parent / "shared" / "eval")


SHARED_EVAL = _shared_eval()
DEFAULT_SETS = (SHARED_EVAL / "xquad_en.json", SHARED_EVAL / "rgb_en_fact.json")
EVAL_HOST = "https://eval.invalid"
EVAL_DATE = date(2024, 1, 1)
# Far enough ahead that no article counts as "published after the question date".
AFTER_EVERYTHING = date(2100, 1, 1)

OUTLETS = ("Harbor Times", "Northwind Herald", "Daily Ledger", "Metro Wire", "Continental Post")
AUTHORS = (None, None, "Staff", "A. Reporter", "J. Correspondent")
# Search snippets start with a date and end cut off: "Mar 3, 2014 ... It's video game ..."
_SNIPPET_HEAD = re.compile(r"^(?:[A-Z][a-z]{2} \d{1,2}, \d{4} )?(?:\.\.\.|…) ")
_SNIPPET_TAIL = re.compile(r"\s*(?:\.\.\.|…)\s*$")
_SLUG_WORD = re.compile(r"[a-z0-9]+")
STORY_SIZE = 6  # untitled passages (search snippets) are grouped into stories of this many


def eval_articles(eval_set: EvalSet) -> list[Article]:
    """One article per passage, titled as the passage; ``passage_id`` reads its id back."""
    return list(eval_set.articles)


def passage_text(article: Article) -> str:
    """A QA set passage's text, as one paragraph."""
    return " ".join(article.paragraphs)


def news_articles(sets: list[EvalSet], count: int, *, seed: int = 0) -> list[Article]:
    """``count`` news-like articles: a headline and 4-8 short paragraphs of one story.

    Stories are the passages of one title (Wikipedia paragraphs cut into paragraphs of one
    to three sentences, as news is written) or runs of untitled snippets. When ``count``
    asks for more articles than there are stories, the later articles on a story retell it:
    its real sentences, drawn in another order into new paragraphs, as a follow-up report
    repeats and reorders the facts of the first. So every article's text is its own (no
    two share a content hash by chance) and a corpus of 30,000 passages or more is made of
    real sentences with real word statistics.
    """
    rng = random.Random(seed)
    stories = _stories(sets, rng)
    if not stories:
        raise ValueError("the QA sets hold no passages")
    rng.shuffle(stories)
    articles = []
    for number in range(count):
        story = stories[number % len(stories)]
        size = rng.randint(4, 8)
        if number < len(stories):
            start = rng.randrange(max(1, len(story) - size + 1))
            paragraphs = tuple(story[start : start + size])
        else:
            paragraphs = _retold(story, size, rng)
        headline = _headline(paragraphs)
        slug = "-".join(_SLUG_WORD.findall(headline.lower())[:6]) or "story"
        articles.append(
            Article(
                url=f"{EVAL_HOST}/news/{number:05d}-{slug}",
                title=headline,
                source=rng.choice(OUTLETS),
                published=EVAL_DATE + timedelta(days=rng.randrange(366)),
                paragraphs=paragraphs,
                author=rng.choice(AUTHORS),
            )
        )
    return articles


def _stories(sets: list[EvalSet], rng: random.Random) -> list[list[str]]:
    titled: dict[tuple[str, str], list[str]] = {}
    untitled: list[str] = []
    for eval_set in sets:
        for p in eval_set.articles:
            if p.title:
                titled.setdefault((eval_set.name, p.title), []).extend(_news_paragraphs(p, rng))
            else:
                untitled.append(_SNIPPET_TAIL.sub("", _SNIPPET_HEAD.sub("", passage_text(p))))
    runs = [untitled[i : i + STORY_SIZE] for i in range(0, len(untitled), STORY_SIZE)]
    return [story for story in [*titled.values(), *runs] if story]


def _retold(story: list[str], size: int, rng: random.Random) -> tuple[str, ...]:
    """Up to ``size`` paragraphs of one to three of the story's sentences, drawn at random."""
    sentences = [s for paragraph in story for s in split_sentences(paragraph)]
    rng.shuffle(sentences)
    paragraphs = []
    while sentences and len(paragraphs) < size:
        take = rng.randint(1, 3)
        paragraphs.append(" ".join(sentences[:take]))
        sentences = sentences[take:]
    return tuple(paragraphs)


def _news_paragraphs(passage: Article, rng: random.Random) -> list[str]:
    """Cut a long paragraph into paragraphs of one to three sentences."""
    sentences = split_sentences(passage_text(passage))
    paragraphs = []
    while sentences:
        take = rng.randint(1, 3)
        paragraphs.append(" ".join(sentences[:take]))
        sentences = sentences[take:]
    return paragraphs


def _headline(paragraphs: tuple[str, ...], words: int = 12) -> str:
    """The first sentence of four words or more, cut to ``words`` words."""
    sentences = [s.split() for p in paragraphs for s in split_sentences(p)]
    first = next((s for s in sentences if len(s) >= 4), max(sentences, key=len))
    return " ".join(first[:words]).strip(" .,;:…")


def sample_questions(sets: list[EvalSet], count: int, *, seed: int = 0) -> list[str]:
    """Up to ``count`` questions, taken from the sets in turn so that small sets count."""
    rng = random.Random(seed)
    pools = []
    for eval_set in sets:
        pool = [q.question for q in eval_set.questions]
        rng.shuffle(pool)
        pools.append(pool)
    chosen: list[str] = []
    while len(chosen) < count and any(pools):
        for pool in pools:
            if pool and len(chosen) < count:
                chosen.append(pool.pop())
    return chosen


def dataset_parser(doc: str | None, *, backend: bool = False) -> argparse.ArgumentParser:
    """A benchmark's command line, with the --dataset option every benchmark takes (and
    --backend, for those that run the model as the app does)."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n")[0])
    if backend:
        parser.add_argument(
            "--backend",
            choices=("onnx", "torch", "onnx-int8"),
            default="onnx",
            help="how the model runs, as NEWSBOT_EMBEDDING_BACKEND (default onnx, the app's)",
        )
    parser.add_argument(
        "--dataset",
        action="append",
        type=Path,
        metavar="PATH",
        help="QA set file, repeatable (default: ../shared/eval/*.json)",
    )
    return parser


def int_list(text: str) -> list[int]:
    """An argparse type: "1000,10000" as [1000, 10000]."""
    return [int(part) for part in text.split(",") if part.strip()]


def eval_sets(args: argparse.Namespace) -> list[EvalSet]:
    """The QA sets a benchmark's --dataset options name (default: the shared ones)."""
    return [load_eval_set(path) for path in args.dataset or DEFAULT_SETS]


def make_embedder(args: argparse.Namespace) -> Embedder:
    """The bundled model on the --backend the command line names, as the app makes it."""
    from bot.app import make_embedder as app_embedder
    from bot.settings import Settings

    settings = Settings(_env_file=None, embedding_backend=args.backend)  # type: ignore[call-arg]
    return app_embedder(settings)
