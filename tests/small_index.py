"""A real index of a few corpus files, built with the small embedding model in a temp directory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from assistant.config import Settings, load_settings
from assistant.index.store import ChunkStore
from assistant.models.embeddings import Embedder
from ingest.pipeline import ingest

# three short digests: the signing in Hanoi, told in English, French and Vietnamese
FILES = ("digests/06_en_un_news_via_wam_65_nations_sign.txt",
         "digests/35_fr_boursorama_afp_plus_de_60_pays.txt",
         "digests/22_vi_thanhnien_le_ky_cong_uoc_ha_noi.txt")


def index_files(data_dir: Path, corpus_dir: Path, embedder: Embedder, files: Sequence[str] = FILES,
                **overrides: object) -> Settings:
    """Ingest `files` of the corpus into a fresh index under data_dir; its settings (small model)."""
    settings = load_settings(data_dir=data_dir, embedding_model="small", **overrides)
    summary = ingest([str(corpus_dir / f) for f in files], settings, embedder, ChunkStore(settings, embedder))
    assert summary.added == len(files), summary.skipped
    return settings
