"""Vector sets for the index benchmark: random, and clustered around real embeddings.

Real passages and questions of the QA sets are embedded once with the bundled model and
cached; a large set is then drawn as noisy copies of the passage vectors (a Gaussian mixture
with one component per real passage or sentence), so that it is clustered the way
embeddings of news are, and the real questions are its queries.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from corpus import passage_text

from retrieval.chunking import embedding_text
from retrieval.evaluation import EvalSet
from retrieval.sentences import split_sentences

DIMENSION = 384


@dataclass(frozen=True)
class VectorSet:
    """Normalised float32 passage vectors (ids 0..N-1) and the queries to ask of them."""

    name: str
    passages: np.ndarray
    queries: np.ndarray


@dataclass(frozen=True)
class RealVectors:
    """Embedded real text: centres for the synthetic passages, and the real questions."""

    centres: np.ndarray
    questions: np.ndarray
    passage_texts: int
    sentence_texts: int


def real_texts(sets: list[EvalSet]) -> tuple[list[str], list[str], list[str]]:
    """Passages (titled as the index embeds them), their sentences, and the questions."""
    texts = [(p.title, passage_text(p)) for s in sets for p in s.articles]
    passages = [embedding_text(title, text) for title, text in texts]
    sentences = [
        sentence
        for _, text in texts
        for sentence in split_sentences(text)
        if len(sentence.split()) >= 6 and sentence != text
    ]
    questions = [q.question for s in sets for q in s.questions]
    return passages, sentences, questions


def embed_real(sets: list[EvalSet], cache_dir: Path) -> RealVectors:
    """The real vectors, read from ``cache_dir`` when the same texts were embedded before."""
    from retrieval.embedding import SentenceTransformerEmbedder

    passages, sentences, questions = real_texts(sets)
    embedder = SentenceTransformerEmbedder()
    key = hashlib.sha256("\n".join([embedder.name, *passages, *sentences, *questions]).encode())
    cache = cache_dir / f"real-vectors-{key.hexdigest()[:16]}.npz"
    if cache.exists():
        stored = np.load(cache)
        centres, asked = stored["centres"], stored["questions"]
    else:
        centres = embedder.encode(passages + sentences)
        asked = embedder.encode(questions)
        cache_dir.mkdir(parents=True, exist_ok=True)
        np.savez(cache, centres=centres, questions=asked)
    return RealVectors(centres, asked, len(passages), len(sentences))


def noise_scale(cosine: float, dimension: int) -> float:
    """Per-dimension Gaussian noise that leaves a copy of a unit vector at ``cosine`` to it."""
    return math.sqrt((1 / cosine**2 - 1) / dimension)


def clustered(real: RealVectors, size: int, cosine: float, seed: int = 0) -> VectorSet:
    """``size`` noisy copies of the real centres; the real questions as queries."""
    rng = np.random.default_rng(seed)
    dimension = real.centres.shape[1]
    scale = noise_scale(cosine, dimension)
    passages = np.empty((size, dimension), dtype=np.float32)
    for start in range(0, size, 100_000):  # in blocks, to keep the float64 noise small
        stop = min(start + 100_000, size)
        block = real.centres[rng.integers(len(real.centres), size=stop - start)]
        block = block + rng.normal(0.0, scale, block.shape).astype(np.float32)
        passages[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return VectorSet("realistic", passages, np.ascontiguousarray(real.questions))


def uniform(size: int, queries: int, dimension: int = DIMENSION, seed: int = 0) -> VectorSet:
    """``size`` random unit vectors and ``queries`` random unit queries."""
    rng = np.random.default_rng(seed)

    def draw(count: int) -> np.ndarray:
        vectors = rng.standard_normal((count, dimension), dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    return VectorSet("random", draw(size), draw(queries))
