"""What the check of written sentences accepts, and what a written answer adds to latency.

    python benchmarks/bench_writing.py [--repeats N]

Acceptance: the scripted replies of tests/test_writing.py (over the seed index), the
written sentences of benchmarks/writing_cases.py (over the seed article and the news
fixtures; the set the checks were built on) and those of benchmarks/writing_cases_test.py
(over ten quiz-test articles; report only), each checked by the hard rules (links, numbers,
dates, names) with the word-coverage check, with the answer verifier
(retrieval.answering.WrittenVerifier), with one place stating the sentence
(retrieval.writing.checking.stated_support) and with the combinations the writer used before
and uses now, in one run: the share of supported and of unsupported sentences each accepts.

Latency: seed questions asked one at a time of a warm answerer over the seed index (the
baseline: the extractive answer), then the same answer written by a fake OpenAI-compatible
server on 127.0.0.1 that replies at once (tests/fake_model_api.py), streamed and as plain
JSON, so that the figures are the client, the prompt and the checking, not a model. The
checking of a reply alone is timed too. Prints Markdown tables with the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.writing_cases import CASES, fixture_articles  # noqa: E402
from benchmarks.writing_cases_test import CASES as QUIZ_CASES  # noqa: E402
from benchmarks.writing_cases_test import quiz_articles  # noqa: E402
from retrieval.answer import Answer  # noqa: E402
from retrieval.answering import Answerer, AnswerSettings, WrittenVerifier  # noqa: E402
from retrieval.chunking import ChunkSettings  # noqa: E402
from retrieval.embedding import Embedder, OnnxEmbedder  # noqa: E402
from retrieval.index import EmbeddedStorage, IndexSpec, build_index  # noqa: E402
from retrieval.sources import load_articles  # noqa: E402
from retrieval.writing import AnswerWriter, ChatClient, ModelSettings  # noqa: E402
from retrieval.writing.checking import (  # noqa: E402
    Checked,
    SupportCheck,
    check_sentence,
    split_reply,
    stated_support,
    word_support,
)
from retrieval.writing.prompt import Source, build_messages, gather_sources  # noqa: E402
from retrieval.writing.writer import Shown, verified, written_support  # noqa: E402
from tests.fake_model_api import FakeModelApi, Reply  # noqa: E402

QUESTIONS = [
    "When is Putin visiting Pyongyang?",
    "Where will Putin go after North Korea?",
    "Who did Putin meet on his first trip to North Korea?",
    "What have Washington and Seoul said Russia gave Pyongyang?",
    "When did Putin visit China?",
    "Who helped found North Korea?",
]
REPLY = (
    "Putin will visit North Korea on June 18–19, 2024. [1] "
    "He will then travel to Vietnam. [1] Putin will also sign a treaty there. [1]"
)
# The scripted replies of tests/test_writing.py to "When is Putin visiting Pyongyang?" over
# the seed index, sentence by sentence, with whether each should be shown.
SCRIPTED = [
    ("Putin will visit North Korea on June 18–19, 2024. [1]", True),
    ("He will then travel to Vietnam. [1]", True),
    ("Putin will also sign a nuclear treaty there. [1]", False),
    ("Putin will meet Xi Jinping in Pyongyang. [1]", False),
    ("Putin will stay in North Korea for 5 days. [1]", False),
    ("Putin will visit North Korea on June 21, 2024. [1]", False),
    ("Putin will visit North Korea on June 18–19, 2024. [1][4]", True),
    ("The Kremlin said so in a statement. [3]", False),
    ("Read the full statement at https://kremlin.example/putin-visit. [1]", False),
    ("He will then travel to Vietnam [1].", True),
    ("Putin will visit North Korea this week. [1]", True),
    ("Putin will visit Pyongyang on March 3, 2025, the Kremlin said. [1]", False),
    ("He met Kim Jong Un in Paris. [1]", False),
]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of values, by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def timed(call: Callable[[], object]) -> float:
    """Milliseconds one call takes."""
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def answerer_over(embedder: Embedder, articles: list) -> Answerer:  # type: ignore[type-arg]
    """A warm answerer over a fresh index of ``articles``."""
    data_dir = Path(tempfile.mkdtemp())
    build_index(data_dir, articles, embedder, ChunkSettings())
    spec = IndexSpec(embedder.name, ChunkSettings())
    return Answerer(EmbeddedStorage(data_dir, spec), embedder, AnswerSettings())


def checks(
    judge: WrittenVerifier, extractive: Answer, shown: Shown | None = None
) -> dict[str, SupportCheck]:
    """The support checks compared, for one question's sentences (after those ``shown``)."""
    return {
        "hard rules alone": lambda sentence, cited: True,
        "hard rules + word coverage (old)": word_support,
        "hard rules + verifier, sentence alone": verified(judge, extractive),
        "hard rules + verifier, in the answer": verified(judge, extractive, None, shown),
        "hard rules + word coverage + verifier in the answer (before)": lambda s, c: (
            word_support(s, c) and verified(judge, extractive, None, shown)(s, c)
        ),
        "hard rules + stated in one place": stated_support,
        "hard rules + stated in one place + verifier in the answer (new, the writer's)": (
            written_support(judge, extractive, None, shown)
        ),
    }


@dataclass
class Opening:
    """An answer's first sentence, already shown, that the sentence under test follows."""

    kept: list[Checked]
    sources: dict[int, Source]


