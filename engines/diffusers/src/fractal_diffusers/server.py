"""The engine protocol over HTTP/1.1 (docs/engine-protocol.md), on the standard library's server.

One engine slot: a second generate, step or decode while one runs is refused at once with
503 overloaded and Retry-After (queueing is the miner's job). While the weights load the
engine answers 503 unavailable. A generation stops between steps when its caller goes away.
"""

from __future__ import annotations

import json
import logging
import math
import select
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import torch

from .engine import Engine, Generation
from .errors import (
    Cancelled,
    EngineError,
    Invalid,
    MethodNotAllowed,
    NotFound,
    Overloaded,
    TooLarge,
    Unavailable,
)
from .spec import Spec
from .wire import (
    CONTENT_TYPE,
    ENCODING_RAW,
    encode_record,
    frames_head,
    parse_request,
    read_state,
    state_record,
)

log = logging.getLogger("fractal_diffusers")

ROUTES = {
    "/v1/profile": "GET",
    "/v1/generate": "POST",
    "/v1/step": "POST",
    "/v1/decode": "POST",
    "/v1/decode_frame": "POST",
}


class App:
    """What the handlers share: the engine once loaded, the one slot and the limits."""

    def __init__(self, max_body: int = 256 << 20, loading_retry_after: int = 10) -> None:
        self.engine: Engine | None = None
        self.load_error: str | None = None
        self.max_body = max_body
        self.loading_retry_after = loading_retry_after
        self._slot = threading.Lock()
        self._job_lock = threading.Lock()
        self._job: tuple[float, int, int] | None = None  # started, steps done, steps

    def ready(self) -> Engine:
        if self.engine is None:
            msg = self.load_error or "weights are loading"
            raise Unavailable(f"engine not ready: {msg}", retry_after=self.loading_retry_after)
        return self.engine

    def acquire(self) -> None:
        if not self._slot.acquire(blocking=False):
            raise Overloaded("the engine slot is busy", retry_after=self.retry_after())

    def release(self) -> None:
        with self._job_lock:
            self._job = None
        self._slot.release()

    def progress(self, done: int, steps: int) -> None:
        with self._job_lock:
            started = self._job[0] if self._job else time.monotonic()
            self._job = (started, done, steps)

    def retry_after(self) -> int:
        """Seconds until the running job should finish (1 when unknown), at most 60."""
        with self._job_lock:
            job = self._job
        if job is None or job[1] == 0:
            return 1
        started, done, steps = job
        left = (time.monotonic() - started) / done * (steps - done)
        return max(1, min(60, math.ceil(left)))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fractal-diffusers"
    app: App  # set on the subclass that serve() makes

    # -- dispatch --------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        path = self.path.split("?", 1)[0]
        try:
            want = ROUTES.get(path)
            if want is None:
                raise NotFound(f"no route {method} {path}")
            if want != method:
                raise MethodNotAllowed(f"{method} {path}")
            if method == "GET":
                self._profile()
                return
            self._engine_call(path)
        except EngineError as e:
            self._error(e)
        except (BrokenPipeError, ConnectionResetError, Cancelled):
            self.close_connection = True
        except Exception as e:  # noqa: BLE001 — the one place that turns anything else into a 500
            log.exception("engine call failed path=%s", path)
            self._error(EngineError(f"{type(e).__name__}: {e}"))

    def _profile(self) -> None:
        body = json.dumps(self.app.ready().profile_reply(), separators=(",", ":")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _engine_call(self, path: str) -> None:
        engine = self.app.ready()
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            raise Invalid("a Content-Length is required")
        n = int(length)
        if n > self.app.max_body:
            self.close_connection = True
            raise TooLarge(f"body of {n} bytes exceeds the limit of {self.app.max_body}")
        try:
            self.app.acquire()
        except Overloaded:
            self.close_connection = True  # the body stays unread
            raise
        self._holding = True
        try:
            body = self.rfile.read(n)
            if len(body) != n:
                raise Invalid("body truncated")
            call: Callable[[Engine, bytes], None] = {
                "/v1/generate": self._generate,
                "/v1/step": self._step,
                "/v1/decode": self._decode,
                "/v1/decode_frame": self._decode_frame,
            }[path]
            try:
                call(engine, body)
            except torch.OutOfMemoryError:
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                raise Overloaded("the device ran out of memory", retry_after=5) from None
        finally:
            self._release()

    def _release(self) -> None:
        """Gives the engine slot back, once per call."""
        if getattr(self, "_holding", False):
            self._holding = False
            self.app.release()

    # -- calls -----------------------------------------------------------------------------------

    def _step(self, engine: Engine, body: bytes) -> None:
        rec = parse_request(body, "step")
        spec = Spec.from_json(rec.head.get("spec"))
        t = rec.head.get("t", 0)
        if not isinstance(t, int) or isinstance(t, bool):
            raise Invalid(f"must be an integer, got {t!r}", field="t")
        prev: np.ndarray | None = None
        if t != 0 or rec.head.get("state") is not None or rec.payload:
            if rec.head.get("state") is None:
                raise Invalid(f"missing for step {t}", field="state")
            prev = read_state(rec.head["state"], rec.payload)
        state = engine.step(spec, t, prev)
        self._single(state_record(t, state))

    def _decode_request(self, engine: Engine, body: bytes, typ: str) -> tuple[Spec, dict[str, Any], bytes]:
        rec = parse_request(body, typ)
        spec = Spec.from_json(rec.head.get("spec"))
        engine.check(spec)
        final = read_state(rec.head.get("state"), rec.payload)
        return spec, rec.head, engine.decode(spec, final)

    def _decode(self, engine: Engine, body: bytes) -> None:
        spec, _, pix = self._decode_request(engine, body, "decode")
        fd = _frames_digest(spec, pix)
        self._single(encode_record(frames_head(pix, spec.frames, spec.height, spec.width, spec.fps, fd), pix))

    def _decode_frame(self, engine: Engine, body: bytes) -> None:
        rec = parse_request(body, "decode_frame")
        i = rec.head.get("index", 0)
        spec = Spec.from_json(rec.head.get("spec"))
        engine.check(spec)
        if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < spec.frames:
            raise Invalid(f"must be between 0 and {spec.frames - 1}, got {i!r}", field="index")
        final = read_state(rec.head.get("state"), rec.payload)
        pix = engine.decode(spec, final)
        size = spec.height * spec.width * 3
        head = {
            "type": "frame",
            "index": i,
            "height": spec.height,
            "width": spec.width,
            "channels": 3,
            "encoding": ENCODING_RAW,
        }
        self._single(encode_record(head, pix[i * size : (i + 1) * size]))

    def _generate(self, engine: Engine, body: bytes) -> None:
        rec = parse_request(body, "generate")
        spec = Spec.from_json(rec.head.get("spec"))
        keep = rec.head.get("keep_states", False) is True
        engine.check(spec)
        stream = _Stream(self)
        started = time.monotonic()

        def on_step(t: int) -> None:
            self.app.progress(t, spec.steps)
            stream.record({"type": "progress", "step": t, "steps": spec.steps}, flush=True)

        try:
            gen = engine.generate(spec, keep, on_step=on_step, cancelled=stream.gone)
        except Cancelled:
            log.info("generate stopped: the caller went away spec=%s", spec)
            self.close_connection = True
            return
        except EngineError as e:
            if not stream.started:
                raise
            stream.fail(e)
            return
        log.info("generated steps=%d duration=%.3fs", spec.steps, time.monotonic() - started)
        try:
            self._generate_tail(engine, gen, keep, stream)
        except (EngineError, RuntimeError) as e:
            stream.fail(e if isinstance(e, EngineError) else EngineError(str(e)))

    def _generate_tail(self, engine: Engine, gen: Generation, keep: bool, stream: _Stream) -> None:
        spec = gen.spec
        all_kept = len(gen.states) == spec.steps + 1
        if not keep or all_kept:
            self._release()  # nothing left for the engine to do: the next caller may start
        result = {
            "type": "result",
            "profile": engine.profile_core(),
            "spec": spec.to_json(),
            "state_digests": gen.state_digests,
            "frames_digest": gen.frames_digest,
            "states": spec.steps + 1 if keep else 0,
        }
        stream.record(result)
        head = frames_head(gen.frames, spec.frames, spec.height, spec.width, spec.fps, gen.frames_digest)
        stream.record(head, gen.frames)
        if keep:
            states: Iterator[tuple[int, np.ndarray]] = engine.states(gen)
            for t, state in states:
                stream.raw(state_record(t, state, gen.state_digests[t]))
        self._release()
        stream.record({"type": "end"}, flush=True)
        stream.close()

    # -- replies ---------------------------------------------------------------------------------

    def _single(self, data: bytes) -> None:
        # The slot goes back before the reply: a caller that sends its next call as soon as it
        # has read this one must find the slot free.
        self._release()
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, e: EngineError) -> None:
        body = json.dumps(e.body(), separators=(",", ":")).encode()
        level = logging.ERROR if e.status == 500 else logging.DEBUG
        log.log(level, "engine call refused status=%d err=%s", e.status, e.message)
        self.send_response(e.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if e.retry_after is not None:
            self.send_header("Retry-After", str(e.retry_after))
        if isinstance(e, MethodNotAllowed):
            self.send_header("Allow", ROUTES.get(self.path.split("?", 1)[0], ""))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — the base class's name
        log.debug("http %s", format % args)


def _frames_digest(spec: Spec, pix: bytes) -> str:
    from .wire import frames_digest

    return frames_digest(pix, spec.frames, spec.height, spec.width, spec.fps)


class _Stream:
    """A chunked 200 reply of records, committed with its first record."""

    def __init__(self, h: Handler) -> None:
        self.h = h
        self.started = False

    def gone(self) -> bool:
        """True when the caller closed its connection (it sends nothing more while it reads)."""
        sock = self.h.connection
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def record(self, head: dict[str, Any], payload: bytes = b"", flush: bool = False) -> None:
        self.raw(encode_record(head, payload), flush)

    def raw(self, data: bytes, flush: bool = False) -> None:
        if not self.started:
            self.h.send_response(200)
            self.h.send_header("Content-Type", CONTENT_TYPE)
            self.h.send_header("X-Content-Type-Options", "nosniff")
            self.h.send_header("Transfer-Encoding", "chunked")
            self.h.end_headers()
            self.started = True
        try:
            self.h.wfile.write(b"%x\r\n%b\r\n" % (len(data), data))
            if flush:
                self.h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            raise Cancelled("the caller went away") from None

    def fail(self, e: EngineError) -> None:
        log.error("generate failed mid-stream err=%s", e.message)
        self.h._release()  # before the last record, as for a single reply
        try:
            self.record({"type": "error", **e.body()}, flush=True)
            self.close()
        except Cancelled:
            self.h.close_connection = True

    def close(self) -> None:
        self.h.wfile.write(b"0\r\n\r\n")
        self.h.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            log.debug("connection from %s ended: %s", client_address, exc)
            return
        log.exception("request from %s failed", client_address)


def make_server(app: App, host: str, port: int) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"app": app})
    server = _Server((host, port), handler)
    server.daemon_threads = True
    return server
