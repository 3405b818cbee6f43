"""Start-up: from `newsbot ask "…"` to its answer, and from `newsbot telegram` to ready.

    python benchmarks/bench_startup.py [--repeats N] [--env NEWSBOT_X=value ...] [--quick]

Every figure is a fresh process over an index of seeds/, in the same run:
``newsbot --help`` (Python and the CLI alone) is the baseline; ``newsbot ask`` end to end;
the phases of an ask timed inside one process (imports, settings, model, index, answer);
and ``newsbot telegram`` against a local fake Bot API on 127.0.0.1, from process start to
its first getUpdates (ready) and to the reply to a question pushed then.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "When is Putin visiting Pyongyang?"
# Run in a fresh interpreter: the phases of `newsbot ask`, one at a time.
PHASES = f"""
import json, sys, time
marks = {{"start": time.perf_counter()}}
import bot.cli
marks["import bot.cli"] = time.perf_counter()
from bot.settings import load_settings
from bot.app import make_answerer
settings = load_settings(None)
answerer = make_answerer(settings)
marks["settings, answerer"] = time.perf_counter()
answerer.embedder.encode(["warm"])
marks["model: imports, load, first encode"] = time.perf_counter()
answerer.reader()
marks["open the index"] = time.perf_counter()
answer = answerer.answer({QUESTION!r})
marks["first answer"] = time.perf_counter()
names = list(marks)
print(json.dumps({{"phases": {{b: (marks[b] - marks[a]) * 1000 for a, b in zip(names, names[1:])}},
                  "torch": "torch" in sys.modules, "answered": answer.answered}}))
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="fresh processes per figure")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for every process (repeatable)")  # fmt: skip
    parser.add_argument("--no-telegram", action="store_true", help="skip the Telegram figure")
    parser.add_argument("--quick", action="store_true", help="one process per figure")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = 1
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Index the seeds, start the processes, print the table."""
    args = parse_args(argv)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-startup-") as directory:
        env = _environment(Path(directory), args.env)
        _run([sys.executable, "-m", "bot", "index", str(ROOT / "seeds")], env)
        _run([sys.executable, "-m", "bot", "ask", "warm the model cache"], env)  # exports, if any
        rows: dict[str, list[float]] = {}
        phases: dict[str, list[float]] = {}
        torch_loaded = set()
        for _ in range(args.repeats):
            rows.setdefault("`newsbot --help` (baseline)", []).append(
                _timed([sys.executable, "-m", "bot", "--help"], env))  # fmt: skip
            rows.setdefault("`newsbot ask` end to end", []).append(
                _timed([sys.executable, "-m", "bot", "ask", QUESTION], env))  # fmt: skip
            record = json.loads(_run([sys.executable, "-c", PHASES], env).splitlines()[-1])
            torch_loaded.add(record["torch"])
            for name, ms in record["phases"].items():
                phases.setdefault(name, []).append(ms)
            if not args.no_telegram:
                ready, reply = _telegram(env)
                rows.setdefault("`newsbot telegram` to ready (first getUpdates)", []).append(ready)
                rows.setdefault("`newsbot telegram` to its first reply", []).append(reply)
    print(f"command: `python benchmarks/bench_startup.py {' '.join(argv or sys.argv[1:])}`\n")
    torch = " / ".join(str(t).lower() for t in sorted(torch_loaded))
    print(f"{args.repeats} fresh processes per figure, medians; settings: "
          f"{', '.join(args.env) or 'defaults'}; torch imported by an ask: {torch}; "
          f"1-minute load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the "
          "end (2 cores)\n")  # fmt: skip
    baseline = float(np.median(rows["`newsbot --help` (baseline)"]))
    print("| process | median s | max s | / baseline |\n|---|---:|---:|---:|")
    for name, values in rows.items():
        median = float(np.median(values))
        print(f"| {name} | {median:.2f} | {max(values):.2f} | {median / baseline:.1f} |")
    print("\nWhere an ask's time goes (one process, phase by phase):\n")
    print("| phase | median ms | max ms |\n|---|---:|---:|")
    for name, values in phases.items():
        print(f"| {name} | {np.median(values):.0f} | {max(values):.0f} |")
    return 0


def _environment(directory: Path, settings: list[str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", NEWSBOT_DATA_DIR=str(directory / "data"))
    for item in settings:
        name, _, value = item.partition("=")
        env[name] = value
    return env


def _run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env=env, cwd=env["NEWSBOT_DATA_DIR"].rsplit("/", 1)[0],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed: {done.stderr[-2000:]}")
    return done.stdout


def _timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    _run(command, env)
    return time.perf_counter() - started


def _telegram(env: dict[str, str]) -> tuple[float, float]:
    """Seconds from start to the first getUpdates, and to the reply to a question."""
    sys.path.insert(0, str(ROOT / "tests" / "telegram"))
    from fake_bot_api import FakeBotApi
    from telegram_updates import text_update

    api = FakeBotApi("4242:STARTUP").start()
    bot_env = {**env, "NEWSBOT_TELEGRAM_TOKEN": "4242:STARTUP",
               "NEWSBOT_TELEGRAM_BASE_URL": api.base_url}  # fmt: skip
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "bot", "telegram"], env=bot_env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        [first, *_] = api.wait_for("getUpdates", timeout=300)
        api.push_update(text_update(5151, QUESTION))
        [reply] = api.wait_for("sendMessage", timeout=120)
    finally:
        process.terminate()
        process.communicate(timeout=60)
        api.close()
    return first.at - started, reply.at - started


if __name__ == "__main__":
    sys.exit(main())