def acceptance(embedder: Embedder) -> None:
    """Print the share of supported and unsupported sentences each check accepts. The
    checks "in the answer" judge each sentence after its question's first supported one
    (that one itself alone), as the writer judges the sentences after the first."""
    counts: dict[tuple[str, str, bool], list[int]] = {}

    def tally(group: str, extractive: Answer, sentence: str, supported: bool, first: str) -> None:
        sources = {s.n: s for s in gather_sources(extractive)}
        opening = check_sentence(first, sources, word_support)
        kept = [opening] if isinstance(opening, Checked) and sentence != first else []
        for name, support in checks(judge, extractive, Opening(kept, sources)).items():
            passed = isinstance(check_sentence(sentence, sources, support), Checked)
            count = counts.setdefault((group, name, supported), [0, 0])
            count[0] += passed
            count[1] += 1

    seed = answerer_over(embedder, load_articles([ROOT / "seeds"]))
    judge = WrittenVerifier(seed)
    extractive = seed.answer(QUESTIONS[0])
    for sentence, supported in SCRIPTED:
        tally("scripted replies (seed index)", extractive, sentence, supported, SCRIPTED[0][0])
    news = answerer_over(embedder, [*load_articles([ROOT / "seeds"]), *fixture_articles()])
    quiz = answerer_over(embedder, quiz_articles())
    sets = [("written sentences (news fixtures)", news, CASES),
            ("written sentences (quiz test, report only)", quiz, QUIZ_CASES)]  # fmt: skip
    for group, index, cases in sets:
        judge = WrittenVerifier(index)
        for case in cases:
            extractive = index.answer(case.question, as_of=case.as_of)
            numbers = {s.article.url: s.n for s in gather_sources(extractive)}
            first = next(c for c in cases if c.question == case.question and c.quote)
            # A source the prompt does not hold gets a number it lacks.
            marked = {c.sentence: f"{c.sentence} [{numbers.get(c.url, 99)}]" for c in (case, first)}
            cited = [s for s in gather_sources(extractive) if s.article.url == case.url]
            seen = " ".join(" ".join(source.text.split()) for source in cited)
            supported = case.quote is not None and case.quote in seen
            tally(group, extractive, marked[case.sentence], supported, marked[first.sentence])
    print(f"threshold {judge.threshold:g} (NEWSBOT_MIN_CONFIDENCE, calibrated default)")
    print()
    print("| sentences | check | supported accepted | unsupported accepted |")
    print("|---|---|---|---|")
    for group in dict.fromkeys(g for g, _, _ in counts):
        for name in checks(judge, extractive):
            good = counts.get((group, name, True), [0, 0])
            bad = counts.get((group, name, False), [0, 0])
            print(f"| {group} | {name} | {_share(good)} | {_share(bad)} |")
    print()


def _share(count: list[int]) -> str:
    return f"{count[0]}/{count[1]} ({count[0] / count[1]:.0%})" if count[1] else "-"


def main() -> None:
    """Run the rounds and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    embedder = OnnxEmbedder(cache_dir=Path(tempfile.gettempdir()) / "newsbot-bench-models")
    print(f"load average {os.getloadavg()[0]:.2f}")
    acceptance(embedder)
    answerer = answerer_over(embedder, load_articles([ROOT / "seeds"]))
    judge = WrittenVerifier(answerer)
    api = FakeModelApi(default=Reply(REPLY)).start()
    writers = {
        stream: AnswerWriter(ChatClient(ModelSettings(api.base_url, "bench", stream=stream)), judge)
        for stream in (True, False)
    }
    for question in QUESTIONS:  # warm up the model, the store and the connection
        writers[True].write(answerer.answer(question))
    times: dict[str, list[float]] = {"extractive": [], "sse": [], "json": [], "check": []}
    for _ in range(args.repeats):
        for question in QUESTIONS:
            extractive = answerer.answer(question)
            times["extractive"].append(timed(lambda q=question: answerer.answer(q)))
            times["sse"].append(timed(lambda e=extractive: writers[True].write(e)))
            times["json"].append(timed(lambda e=extractive: writers[False].write(e)))
            sources = gather_sources(extractive)
            by_n = {s.n: s for s in sources}

            def check(e=extractive, by_n=by_n, sources=sources) -> None:
                build_messages(e.question, e.as_of_query, sources, 3000)
                shown = Opening([], by_n)
                support = written_support(judge, e, None, shown)
                for sentence in split_reply(REPLY):
                    outcome = check_sentence(sentence, by_n, support)
                    if isinstance(outcome, Checked):
                        shown.kept.append(outcome)

            times["check"].append(timed(check))
    api.close()
    base = statistics.median(times["extractive"])
    print(f"{len(QUESTIONS)} questions x {args.repeats}, load average {os.getloadavg()[0]:.2f}")
    print()
    print("| path | p50 ms | p95 ms | p50 vs extractive |")
    print("|---|---|---|---|")
    labels = {
        "extractive": "extractive answer (baseline)",
        "sse": "+ written, streamed (fake model, instant)",
        "json": "+ written, plain JSON (fake model, instant)",
        "check": "+ prompt and checking alone",
    }
    for key, label in labels.items():
        values = times[key]
        p50 = statistics.median(values)
        print(f"| {label} | {p50:.2f} | {percentile(values, 95):.2f} | {p50 / base:.2f}x |")


if __name__ == "__main__":
    main()
