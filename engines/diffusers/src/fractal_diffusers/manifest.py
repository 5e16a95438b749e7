"""Weight manifests: the pinned hub revision of a profile and the sha256 of every file in it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .errors import ManifestError

LOCAL_NAME = "fractal-manifest.json"  # what fetch records next to the weights
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".ckpt", ".json", ".model", ".txt")


@dataclass
class Manifest:
    profile: str
    repo_id: str
    revision: str
    files: dict[str, str] = field(default_factory=dict)  # path relative to the directory → sha256 hex

    @property
    def pinned(self) -> bool:
        return bool(self.revision and self.files)

    def to_json(self) -> str:
        doc = {
            "profile": self.profile,
            "repo_id": self.repo_id,
            "revision": self.revision,
            "files": self.files,
        }
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"

    @staticmethod
    def from_json(text: str) -> Manifest:
        doc = json.loads(text)
        return Manifest(
            doc["profile"], doc.get("repo_id", ""), doc.get("revision", ""), dict(doc.get("files", {}))
        )


def packaged(profile_id: str) -> Manifest:
    """The manifest shipped with the package for a profile."""
    text = resources.files("fractal_diffusers").joinpath("manifests", f"{profile_id}.json").read_text()
    return Manifest.from_json(text)


def sha256_file(path: Path, chunk: int = 8 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def scan(root: Path) -> dict[str, str]:
    """sha256 of every file under root, skipping hidden paths and the local manifest."""
    out: dict[str, str] = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if not p.is_file() or rel == LOCAL_NAME or any(part.startswith(".") for part in Path(rel).parts):
            continue
        out[rel] = sha256_file(p)
    return out


def check_dir(root: Path, manifest: Manifest) -> dict[str, str]:
    """Checks every file the manifest lists, and that no unlisted weight or config file is present.
    Returns the manifest's files; raises ManifestError naming the first offending file."""
    if not root.is_dir():
        raise ManifestError(f"weight directory {root} does not exist")
    if not manifest.files:
        raise ManifestError(f"the manifest of {manifest.profile} lists no files (unpinned)")
    for rel, want in sorted(manifest.files.items()):
        p = root / rel
        if not p.is_file():
            raise ManifestError(f"{rel}: missing from {root}")
        got = sha256_file(p)
        if got != want:
            raise ManifestError(f"{rel}: sha256 {got}, the manifest of {manifest.profile} says {want}")
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        hidden = any(part.startswith(".") for part in Path(rel).parts)
        if p.is_file() and not hidden and rel != LOCAL_NAME and rel not in manifest.files:
            if rel.endswith(WEIGHT_SUFFIXES):
                raise ManifestError(f"{rel}: not in the manifest of {manifest.profile}; remove it")
    return dict(manifest.files)


def fetch(manifest: Manifest, root: Path, revision: str | None = None) -> Manifest:
    """Downloads the pinned revision with huggingface_hub and checks it. An unpinned manifest
    needs a revision; the files found are then recorded in root/fractal-manifest.json."""
    from huggingface_hub import snapshot_download

    rev = manifest.revision or revision
    if not rev:
        raise ManifestError(f"the manifest of {manifest.profile} pins no revision; pass --revision")
    if manifest.revision and revision and revision != manifest.revision:
        raise ManifestError(f"the profile pins revision {manifest.revision}, not {revision}")
    patterns = sorted(manifest.files) or None
    snapshot_download(repo_id=manifest.repo_id, revision=rev, local_dir=str(root), allow_patterns=patterns)
    if manifest.pinned:
        check_dir(root, manifest)
        found = manifest
    else:
        found = Manifest(manifest.profile, manifest.repo_id, rev, scan(root))
    (root / LOCAL_NAME).write_text(found.to_json())
    return found
