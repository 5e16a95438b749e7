from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import torch

from fractal_diffusers import determinism
from fractal_diffusers.components import build_tiny
from fractal_diffusers.engine import Engine
from fractal_diffusers.profiles import lookup
from fractal_diffusers.server import App, make_server
from fractal_diffusers.spec import Spec

determinism.enforce()

WAN = "wan2.1-t2v-1.3b-tiny"
LTX = "ltx-video-2b-distilled-tiny"


def spec_for(profile_id: str, **kw: object) -> Spec:
    base: dict[str, object] = dict(
        prompt="a red ball bouncing over the ocean at night",
        seed=7,
        frames=5,
        width=96,
        height=64,
        fps=8,
        steps=4,
    )
    if profile_id == LTX:
        base.update(width=64, height=64, frames=9, steps=8)
    base.update(kw)
    return Spec(**base)  # type: ignore[arg-type]


_engines: dict[str, Engine] = {}


def tiny_engine(profile_id: str, **kw: int) -> Engine:
    if kw:
        return Engine(lookup(profile_id), build_tiny(lookup(profile_id)), torch.device("cpu"), **kw)
    if profile_id not in _engines:
        _engines[profile_id] = Engine(lookup(profile_id), build_tiny(lookup(profile_id)), torch.device("cpu"))
    return _engines[profile_id]


@pytest.fixture(params=[WAN, LTX])
def engine(request: pytest.FixtureRequest) -> Engine:
    return tiny_engine(request.param)


@pytest.fixture
def server() -> Iterator[tuple[str, App]]:
    app = App(max_body=1 << 20)
    srv = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    host, port = srv.server_address[:2]
    try:
        yield f"http://{host}:{port}", app
    finally:
        srv.shutdown()
        srv.server_close()
