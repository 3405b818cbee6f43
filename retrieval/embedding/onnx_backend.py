"""Sentence embeddings with onnxruntime: the torch model's vectors, without torch at run time.

The model is exported to ONNX once (``retrieval.embedding.onnx_export``); after that only
onnxruntime, the ``tokenizers`` library and numpy load, which starts much faster.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from retrieval.embedding.batching import plan_batches
from retrieval.embedding.model import (
    DEFAULT_MODEL,
    TokenBatch,
    TokenVectors,
    counted_in_slices,
    locate_model,
)
from retrieval.embedding.onnx_export import OUTPUT_NAME, cached_onnx, forget_export
from retrieval.errors import ModelLoadError

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Encoding

log = logging.getLogger(__name__)
# Word pieces in one model call (texts times the longest). Attention holds size × width²
# scores per head, and onnxruntime keeps its largest buffers: batches of 64 passages of 256
# word pieces took the process from 231 to 764 MB, batches of 32 to 512 MB, at the same
# speed (192 passages, 2026-12-01); batches of 16, 430 against 610 MB for 32, 16.9 against
# 17.7 s (the 192 longest passages of the 34k corpus, load 10, 2026-12-02), which took a
# 34k build under 1 GB. Questions and short passages still go 64 at a time.
MAX_BATCH_TOKENS = 16 * 256
_USE_TORCH = "set NEWSBOT_EMBEDDING_BACKEND=torch to use this model"


@dataclass(frozen=True)
class ModelLayout:
    """What a sentence-transformers model directory says about its input and pooling."""

    transformer_dir: Path
    max_seq_length: int
    do_lower_case: bool
    dimension: int


def read_layout(model_dir: Path) -> ModelLayout:
    """Read modules.json and its configs; refuse what ONNX encoding does not reproduce."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"{model_dir} is not a sentence-transformers model directory that the ONNX "
            f"backend can read (modules.json: {exc}); {_USE_TORCH}"
        ) from None
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise ModelLoadError(
            f"the ONNX backend supports a Transformer, mean Pooling and optionally Normalize; "
            f"{model_dir} has modules {kinds}; {_USE_TORCH}"
        )
    transformer_dir = model_dir / modules[0].get("path", "")
    pooling = _read_json(model_dir / modules[1]["path"] / "config.json")
    modes = sorted(k for k, v in pooling.items() if k.startswith("pooling_mode_") and v is True)
    if modes != ["pooling_mode_mean_tokens"]:
        raise ModelLoadError(
            f"the ONNX backend supports mean pooling only; {model_dir} pools with {modes}; "
            + _USE_TORCH
        )
    settings = _read_json(transformer_dir / "sentence_bert_config.json")
    if not settings.get("max_seq_length"):
        raise ModelLoadError(f"model {model_dir} does not say how many tokens it reads")
    dimension = pooling.get("word_embedding_dimension")
    dimension = dimension or _read_json(transformer_dir / "config.json")["hidden_size"]
    return ModelLayout(
        transformer_dir,
        int(settings["max_seq_length"]),
        bool(settings.get("do_lower_case", False)),
        int(dimension),
    )


def _read_json(path: Path) -> dict:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read {path}: {exc}") from None


class _Runtime:
    """A loaded ONNX session and tokenizers, shared by every embedder of one model file."""

    def __init__(self, path: Path, layout: ModelLayout) -> None:
        from tokenizers import Tokenizer

        self.layout = layout
        self.session = _open_session(path)
        self.inputs = [i.name for i in self.session.get_inputs()]
        try:
            self.counter = Tokenizer.from_file(str(layout.transformer_dir / "tokenizer.json"))
        except Exception as exc:  # tokenizers raises a bare Exception for a missing file
            raise ModelLoadError(
                f"cannot read the fast tokenizer of {layout.transformer_dir} ({exc}); " + _USE_TORCH
            ) from None
        self.counter.no_padding()
        self.counter.no_truncation()  # count_tokens must see the whole text
        self.tokenizer = Tokenizer.from_str(self.counter.to_str())
        self.tokenizer.enable_truncation(max_length=layout.max_seq_length)
        # The tokenizers are never reconfigured after this, but a lock keeps their use
        # safe whatever the library's internal borrowing does; tokenizing is the cheap part.
        self.lock = threading.Lock()

    def tokenize(self, texts: list[str], *, truncate: bool = True) -> list[Encoding]:
        """Encodings with special tokens, truncated as the model reads them."""
        if self.layout.do_lower_case:
            texts = [t.lower() for t in texts]
        tokenizer = self.tokenizer if truncate else self.counter
        with self.lock:
            return list(tokenizer.encode_batch(texts))

    def forward(self, encodings: list[Encoding]) -> tuple[np.ndarray, np.ndarray]:
        """Last-layer token rows [batch, width, dim] and the attention mask [batch, width]."""
        width = max(len(e.ids) for e in encodings)
        arrays = {n: np.zeros((len(encodings), width), np.int64) for n in ("ids", "mask", "types")}
        for row, encoding in enumerate(encodings):
            size = len(encoding.ids)
            arrays["ids"][row, :size] = encoding.ids
            arrays["mask"][row, :size] = 1
            arrays["types"][row, :size] = encoding.type_ids
        feeds = {"input_ids": arrays["ids"], "attention_mask": arrays["mask"],
                 "token_type_ids": arrays["types"]}  # fmt: skip
        # InferenceSession.run is thread-safe; concurrent calls share the intra-op pool.
        rows = self.session.run([OUTPUT_NAME], {n: feeds[n] for n in self.inputs})[0]
        return np.asarray(rows, dtype=np.float32), arrays["mask"]


