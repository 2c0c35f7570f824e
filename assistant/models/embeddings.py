"""The Embedder protocol and its sentence-transformers implementation (query/document prompts)."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from langchain_core.embeddings import Embeddings

from assistant.config import Settings
from assistant.errors import ModelError
from assistant.models import profiles as models

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

EmbedKind = Literal["query", "document"]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-normalized vectors; questions and passages get the model's own prompts."""

    name: str  # stable id of the vector space, e.g. "multilingual-e5-small"
    dim: int

    def embed_batch(self, texts: Sequence[str], kind: EmbedKind) -> list[list[float]]:
        """One unit-normalized vector per text."""
        ...

    def count_tokens(self, text: str) -> int:
        """Number of model tokens in `text`, without special tokens or prompt."""
        ...


class SentenceTransformerEmbedder:
    """An Embedder over a local sentence-transformers folder, on CPU, loaded without any hub access."""

    def __init__(self, path: str | Path, name: str, dtype: str = "float32", batch_size: int = 16,
                 query_cache: int = 256) -> None:
        if batch_size <= 0:
            raise ValueError(f"batch_size must be greater than 0. Currently, batch_size is {batch_size}")
        if query_cache < 0:
            raise ValueError(f"query_cache must be 0 or more. Currently, query_cache is {query_cache}")
        self.name = name
        self.batch_size = batch_size
        self._model = _load_sentence_transformer(str(path), dtype)
        dim = self._model.get_embedding_dimension()
        if not dim:
            raise ModelError(
                f"The model at {path} does not report an embedding size: use a sentence-transformers model."
            )
        self.dim = int(dim)
        # models without saved query/document prompts get "" from sentence-transformers: no prefix
        prompts = getattr(self._model, "prompts", {}) or {}
        self.prompts: dict[str, str] = {k: prompts.get(k) or "" for k in ("query", "document")}
        self.max_tokens = int(self._model.max_seq_length or 512)
        # subtle: one question is embedded by the retriever and again by the answerer; the second is free.
        # Documents are not cached: the pipeline embeds each passage once and the cache would only churn.
        self._queries: OrderedDict[str, tuple[float, ...]] = OrderedDict()
        self._query_cache = query_cache
        self._lock = threading.Lock()  # the web app answers from several threads
        self.cache_hits = 0

    def embed_batch(self, texts: Sequence[str], kind: EmbedKind) -> list[list[float]]:
        """One unit-normalized vector per text, with the model's prompt for `kind`."""
        if kind not in ("query", "document"):
            raise ValueError(f"kind must be 'query' or 'document'. Currently, kind is {kind!r}")
        if not texts:
            return []
        # subtle: e5's tokenizer was trained on NFC text; our documents are NFC, questions may not be
        clean = [unicodedata.normalize("NFC", t) for t in texts]
        if kind == "document" or not self._query_cache:
            return self._encode(clean, kind)
        with self._lock:
            cached = {t: self._queries[t] for t in clean if t in self._queries}
            for text in cached:
                self._queries.move_to_end(text)
            self.cache_hits += sum(1 for t in clean if t in cached)
        missing = list(dict.fromkeys(t for t in clean if t not in cached))
        fresh = dict(zip(missing, (tuple(v) for v in self._encode(missing, kind)), strict=True))
        with self._lock:
            for text, vector in fresh.items():
                self._queries[text] = vector
                self._queries.move_to_end(text)
            while len(self._queries) > self._query_cache:
                self._queries.popitem(last=False)
        # fresh lists each call: a caller may mutate its vectors without touching the cache
        return [list(cached[t] if t in cached else fresh[t]) for t in clean]

    def _encode(self, clean: Sequence[str], kind: EmbedKind) -> list[list[float]]:
        if not clean:
            return []
        vectors = self._model.encode(
            list(clean),
            prompt=self.prompts[kind],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        rows: list[list[float]] = vectors.astype("float32").tolist()
        return rows

    def count_tokens(self, text: str) -> int:
        """Number of model tokens in `text`, without special tokens or prompt."""
        ids = self._model.tokenizer(unicodedata.normalize("NFC", text), add_special_tokens=False)["input_ids"]
        return len(ids)


def _load_sentence_transformer(path: str, dtype: str) -> SentenceTransformer:
    """Load a sentence-transformers model from local files only; ModelError with one sentence on failure."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch_dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}.get(dtype)
    if torch_dtype is None:
        raise ModelError(f"Unknown embedding dtype '{dtype}': set CA_EMBEDDING_DTYPE to float32 or bfloat16.")
    try:
        return SentenceTransformer(
            path, device="cpu", local_files_only=True, model_kwargs={"dtype": torch_dtype}
        )
    except Exception as exc:  # third-party loaders raise many types; the user needs one sentence
        log.debug("loading %s failed", path, exc_info=True)
        where = "folder" if Path(path).exists() else "model id"
        raise ModelError(
            f"The embedding model at {where} '{path}' cannot be loaded offline ({type(exc).__name__}): "
            "point CA_EMBEDDING_MODEL to a sentence-transformers folder, or use the profile small or quality."
        ) from None


def _name_for_path(path: str) -> str:
    """Stable id for an arbitrary model: its folder or hub name, lower-case, safe for collection names."""
    base = Path(path.rstrip("/")).name or path
    return re.sub(r"[^a-z0-9._-]+", "-", base.lower()).strip("-") or "custom-model"


class LazyEmbedder:
    """An Embedder whose model loads on first use: an ingest with nothing new reads hashes, not weights."""

    def __init__(self, name: str, dim: int, load: Callable[[], Embedder]) -> None:
        if dim <= 0:
            raise ValueError(f"dim must be greater than 0. Currently, dim is {dim}")
        self.name, self.dim = name, dim
        self._load = load
        self._model: Embedder | None = None
        self._lock = threading.Lock()  # two threads asking first must not load two models

    @property
    def loaded(self) -> bool:
        """Whether the model has been loaded."""
        return self._model is not None

    def _loaded(self) -> Embedder:
        with self._lock:
            if self._model is None:
                model = self._load()
                if (model.name, model.dim) != (self.name, self.dim):
                    raise ModelError(
                        f"The embedding model loaded as {model.name} ({model.dim} dims), not the expected "
                        f"{self.name} ({self.dim} dims): install the profile again."
                    )
                self._model = model
            return self._model

    def embed_batch(self, texts: Sequence[str], kind: EmbedKind) -> list[list[float]]:
        """One unit-normalized vector per text; loads the model unless there is nothing to embed."""
        return self._loaded().embed_batch(texts, kind) if texts else []

    def count_tokens(self, text: str) -> int:
        """Number of model tokens in `text` (loads the model: its tokenizer comes with it)."""
        return self._loaded().count_tokens(text)


def load_embedder(settings: Settings, *, lazy: bool = False) -> Embedder:
    """The configured Embedder: a profile in settings.models_dir, or any sentence-transformers path/id.

    lazy: a profile's model loads on first use (its name and size are known without it); a model
    given by path loads now, since only the model knows its size.
    """
    wanted = settings.embedding_model.strip()
    if wanted in models.PROFILES:
        profile = models.get_profile(wanted)
        folder = models.model_path(wanted, settings.models_dir)
        if not models.is_installed(wanted, settings.models_dir):
            state = "is incomplete or corrupt" if folder.exists() else "is not installed"
            raise ModelError(
                f"Embedding profile '{wanted}' {state} in {settings.models_dir}: "
                f"run `convention-assistant models install {wanted}`."
            )
        name, path = profile.model_id, str(folder)
        if lazy:
            return LazyEmbedder(name, profile.dim, lambda: _open_model(settings, name, path))
    else:
        local = Path(wanted).expanduser()
        name, path = _name_for_path(wanted), str(local) if local.exists() else wanted
    return _open_model(settings, name, path)


def _open_model(settings: Settings, name: str, path: str) -> SentenceTransformerEmbedder:
    """Load the sentence-transformers model at `path` with the configured dtype and batch size."""
    embedder = SentenceTransformerEmbedder(
        path, name=name, dtype=settings.embedding_dtype, batch_size=settings.embedding_batch_size
    )
    log.info("embedding model %s (%d dims, %s) from %s", name, embedder.dim, settings.embedding_dtype, path)
    return embedder


class LangchainEmbeddings(Embeddings):
    """LangChain adapter: documents and queries go through the wrapped Embedder with the right prompts."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Vectors for passages (document prompt)."""
        return self.embedder.embed_batch(texts, "document")

    def embed_query(self, text: str) -> list[float]:
        """Vector for a question (query prompt)."""
        return self.embedder.embed_batch([text], "query")[0]
