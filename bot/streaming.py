"""Written answers on a terminal: each checked sentence printed as it passes, then the sources."""

from __future__ import annotations

from datetime import date
from typing import Protocol, TextIO

from bot.formatting import answer_json, render_text
from retrieval.answer import Answer
from retrieval.writing import Progress, WritingAnswerer

# Printed when sentences were shown but the written answer did not stand (the model failed
# or broke off): what follows is the answer from the sources.
FELL_BACK = "(The written answer broke off; the answer from the sources:)"


class Answering(Protocol):
    """The part of an answerer the console and `newsbot ask` use to answer."""

    def answer(self, question: str, *, top_k: int | None = None, as_of: date | None = None,
               context: str | None = None) -> Answer: ...  # fmt: skip


class TerminalStream:
    """Prints the checked text of a written answer as it grows."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.shown = ""

    def show(self, text: str) -> None:
        """Print what ``text`` (the checked text so far) adds to what is on the screen."""
        added = text[len(self.shown) :] if text.startswith(self.shown) else "\n" + text
        self.out.write(added)
        self.out.flush()
        self.shown = text

    def rest(self, answer: Answer, rendered: str) -> str:
        """What is left to print of ``rendered`` (``answer`` as the terminal shows it)."""
        if not self.shown:
            return rendered
        if answer.answer_mode == "llm" and rendered.startswith(self.shown):
            return rendered[len(self.shown) :]
        return f"\n{FELL_BACK}\n{rendered}"


def answer_and_render(
    answerer: Answering | WritingAnswerer,
    question: str,
    out: TextIO,
    *,
    top_k: int | None = None,
    as_of: date | None = None,
    context: str | None = None,
    verbose: bool = False,
    as_json: bool = False,
) -> tuple[str, Answer]:
    """Answer ``question`` (following ``context``, earlier exchanges, when given); the answer
    and what is left to print of it afterwards (all of it, one JSON object with ``as_json``).
    On a terminal, a written answer's checked sentences are printed to ``out`` while it is
    written."""
    terminal = out.isatty()
    if as_json or not (terminal and isinstance(answerer, WritingAnswerer)):
        answer = answerer.answer(question, top_k=top_k, as_of=as_of, context=context)
        if as_json:
            return answer_json(answer), answer
        return render_text(answer, verbose=verbose, bold=terminal), answer
    stream = TerminalStream(out)
    progress: Progress = stream.show
    answer = answerer.answer(question, top_k=top_k, as_of=as_of, context=context,
                             on_progress=progress)  # fmt: skip
    return stream.rest(answer, render_text(answer, verbose=verbose, bold=True)), answer
