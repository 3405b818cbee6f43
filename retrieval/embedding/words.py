"""The model's own word-piece vectors (its input embedding table), to match single words.

A question's word that a passage does not hold may still have a close match there
("culling" and "slaughter" do not share a stem). Looking words up in the table the model
starts from costs no forward pass: the verifier uses it for its soft coverage signal.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from retrieval.embedding.model import locate_model
from retrieval.errors import ModelLoadError

if TYPE_CHECKING:
    import numpy as np

_TABLE_SUFFIX = "word_embeddings.weight"
CACHED_WORDS = 20_000  # about 30 MB of vectors; the cache starts again when full


class WordVectors:
    """Normalised vectors of single words: the mean of their word pieces' table rows."""

    def __init__(self, model_dir: Path) -> None:
        from safetensors import safe_open
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        with safe_open(str(model_dir / "model.safetensors"), framework="np") as tensors:
            key = next(k for k in tensors.keys() if k.endswith(_TABLE_SUFFIX))  # noqa: SIM118
            self._table = tensors.get_tensor(key).astype("float32")
        self._cache: dict[str, np.ndarray] = {}

    def vectors(self, words: Sequence[str]) -> np.ndarray:
        """One normalised row per word."""
        import numpy as np

        missing = [w for w in dict.fromkeys(words) if w not in self._cache]
        if len(self._cache) + len(missing) > CACHED_WORDS:
            self._cache = {}
            missing = list(dict.fromkeys(words))
        if missing:
            for word, encoding in zip(
                missing, self._tokenizer.encode_batch(missing, add_special_tokens=False),
                strict=True,
            ):  # fmt: skip
                row = self._table[encoding.ids].mean(axis=0) if encoding.ids else self._table[0]
                self._cache[word] = row / max(float(np.linalg.norm(row)), 1e-9)
        return np.stack([self._cache[w] for w in words]) if words else np.zeros((0, 1), "f4")


def word_vectors(model: str) -> WordVectors | None:
    """The word vectors of ``model`` when it is a local BERT-style model with a fast
    tokenizer and safetensors weights (the bundled default is), else None."""
    try:
        path = Path(locate_model(model)[0])
    except ModelLoadError:
        return None
    if not ((path / "tokenizer.json").exists() and (path / "model.safetensors").exists()):
        return None
    try:
        return WordVectors(path)
    except (ImportError, StopIteration, OSError, ValueError):
        return None
