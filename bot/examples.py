"""One example for each subcommand, printed at the end of its --help."""

from __future__ import annotations

import argparse

EXAMPLES = {
    "index": "newsbot index seeds/ more-articles.jsonl",
    "add": "newsbot add https://www.themoscowtimes.com/rss/news saved-page.html",
    "remove": "newsbot remove https://example.org/2024/06/17/retracted-story",
    "list": "newsbot list --json | head -3",
    "stats": "newsbot stats",
    "feeds": "newsbot feeds add https://www.themoscowtimes.com/rss/news",
    "ask": 'newsbot ask --as-of 2024-06-18 "When is Putin visiting Pyongyang?"',
    "console": "newsbot console --verbose",
    "eval": "newsbot eval tests/data/seed_golden.json --compare dense,hybrid",
    "telegram": "NEWSBOT_TELEGRAM_TOKEN=123:abc newsbot telegram",
    "run": "newsbot run",
    "health": "newsbot health || echo 'the index cannot serve questions'",
    "feedback": "newsbot feedback --json > feedback.jsonl",
    "db": "NEWSBOT_DATABASE_URL=postgresql://newsbot@db/newsbot newsbot db import data/",
}


def add_examples(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Put each subcommand's example under its help text."""
    for name, parser in commands.choices.items():
        if name in EXAMPLES:
            parser.epilog = f"example:\n  {EXAMPLES[name]}"
            parser.formatter_class = argparse.RawDescriptionHelpFormatter
