"""Writing: optional answers in a language model's words, every sentence checked.

``writer`` asks the model once per question the answer verifier answered (``client``: an
OpenAI-compatible chat-completions API, plain JSON or streamed), with a prompt of numbered
sources and any earlier exchange a follow-up refers to (``prompt``); ``checking`` keeps only
the sentences that cite a source which contains their numbers, dates, names and most of their
words, and that the verifier (a ``SentenceJudge``, handed in by the composition root) accepts.
When nothing survives, the model declines or fails, the extractive answer stands. ``usage``
counts calls and fallbacks.
"""

from retrieval.writing.checking import SupportCheck, word_support
from retrieval.writing.client import ChatClient, ModelError, ModelSettings
from retrieval.writing.prompt import EARLIER_END, EARLIER_START, SOURCES_END, SOURCES_START
from retrieval.writing.usage import UsageFigures
from retrieval.writing.writer import (
    AnswerWriter,
    Progress,
    SentenceJudge,
    WritingAnswerer,
    WritingSettings,
)

__all__ = [
    "EARLIER_END",
    "EARLIER_START",
    "SOURCES_END",
    "SOURCES_START",
    "AnswerWriter",
    "ChatClient",
    "ModelError",
    "ModelSettings",
    "Progress",
    "SentenceJudge",
    "SupportCheck",
    "UsageFigures",
    "WritingAnswerer",
    "WritingSettings",
    "word_support",
]
