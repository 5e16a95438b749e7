"""The engine protocol's records, tensor encodings and digests (docs/engine-protocol.md)."""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

from .errors import Invalid, TooLarge

MAX_LINE_BYTES = 64 << 10
MAX_RANK = 8
DTYPE_FLOAT32 = "float32"
ENCODING_RAW = "raw"
CONTENT_TYPE = "application/x-fractal-records"
ZERO_DIGEST = "sha256:" + "0" * 64  # a client's "no digest"


def digest_string(h: Any) -> str:
    return "sha256:" + h.hexdigest()


def state_digest(state: np.ndarray) -> str:
    """SHA-256("fractal/state/v1" ‖ u32be(rank) ‖ u32be(dim)… ‖ float32 LE bytes)."""
    h = hashlib.sha256(b"fractal/state/v1")
    h.update(struct.pack(f">I{state.ndim}I", state.ndim, *state.shape))
    h.update(state_bytes(state))
    return digest_string(h)


def state_bytes(state: np.ndarray) -> bytes:
    return np.ascontiguousarray(state, dtype="<f4").tobytes()


def frames_digest(pix: bytes, frames: int, height: int, width: int, fps: int) -> str:
    """SHA-256("fractal/frames/v1" ‖ u32be(frames, height, width, 3, fps) ‖ RGB bytes)."""
    h = hashlib.sha256(b"fractal/frames/v1")
    h.update(struct.pack(">5I", frames, height, width, 3, fps))
    h.update(pix)
    return digest_string(h)


def encode_record(obj: dict[str, Any], payload: bytes = b"") -> bytes:
    """One JSON line, then the payload; "bytes" is set from the payload."""
    if payload:
        obj = {**obj, "bytes": len(payload)}
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n" + payload


@dataclass
class Record:
    head: dict[str, Any]
    payload: bytes

    @property
    def type(self) -> str:
        t = self.head.get("type", "")
        return t if isinstance(t, str) else ""


def parse_request(body: bytes, want_type: str) -> Record:
    """Parses a request body that holds exactly one record of want_type (or untyped)."""
    nl = body.find(b"\n", 0, MAX_LINE_BYTES)
    if nl < 0:
        if len(body) >= MAX_LINE_BYTES:
            raise TooLarge(f"record line over {MAX_LINE_BYTES} bytes")
        nl = len(body)
    line = body[:nl].rstrip(b"\r")
    if not line:
        raise Invalid(f"empty body, want a {want_type} record")
    try:
        head = json.loads(line)
    except (ValueError, UnicodeDecodeError) as e:
        raise Invalid(f"record line: {e}") from None
    if not isinstance(head, dict):
        raise Invalid("record line must be a JSON object")
    rec = Record(head, b"")
    if rec.type not in ("", want_type):
        raise Invalid(f"record type {rec.type!r}, want {want_type!r}")
    n = head.get("bytes", 0)
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise Invalid(f"{want_type} record: bytes must be a non-negative integer")
    rest = body[nl + 1 :]
    if len(rest) < n:
        raise Invalid(f"{want_type} record: payload truncated")
    if len(rest) > n:
        raise Invalid(f"data after the {want_type} record")
    rec.payload = rest
    return rec


def read_state(header: object, payload: bytes) -> np.ndarray:
    """Decodes a request's state header and payload, checking its digest when given."""
    if not isinstance(header, dict):
        raise Invalid("missing", field="state")
    if header.get("dtype") != DTYPE_FLOAT32:
        raise Invalid(f"dtype must be {DTYPE_FLOAT32!r}, got {header.get('dtype')!r}", field="state")
    shape = header.get("shape")
    if (
        not isinstance(shape, list)
        or not 1 <= len(shape) <= MAX_RANK
        or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape)
    ):
        raise Invalid(f"shape must be 1 to {MAX_RANK} positive dimensions, got {shape!r}", field="state")
    n = 4 * int(np.prod(shape, dtype=np.int64))
    if len(payload) != n:
        raise Invalid(f"shape {shape} needs {n} bytes, got {len(payload)}", field="state")
    arr = np.frombuffer(payload, dtype="<f4").reshape(shape).astype(np.float32)
    want = header.get("digest")
    if want and want != ZERO_DIGEST and want != state_digest(arr):
        raise Invalid(f"digest {want} does not match its bytes", field="state")
    return arr


def state_record(t: int, state: np.ndarray, digest: str | None = None) -> bytes:
    payload = state_bytes(state)
    head = {
        "type": "state",
        "t": t,
        "shape": list(state.shape),
        "dtype": DTYPE_FLOAT32,
        "digest": digest or state_digest(state),
    }
    return encode_record(head, payload)


def frames_head(pix: bytes, frames: int, height: int, width: int, fps: int, digest: str) -> dict[str, Any]:
    return {
        "type": "frames",
        "frames": frames,
        "height": height,
        "width": width,
        "channels": 3,
        "fps": fps,
        "encoding": ENCODING_RAW,
        "digest": digest,
    }


def write_all(w: BinaryIO, data: bytes) -> None:
    w.write(data)
    w.flush()
