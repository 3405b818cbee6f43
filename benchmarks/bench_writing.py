"""What a written answer adds to a question's latency, besides the model itself.

    python benchmarks/bench_writing.py [--repeats N]

Seed questions asked one at a time of a warm answerer over the seed index (the baseline:
the extractive answer), then the same answer written by a fake OpenAI-compatible server on
127.0.0.1 that replies at once (tests/fake_model_api.py), streamed and as plain JSON, so
that the figures are the client, the prompt and the checking, not a model. The checking of
a reply alone is timed too. Prints a Markdown table with the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.answering import Answerer, AnswerSettings  # noqa: E402
from retrieval.chunking import ChunkSettings  # noqa: E402
from retrieval.embedding import OnnxEmbedder  # noqa: E402
from retrieval.index import EmbeddedStorage, IndexSpec, build_index  # noqa: E402
from retrieval.sources import load_articles  # noqa: E402
from retrieval.writing import AnswerWriter, ChatClient, ModelSettings  # noqa: E402
from retrieval.writing.checking import check_sentence, split_reply, word_support  # noqa: E402
from retrieval.writing.prompt import build_messages, gather_sources  # noqa: E402
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


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of values, by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def timed(call: Callable[[], object]) -> float:
    """Milliseconds one call takes."""
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    """Run the rounds and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    embedder = OnnxEmbedder(cache_dir=Path(tempfile.gettempdir()) / "newsbot-bench-models")
    data_dir = Path(tempfile.mkdtemp())
    build_index(data_dir, load_articles([ROOT / "seeds"]), embedder, ChunkSettings())
    spec = IndexSpec(embedder.name, ChunkSettings())
    answerer = Answerer(EmbeddedStorage(data_dir, spec), embedder, AnswerSettings())
    api = FakeModelApi(default=Reply(REPLY)).start()
    writers = {
        stream: AnswerWriter(ChatClient(ModelSettings(api.base_url, "bench", stream=stream)))
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
                for sentence in split_reply(REPLY):
                    check_sentence(sentence, by_n, word_support)

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
