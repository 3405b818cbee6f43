"""Eval QA sets as articles: one article per passage for scoring, news-like ones for load.

The QA sets use the format of ``../shared/eval/README.md``. They are read from there (or
from a path given on the command line) and never copied into the project: rgb_en_fact is
licensed for non-commercial use only.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote, unquote

from retrieval.articles import Article
from retrieval.embedding import Embedder
from retrieval.sentences import split_sentences

SHARED_EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
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


@dataclass(frozen=True)
class EvalPassage:
    """A passage of a QA set."""

    id: str
    title: str
    text: str


@dataclass(frozen=True)
class EvalQuestion:
    """A question of a QA set with the ids of the passages that answer it."""

    id: str
    question: str
    gold: frozenset[str]
    answers: tuple[str, ...]


@dataclass(frozen=True)
class EvalSet:
    """A QA set: its name (the file stem), passages and questions."""

    name: str
    passages: tuple[EvalPassage, ...]
    questions: tuple[EvalQuestion, ...]


def load_eval_set(path: Path) -> EvalSet:
    """Read a QA set file, checking that every gold id names one of its passages."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path}: no such QA set (pass --dataset PATH; format in ../shared/eval/README.md)"
        ) from None
    passages = tuple(
        EvalPassage(str(p["id"]), p.get("title") or "", _clean(p["text"])) for p in data["passages"]
    )
    known = {p.id for p in passages}
    questions = []
    for q in data["questions"]:
        gold = frozenset(str(i) for i in q["gold_passage_ids"])
        if not gold <= known:
            raise ValueError(f"{path}: question {q['id']} names unknown passages {gold - known}")
        questions.append(EvalQuestion(str(q["id"]), q["question"], gold, tuple(q["answers"])))
    return EvalSet(path.stem, passages, tuple(questions))


def _clean(text: str) -> str:
    """White space normalised, as the article loader leaves paragraphs."""
    return " ".join(text.split())


def passage_url(set_name: str, passage_id: str) -> str:
    """The synthetic URL of a passage's article, from which its id can be read back."""
    return f"{EVAL_HOST}/{set_name}/{quote(passage_id, safe='')}"


def passage_id(url: str) -> str:
    """The passage id in a URL made by :func:`passage_url`."""
    return unquote(url.rsplit("/", 1)[1])


def eval_articles(eval_set: EvalSet) -> list[Article]:
    """One article per passage, titled as the passage, so that hits map back to gold ids."""
    return [
        Article(
            url=passage_url(eval_set.name, p.id),
            title=p.title,
            source="eval",
            published=EVAL_DATE,
            paragraphs=(p.text,),
        )
        for p in eval_set.passages
    ]


def news_articles(sets: list[EvalSet], count: int, *, seed: int = 0) -> list[Article]:
    """``count`` news-like articles: a headline and 4-8 short paragraphs of one story.

    Stories are the passages of one title (Wikipedia paragraphs cut into paragraphs of one
    to three sentences, as news is written) or runs of untitled snippets. Articles reuse
    stories when ``count`` asks for more text than the sets hold; the headline differs, so
    the embedded text does too.
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
        start = rng.randrange(max(1, len(story) - size + 1))
        paragraphs = tuple(story[start : start + size])
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
        for p in eval_set.passages:
            if p.title:
                titled.setdefault((eval_set.name, p.title), []).extend(_news_paragraphs(p, rng))
            else:
                untitled.append(_SNIPPET_TAIL.sub("", _SNIPPET_HEAD.sub("", p.text)))
    runs = [untitled[i : i + STORY_SIZE] for i in range(0, len(untitled), STORY_SIZE)]
    return [story for story in [*titled.values(), *runs] if story]


def _news_paragraphs(passage: EvalPassage, rng: random.Random) -> list[str]:
    """Cut a long paragraph into paragraphs of one to three sentences."""
    sentences = split_sentences(passage.text)
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
