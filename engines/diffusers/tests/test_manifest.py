from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from fractal_diffusers.errors import ManifestError
from fractal_diffusers.manifest import Manifest, check_dir, packaged, scan


def weights(tmp_path: Path) -> Manifest:
    (tmp_path / "transformer").mkdir()
    (tmp_path / "transformer" / "model.safetensors").write_bytes(b"weights")
    (tmp_path / "model_index.json").write_text("{}")
    files = {
        "transformer/model.safetensors": hashlib.sha256(b"weights").hexdigest(),
        "model_index.json": hashlib.sha256(b"{}").hexdigest(),
    }
    return Manifest("p", "org/repo", "0123abcd", files)


def test_matching_directory_passes(tmp_path: Path) -> None:
    m = weights(tmp_path)
    assert check_dir(tmp_path, m) == m.files
    assert scan(tmp_path) == m.files


def test_changed_file_is_refused_by_name(tmp_path: Path) -> None:
    m = weights(tmp_path)
    (tmp_path / "transformer" / "model.safetensors").write_bytes(b"weightz")
    with pytest.raises(ManifestError, match="transformer/model.safetensors: sha256"):
        check_dir(tmp_path, m)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    m = weights(tmp_path)
    (tmp_path / "model_index.json").unlink()
    with pytest.raises(ManifestError, match="model_index.json: missing"):
        check_dir(tmp_path, m)


def test_extra_weight_file_is_refused(tmp_path: Path) -> None:
    m = weights(tmp_path)
    (tmp_path / "transformer" / "extra.safetensors").write_bytes(b"x")
    with pytest.raises(ManifestError, match="extra.safetensors: not in the manifest"):
        check_dir(tmp_path, m)


def test_unpinned_manifest_is_refused(tmp_path: Path) -> None:
    weights(tmp_path)
    with pytest.raises(ManifestError, match="unpinned"):
        check_dir(tmp_path, Manifest("p", "org/repo", "", {}))


def test_packaged_manifests_load() -> None:
    for pid in ("wan2.1-t2v-1.3b", "ltx-video-2b-distilled"):
        m = packaged(pid)
        assert m.profile == pid and m.repo_id
        assert Manifest.from_json(m.to_json()) == m


def test_serve_refuses_a_mismatching_directory(tmp_path: Path) -> None:
    import argparse

    from fractal_diffusers.cli import build_engine

    m = weights(tmp_path)
    (tmp_path / "fractal-manifest.json").write_text(m.to_json())
    (tmp_path / "model_index.json").write_text('{"changed": true}')
    args = argparse.Namespace(
        profile="wan2.1-t2v-1.3b",
        tiny=False,
        model_dir=tmp_path,
        device="cpu",
        allow_unpinned=True,
        prompt_cache=4,
        state_budget=1 << 20,
    )
    with pytest.raises(ManifestError, match="model_index.json"):
        build_engine(args)


def test_serve_command_exits_naming_the_mismatching_file(tmp_path: Path) -> None:
    """`fractal-diffusers serve` on a directory that does not match its manifest stops with
    exit status 2 and one line naming the file, instead of serving 503s."""
    import subprocess
    import sys

    m = weights(tmp_path)
    (tmp_path / "fractal-manifest.json").write_text(m.to_json())
    (tmp_path / "transformer" / "model.safetensors").write_bytes(b"other weights")
    cmd = [sys.executable, "-m", "fractal_diffusers", "serve", "--profile", "wan2.1-t2v-1.3b"]
    cmd += ["--model-dir", str(tmp_path), "--allow-unpinned", "--addr", "127.0.0.1:0", "--device", "cpu"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "listening on http://127.0.0.1:" in proc.stdout
    want = f"transformer/model.safetensors: sha256 {hashlib.sha256(b'other weights').hexdigest()}"
    assert want in proc.stderr, proc.stderr


def test_serve_command_refuses_an_unpinned_manifest(tmp_path: Path) -> None:
    import subprocess
    import sys

    weights(tmp_path)
    cmd = [sys.executable, "-m", "fractal_diffusers", "serve", "--profile", "wan2.1-t2v-1.3b"]
    cmd += ["--model-dir", str(tmp_path), "--addr", "127.0.0.1:0", "--device", "cpu"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "not pinned yet; pass --allow-unpinned" in proc.stderr, proc.stderr
