"""The written answer: one model call per question, every sentence checked, else extractive."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol

from retrieval.answer import Answer, Citation, Question, Result
from retrieval.articles import ArticleSummary
from retrieval.dates import age_note
from retrieval.writing.checking import (
    Checked,
    SupportCheck,
    check_sentence,
    declines,
    split_reply,
    stated_support,
)
from retrieval.writing.client import ChatClient, ModelError
from retrieval.writing.prompt import Source, build_messages, gather_sources
from retrieval.writing.usage import FailureLog, ModelUsage

log = logging.getLogger(__name__)

# Called with the checked text so far (``[n]`` markers numbered as in the final answer).
Progress = Callable[[str], None]


@dataclass(frozen=True)
class WritingSettings:
    """How much of the sources the prompt may carry and how old evidence must be to say so."""

    prompt_token_budget: int = 3000
    age_note_days: int = 2


class SentenceJudge(Protocol):
    """The answer verifier, as the writer asks it about written sentences."""

    threshold: float

    def confidence(
        self,
        extractive: Answer,
        sentences: Sequence[str],
        cited: Sequence[Result],
        context: str | None = None,
    ) -> float:
        """How likely ``sentences``, citing ``cited`` (best first), answer the question."""
        ...


class AnswerWriter:
    """Rewrites extractive answers with a language model; safe to share between threads."""

    def __init__(
        self,
        client: ChatClient,
        judge: SentenceJudge,
        settings: WritingSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.judge = judge
        self.settings = settings or WritingSettings()
        self.usage = ModelUsage()
        self._failures = FailureLog(log, clock)

    def write(
        self, extractive: Answer, on_progress: Progress | None = None, context: str | None = None
    ) -> Answer:
        """The model's checked answer when a sentence of it survives the check; otherwise
        ``extractive`` (with how the model fared). An answer the verifier declined is
        returned as it is, without a call. ``context`` is the earlier exchange a follow-up
        question refers to."""
        if not extractive.answered or not extractive.results:
            return extractive
        messages, sources = build_messages(
            extractive.question,
            extractive.as_of_query,
            gather_sources(extractive),
            self.settings.prompt_token_budget,
            context,
        )
        draft = _Draft({source.n: source for source in sources}, on_progress)
        draft.support = written_support(self.judge, extractive, context, draft)
        started = time.perf_counter()
        try:
            for piece in self.client.chat(messages):
                draft.add(piece)
            draft.finish()
        except ModelError as exc:
            elapsed = (time.perf_counter() - started) * 1000
            self.usage.record(elapsed, fell_back=True)
            self._failures.failed(str(exc))
            return replace(extractive, llm_ms=round(elapsed, 1))
        elapsed = (time.perf_counter() - started) * 1000
        if draft.declined or not draft.kept:
            self.usage.record(elapsed, fell_back=True)
            return replace(extractive, dropped_sentences=draft.dropped, llm_ms=round(elapsed, 1))
        self.usage.record(elapsed, fell_back=False)
        text, citations = draft.render()
        used = [draft.sources[n] for n in draft.used()]
        confidence = self.judge.confidence(extractive, [c.text for c in draft.kept],
                                           cited_results(extractive, used), context)  # fmt: skip
        newest = max(c.published for c in citations)
        return replace(
            extractive,
            text=text,
            citations=citations,
            as_of=newest,
            age_note=age_note(newest, extractive.as_of_query, self.settings.age_note_days),
            confidence=confidence,
            # The short answer is a span of the extractive sentences, not of these.
            short_answer=None,
            answer_mode="llm",
            dropped_sentences=draft.dropped,
            llm_ms=round(elapsed, 1),
        )


class Shown(Protocol):
    """The sentences kept so far, and the sources by their prompt numbers."""

    kept: list[Checked]
    sources: dict[int, Source]


def verified(
    judge: SentenceJudge, extractive: Answer, context: str | None = None, shown: Shown | None = None
) -> SupportCheck:
    """The verifier's check of one written sentence for ``extractive``'s question, as part
    of the answer ``shown`` so far: the first sentence must answer the question on its own,
    a later one must keep the answer it joins above the threshold (alone, "He will then
    travel to Vietnam" does not say when Putin visits Pyongyang, and need not)."""

    def check(sentence: str, cited: Sequence[Source]) -> bool:
        before = shown.kept if shown is not None else []
        numbers = [n for checked in before for n in checked.cited]
        earlier = [shown.sources[n] for n in dict.fromkeys(numbers)] if shown else []
        sources = list({s.n: s for s in [*cited, *earlier]}.values())
        sentences = [checked.text for checked in before] + [sentence]
        found = cited_results(extractive, sources)
        return judge.confidence(extractive, sentences, found, context) >= judge.threshold

    return check


def written_support(
    judge: SentenceJudge, extractive: Answer, context: str | None = None, shown: Shown | None = None
) -> SupportCheck:
    """The check every written sentence passes besides the hard rules: one place of what it
    cites states it (`stated_support`: the verifier does not tell a changed claim from the
    source's own, see docs/llm.md) and the verifier's confidence in the answer with it."""
    by_verifier = verified(judge, extractive, context, shown)
    return lambda sentence, cited: stated_support(sentence, cited) and by_verifier(sentence, cited)


def cited_results(extractive: Answer, sources: Sequence[Source]) -> list[Result]:
    """The listed passages of the cited sources' articles: each article's best first, in
    the order the sources are cited."""
    listed = sorted({r.passage_id: r for r in [*extractive.evidence, *extractive.results]}.values(),
                    key=lambda r: -r.score)  # fmt: skip
    return [r for source in sources for r in listed if r.url == source.article.url]


class _Draft:
    """The reply as it arrives: sentences checked as soon as they are complete."""

    def __init__(self, sources: dict[int, Source], on_progress: Progress | None) -> None:
        self.sources = sources
        self.support: SupportCheck = stated_support
        self.on_progress = on_progress
        self.reply = ""
        self.seen = 0
        self.kept: list[Checked] = []
        self.dropped = 0
        self.declined = False

    def add(self, piece: str) -> None:
        """Take more of the reply; check the sentences it completes."""
        self.reply += piece
        self._check(split_reply(self.reply, final=False))

    def finish(self) -> None:
        """The reply is complete: check its last sentence."""
        self.declined = declines(self.reply)
        if not self.declined:
            self._check(split_reply(self.reply))

    def _check(self, sentences: list[str]) -> None:
        fresh = sentences[self.seen :]
        self.seen = max(self.seen, len(sentences))
        kept_before = len(self.kept)
        for sentence in fresh:
            outcome = check_sentence(sentence, self.sources, self.support)
            if isinstance(outcome, Checked):
                self.kept.append(outcome)
            else:
                self.dropped += 1
                log.debug("dropped a model sentence: %s", outcome)
        if self.on_progress is not None and len(self.kept) > kept_before:
            self.on_progress(self.render()[0])

    def used(self) -> list[int]:
        """The prompt's numbers of the sources the kept sentences cite, in order of first use."""
        return list(dict.fromkeys(n for checked in self.kept for n in checked.cited))

    def render(self) -> tuple[str, tuple[Citation, ...]]:
        """The kept sentences with their sources renumbered in the order of first use."""
        numbers = {n: new for new, n in enumerate(self.used(), start=1)}
        text = " ".join(
            f"{c.text} " + "".join(f"[{numbers[n]}]" for n in c.cited) for c in self.kept
        )
        citations = tuple(_citation(numbers[n], self.sources[n]) for n in numbers)
        return text, citations


def _citation(n: int, source: Source) -> Citation:
    article: ArticleSummary = source.article
    return Citation(
        n=n,
        url=article.url,
        title=article.title,
        source=article.source,
        published=article.published,
        quote=source.text,
        author=article.author,
        also_reported_by=source.also_reported_by,
    )


class ExtractiveAnswerer(Protocol):
    """What the writing answerer needs of the answerer it wraps."""

    def answer(
        self,
        question: str,
        *,
        top_k: int | None = None,
        as_of: date | None = None,
        context: str | None = None,
    ) -> Answer:
        """Answer one question."""
        ...

    def answer_many(self, questions: Sequence[Question]) -> list[Answer]:
        """Answer several questions, in order."""
        ...

    def list_articles(self) -> list[ArticleSummary]:
        """Every indexed article, newest first."""
        ...

    def stats(self) -> dict[str, int]:
        """Index size."""
        ...


class WritingAnswerer:
    """An answerer whose answers the writer rewrites; the same interface as the answerer."""

    def __init__(self, answerer: ExtractiveAnswerer, writer: AnswerWriter) -> None:
        self.answerer = answerer
        self.writer = writer

    def answer(
        self,
        question: str,
        *,
        top_k: int | None = None,
        as_of: date | None = None,
        context: str | None = None,
        on_progress: Progress | None = None,
    ) -> Answer:
        """The extractive answer, rewritten by the model when that passes the check;
        ``on_progress`` gets the checked text as it grows."""
        found = self.answerer.answer(question, top_k=top_k, as_of=as_of, context=context)
        return self.writer.write(found, on_progress, context)

    def answer_many(self, questions: Sequence[Question]) -> list[Answer]:
        """Answers to several questions, retrieved in one batch and written one by one."""
        found = zip(self.answerer.answer_many(questions), questions, strict=True)
        return [self.writer.write(answer, None, asked.context) for answer, asked in found]

    def list_articles(self) -> list[ArticleSummary]:
        """Every indexed article, newest first."""
        return self.answerer.list_articles()

    def stats(self) -> dict[str, int]:
        """Index size."""
        return self.answerer.stats()
