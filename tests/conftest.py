"""Shared fixtures: the real corpus beside the checkout, settings on a temp directory."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.config import Settings, load_settings

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"

# subtle: no test may reach a model hub; every model is loaded from local files.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The shared evaluation corpus, read in place (never copied into the repo)."""
    if not (CORPUS / "MANIFEST.tsv").exists():
        pytest.skip("the shared corpus is not beside this checkout (../shared/corpus)")
    return CORPUS


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings whose data directory is a fresh temp folder; keyword overrides win."""

    def make(**overrides: object) -> Settings:
        overrides.setdefault("data_dir", tmp_path / "data")
        return load_settings(**overrides)

    return make
