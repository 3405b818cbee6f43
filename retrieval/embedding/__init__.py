"""Embedding: turning text into vectors.

The ``Embedder`` protocol (``model``) is all the index and the answerer see. Behind it are
two backends for the same model: sentence-transformers on torch (``torch_backend``) and
onnxruntime (``onnx_backend``, with the one-time offline export in ``onnx_export``).
``pooling`` turns one forward pass over a passage into a vector per sentence, so answering
never re-encodes the passages it reads.

The protocol and the default model load at once (the settings name the model); the
backends load when first named.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from retrieval.embedding.model import (
    DEFAULT_MODEL,
    Embedder,
    TokenBatch,
    TokenVectors,
    batches_by_length,
    bundled_model_path,
    locate_model,
    model_languages,
)

if TYPE_CHECKING:
    from retrieval.embedding.onnx_backend import OnnxEmbedder
    from retrieval.embedding.pooling import normalise, pool, sentence_spans
    from retrieval.embedding.torch_backend import SentenceTransformerEmbedder
    from retrieval.embedding.words import WordVectors, word_vectors

_LAZY = {
    "OnnxEmbedder": "onnx_backend",
    "normalise": "pooling",
    "pool": "pooling",
    "sentence_spans": "pooling",
    "SentenceTransformerEmbedder": "torch_backend",
    "WordVectors": "words",
    "word_vectors": "words",
}


def __getattr__(name: str) -> object:
    """Load a backend when first used."""
    if name in _LAZY:
        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_MODEL",
    "Embedder",
    "OnnxEmbedder",
    "SentenceTransformerEmbedder",
    "TokenBatch",
    "TokenVectors",
    "WordVectors",
    "batches_by_length",
    "bundled_model_path",
    "locate_model",
    "model_languages",
    "normalise",
    "pool",
    "sentence_spans",
    "word_vectors",
]
