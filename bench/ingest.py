"""Ingest benchmark: pipeline texts/s vs raw `encode` of the same texts, peak memory, no-change re-run.

The texts are every chunk (with its heading) and every quotable sentence (stored for the answerer).
Usage: .venv/bin/python bench/ingest.py [--profile small] [--dtype float32] [--corpus ../shared/corpus]
       [--max-files N]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def raw_encode_seconds(model_path: str, texts: list[str], batch_size: int, dtype: str) -> float:
    """Seconds for sentence-transformers alone to encode the texts with the document prompt."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch_dtype = torch.bfloat16 if dtype == "bfloat16" else torch.float32
    model = SentenceTransformer(
        model_path, device="cpu", local_files_only=True, model_kwargs={"dtype": torch_dtype}
    )
    prompt = (getattr(model, "prompts", {}) or {}).get("document") or ""
    model.encode(texts[:batch_size], prompt=prompt, batch_size=batch_size)  # warm-up, like the pipeline's
    started = time.perf_counter()
    model.encode(texts, prompt=prompt, batch_size=batch_size, normalize_embeddings=True)
    return time.perf_counter() - started


def main() -> int:
    """Run the benchmark and print a table."""
    from assistant.config import load_settings
    from assistant.index.store import ChunkStore
    from assistant.models import profiles as models
    from assistant.models.embeddings import load_embedder
    from ingest.pipeline import ingest

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", help="embedding profile or model path (default: CA_EMBEDDING_MODEL)")
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), help="default: CA_EMBEDDING_DTYPE")
    parser.add_argument("--corpus", default=str(REPO.parent / "shared" / "corpus"))
    parser.add_argument("--max-files", type=int, default=0, help="only the first N files (0: all)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        settings = load_settings(
            embedding_model=args.profile, embedding_dtype=args.dtype, data_dir=Path(tmp) / "data"
        )
        embedder = load_embedder(settings)
        embedder.embed_batch(["warm-up"], "document")
        store = ChunkStore(settings, embedder)
        inputs = [args.corpus]
        if args.max_files:
            files = sorted(p for p in Path(args.corpus).rglob("*.txt") if p.name != "README.md")
            inputs = [str(p) for p in files[: args.max_files]]

        load_before = os.getloadavg()[0]
        first = ingest(inputs, settings, embedder, store)
        rerun = ingest(inputs, settings, embedder, store)
        chunks = [chunk for chunk, _ in store.iter_chunks()]
        stored = store.sentence_vectors([c.chunk_id for c in chunks])
        texts = [c.embed_text() for c in chunks] + [
            c.text[a:b] for c in chunks for a, b, _ in stored.get(c.chunk_id, [])
        ]
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        wanted = settings.embedding_model
        profile = wanted in models.PROFILES
        model_path = str(models.model_path(wanted, settings.models_dir)) if profile else wanted
        raw_s = raw_encode_seconds(model_path, texts, settings.embedding_batch_size, settings.embedding_dtype)

    embedded = first.embedded_chunks + first.embedded_sentences
    pipeline_cps = embedded / first.seconds
    raw_cps = len(texts) / raw_s
    rows = [
        ("model", f"{embedder.name} ({embedder.dim} dims, {settings.embedding_dtype}), "
                  f"batch {settings.embedding_batch_size}"),
        ("documents", f"{first.added}: {first.embedded_chunks} chunks, {first.embedded_sentences} sentences"),
        ("first ingest", f"{first.seconds:.1f} s, {pipeline_cps:.2f} texts/s (load avg {load_before:.1f})"),
        ("raw encode, same texts", f"{raw_s:.1f} s, {raw_cps:.2f} texts/s"),
        ("ratio pipeline/raw", f"{pipeline_cps / raw_cps:.2f} (target >= 0.85)"),
        ("no-change re-run", f"{rerun.seconds:.2f} s, {rerun.embedded_chunks} embedded (target < 5 s)"),
        ("peak RSS", f"{peak_mb:.0f} MB"),
        ("load average (1 min)", f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
