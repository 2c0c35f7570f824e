"""Manifest: records per collection, atomic saves, a damaged file set aside."""

from __future__ import annotations

import json
from pathlib import Path

from ingest.manifest import DocRecord, Manifest, manifest_path


def record(doc_id: str) -> DocRecord:
    return DocRecord(doc_id, f"corpus/{doc_id}.txt", f"hash-{doc_id}", title="T", language="fr", kind="press")


def test_pending_then_done_survives_reload(tmp_path: Path) -> None:
    path = manifest_path(tmp_path)
    m = Manifest(path, "chunks-a-d8")
    m.mark_pending(record("x"))
    m.mark_pending(record("y"))
    m.mark_done("x", 5)
    again = Manifest(path, "chunks-a-d8")
    assert set(again.done()) == {"x"}
    assert set(again.pending()) == {"y"}
    x = again.get("x")
    assert x is not None and x.n_chunks == 5 and x.state == "done" and x.ingested_at
    assert x.language == "fr" and x.source == "corpus/x.txt"
    again.remove("y")
    assert Manifest(path, "chunks-a-d8").records.keys() == {"x"}
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]  # no temp file left behind


def test_collections_are_kept_apart(tmp_path: Path) -> None:
    path = manifest_path(tmp_path)
    a = Manifest(path, "chunks-a-d8")
    a.mark_pending(record("x"))
    a.mark_done("x", 1)
    b = Manifest(path, "chunks-b-d4")
    assert b.records == {}
    b.mark_pending(record("z"))
    assert set(Manifest(path, "chunks-a-d8").records) == {"x"}
    assert set(json.loads(path.read_text())["collections"]) == {"chunks-a-d8", "chunks-b-d4"}


def test_damaged_file_is_set_aside(tmp_path: Path) -> None:
    path = manifest_path(tmp_path)
    path.write_text('{"version": 1, "collections": {"c": {"x": {"doc_id": "x"', encoding="utf-8")
    m = Manifest(path, "c")
    assert m.records == {}
    assert (tmp_path / "manifest.json.bad").exists()
    m.mark_pending(record("n"))
    assert set(Manifest(path, "c").records) == {"n"}
