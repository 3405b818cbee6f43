"""The console chat: a REPL on the same answerer the Telegram bot uses."""

from __future__ import annotations

import re
import sys
from collections.abc import Collection
from datetime import date
from pathlib import Path
from typing import Protocol, TextIO

from bot.followups import thread_text
from bot.formatting import render_sources
from bot.streaming import answer_and_render
from retrieval.answer import Answer
from retrieval.answering import language_problem
from retrieval.articles import ArticleSummary

MAX_QUESTION_CHARS = 1000
# Undecodable input bytes (read with errors="surrogateescape") and lone surrogates.
_SURROGATE = re.compile("[\ud800-\udfff]")
PROMPT = "newsbot> "

HELP = """Ask a question about the indexed news, for example:
  When is Putin visiting Pyongyang?
Start a line with + to follow up on the last answer (as a reply does in Telegram):
  + Where does he go after that?
Commands:
  :help      this help
  :sources   the indexed articles, newest first
  :verbose   show or hide the retrieval trace (passages and scores)
  :quit      leave (Ctrl-D works too)"""


class AnswererLike(Protocol):
    """The part of the answerer the console uses."""

    def answer(
        self,
        question: str,
        *,
        top_k: int | None = None,
        as_of: date | None = None,
        context: str | None = None,
    ) -> Answer:
        """Answer one question, ``context`` (the earlier exchanges it follows) blended in."""
        ...

    def list_articles(self) -> list[ArticleSummary]:
        """Indexed articles, newest first."""
        ...


def question_problem(question: str, languages: Collection[str] | None = None) -> str | None:
    """Why a question cannot be asked as it is, or None when it can."""
    if _SURROGATE.search(question):
        return "the question is not valid UTF-8 text"
    if not question.strip():
        return "the question is empty"
    if len(question) > MAX_QUESTION_CHARS:
        return (
            f"the question is too long ({len(question)} characters; "
            f"at most {MAX_QUESTION_CHARS}): ask it more briefly"
        )
    return language_problem(question, languages)


def printable(text: str) -> str:
    """``text`` with undecodable bytes and lone surrogates shown as U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


class Console:
    """Reads questions from ``stdin`` and writes answers to ``stdout``."""

    def __init__(
        self,
        answerer: AnswererLike,
        stdin: TextIO,
        stdout: TextIO,
        *,
        verbose: bool = False,
        as_of: date | None = None,
        languages: Collection[str] | None = None,
        history: Path | None = None,
    ) -> None:
        self.answerer = answerer
        self.languages = languages
        self.stdin = stdin
        self.stdout = stdout
        self.verbose = verbose
        self.as_of = as_of
        self.history = history
        # The exchanges the next "+" question follows: (question, answer), oldest first.
        self.thread: list[tuple[str, str]] = []

    def say(self, text: str) -> None:
        """Write a block of text followed by a blank line."""
        self.stdout.write(text + "\n\n")
        self.stdout.flush()

    def run(self) -> int:
        """Answer questions until :quit or end of input; returns the exit code."""
        when = f" as of {self.as_of.isoformat()}" if self.as_of else ""
        self.say(f"newsbot console{when}. Type a question, or :help.")
        # On a terminal, input() goes through readline: arrow keys edit and recall lines.
        terminal = self.stdin is sys.stdin and self.stdout is sys.stdout and self.stdin.isatty()
        save = None
        if terminal and self.history is not None:
            from bot.history import enable_history

            save = enable_history(self.history)
        try:
            while True:
                line = self._read_line(terminal)
                if line is None:
                    self.stdout.write("\n")
                    return 0
                if not self.handle(line.strip()):
                    return 0
        finally:
            if save is not None:
                save()

    def _read_line(self, terminal: bool) -> str | None:
        """The next input line, or None at end of input."""
        if terminal:
            try:
                return input(PROMPT)
            except EOFError:
                return None
        self.stdout.write(PROMPT)
        self.stdout.flush()
        return self.stdin.readline() or None

    def handle(self, line: str) -> bool:
        """Handle one input line; returns False when the user wants to leave."""
        if not line:
            return True
        if line.startswith(":"):
            return self.command(line[1:].strip().lower())
        follows = line.startswith("+")
        question = line[1:].strip() if follows else line
        if problem := question_problem(question, self.languages):
            self.say(f"Sorry, {problem.rstrip('.')}.")
            return True
        if follows and not self.thread:
            self.say("(Nothing to follow up yet: answering it on its own.)")
        if not follows:
            self.thread = []
        context = thread_text(self.thread) if self.thread else None
        # With a language model, checked sentences are printed as they arrive.
        rendered, answer = answer_and_render(self.answerer, question, self.stdout,
                                             as_of=self.as_of, verbose=self.verbose,
                                             context=context)  # fmt: skip
        self.thread.append((question, answer.text))
        self.say(rendered)
        return True

    def command(self, name: str) -> bool:
        """Run a console command such as :help; returns False for :quit."""
        if name in {"quit", "q", "exit"}:
            return False
        if name in {"help", "h", "?"}:
            self.say(HELP)
        elif name == "sources":
            self.say(render_sources(self.answerer.list_articles()))
        elif name in {"verbose", "v"}:
            self.verbose = not self.verbose
            self.say(f"Retrieval trace {'on' if self.verbose else 'off'}.")
        else:
            self.say(f"Unknown command :{name}. Type :help for the commands.")
        return True
