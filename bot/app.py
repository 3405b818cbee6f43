"""The composition root: settings in, the core's objects out."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.feedbook import FeedBook
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.telegram.ingester import IngestSources
    from retrieval.index import ProgressCallback, Writer
    from retrieval.ingest import IngestSummary
    from retrieval.pgstore import SharedFeeds
    from retrieval.sources import FileFeeds, SourceResult

    FeedList = FileFeeds | SharedFeeds

from retrieval.answering import Answerer, AnswerSettings, CrossEncoderReranker, WrittenVerifier
from retrieval.chunking import ChunkSettings
from retrieval.embedding import Embedder, SentenceTransformerEmbedder, model_languages
from retrieval.index import EmbeddedStorage, IndexPolicy, IndexSpec
from retrieval.storage import Storage
from retrieval.writing import (
    AnswerWriter,
    ChatClient,
    ModelSettings,
    WritingAnswerer,
    WritingSettings,
)

if TYPE_CHECKING:
    from retrieval.sources import Fetcher, SourceLimits


def configure_logging(settings: Settings) -> None:
    """Log to stderr at the configured level, keeping request URLs (and the token) out."""
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    quiet_http_logs()
    # Extraction libraries warn about every page that is not an article; sources report that.
    for name in ("trafilatura", "htmldate", "readability", "justext"):
        logging.getLogger(name).setLevel(logging.ERROR)


def quiet_http_logs() -> None:
    """Turn httpx down: it logs every request URL, and Bot API URLs contain the bot token."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


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


def make_fetcher(settings: Settings) -> Fetcher:
    """A fetcher for sources: the settings' deadline, size limit and address policy."""
    from retrieval.sources import Fetcher  # extraction stays off the paths that do not fetch

    return Fetcher(
        timeout=settings.fetch_timeout,
        max_bytes=settings.fetch_max_bytes,
        allow_private_networks=settings.fetch_allow_private_networks,
    )


def source_limits(settings: Settings) -> SourceLimits:
    """How much one source may yield, from the settings."""
    from retrieval.sources import SourceLimits

    return SourceLimits(
        feed_items=settings.feed_max_items,
        paragraphs=settings.article_max_paragraphs,
        characters=settings.article_max_chars,
    )


def answer_languages(settings: Settings) -> tuple[str, ...] | None:
    """The languages questions may be asked in: NEWSBOT_EMBEDDING_LANGUAGES, else the
    configured model's; None (no check) for `any` or a model newsbot does not know."""
    if settings.embedding_languages:
        languages = tuple(code.lower() for code in settings.embedding_languages)
        return None if "any" in languages else languages
    return model_languages(settings.embedding_model)


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
        "min_confidence": settings.min_confidence,
        "per_article": settings.max_passages_per_article,
        "recency_half_life_days": settings.recency_half_life_days,
        "recency_weight": settings.recency_weight,
        "rerank_top": settings.rerank_top,
    }
    return AnswerSettings(**{**values, **overrides})  # type: ignore[arg-type]


def index_spec(settings: Settings, embedder: Embedder) -> IndexSpec:
    """What the index must be built with, and how its vectors are searched."""
    return IndexSpec(embedder.name, chunk_settings(settings), index_policy(settings))


def make_storage(settings: Settings, embedder: Embedder, data_dir: Path | None = None) -> Storage:
    """Where the index is kept: the PostgreSQL database when NEWSBOT_DATABASE_URL is set
    (and no data directory is given), else the generations in the data directory."""
    spec = index_spec(settings, embedder)
    if settings.database_url is None or data_dir is not None:
        return EmbeddedStorage(data_dir or settings.data_dir, spec)
    from retrieval.pgstore import PgStorage

    return PgStorage(settings.database_url.get_secret_value(), spec,
                     vector_index=settings.database_vector_index,
                     ef_search=settings.database_ef_search,
                     pool_size=settings.database_pool_size)  # fmt: skip


def make_answerer(
    settings: Settings,
    embedder: Embedder | None = None,
    data_dir: Path | None = None,
    **overrides: object,
) -> Answerer:
    """The answerer over the configured store (or the index in the given data directory)."""
    embedder = embedder or make_embedder(settings)
    return Answerer(
        make_storage(settings, embedder, data_dir),
        embedder,
        answer_settings(settings, **overrides),
        reranker=make_reranker(settings),
    )


def make_reranker(settings: Settings) -> CrossEncoderReranker | None:
    """The cross-encoder NEWSBOT_RERANKER_MODEL names, or None."""
    return CrossEncoderReranker(settings.reranker_model) if settings.reranker_model else None


def make_writer(
    settings: Settings,
    progress: ProgressCallback | None = None,
    on_wait: Callable[[], None] | None = None,
) -> Writer:
    """A writer for the configured data directory and model."""
    from retrieval.index import Writer

    embedder = make_embedder(settings)
    return Writer(settings.data_dir, embedder, chunk_settings(settings), progress=progress,
                  on_wait=on_wait, index=index_policy(settings),
                  storage=make_storage(settings, embedder))  # fmt: skip


def ingest_callables(settings: Settings) -> tuple[IngestSources, FeedBook]:
    """What the bot's ingest worker runs: sources into the index with the configured fetcher
    and writer (each source's result to ``on_source``), and the feeds followed."""

    def ingest_sources(
        sources: list[str], on_source: Callable[[SourceResult], None] | None = None
    ) -> IngestSummary:
        # Imported here: extraction and the model stay off the bot's start-up path.
        from retrieval.ingest import ingest

        with make_fetcher(settings) as fetcher:
            return ingest(sources, make_writer(settings), fetcher, on_source=on_source,
                          limits=source_limits(settings))  # fmt: skip

    return ingest_sources, FeedBook(settings.data_dir, settings.feeds, followed_feeds(settings))


def followed_feeds(settings: Settings) -> FeedList:
    """The feeds `newsbot feeds add` follows: in the database when NEWSBOT_DATABASE_URL is
    set, else in the data directory."""
    from retrieval.sources import FileFeeds

    if settings.database_url is None:
        return FileFeeds(settings.data_dir)
    from retrieval.pgstore import SharedFeeds

    return SharedFeeds(make_storage(settings, make_embedder(settings)).pool())  # type: ignore[attr-defined]


def make_answer_writer(settings: Settings, answerer: Answerer) -> AnswerWriter | None:
    """The language-model writer when NEWSBOT_LLM_BASE_URL is set, else None; the
    answerer's verifier checks what the model writes."""
    if not settings.llm_base_url or not settings.llm_model:
        return None
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    client = ChatClient(
        ModelSettings(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=key,
            timeout=settings.llm_timeout,
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
            stream=settings.llm_stream,
        )
    )
    return AnswerWriter(
        client,
        WrittenVerifier(answerer),
        WritingSettings(prompt_token_budget=settings.llm_prompt_token_budget),
    )


def with_writer(answerer: Answerer, settings: Settings) -> Answerer | WritingAnswerer:
    """The answerer, wrapped so that the model writes its answers when one is configured."""
    writer = make_answer_writer(settings, answerer)
    return answerer if writer is None else WritingAnswerer(answerer, writer)
