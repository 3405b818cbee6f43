"""The composition root: settings in, the core's objects out."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from bot.settings import Settings
from retrieval.answering import Answerer, AnswerSettings, CrossEncoderReranker
from retrieval.chunking import ChunkSettings
from retrieval.embedding import Embedder, SentenceTransformerEmbedder
from retrieval.index import EmbeddedStorage, IndexPolicy, IndexSpec


def configure_logging(settings: Settings) -> None:
    """Log to stderr at the configured level, keeping request URLs (and the token) out."""
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL, and Bot API URLs contain the bot token.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Extraction libraries warn about every page that is not an article; sources report that.
    for name in ("trafilatura", "htmldate", "readability", "justext"):
        logging.getLogger(name).setLevel(logging.ERROR)


def chunk_settings(settings: Settings) -> ChunkSettings:
    """How passages are cut, from the settings."""
    return ChunkSettings(max_tokens=settings.max_passage_tokens)


def index_policy(settings: Settings) -> IndexPolicy:
    """Which kind of vector index to keep, and how to search it, from the settings."""
    return IndexPolicy(
        kind=settings.index_type,
        flat_max_passages=settings.flat_max_passages,
        nprobe=settings.ivf_nprobe,
    )


def make_embedder(settings: Settings) -> Embedder:
    """The configured embedding model on the configured backend (loaded lazily, on first use)."""
    if settings.embedding_backend == "torch":
        return SentenceTransformerEmbedder(settings.embedding_model)
    from retrieval.embedding import OnnxEmbedder  # keeps onnxruntime off the torch path

    return OnnxEmbedder(
        settings.embedding_model,
        cache_dir=settings.model_cache_dir or default_model_cache(),
        int8=settings.embedding_backend == "onnx-int8",
    )


def default_model_cache() -> Path:
    """Where exported models are kept unless NEWSBOT_MODEL_CACHE_DIR says otherwise: the
    user's cache, shared by every data directory (an export takes seconds and torch)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "newsbot" / "models"


def answer_settings(settings: Settings, **overrides: object) -> AnswerSettings:
    """How the answerer retrieves and composes, from the settings."""
    values: dict[str, object] = {
        "top_k": settings.top_k,
        "method": settings.retrieval_method,
        "keyword_weight": settings.keyword_weight,
        "threshold": settings.evidence_threshold,
        "per_article": settings.max_passages_per_article,
        "recency_half_life_days": settings.recency_half_life_days,
        "recency_weight": settings.recency_weight,
        "rerank_top": settings.rerank_top,
    }
    return AnswerSettings(**{**values, **overrides})  # type: ignore[arg-type]


def make_answerer(
    settings: Settings,
    embedder: Embedder | None = None,
    data_dir: Path | None = None,
    **overrides: object,
) -> Answerer:
    """The answerer over the index in the configured (or given) data directory."""
    embedder = embedder or make_embedder(settings)
    spec = IndexSpec(embedder.name, chunk_settings(settings), index_policy(settings))
    return Answerer(
        EmbeddedStorage(data_dir or settings.data_dir, spec),
        embedder,
        answer_settings(settings, **overrides),
        reranker=CrossEncoderReranker(settings.reranker_model) if settings.reranker_model else None,
    )
