"""Shared fixtures: the real corpus beside the checkout, settings on a temp directory, apps around a fake."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import EmptyStore, GatedAssistant
from hypothesis import settings as hypothesis_settings
from loopback import serve
from processes import CHROMA, ChromaServer

from assistant.config import Settings, load_settings
from assistant.models.embeddings import Embedder

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"

# subtle: no test may reach a model hub; every model is loaded from local files.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# CI replays the same examples on every run, so a red build is never a coin toss; locally the
# property tests keep exploring new inputs (a failure found there becomes a plain regression test).
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The shared evaluation corpus, read in place (never copied into the repo)."""
    if not (CORPUS / "MANIFEST.tsv").exists():
        reason = "the shared corpus is not beside this checkout (../shared/corpus)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must run the eval and the corpus tests, so this is an error")
        pytest.skip(reason)
    return CORPUS


@pytest.fixture(scope="session")
def small_embedder() -> Embedder:
    """The real `small` profile (multilingual-e5-small), installed into settings.models_dir if missing."""
    from assistant.models import profiles as models
    from assistant.models.embeddings import load_embedder

    settings = load_settings(embedding_model="small")
    if not models.is_installed("small", settings.models_dir):
        # subtle: the one write outside tmp_path; the model is a shared cache, converted once (~5 s)
        models.install("small", settings.models_dir)
    return load_embedder(settings)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings whose data directory is a fresh temp folder; keyword overrides win."""

    def make(**overrides: object) -> Settings:
        overrides.setdefault("data_dir", tmp_path / "data")
        return load_settings(**overrides)

    return make


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    """A real `chroma run` server on a free loopback port, stopped after the test."""
    if not CHROMA.exists():
        pytest.skip("the chroma console script is not installed beside this Python")
    server = ChromaServer(tmp_path / "chroma-server").start()
    yield server
    server.stop()


@pytest.fixture
def fake_server(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., Any]]:
    """Start apps around a GatedAssistant; every server stops at the end of the test."""
    from app import create_app
    from assistant.wiring import Services

    stack: list[Any] = []

    def start(assistant: GatedAssistant | None = None, **overrides: object) -> tuple[str, GatedAssistant]:
        assistant = assistant or GatedAssistant()
        settings = make_settings(embedding_model="small", **overrides)
        ctx = serve(create_app(settings, Services(settings, assistant, EmptyStore())))
        stack.append(ctx)
        return ctx.__enter__(), assistant

    yield start
    for ctx in reversed(stack):
        ctx.__exit__(None, None, None)
