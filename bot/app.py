"""The composition root: settings in, the core's objects out."""

from __future__ import annotations

import logging

from bot.settings import Settings
from retrieval.answerer import Answerer, AnswerSettings
from retrieval.chunking import ChunkSettings
from retrieval.embedding import SentenceTransformerEmbedder
from retrieval.index import IndexSpec


def configure_logging(settings: Settings) -> None:
    """Log to stderr at the configured level, keeping request URLs (and the token) out."""
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL, and Bot API URLs contain the bot token.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def chunk_settings(settings: Settings) -> ChunkSettings:
    """How passages are cut, from the settings."""
    return ChunkSettings(max_tokens=settings.max_passage_tokens)


def make_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    """The configured embedding model (loaded lazily, on first use)."""
    return SentenceTransformerEmbedder(settings.embedding_model)


def make_answerer(
    settings: Settings, embedder: SentenceTransformerEmbedder | None = None
) -> Answerer:
    """The answerer over the index in the configured data directory."""
    embedder = embedder or make_embedder(settings)
    return Answerer(
        settings.data_dir,
        embedder,
        IndexSpec(model=embedder.name, chunking=chunk_settings(settings)),
        AnswerSettings(
            top_k=settings.top_k,
            threshold=settings.evidence_threshold,
            per_article=settings.max_passages_per_article,
            recency_half_life_days=settings.recency_half_life_days,
            recency_weight=settings.recency_weight,
        ),
    )
