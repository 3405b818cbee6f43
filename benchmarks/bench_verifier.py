"""Answer latency with the verifier against the code before it, in the same run.

    python benchmarks/bench_verifier.py --baseline-root ../verifier-base [--questions 300]

``--baseline-root`` is a checkout of the commit before the verifier (the storage seam:
``git worktree add ../verifier-base 2e788e3``). Each version builds its own index of the
same articles (the XQuAD English paragraphs plus the written news of tests/data: the
on-disk format changed since), then answers the same questions warm, one at a time, in its
own process, in turns (A B A B ...), and the p50 and p90 of the answerer's own
``total_ms`` are printed side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"

CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from bot.app import make_embedder
from bot.settings import Settings
from retrieval.answering import Answerer, AnswerSettings
from retrieval.chunking import ChunkSettings
from retrieval.index import IndexSpec
from datetime import date
from pathlib import Path
embedder = make_embedder(Settings(_env_file=None))
spec = IndexSpec(embedder.name, ChunkSettings())
from retrieval.index import EmbeddedStorage
answerer = Answerer(EmbeddedStorage(Path(sys.argv[2]), spec), embedder, AnswerSettings())
questions = json.loads(open(sys.argv[3]).read())
for q in questions[:20]:
    answerer.answer(q, as_of=date(2100, 1, 1))  # warm up
times = [answerer.answer(q, as_of=date(2100, 1, 1)).timings["total_ms"] for q in questions]
print(json.dumps(times))
"""

BUILD = """
import sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from bot.app import make_embedder
from bot.settings import Settings
from retrieval.chunking import ChunkSettings
from retrieval.evaluation import load_eval_set
from retrieval.index import build_index
data = Path(sys.argv[3])
articles = load_eval_set(data / "xquad_en.json").articles
articles += load_eval_set(data / "news_dev.json").articles
build_index(Path(sys.argv[2]), articles, make_embedder(Settings(_env_file=None)), ChunkSettings())
"""


def child(script: str, root: Path, *args: str) -> str:
    """Run ``script`` with the code in ``root``; its output, or its error and exit."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(root), *args],
        capture_output=True, text=True, env=env, cwd=root,
    )  # fmt: skip
    if done.returncode:
        raise SystemExit(f"{root}: child failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def run(root: Path, data_dir: Path, questions: Path) -> list[float]:
    """The answerer's total_ms for each question, with the code in ``root``."""
    out = child(CHILD, root, str(data_dir), str(questions))
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    """Build the index, time both versions in turns, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-root", type=Path, required=True)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from retrieval.evaluation import load_eval_set

    base = args.baseline_root.resolve()
    xquad, news = load_eval_set(DATA / "xquad_en.json"), load_eval_set(DATA / "news_dev.json")
    questions = [q.question for q in xquad.questions + news.questions]
    step = max(1, len(questions) // args.questions)
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-verifier-") as directory:
        indexes = {base: Path(directory) / "before", ROOT: Path(directory) / "after"}
        for root, data_dir in indexes.items():
            child(BUILD, root, str(data_dir), str(DATA))
        asked = Path(directory) / "questions.json"
        asked.write_text(json.dumps(questions[::step][: args.questions]))
        times: dict[str, list[float]] = {"before the verifier": [], "with the verifier": []}
        for _ in range(args.rounds):
            times["before the verifier"] += run(base, indexes[base], asked)
            times["with the verifier"] += run(ROOT, indexes[ROOT], asked)
    count = len(questions[::step][: args.questions])
    articles = len(xquad.articles) + len(news.articles)
    load = os.getloadavg()[0]
    print(f"{count} questions x {args.rounds} rounds, {articles} articles; load {load:.2f}")
    print("| version | p50 ms | p90 ms |\n|---|---|---|")
    for name, values in times.items():
        deciles = statistics.quantiles(values, n=10)
        print(f"| {name} | {statistics.median(values):.2f} | {deciles[8]:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
