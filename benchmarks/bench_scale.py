"""Question latency at 1k, 10k and 100k passages, and where the time goes.

    python benchmarks/bench_scale.py [--sizes 1000,10000,100000] [--questions N] [--quick]

Each size holds the same ~1,000 real passages (news-like articles made from the QA sets,
indexed with the real model) plus filler up to the size: articles of five passages, each
passage three to five sentences drawn at random from the real ones, with the sentences'
pooled vectors and, as its passage vector, their normalised mean. Filler text is real text
(BM25 sees real word statistics) and its vectors sit where real passages do, so it competes
with the real passages as a bigger news archive would, without hours of encoding.

Questions are asked one at a time of a warm answerer, as `newsbot ask -` does; the baseline
is a bare ``model.encode`` of each question, in the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import numpy as np
from corpus import (
    AFTER_EVERYTHING,
    EVAL_DATE,
    dataset_parser,
    eval_sets,
    int_list,
    make_embedder,
    news_articles,
    sample_questions,
)
from stages import STAGES, StageClock

from retrieval.answering import Answerer, AnswerSettings
from retrieval.articles import Article, Passage
from retrieval.chunking import ChunkSettings
from retrieval.embedding import Embedder, normalise
from retrieval.index import EmbeddedStorage, IndexSpec, build_index, open_index, write_generation
from retrieval.sentences import split_sentences

FILLER_PASSAGES_PER_ARTICLE = 5
SEARCH_STAGES = STAGES[:4]  # the rest is composing
REST = ("rest of search", "rest of compose")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = dataset_parser(__doc__, backend=True)
    parser.add_argument("--sizes", type=int_list, default="1000,10000,100000",
                        help="passage counts")  # fmt: skip
    parser.add_argument("--real", type=int, default=180,
                        help="real articles in every size (~1,000 passages)")  # fmt: skip
    parser.add_argument("--questions", type=int, default=300, help="questions per size")
    parser.add_argument("--methods", default="hybrid,dense",
                        help="retrieval methods to time at each size")  # fmt: skip
    parser.add_argument("--warmup", type=int, default=10, help="untimed questions first")
    parser.add_argument("--quick", action="store_true",
                        help="a tiny run: 12 real articles, 100 and 400 passages")  # fmt: skip
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.real, args.questions, args.warmup = [100, 400], 12, 10, 1
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Build each size, time the questions, print the table."""
    args = parse_args(argv)
    sets = eval_sets(args)
    embedder, chunking = make_embedder(args), ChunkSettings()
    spec = IndexSpec(embedder.name, chunking)
    questions = sample_questions(sets, args.questions + args.warmup, seed=1)
    load = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-scale-") as directory:
        real_dir = Path(directory) / "real"
        build_index(real_dir, news_articles(sets, args.real), embedder, chunking)
        reader = open_index(real_dir, spec)
        real_passages = reader.size
        sentences = _sentence_pool(reader)
        reader.close()
        for size in sorted(args.sizes):
            data_dir = Path(directory) / f"size-{size}"
            shutil.copytree(real_dir, data_dir)
            started = time.perf_counter()
            added = _add_filler(data_dir, spec, embedder.dimension, sentences,
                                size - real_passages)  # fmt: skip
            fill_s = time.perf_counter() - started
            for method in args.methods.split(","):
                answerer = Answerer(
                    EmbeddedStorage(data_dir, spec), embedder, AnswerSettings(method=method)
                )
                row = _measure(answerer, embedder, questions, args.warmup, size, fill_s)
                rows.append({**row, "method": method})
            print(f"size {size}: {real_passages} real + {added} filler passages, filled in "
                  f"{fill_s:.1f} s", file=sys.stderr)  # fmt: skip
            shutil.rmtree(data_dir)
    print(f"command: `python benchmarks/bench_scale.py {' '.join(argv or sys.argv[1:])}`\n")
    print(f"{real_passages} real passages in every size; {len(questions) - args.warmup} "
          f"questions one at a time; 1-minute load average {load:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end (2 cores)\n")  # fmt: skip
    print(_table(rows))
    return 0


def _sentence_pool(reader) -> list[tuple[str, np.ndarray]]:  # type: ignore[no-untyped-def]
    """Every real sentence with its pooled vector."""
    ids = list(reader.store.passages(range(1, reader.size + 1)))
    passages = reader.store.passages(ids)
    vectors = reader.store.sentence_vectors(ids)
    return [
        (sentence, row)
        for i in ids
        for sentence, row in zip(split_sentences(passages[i].text), vectors[i], strict=True)
    ]


