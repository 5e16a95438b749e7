"""fetch against a local stand-in for the Hugging Face Hub (HF_ENDPOINT on 127.0.0.1): huggingface_hub
itself downloads, the package checks every file's sha256 against the manifest."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from fractal_diffusers.manifest import LOCAL_NAME, Manifest

REPO = "fractal-test/tiny-weights"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
FILES = {
    "model_index.json": b'{"_class_name": "WanPipeline"}',
    "transformer/config.json": b'{"num_layers": 2}',
    "transformer/diffusion_pytorch_model.safetensors": b"\x00" * 64 + b"weights",
}


class Hub(BaseHTTPRequestHandler):
    """The few Hub routes snapshot_download uses for a commit: the tree listing and each file."""

    files: dict[str, bytes] = FILES

    def log_message(self, *args: object) -> None:
        pass

    def _file(self) -> tuple[str, bytes] | None:
        prefix = f"/{REPO}/resolve/{COMMIT}/"
        path = self.path.split("?", 1)[0]
        if path.startswith(prefix) and path[len(prefix) :] in self.files:
            name = path[len(prefix) :]
            return name, self.files[name]
        return None

    def _send(self, status: int, body: bytes, headers: dict[str, str], head: bool = False) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        path = self.path.split("?", 1)[0]
        if path.startswith(f"/api/models/{REPO}/tree/{COMMIT}"):
            tree = [
                {"type": "file", "path": name, "size": len(b), "oid": hashlib.sha1(b).hexdigest()}
                for name, b in self.files.items()
            ]
            self._send(200, json.dumps(tree).encode(), {"Content-Type": "application/json"}, head)
            return
        found = self._file()
        if found is None:
            self._send(404, b"{}", {"X-Error-Code": "EntryNotFound"}, head)
            return
        _, body = found
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        self._send(200, body, {"X-Repo-Commit": COMMIT, "ETag": etag}, head)


@pytest.fixture
def hub() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def run_fetch(endpoint: str, tmp: Path, manifest: Manifest, revision: str | None = None) -> Path:
    """Runs fetch for manifest in a fresh interpreter whose Hub is endpoint; returns the directory."""
    dest = tmp / "weights"
    script = (
        "import sys; from pathlib import Path; from fractal_diffusers.manifest import Manifest, fetch\n"
        "m = Manifest.from_json(Path(sys.argv[1]).read_text())\n"
        "fetch(m, Path(sys.argv[2]), sys.argv[3] or None)\n"
    )
    (tmp / "manifest.json").write_text(manifest.to_json())
    env = {**os.environ, "HF_ENDPOINT": endpoint, "HF_HOME": str(tmp / "hf"), "HF_HUB_DISABLE_XET": "1"}
    env.pop("HF_HUB_OFFLINE", None)
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp / "manifest.json"), str(dest), revision or ""],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1])
    return dest


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def test_fetch_of_a_pinned_manifest_checks_every_file(hub: str, tmp_path: Path) -> None:
    m = Manifest("p", REPO, COMMIT, {name: sha(b) for name, b in FILES.items()})
    dest = run_fetch(hub, tmp_path, m)
    for name, b in FILES.items():
        assert (dest / name).read_bytes() == b
    assert Manifest.from_json((dest / LOCAL_NAME).read_text()) == m


def test_fetch_refuses_a_file_that_does_not_match(hub: str, tmp_path: Path) -> None:
    files = {name: sha(b) for name, b in FILES.items()}
    files["transformer/config.json"] = sha(b"something else")
    with pytest.raises(RuntimeError, match="transformer/config.json: sha256"):
        run_fetch(hub, tmp_path, Manifest("p", REPO, COMMIT, files))
    assert not (tmp_path / "weights" / LOCAL_NAME).exists()


def test_fetch_of_an_unpinned_manifest_records_what_it_found(hub: str, tmp_path: Path) -> None:
    dest = run_fetch(hub, tmp_path, Manifest("p", REPO, "", {}), revision=COMMIT)
    got = Manifest.from_json((dest / LOCAL_NAME).read_text())
    assert got.revision == COMMIT
    assert got.files == {name: sha(b) for name, b in FILES.items()}
