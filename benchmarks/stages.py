"""Not a benchmark: where a question's time goes, stage by stage, for bench_scale.py.

The answerer reports three timings (encode, search, compose). To split them further without
hooks in the core, ``StageClock`` wraps the reader's methods and the answering functions
that make each stage while a benchmark runs, and adds up each call's time per question.
What a stage's functions leave (fusing scores, building hits, citations) is the rest of
search or compose.
"""

from __future__ import annotations

import functools
import importlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# stage -> (module, function) pairs; reader methods are timed on the reader itself.
FUNCTIONS = {
    "folding copies": [("retrieval.answering.search", "merge_copies")],
    "sentence choice": [
        ("retrieval.answering.answerer", "score_sentences"),
        ("retrieval.answering.answerer", "pick_sentences"),
        ("retrieval.answering.answerer", "find_conflict"),
    ],
    "verifier": [
        ("retrieval.answering.answerer", "compute"),
        ("retrieval.answering.answerer", "settle"),
    ],
}
READER = {
    "dense search": ("search_many",),
    "keyword search": ("keyword_search",),
    "fetching rows": ("passages", "similarities"),
    "sentence rows": ("sentence_vectors", "document_frequencies"),
}
# The first four are parts of search, the rest of composing.
STAGES = ("dense search", "keyword search", "fetching rows", "folding copies",
          "sentence rows", "sentence choice", "verifier")  # fmt: skip


class StageClock:
    """Milliseconds spent in each stage since the last ``lap``."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = dict.fromkeys(STAGES, 0.0)

    def lap(self) -> dict[str, float]:
        """The time per stage since the last lap, and start again."""
        spent, self.spent = self.spent, dict.fromkeys(STAGES, 0.0)
        return spent

    def _timed(self, stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.spent[stage] += (time.perf_counter() - started) * 1000

        return timed

    @contextmanager
    def watching(self, reader: object) -> Iterator[StageClock]:
        """Time the stages of answers from ``reader`` (and of every answerer) in the block."""
        undo: list[tuple[object, str, object]] = []
        for stage, names in READER.items():
            for name in names:
                undo.append((reader, name, None))
                setattr(reader, name, self._timed(stage, getattr(reader, name)))
        for stage, places in FUNCTIONS.items():
            for module_name, name in places:
                module = importlib.import_module(module_name)
                undo.append((module, name, getattr(module, name)))
                setattr(module, name, self._timed(stage, getattr(module, name)))
        try:
            yield self
        finally:
            for owner, name, original in reversed(undo):
                if original is None:
                    delattr(owner, name)  # the instance attribute hid the class's method
                else:
                    setattr(owner, name, original)
