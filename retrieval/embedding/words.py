"""The model's own word-piece vectors (its input embedding table), to match single words.

A question's word that a passage does not hold may still have a close match there
("culling" and "slaughter" do not share a stem). Looking words up in the table the model
starts from costs no forward pass: the verifier uses it for its soft coverage signal.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from retrieval.embedding.model import locate_model
from retrieval.errors import ModelLoadError

if TYPE_CHECKING:
    import numpy as np
    from tokenizers import Tokenizer

_TABLE_SUFFIX = "word_embeddings.weight"
CACHED_WORDS = 20_000  # about 30 MB of vectors; the cache starts again when full


class WordVectors:
    """Normalised vectors of single words: the mean of their word pieces' table rows."""

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        self._loaded: tuple[Tokenizer, np.ndarray] | None = None
        self._lock = threading.Lock()
        self._failed = False
        self._cache: dict[str, np.ndarray] = {}

    def _load(self) -> tuple[Tokenizer, np.ndarray] | None:
        """The tokenizer and the table, read on first use (about 50 MB, under a second);
        None when the model has no such table (then every word is a vector of zeros)."""
        with self._lock:
            if self._loaded is None and not self._failed:
                try:
                    self._loaded = _read_table(self.model_dir)
                except Exception:  # tokenizers raises a bare Exception for a bad file
                    self._failed = True
            return self._loaded

    def vectors(self, words: Sequence[str]) -> np.ndarray:
        """One normalised row per word."""
        import numpy as np

        loaded = self._load()
        if loaded is None:
            return np.zeros((len(words), 1), "float32")
        tokenizer, table = loaded
        missing = [w for w in dict.fromkeys(words) if w not in self._cache]
        if len(self._cache) + len(missing) > CACHED_WORDS:
            self._cache = {}
            missing = list(dict.fromkeys(words))
        # One word at a time: encode_batch hands the few new words of an answer to the
        # tokenizer's thread pool, 0.6 ms a call in a profiled burst of 50 questions (where
        # the model holds the cores) against 53 us for 11 words one by one.
        for word in missing:
            ids = tokenizer.encode(word, add_special_tokens=False).ids
            row = table[ids].mean(axis=0) if ids else table[0]
            self._cache[word] = row / max(float(np.linalg.norm(row)), 1e-9)
        return np.stack([self._cache[w] for w in words]) if words else np.zeros((0, 1), "f4")


def _read_table(model_dir: Path) -> tuple[Tokenizer, np.ndarray]:
    from safetensors import safe_open
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    with safe_open(str(model_dir / "model.safetensors"), framework="np") as tensors:
        key = next(k for k in tensors.keys() if k.endswith(_TABLE_SUFFIX))  # noqa: SIM118
        return tokenizer, tensors.get_tensor(key).astype("float32")


def word_vectors(model: str) -> WordVectors | None:
    """The word vectors of ``model`` when it is a local BERT-style model with a fast
    tokenizer and safetensors weights (the bundled default is), else None."""
    try:
        path = Path(locate_model(model)[0])
    except ModelLoadError:
        return None
    if not ((path / "tokenizer.json").exists() and (path / "model.safetensors").exists()):
        return None
    return WordVectors(path)
