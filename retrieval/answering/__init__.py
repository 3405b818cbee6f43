"""Answering: from a question to a grounded answer with numbered citations.

``answerer`` coordinates: it retrieves passages through the store reader (``search``:
dense, keyword and fused ranking from ``fusion``, copies folded, recency and time frames
from ``timeframe``), optionally reranks them (``reranking``), chooses the sentences that
answer (``compose``), notices reports that disagree (``conflicts``) and writes the text with
its citations (``citations``); the verifier (``signals``, ``spans``, ``verifier``) gives
the answer a calibrated confidence and declines below it; ``written`` puts the same
verifier to sentences a language model wrote (the composition root hands it to
``retrieval.writing``). It reads the index only through the ``retrieval.storage``
protocols, so any storage backend serves it.

The retrieval methods and the language check load at once (the settings check against the
methods; the front-ends check every question's language); the rest loads when first named.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from retrieval.answering.fusion import METHODS
from retrieval.answering.languages import Detected, detect, language_problem

if TYPE_CHECKING:
    from retrieval.answering.answerer import Answerer, AnswerSettings
    from retrieval.answering.reranking import CrossEncoderReranker, Reranker
    from retrieval.answering.search import Hit
    from retrieval.answering.verifier import Combiner, load_combiner
    from retrieval.answering.written import WrittenVerifier

_LAZY = {
    "Answerer": "answerer",
    "AnswerSettings": "answerer",
    "CrossEncoderReranker": "reranking",
    "Reranker": "reranking",
    "Hit": "search",
    "Combiner": "verifier",
    "load_combiner": "verifier",
    "WrittenVerifier": "written",
}


def __getattr__(name: str) -> object:
    """Load the answering machinery when first used."""
    if name in _LAZY:
        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "METHODS",
    "AnswerSettings",
    "Answerer",
    "Combiner",
    "CrossEncoderReranker",
    "Detected",
    "Hit",
    "Reranker",
    "WrittenVerifier",
    "detect",
    "language_problem",
    "load_combiner",
]
