"""Settings: the only place that reads the environment (prefix CA_)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_models_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "convention-assistant" / "models"


class Settings(BaseSettings):
    """Every knob of the assistant; each can be set as CA_<NAME> in the environment."""

    model_config = SettingsConfigDict(env_prefix="CA_", extra="ignore", frozen=True)

    # where things live
    data_dir: Path = Path(".data")
    models_dir: Path = Field(default_factory=_default_models_dir)
    prompts_dir: Path = PROJECT_ROOT / "prompts"

    # embeddings: a profile name ("small", "quality") or any sentence-transformers path or id
    embedding_model: str = "quality"
    embedding_dtype: Literal["float32", "bfloat16"] = "float32"
    embedding_batch_size: int = 16

    # vector store: embedded under data_dir unless a server URL is given
    chroma_url: str = ""  # e.g. http://127.0.0.1:8000
    chroma_timeout_s: float = 10.0  # per request to the Chroma server; a hung server fails instead of hanging

    # ingestion
    chunk_tokens: int = 320
    chunk_overlap_tokens: int = 40
    max_file_mb: float = 20.0
    url_timeout_s: float = 15.0
    # partial rows of a document this machine's manifest does not know are left alone this long: on a
    # shared Chroma server they may be another ingest job's write in progress
    ingest_lease_s: float = Field(default=900.0, ge=0.0)

    # retrieval
    top_k: int = 8
    candidates: int = 40
    per_doc_cap: int = 2
    # how dense and BM25 results are combined: "convex" weighs normalized scores (dense_weight for
    # dense, the rest for BM25); "rrf" is reciprocal rank fusion with constant rrf_k
    fusion: Literal["convex", "rrf"] = "convex"
    dense_weight: float = Field(default=0.7, ge=0.0, le=1.0)
    rrf_k: int = 60
    # how much a chunk's best-matching sentence counts next to the chunk's own cosine when ranking;
    # unset means the embedding model's measured default (its profile's calibration: 0.3 for EmbeddingGemma)
    sentence_weight: float | None = Field(default=None, ge=0.0, le=1.0)
    # share of the question's similarity to each language's mean vector taken off that language's
    # chunks (language-mean centering); 0 ranks raw cosines, where same-language passages win
    language_centering: float = Field(default=0.5, ge=0.0, le=1.0)

    # answers
    mode: Literal["extractive", "llm"] = "extractive"
    abstain_threshold: float = 0.0  # calibrated per embedding model; 0 means the model's default
    history_turns: int = 6
    llm_base_url: str = ""  # any OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1
    llm_model: str = ""
    llm_api_key: SecretStr = SecretStr("")
    llm_gguf_path: str = ""  # a local GGUF file served through xllamacpp
    llm_gguf_ctx: int = 4096  # context window of the local GGUF model, in tokens
    llm_gguf_threads: int = 0  # CPU threads of the local GGUF model; 0 means all cores
    llm_timeout_s: float = 60.0
    llm_max_tokens: int = 512

    # web
    host: str = "127.0.0.1"
    port: int = 7860
    cors_origins: tuple[str, ...] = ()
    admin_token: SecretStr = SecretStr("")
    # bearer keys of the OpenAI-compatible /v1 routes, comma-separated; empty means /v1 asks for no key
    api_keys: SecretStr = SecretStr("")
    max_question_chars: int = 1000
    max_body_bytes: int = 1_000_000  # API request bodies (question + history + filters); larger ones get 413
    rate_limit_per_minute: int = 30
    max_concurrent_answers: int = 4
    answer_queue: int = 16  # requests waiting for an answer slot; beyond it the API says busy (503)
    log_json: bool = False
    log_questions: bool = True
    index_refresh_s: float = 5.0  # how often an app process checks the shared index for finished ingests

    @field_validator(
        "top_k", "candidates", "per_doc_cap", "chunk_tokens", "embedding_batch_size", "history_turns",
        "chroma_timeout_s",
    )
    @classmethod
    def _positive(cls, value: int, info: object) -> int:
        if value <= 0:
            name = getattr(info, "field_name", "value")
            raise ValueError(f"{name} must be greater than 0. Currently, {name} is {value}")
        return value

    @property
    def api_key_list(self) -> tuple[str, ...]:
        """The /v1 bearer keys (CA_API_KEYS split at commas); empty when no key is asked for."""
        return tuple(key.strip() for key in self.api_keys.get_secret_value().split(",") if key.strip())

    @property
    def chroma_dir(self) -> Path:
        """Folder of the embedded Chroma store."""
        return self.data_dir / "chroma"


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment plus explicit overrides, or raise ConfigError."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**clean)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        raise ConfigError(
            f"Invalid setting {where}: {first.get('msg')}. Fix CA_{where.upper()} or the option."
        ) from None
