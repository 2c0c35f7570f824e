"""CLI ingest and status: exit codes, summary, and a run killed mid-embedding then finished."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import cli
from assistant.config import load_settings
from assistant.index.store import ChunkStore, collection_name_for
from ingest.manifest import Manifest, manifest_path
from ingest.status import index_status

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
DIGESTS = (
    "digests/12_en_coe_24_7_network_page.txt",
    "digests/23_vi_nld_gan_70_quoc_gia_ky.txt",
    "digests/35_fr_boursorama_afp_plus_de_60_pays.txt",
    "digests/50_en_hellbound_claims_us_signed_UNRELIABLE.txt",
)


def copy(corpus_dir: Path, dest: Path, names: tuple[str, ...]) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(corpus_dir / name, dest / Path(name).name)
    return dest


@pytest.fixture
def small_env(monkeypatch: pytest.MonkeyPatch, small_embedder) -> None:
    """The CLI reads its model from the environment, as a user would set it."""
    monkeypatch.setenv("CA_EMBEDDING_MODEL", "small")


def test_ingest_status_and_exit_codes(tmp_path, corpus_dir, small_env, capsys) -> None:
    src = copy(corpus_dir, tmp_path / "src", DIGESTS)
    data = str(tmp_path / "data")

    assert cli.main(["ingest", str(src), "--data-dir", data]) == 0
    out = capsys.readouterr().out
    assert "documents: 4 added, 0 updated, 0 unchanged, 0 removed" in out
    assert "languages: en 2, fr 1, vi 1" in out

    (tmp_path / "notes.xyz").write_text("?", encoding="utf-8")
    assert cli.main(["ingest", str(src), str(tmp_path / "notes.xyz"), "--data-dir", data]) == 0
    out = capsys.readouterr().out
    assert "0 added, 0 updated, 4 unchanged" in out and "notes.xyz: unsupported file type .xyz" in out
    assert cli.main(["ingest", str(src), str(tmp_path / "notes.xyz"), "--data-dir", data, "--strict"]) == 1
    assert cli.main(["ingest", str(tmp_path / "nowhere"), "--data-dir", data]) == 1
    captured = capsys.readouterr()
    assert "no such file or folder" in captured.out and "nothing was ingested" in captured.err

    assert cli.main(["status", "--data-dir", data, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["documents"] == 4 and status["problems"] == []
    assert status["model"] == "multilingual-e5-small" and status["collection"].endswith("-d384")
    assert set(status["languages"]) == {"en", "fr", "vi"}
    assert cli.main(["status", "--data-dir", data]) == 0
    assert "consistency: the store matches the manifest" in capsys.readouterr().out


def test_no_change_ingest_process_imports_no_model_code(tmp_path, corpus_dir, small_embedder) -> None:
    from ingest.pipeline import ingest

    src = copy(corpus_dir, tmp_path / "src", DIGESTS)
    settings = load_settings(embedding_model="small", data_dir=tmp_path / "data")
    assert ingest([str(src)], settings, small_embedder, ChunkStore(settings, small_embedder)).added == 4
    # a whole CLI process, as a user runs it; it reports which model libraries it imported
    probe = (
        "import sys, cli; code = cli.main(sys.argv[1:]); "
        "model = {'torch', 'sentence_transformers', 'transformers'}; "
        "print('model code:', sorted(model & sys.modules.keys())); sys.exit(code)"
    )
    env = {**os.environ, "CA_EMBEDDING_MODEL": "small"}
    done = subprocess.run(
        [sys.executable, "-c", probe, "ingest", str(src), "--data-dir", str(settings.data_dir)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "0 added, 0 updated, 4 unchanged" in done.stdout and "model code: []" in done.stdout


def test_killed_run_is_finished_by_the_next_one(tmp_path, corpus_dir, small_env, small_embedder) -> None:
    # the small digests come first (sorted names), then a 22-chunk treaty: plenty of batches to die in
    src = copy(corpus_dir, tmp_path / "src", (*DIGESTS, "texts/uncc_articles_01-15_ar.txt"))
    data = tmp_path / "data"
    env = {**os.environ, "CA_EMBEDDING_MODEL": "small", "CA_EMBEDDING_BATCH_SIZE": "2"}
    proc = subprocess.Popen(
        [sys.executable, "cli.py", "ingest", str(src), "--data-dir", str(data)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    settings = load_settings(embedding_model="small", data_dir=data)
    # subtle: no store is opened here while the child writes; two processes on one folder is not supported
    store_name = collection_name_for(small_embedder.name, small_embedder.dim)
    done_before_kill = 0
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and proc.poll() is None:
            if manifest_path(data).exists():
                manifest = Manifest(manifest_path(data), store_name)
                if manifest.done() and manifest.pending():
                    done_before_kill = len(manifest.done())
                    break
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed mid-embedding"
    assert done_before_kill >= 1

    store = ChunkStore(settings, small_embedder)
    assert index_status(settings, store).problems  # the interrupted document is reported
    finished = cli.main(["ingest", str(src), "--data-dir", str(data)])
    assert finished == 0

    manifest = Manifest(manifest_path(data), store.collection_name)
    ids = [chunk.chunk_id for chunk, _ in store.iter_chunks()]
    assert len(ids) == len(set(ids)) == store.count()
    states = store.doc_states()
    assert set(states) == set(manifest.done()) and len(states) == 5 and not manifest.pending()
    for doc_id, record in manifest.done().items():
        assert states[doc_id] == (record.content_hash, record.n_chunks)
        got = store.get_doc(doc_id)
        assert got is not None and [c.position for c in got[1]] == list(range(record.n_chunks))
    assert index_status(settings, store).problems == ()