def _open_session(path: Path) -> onnxruntime.InferenceSession:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = len(os.sched_getaffinity(0))
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    # As with torch's OpenMP threads (see embedding._calm_openmp): idle threads that spin
    # take the CPU from whoever shares this machine, and from our own next batch.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def mean_pooled(rows: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The L2-normalised mean of each row's unmasked token vectors, as float32."""
    weights = mask[..., None].astype(np.float32)
    vectors = (rows * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


_LOADED: dict[tuple[Path, Path, bool], _Runtime] = {}
_LOAD_LOCK = threading.Lock()


class OnnxEmbedder:
    """A sentence-transformers model run with onnxruntime (fp32, or int8 weights)."""

    def __init__(self, name: str = DEFAULT_MODEL, *, cache_dir: Path, int8: bool = False) -> None:
        # int8 vectors differ from torch's, so an index built with one must not be read
        # with the other; fp32 vectors are torch's to ~1e-6, so they keep its name.
        self.name = f"{name}+int8" if int8 else name
        self.model_name = name
        self._cache_dir = cache_dir
        self._int8 = int8
        self._runtime: _Runtime | None = None

    @property
    def runtime(self) -> _Runtime:
        """The loaded session (exporting the model the first time; once per process)."""
        if self._runtime is None:
            with _LOAD_LOCK:
                model_dir = self._model_dir()
                key = (model_dir, self._cache_dir, self._int8)
                if key not in _LOADED:
                    _LOADED[key] = self._load(model_dir)
                self._runtime = _LOADED[key]
        return self._runtime

    def _model_dir(self) -> Path:
        location, looked = locate_model(self.model_name)
        if Path(location).is_dir():
            return Path(location).resolve()
        try:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(location, local_files_only=True))
        except Exception as exc:  # not in the cache, or no huggingface_hub: not loadable
            raise ModelLoadError(
                f"cannot load embedding model {self.model_name!r} (looked in {looked}): "
                f"{type(exc).__name__}: {exc}. Models load offline only; set "
                "NEWSBOT_EMBEDDING_MODEL to a directory that holds a sentence-transformers model."
            ) from None

    def _load(self, model_dir: Path) -> _Runtime:
        layout = read_layout(model_dir)
        path = cached_onnx(layout.transformer_dir, self._cache_dir, int8=self._int8)
        try:
            return _Runtime(path, layout)
        except ModelLoadError:
            raise
        except Exception as exc:  # onnxruntime raises its own types for unreadable files
            log.warning("%s does not load (%s); exporting the model again", path, exc)
        forget_export(path)
        path = cached_onnx(layout.transformer_dir, self._cache_dir, int8=self._int8)
        try:
            return _Runtime(path, layout)
        except Exception as exc:
            raise ModelLoadError(
                f"the ONNX export of {self.model_name!r} in {path} does not load: "
                f"{type(exc).__name__}: {exc}; {_USE_TORCH}"
            ) from None

    @property
    def dimension(self) -> int:
        """Length of the embedding vectors."""
        return self.runtime.layout.dimension

    @property
    def max_tokens(self) -> int:
        """How many word pieces the model reads; the rest would be dropped silently."""
        return self.runtime.layout.max_seq_length

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Normalised float32 embeddings of ``texts``."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for rows, _, tokens, mask in self._batches(texts, batch_size):
            vectors[rows] = mean_pooled(tokens, mask)
        return vectors

    def count_tokens(self, text: str) -> int:
        """Word pieces the model's tokenizer makes of ``text``, special tokens included."""
        return self.count_tokens_many([text])[0]

    def count_tokens_many(self, texts: list[str]) -> list[int]:
        """``count_tokens`` of each text, a slice at a time on the tokenizer's threads."""

        def count(chunk: list[str]) -> list[int]:
            return [len(e.ids) for e in self.runtime.tokenize(chunk, truncate=False)]

        return counted_in_slices(count, texts)

    def token_vectors(self, texts: list[str], batch_size: int = 64) -> list[TokenVectors]:
        """Per text, its last-layer token rows and their character offsets (see Embedder)."""
        found: dict[int, TokenVectors] = {}
        for rows, tokens in self.token_batches(texts, batch_size):
            # Copies: a view would hold its whole batch's rows for as long as it is kept.
            found.update((r, (v.copy(), o)) for r, (v, o) in zip(rows, tokens, strict=True))
        return [found[row] for row in range(len(texts))]

    def token_batches(self, texts: list[str], batch_size: int = 64) -> Iterator[TokenBatch]:
        """``token_vectors`` a model call at a time, longest word pieces first; each text's
        rows are a view of its call's output."""
        for rows, encodings, tokens, _ in self._batches(texts, batch_size):
            yield rows, [
                (vectors[: len(encoding.ids)],
                 np.asarray(encoding.offsets, dtype=np.int64).reshape(-1, 2))
                for encoding, vectors in zip(encodings, tokens, strict=True)
            ]  # fmt: skip

    def _batches(
        self, texts: list[str], batch_size: int
    ) -> Iterator[tuple[list[int], list[Encoding], np.ndarray, np.ndarray]]:
        """Texts run through the model longest first, in batches that pad little."""
        if not texts:
            return
        runtime = self.runtime
        encodings = runtime.tokenize(texts)
        lengths = [len(e.ids) for e in encodings]
        for rows in plan_batches(lengths, batch_size, MAX_BATCH_TOKENS):
            batch = [encodings[i] for i in rows]
            tokens, mask = runtime.forward(batch)
            yield rows, batch, tokens, mask
