"""Embedding: turning text into vectors.

The ``Embedder`` protocol is all the index and the answerer see. Behind it are two backends
for the same model: sentence-transformers on torch (``torch_backend``) and onnxruntime
(``onnx_backend``, with the one-time offline export in ``onnx_export``). ``pooling`` turns
one forward pass over a passage into a vector per sentence, so answering never re-encodes
the passages it reads.
"""

from retrieval.embedding.model import (
    DEFAULT_MODEL,
    Embedder,
    TokenVectors,
    bundled_model_path,
    locate_model,
)
from retrieval.embedding.onnx_backend import OnnxEmbedder
from retrieval.embedding.pooling import normalise, pool, sentence_spans
from retrieval.embedding.torch_backend import SentenceTransformerEmbedder

__all__ = [
    "DEFAULT_MODEL",
    "Embedder",
    "OnnxEmbedder",
    "SentenceTransformerEmbedder",
    "TokenVectors",
    "bundled_model_path",
    "locate_model",
    "normalise",
    "pool",
    "sentence_spans",
]
