"""Writing: optional answers in a language model's words, every sentence checked.

``writer`` asks the model once per question that passed the evidence gate (``client``: an
OpenAI-compatible chat-completions API, plain JSON or streamed), with a prompt of numbered
sources (``prompt``); ``checking`` keeps only the sentences that cite a source which
supports them and contains their numbers, dates, names and links. When nothing survives, the
model declines or fails, the extractive answer stands. ``usage`` counts calls and fallbacks.
"""

from retrieval.writing.checking import SupportCheck, word_support
from retrieval.writing.client import ChatClient, ModelError, ModelSettings
from retrieval.writing.prompt import SOURCES_END, SOURCES_START
from retrieval.writing.usage import UsageFigures
from retrieval.writing.writer import AnswerWriter, Progress, WritingAnswerer, WritingSettings

__all__ = [
    "SOURCES_END",
    "SOURCES_START",
    "AnswerWriter",
    "ChatClient",
    "ModelError",
    "ModelSettings",
    "Progress",
    "SupportCheck",
    "UsageFigures",
    "WritingAnswerer",
    "WritingSettings",
    "word_support",
]
