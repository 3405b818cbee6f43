"""The `newsbot` command: builds settings, logging and the answerer, then picks a front-end."""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.examples import add_examples
from bot.quality import add_eval_arguments
from bot.settings import TOP_K_MAX, TOP_K_MIN, Settings, SettingsError, load_settings
from retrieval.version import package_version

if TYPE_CHECKING:
    from retrieval.answering import Answerer
    from retrieval.writing import WritingAnswerer

DEFAULT_SEEDS = Path("seeds")
# Commands that write into the data directory (`feeds list` only reads, but is rare).
WRITING_COMMANDS = {"index", "add", "remove", "feeds", "telegram", "run"}


def _iso_day(text: str) -> date:
    from retrieval.dates import parse_iso_day
    from retrieval.errors import InvalidDateError

    try:
        return parse_iso_day(text)
    except InvalidDateError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _top_k(text: str) -> int:
    """--top-k: the range NEWSBOT_TOP_K accepts."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not TOP_K_MIN <= value <= TOP_K_MAX:
        raise argparse.ArgumentTypeError(f"must be from {TOP_K_MIN} to {TOP_K_MAX}, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface (fixed: scripts depend on it)."""
    parser = argparse.ArgumentParser(
        prog="newsbot", description="Answers questions from indexed news, with citations."
    )
    parser.add_argument("--version", action="version", version=f"newsbot {package_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    index = commands.add_parser("index", help="build the index from article files")
    index.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="article file, directory (recursive) or .jsonl (default: seeds/)",
    )

    index.add_argument(
        "--existing",
        action="store_true",
        help="also re-embed the articles already indexed (after a model change)",
    )
    index.add_argument("--replace", action="store_true", help="drop indexed articles PATH lacks")

    add = commands.add_parser(
        "add", help="add articles from files, directories, .jsonl, HTML, article or feed URLs"
    )
    add.add_argument("sources", nargs="+", metavar="SOURCE")
    add.add_argument(
        "--commit-every",
        type=int,
        default=50,
        metavar="N",
        help="make what was read so far live every N articles (default 50)",
    )
    remove = commands.add_parser("remove", help="take articles out of the index by URL")
    remove.add_argument("urls", nargs="+", metavar="URL")
    for name, text in (("list", "the indexed articles, newest first"),
                       ("stats", "what the index holds")):  # fmt: skip
        commands.add_parser(name, help=text).add_argument(
            "--json", action="store_true", help="JSON output"
        )
    feeds = commands.add_parser("feeds", help="follow RSS/Atom feeds (add, remove, list, poll)")
    feeds.add_argument("action", choices=["add", "remove", "list", "poll"])
    feeds.add_argument("urls", nargs="*", metavar="URL")

    ask = commands.add_parser("ask", help="answer a question ('-' reads one per line from stdin)")
    ask.add_argument("question", nargs="+", metavar="QUESTION")
    ask.add_argument("--json", action="store_true", help="one JSON object per answer")
    ask.add_argument("--top-k", type=_top_k, metavar="N", help="retrieved passages to report")
    ask.add_argument(
        "--as-of",
        type=_iso_day,
        metavar="YYYY-MM-DD",
        help="answer as if asked on this date (default: today)",
    )

    console = commands.add_parser("console", help="interactive chat in the terminal")
    console.add_argument("-v", "--verbose", action="store_true", help="show retrieval traces")
    console.add_argument(
        "--as-of",
        type=_iso_day,
        metavar="YYYY-MM-DD",
        help="answer as if asked on this date (default: today)",
    )

    evaluation = commands.add_parser(
        "eval", help="measure retrieval and answer quality on a QA set (see docs/quality.md)"
    )
    add_eval_arguments(evaluation, _top_k)

    database = commands.add_parser(
        "db", help="the PostgreSQL store (NEWSBOT_DATABASE_URL): migrate, status, import"
    )
    database.add_argument("action", choices=["migrate", "status", "import"])
    database.add_argument("paths", nargs="*", type=Path, metavar="DATA_DIR",
                          help="for import: the data directory of an embedded index")  # fmt: skip
    database.add_argument("--json", action="store_true", help="JSON output (status)")

    commands.add_parser("telegram", help="run the Telegram bot")
    commands.add_parser(
        "run", help="index seeds/ if there is no index, then start Telegram or the console"
    )
    commands.add_parser("health", help="exit 0 if the index loads and can answer, else 1")
    feedback = commands.add_parser("feedback", help="the 👍/👎 votes given to Telegram answers")
    feedback.add_argument("--json", action="store_true", help="one JSON object per vote")
    add_examples(commands)
    return parser


