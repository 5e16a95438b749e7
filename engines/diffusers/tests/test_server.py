from __future__ import annotations

import http.client
import json
import socket
import time
from typing import Any
from urllib.parse import urlparse

import numpy as np
from conftest import WAN, spec_for, tiny_engine

from fractal_diffusers.determinism import class_id
from fractal_diffusers.server import App
from fractal_diffusers.wire import encode_record, state_bytes, state_digest


def call(url: str, method: str, path: str, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    conn.request(method, path, body=body if method == "POST" else None)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data


def records(data: bytes) -> list[tuple[dict[str, Any], bytes]]:
    out = []
    i = 0
    while i < len(data):
        nl = data.index(b"\n", i)
        head = json.loads(data[i:nl])
        n = head.get("bytes", 0)
        out.append((head, data[nl + 1 : nl + 1 + n]))
        i = nl + 1 + n
    return out


def ready(app: App) -> None:
    app.engine = tiny_engine(WAN)


def test_unavailable_while_loading(server: tuple[str, App]) -> None:
    url, app = server
    status, headers, body = call(url, "GET", "/v1/profile")
    assert status == 503 and json.loads(body)["error"]["code"] == "unavailable"
    assert int(headers["retry-after"]) >= 1
    req = encode_record({"type": "generate", "spec": spec_for(WAN).to_json()})
    assert call(url, "POST", "/v1/generate", req)[0] == 503


def test_profile(server: tuple[str, App]) -> None:
    url, app = server
    ready(app)
    status, headers, body = call(url, "GET", "/v1/profile")
    assert status == 200 and headers["content-type"] == "application/json"
    p = json.loads(body)
    assert p["id"] == WAN and p["protocol"] == "fractal-engine/2" and p["determinism"] == "exact"
    assert p["digest"] == app.engine.digest and p["digest"].startswith("sha256:")
    assert p["capabilities"] == ["decode_frame"]
    assert p["frame_tolerance"] == 0
    assert p["limits"] == {
        "frames": {"min": 1, "max": 64},
        "width": {"min": 64, "max": 256, "step": 16},
        "height": {"min": 64, "max": 256, "step": 16},
        "fps": {"min": 1, "max": 60},
        "steps": {"min": 1, "max": 50},
        "prompt_bytes": 1000,
        "default": {"frames": 5, "width": 96, "height": 64, "fps": 8, "steps": 4},
    }
    assert p["cost"] == app.engine.profile.cost.to_json() and p["cost"]["per_step"] > 0
    assert {"device", "torch", "diffusers"} <= set(p["execution_class"])
    assert p["execution_class_id"] == class_id(p["execution_class"])


def test_execution_class_id_names_every_field() -> None:
    cls = {"device": "NVIDIA H100 80GB HBM3", "capability": "9.0", "torch": "2.15.0", "driver": "580.1"}
    same = dict(reversed(list(cls.items())))
    assert class_id(cls) == class_id(same)
    assert class_id(cls).startswith("sha256:") and len(class_id(cls)) == len("sha256:") + 64
    for key in cls:
        assert class_id({**cls, key: cls[key] + "x"}) != class_id(cls), key


def test_routes(server: tuple[str, App]) -> None:
    url, app = server
    ready(app)
    status, _, body = call(url, "GET", "/v1/nothing")
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"
    status, headers, body = call(url, "GET", "/v1/generate")
    assert status == 405 and headers["allow"] == "POST"
    assert json.loads(body)["error"]["code"] == "method_not_allowed"


def test_generate_stream(server: tuple[str, App]) -> None:
    url, app = server
    ready(app)
    spec = spec_for(WAN, profile=f"{WAN}@1")  # a spec that names the profile gets it back
    status, headers, body = call(
        url,
        "POST",
        "/v1/generate",
        encode_record({"type": "generate", "spec": spec.to_json(), "keep_states": True}),
    )
    assert status == 200 and headers["content-type"] == "application/x-fractal-records"
    recs = records(body)
    types = [h["type"] for h, _ in recs]
    assert types == ["progress"] * spec.steps + ["result", "frames"] + ["state"] * (spec.steps + 1) + ["end"]
    assert [h["step"] for h, _ in recs[: spec.steps]] == list(range(1, spec.steps + 1))
    result = recs[spec.steps][0]
    assert result["spec"] == spec.to_json() and result["spec"]["profile"] == f"{WAN}@1"
    assert result["profile"] == app.engine.profile_core() and result["profile"]["digest"] == app.engine.digest
    assert result["profile"]["limits"] == app.engine.profile.limits.to_json()
    frames, pix = recs[spec.steps + 1]
    assert (frames["frames"], frames["height"], frames["width"], frames["fps"]) == (5, 64, 96, 8)
    assert frames["digest"] == result["frames_digest"] and len(pix) == frames["bytes"] == 5 * 64 * 96 * 3
    for t, (h, payload) in enumerate(recs[spec.steps + 2 : -1]):
        state = np.frombuffer(payload, "<f4").reshape(h["shape"])
        assert h["t"] == t and h["digest"] == state_digest(state) == result["state_digests"][t]


def step_request(spec: Any, t: int, prev: np.ndarray | None, digest: str | None = None) -> bytes:
    head: dict[str, Any] = {"type": "step", "spec": spec.to_json(), "t": t}
    if prev is None:
        return encode_record(head)
    head["state"] = {"shape": list(prev.shape), "dtype": "float32"}
    if digest:
        head["state"]["digest"] = digest
    return encode_record(head, state_bytes(prev))


def test_step_and_decode(server: tuple[str, App]) -> None:
    url, app = server
    ready(app)
    spec = spec_for(WAN, steps=2)
    gen = app.engine.generate(spec, keep_states=True)
    status, _, body = call(url, "POST", "/v1/step", step_request(spec, 0, None))
    assert status == 200
    ((h0, p0),) = records(body)
    assert h0["t"] == 0 and h0["digest"] == gen.state_digests[0]
    s0 = np.frombuffer(p0, "<f4").reshape(h0["shape"])
    status, _, body = call(url, "POST", "/v1/step", step_request(spec, 1, s0, h0["digest"]))
    ((h1, _),) = records(body)
    assert status == 200 and h1["digest"] == gen.state_digests[1]
    status, _, body = call(url, "POST", "/v1/step", step_request(spec, 1, s0, "sha256:" + "1" * 64))
    assert status == 400 and json.loads(body)["error"]["field"] == "state"

    final = gen.states[spec.steps]
    head = {
        "type": "decode",
        "spec": spec.to_json(),
        "state": {"shape": list(final.shape), "dtype": "float32"},
    }
    status, _, body = call(url, "POST", "/v1/decode", encode_record(head, state_bytes(final)))
    ((fh, pix),) = records(body)
    assert status == 200 and fh["digest"] == gen.frames_digest and pix == gen.frames
    head = {**head, "type": "decode_frame", "index": 2}
    status, _, body = call(url, "POST", "/v1/decode_frame", encode_record(head, state_bytes(final)))
    ((frh, frame),) = records(body)
    size = spec.width * spec.height * 3
    assert status == 200 and frh["index"] == 2 and frame == gen.frames[2 * size : 3 * size]
    head["index"] = spec.frames
    status, _, body = call(url, "POST", "/v1/decode_frame", encode_record(head, state_bytes(final)))
    assert status == 400 and json.loads(body)["error"]["field"] == "index"


def test_invalid_spec_is_400_naming_the_field(server: tuple[str, App]) -> None:
    url, app = server
    ready(app)
    for field, change, message in [
        ("width", {"width": 100}, "must be a multiple of 16 between 64 and 256, got 100"),
        ("steps", {"steps": 500}, "must be between 1 and 50, got 500"),
        ("prompt", {"prompt": ""}, "must not be empty (1–1000 bytes of UTF-8)"),
        ("profile", {"profile": "wan2.1-t2v-1.3b@1"}, f"this engine serves {WAN}@1, got wan2.1-t2v-1.3b@1"),
    ]:
        spec = {**spec_for(WAN).to_json(), **change}
        for path, typ in (("/v1/generate", "generate"), ("/v1/step", "step")):
            status, _, body = call(url, "POST", path, encode_record({"type": typ, "spec": spec, "t": 0}))
            err = json.loads(body)["error"]
            assert (status, err["code"], err["field"], err["message"]) == (400, "invalid", field, message)
    status, _, body = call(url, "POST", "/v1/step", b"not json\n")
    assert status == 400 and json.loads(body)["error"]["code"] == "invalid"


def test_too_large(server: tuple[str, App]) -> None:
    # The server answers from Content-Length alone and closes without
    # reading the body, so the client sends only the head: a client still
    # writing a body the server will never read may see its pipe break
    # before it reads the answer.
    url, app = server
    ready(app)
    u = urlparse(url)
    n = (1 << 20) + 1
    with socket.create_connection((u.hostname, u.port), timeout=60) as sock:
        sock.sendall(f"POST /v1/step HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n\r\n".encode())
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        body = resp.read()
    assert resp.status == 413 and json.loads(body)["error"]["code"] == "too_large"


def test_busy_slot_is_overloaded(server: tuple[str, App]) -> None:
    url, app = server
    ready(app)
    app.acquire()
    try:
        status, headers, body = call(url, "POST", "/v1/step", step_request(spec_for(WAN), 0, None))
    finally:
        app.release()
    assert status == 503 and json.loads(body)["error"]["code"] == "overloaded"
    assert int(headers["retry-after"]) >= 1
    assert call(url, "POST", "/v1/step", step_request(spec_for(WAN), 0, None))[0] == 200


def test_disconnect_stops_the_generation(server: tuple[str, App]) -> None:
    url, app = server
    ready(app)
    u = urlparse(url)
    spec = spec_for(WAN, frames=16, width=256, height=256, steps=50)
    body = encode_record({"type": "generate", "spec": spec.to_json()})
    sock = socket.create_connection((u.hostname, u.port))
    sock.sendall(b"POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body))
    got = b""
    while b'"progress"' not in got:
        got += sock.recv(4096)
    sock.close()
    started = time.monotonic()
    while app.retry_after() and not app._slot.acquire(blocking=False):
        assert time.monotonic() - started < 30, "the generation kept running after its caller left"
        time.sleep(0.05)
    app._slot.release()


def test_back_to_back_calls_find_the_slot_free(server: tuple[str, App]) -> None:
    """A caller that sends its next call as soon as it has read a reply is never refused."""
    url, app = server
    ready(app)
    spec = spec_for(WAN, steps=2)
    refused = 0
    for _ in range(150):
        status, _, _ = call(url, "POST", "/v1/step", step_request(spec, 0, None))
        refused += status == 503
    assert refused == 0