def _add_filler(data_dir: Path, spec: IndexSpec, dimension: int,
                sentences: list[tuple[str, np.ndarray]], count: int) -> int:  # fmt: skip
    """Add ``count`` filler passages in one generation; return how many were added."""
    if count <= 0:
        return 0
    rng = random.Random(7)
    with write_generation(data_dir, spec, dimension, from_current=True) as gen:
        number = 0
        added = 0
        while added < count:
            take = min(FILLER_PASSAGES_PER_ARTICLE, count - added)
            picks = [_pick(sentences, rng) for _ in range(take)]
            url = f"https://filler.invalid/{number}"
            passages = [
                Passage(url, p, " ".join(s for s, _ in pick)) for p, pick in enumerate(picks)
            ]
            rows = [np.vstack([v for _, v in pick]) for pick in picks]
            article = Article(
                url=url,
                title=" ".join(picks[0][0][0].split()[:10]),
                source="Filler Wire",
                published=EVAL_DATE + timedelta(days=rng.randrange(366)),
                paragraphs=tuple(p.text for p in passages),
            )
            ids = gen.store.add_article(article, passages, rows)
            gen.add(ids, normalise(np.vstack([r.mean(axis=0) for r in rows])))
            number += 1
            added += take
    return added


def _pick(sentences: list[tuple[str, np.ndarray]], rng: random.Random) -> list:  # type: ignore[type-arg]
    """Three to five sentences that read back as that many (so their vectors apply)."""
    while True:
        pick = rng.sample(sentences, rng.randint(3, 5))
        if len(split_sentences(" ".join(s for s, _ in pick))) == len(pick):
            return pick


def _measure(answerer: Answerer, embedder: Embedder, questions: list[str],
             warmup: int, size: int, fill_s: float) -> dict[str, object]:  # fmt: skip
    for question in questions[:warmup]:
        answerer.answer(question, as_of=AFTER_EVERYTHING)
    columns: dict[str, list[float]] = {"baseline": [], "total": [], "encode_ms": [],
                                       "search_ms": [], "compose_ms": []}  # fmt: skip
    stages: dict[str, list[float]] = {stage: [] for stage in (*STAGES, *REST)}
    reader = answerer.reader()
    with StageClock().watching(reader) as clock:
        for question in questions[warmup:]:
            started = time.perf_counter()
            embedder.encode([question])
            columns["baseline"].append((time.perf_counter() - started) * 1000)
            clock.lap()
            started = time.perf_counter()
            answer = answerer.answer(question, as_of=AFTER_EVERYTHING)
            columns["total"].append((time.perf_counter() - started) * 1000)
            spent = clock.lap()
            for key in ("encode_ms", "search_ms", "compose_ms"):
                if key in answer.timings:
                    columns[key].append(answer.timings[key])
            for stage, value in spent.items():
                stages[stage].append(value)
            searching = sum(spent[s] for s in SEARCH_STAGES)
            stages["rest of search"].append(answer.timings["search_ms"] - searching)
            if "compose_ms" in answer.timings:
                composing = sum(spent[s] for s in STAGES if s not in SEARCH_STAGES)
                stages["rest of compose"].append(answer.timings["compose_ms"] - composing)
    return {"size": reader.size, "index": type(reader.vectors).__name__, "fill_s": fill_s,
            **columns, "stages": stages}  # fmt: skip


def _cell(values: object) -> str:
    data = list(values)  # type: ignore[call-overload]
    if not data:
        return "-"
    p50, p99 = np.percentile(data, [50, 99])
    return f"{p50:.1f} / {p99:.1f}"


def _table(rows: list[dict[str, object]]) -> str:
    lines = [
        "p50 / p99 in ms per question:\n",
        "| passages | index | method | bare encode (baseline) | answer() | encode | search "
        "| compose | answer / baseline p50 |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ratio = np.median(row["total"]) / np.median(row["baseline"])  # type: ignore[arg-type]
        lines.append(
            f"| {row['size']:,} | {row['index']} | {row['method']} | {_cell(row['baseline'])} "
            f"| {_cell(row['total'])} "
            f"| {_cell(row['encode_ms'])} | {_cell(row['search_ms'])} "
            f"| {_cell(row['compose_ms'])} | {ratio:.2f} |"
        )
    names = (*SEARCH_STAGES, "rest of search", *STAGES[4:], "rest of compose")
    lines += [
        "\nWhere search and compose go, p50 / p99 ms per question (rows: passages and "
        "the vectors of keyword-only hits; sentence rows: the evidence's sentence vectors "
        "and the question terms' counts; rest of search: fusing, boosts, sorting; rest of "
        "compose: splitting, citations, the answer):\n",
        "| passages, method | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for row in rows:
        stages = row["stages"]
        cells = " | ".join(_cell(stages[name]) for name in names)  # type: ignore[index]
        lines.append(f"| {row['size']:,}, {row['method']} | {cells} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