def main(
    argv: Sequence[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    """Run the command line; returns the exit code."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if isinstance(stdin, io.TextIOWrapper):
        # A bad byte must reject its own line, not end the loop that reads the rest.
        stdin.reconfigure(errors="surrogateescape")
    args = build_parser().parse_args(argv)
    if args.command is None:
        build_parser().print_help(stdout)
        return 2
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from bot.app import configure_logging
    from bot.settings import require_writable
    from retrieval.errors import NewsbotError

    configure_logging(settings)
    try:
        if args.command in WRITING_COMMANDS:
            require_writable(settings.data_dir, "NEWSBOT_DATA_DIR")
        return _dispatch(args, settings, stdin, stdout)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except NewsbotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings, stdin: TextIO, stdout: TextIO) -> int:
    from bot import library
    from bot.app import answer_languages, make_answerer, with_writer
    from bot.database import db_command
    from bot.feedback import feedback_command
    from bot.health import health_command
    from bot.serving import telegram_command

    if args.command == "index":
        paths = args.paths or ([] if args.existing else [DEFAULT_SEEDS])
        return library.index_command(settings, paths, args.existing, args.replace)
    if args.command == "add":
        return library.add_command(settings, args.sources, max(1, args.commit_every))
    if args.command == "remove":
        return library.remove_command(settings, args.urls)
    if args.command == "list":
        return library.list_command(settings, args.json, stdout)
    if args.command == "stats":
        return library.stats_command(settings, args.json, stdout)
    if args.command == "eval":
        from bot.quality import eval_from_args

        return eval_from_args(settings, args, stdout)
    if args.command == "feeds":
        return library.feeds_command(settings, args.action, args.urls, stdout)
    if args.command == "db":
        return db_command(settings, args.action, args.paths, args.json, stdout)
    if args.command == "telegram":
        return telegram_command(settings)
    if args.command == "health":
        return health_command(settings, stdout)
    if args.command == "feedback":
        return feedback_command(settings, args.json, stdout)
    if args.command == "run":
        from bot.serving import index_if_missing

        if index_if_missing(settings, DEFAULT_SEEDS):
            return 1
        if settings.telegram_token is not None:
            return telegram_command(settings)
        print("No NEWSBOT_TELEGRAM_TOKEN set: starting the console.", file=sys.stderr)
        args.verbose, args.as_of = False, None
        args.command = "console"
    extractive = make_answerer(settings)
    extractive.reader()  # fail early, with a clear message, when there is no index
    answerer = with_writer(extractive, settings)
    if args.command == "console":
        from bot.console import Console
        from bot.history import HISTORY_FILE

        history = settings.data_dir / HISTORY_FILE
        console = Console(answerer, stdin, stdout, verbose=args.verbose, as_of=args.as_of,
                          languages=answer_languages(settings), history=history)  # fmt: skip
        return console.run()
    return ask_command(answerer, args, stdin, stdout, answer_languages(settings))


def ask_command(
    answerer: Answerer | WritingAnswerer,
    args: argparse.Namespace,
    stdin: TextIO,
    stdout: TextIO,
    languages: tuple[str, ...] | None = None,
) -> int:
    """Answer the question, or each stdin line when the question is '-'."""
    from bot.console import question_problem
    from bot.streaming import answer_and_render
    from retrieval.dates import parse_iso_day

    question = " ".join(args.question)
    lines = (line.rstrip("\n") for line in stdin) if question == "-" else iter([question])
    status = 0
    for line in lines:
        if question == "-" and not line.strip():
            continue
        text, as_of, context = line, args.as_of, None
        try:
            if question == "-" and line.lstrip().startswith("{"):
                text, as_of, context = _question_object(line, args.as_of, parse_iso_day)
            problem = question_problem(text, languages)
        except (ValueError, RecursionError) as exc:  # InvalidDateError is a ValueError
            problem = str(exc) if isinstance(exc, ValueError) else "the JSON is nested too deeply"
        if problem:
            status = 1
            _report(stdout, args.json, text, problem)
            continue
        shown, _ = answer_and_render(answerer, text, stdout, top_k=args.top_k, as_of=as_of,
                                     context=context, as_json=args.json)  # fmt: skip
        stdout.write(shown + ("\n" if args.json else "\n\n"))
        stdout.flush()
    return status


def _question_object(
    line: str, default: date | None, parse: object
) -> tuple[str, date | None, str | None]:
    """A stdin line {"question": ..., "as_of": "YYYY-MM-DD", "context": "..."}."""
    from bot.followups import CONTEXT_CHARS

    record = json.loads(line)
    if not isinstance(record, dict) or not isinstance(record.get("question"), str):
        raise ValueError('a JSON line needs a "question" string')
    as_of, context = record.get("as_of"), record.get("context")
    if as_of is not None and not isinstance(as_of, str):
        raise ValueError('"as_of" must be a date string, "YYYY-MM-DD"')
    if context is not None and not isinstance(context, str):
        raise ValueError('"context" must be a string: the earlier question and answer')
    day = parse(as_of) if as_of else default  # type: ignore[operator]
    return record["question"], day, context[-CONTEXT_CHARS:] if context else None  # the latest


def _report(stdout: TextIO, as_json: bool, question: str, problem: str) -> None:
    from bot.console import printable

    if as_json:
        record = {"question": printable(question), "error": printable(problem)}
        stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        stdout.write(f"error: {printable(problem)}\n\n")
    stdout.flush()
