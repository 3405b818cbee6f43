"""Settings: one typed object read once at the edge from NEWSBOT_* variables and .env."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from retrieval.answering import METHODS
from retrieval.embedding import DEFAULT_MODEL
from retrieval.index import FLAT_MAX_PASSAGES, INDEX_TYPES, IVF_NPROBE
from retrieval.pgstore import EF_SEARCH, POOL_SIZE

TOP_K_MIN, TOP_K_MAX = 1, 100

IdList = Annotated[tuple[int, ...], NoDecode]
StrList = Annotated[tuple[str, ...], NoDecode]


class Settings(BaseSettings):
    """Every setting of newsbot; `config.example.env` documents each one."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Core
    data_dir: Path = Path("data")
    embedding_model: str = DEFAULT_MODEL
    embedding_backend: Literal["torch", "onnx", "onnx-int8"] = "onnx"
    embedding_languages: StrList = ()
    model_cache_dir: Path | None = None
    top_k: int = Field(5, ge=TOP_K_MIN, le=TOP_K_MAX)
    retrieval_method: str = "hybrid"  # one of METHODS
    keyword_weight: float = Field(0.3, ge=0.0, le=5.0)
    evidence_threshold: float = Field(0.40, ge=-1.0, le=1.0)
    # None: the calibrated default shipped with the verifier's weights.
    min_confidence: float | None = Field(None, ge=0.0, le=1.0)
    max_passages_per_article: int = Field(2, ge=1, le=20)
    recency_half_life_days: float = Field(30.0, gt=0)
    recency_weight: float = Field(0.05, ge=0.0, le=1.0)
    reranker_model: str | None = None
    rerank_top: int = Field(20, ge=2, le=200)
    max_passage_tokens: int = Field(256, ge=32, le=8192)
    log_level: str = "WARNING"
    batch_wait_ms: float = Field(5.0, ge=0.0, le=1000.0)
    batch_max_questions: int = Field(16, ge=1, le=1024)

    # Large corpora (the defaults' measurements are in retrieval/index/policy.py)
    index_type: str = "auto"  # one of INDEX_TYPES
    flat_max_passages: int = Field(FLAT_MAX_PASSAGES, ge=0)
    ivf_nprobe: int = Field(IVF_NPROBE, ge=1, le=65_536)

    # The shared store: PostgreSQL with pgvector instead of files in data_dir (docs/scaling.md)
    database_url: SecretStr | None = None
    database_vector_index: Literal["hnsw", "exact"] = "hnsw"
    database_ef_search: int = Field(EF_SEARCH, ge=1, le=1000)
    database_pool_size: int = Field(POOL_SIZE, ge=1, le=100)

    # Keeping the news fresh
    feeds: StrList = ()
    feed_poll_minutes: float = Field(30.0, gt=0)
    fetch_timeout: float = Field(10.0, gt=0, le=300)
    fetch_max_bytes: int = Field(5_000_000, ge=10_000)
    fetch_allow_private_networks: bool = False
    feed_max_items: int = Field(100, ge=1, le=10_000)
    article_max_paragraphs: int = Field(500, ge=1, le=100_000)
    article_max_chars: int = Field(100_000, ge=1_000, le=10_000_000)

    # Answers written by a language model (off unless llm_base_url is set)
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout: float = Field(20.0, gt=0, le=600)
    llm_max_tokens: int = Field(300, ge=16, le=32_768)
    llm_temperature: float = Field(0.0, ge=0.0, le=2.0)
    llm_prompt_token_budget: int = Field(3000, ge=500, le=1_000_000)
    llm_stream: bool = True

    # Telegram
    telegram_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_allowed_chat_ids: IdList = ()
    telegram_allowed_user_ids: IdList = ()
    telegram_admin_user_ids: IdList = ()
    telegram_rate_limit_per_minute: int = Field(10, ge=1)
    telegram_browse_limit_per_minute: int = Field(30, ge=1)
    telegram_max_question_length: int = Field(500, ge=10, le=4000)
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = Field(8443, ge=1, le=65535)
    telegram_webhook_secret: SecretStr | None = None

    @field_validator(
        "telegram_allowed_chat_ids",
        "telegram_allowed_user_ids",
        "telegram_admin_user_ids",
        mode="before",
    )
    @classmethod
    def _split_ids(cls, value: object) -> object:
        """Accept "1, -100200" as well as a list."""
        if isinstance(value, str):
            return tuple(int(part) for part in value.replace(",", " ").split())
        return value

    @field_validator("data_dir", mode="before")
    @classmethod
    def _data_dir_given(cls, value: object) -> object:
        """An empty value would mean the working directory."""
        if isinstance(value, str) and not value.strip():
            raise ValueError("is empty: unset it for the default (data) or name a directory")
        return value

    @field_validator("data_dir")
    @classmethod
    def _data_dir_is_a_directory(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError(f"{value} is a file, not a directory")
        return value

    @field_validator("feeds", "embedding_languages", mode="before")
    @classmethod
    def _split_words(cls, value: object) -> object:
        """Accept "https://a/rss, https://b/atom" (or "en, de") as well as a list."""
        if isinstance(value, str):
            return tuple(value.replace(",", " ").split())
        return value

    @field_validator("retrieval_method", "index_type")
    @classmethod
    def _check_choice(cls, value: str, info: ValidationInfo) -> str:
        choices = METHODS if info.field_name == "retrieval_method" else INDEX_TYPES
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(repr(c) for c in choices)}")
        return value

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator(
        "telegram_token",
        "telegram_webhook_secret",
        "database_url",
        "telegram_webhook_url",
        "reranker_model",
        "model_cache_dir",
        "llm_base_url",
        "llm_model",
        "llm_api_key",
        "min_confidence",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("llm_base_url")
    @classmethod
    def _check_llm_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(
                "must be an http:// or https:// URL (such as https://api.openai.com/v1)"
            )
        return value

    @model_validator(mode="after")
    def _llm_needs_model(self) -> Settings:
        if self.llm_base_url and not self.llm_model:
            raise ValueError("NEWSBOT_LLM_MODEL must be set when NEWSBOT_LLM_BASE_URL is")
        return self


class SettingsError(Exception):
    """Settings could not be read; the message names each bad setting."""


def load_settings(env_file: str | Path | None = ".env") -> Settings:
    """Read settings, turning validation errors into one message naming the settings."""
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "NEWSBOT_" + str(error["loc"][0]).upper() if error["loc"] else "settings"
            problems.append(f"{name}: {error['msg']}")
        raise SettingsError("invalid setting: " + "; ".join(problems)) from None


def require_writable(directory: Path, setting: str) -> None:
    """Create ``directory`` if needed and check a file can be written in it."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SettingsError(
            f"{setting}={directory} is not a writable directory: {reason}"
        ) from None
