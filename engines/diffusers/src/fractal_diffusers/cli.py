"""fractal-diffusers: serve a profile over the engine protocol, or fetch its weights."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import determinism

log = logging.getLogger("fractal_diffusers")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.run(args))
    except (ValueError, OSError) as e:
        print(f"fractal-diffusers: {e}", file=sys.stderr)
        return 2


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fractal-diffusers", description=__doc__)
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    sub = p.add_subparsers(required=True)

    s = sub.add_parser("serve", help="serve a profile over the engine protocol")
    s.add_argument("--profile", default="wan2.1-t2v-1.3b")
    s.add_argument("--tiny", action="store_true", help="the profile's tiny random-weight variant (tests)")
    s.add_argument("--model-dir", type=Path, help="weights in diffusers layout, as fetch writes them")
    s.add_argument("--addr", default="127.0.0.1:7070", help="HOST:PORT (port 0 picks a free one)")
    s.add_argument("--device", default="", help="cuda:0, cpu (default: cuda:0 when there is a GPU)")
    s.add_argument("--allow-unpinned", action="store_true", help="serve weights a manifest does not pin yet")
    s.add_argument("--max-body", type=int, default=256 << 20, help="request body limit in bytes")
    s.add_argument("--state-budget", type=int, default=1 << 30, help="bytes of states kept per generation")
    s.add_argument("--prompt-cache", type=int, default=64, help="prompt embeddings kept")
    s.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: torch's default)")
    s.set_defaults(run=serve)

    f = sub.add_parser("fetch", help="download a profile's pinned weights and check them")
    f.add_argument("--profile", default="wan2.1-t2v-1.3b")
    f.add_argument("--dir", type=Path, required=True)
    f.add_argument("--revision", default=None, help="only for a profile whose manifest pins none yet")
    f.set_defaults(run=fetch)

    c = sub.add_parser("calibrate", help="measure honest classes and cheats for a cross-class tolerance")
    c.add_argument("--profile", default="wan2.1-t2v-1.3b")
    c.add_argument("--tiny", action="store_true", help="the profile's tiny random-weight variant")
    c.add_argument("--model-dir", type=Path, help="weights in diffusers layout, as fetch writes them")
    c.add_argument("--device", default="", help="cuda:0, cpu (default: cuda:0 when there is a GPU)")
    c.add_argument("--allow-unpinned", action="store_true", help="use weights a manifest does not pin yet")
    c.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: torch's default)")
    c.add_argument("--steps", type=int, default=8, help="sampling steps of the measured spec")
    c.add_argument("--seed", type=int, default=7)
    c.set_defaults(run=calibrate, prompt_cache=8, state_budget=1 << 30)

    r = sub.add_parser("profiles", help="print every profile's rules (limits, cost model) as JSON")
    r.set_defaults(run=profiles)
    return p


def profiles(args: argparse.Namespace) -> int:
    """Prints a JSON array: per profile, the fields of fractal.Profile but the digest (which needs
    the weights), its family and licence."""
    import json

    from .profiles import PROFILES

    out = [
        {
            "id": p.id,
            "version": p.version,
            "determinism": "exact",
            **p.rules(),
            "family": p.family,
            "tiny": p.tiny,
            "licence": p.licence,
        }
        for p in PROFILES.values()
    ]
    print(json.dumps(out, indent=1, ensure_ascii=False))
    return 0


def calibrate(args: argparse.Namespace) -> int:
    """Prints one JSON object: every step of the profile's default shape (at --steps) recomputed
    under honest variants of the execution and under cheats, and the thresholds they suggest."""
    determinism.enforce()
    import json

    import torch

    from .calibrate import measure
    from .components import TINY_SEED, build_tiny
    from .engine import Engine
    from .spec import Spec

    if args.threads:
        torch.set_num_threads(args.threads)
    engine = build_engine(args)
    assert isinstance(engine, Engine)
    other = None
    if engine.profile.tiny:
        other = Engine(engine.profile, build_tiny(engine.profile, seed=TINY_SEED + 1000), engine.device)
    d = engine.profile.limits.default
    r = engine.profile.limits.steps
    steps = min(max(args.steps, r.smallest()), r.largest())
    spec = Spec(
        prompt="a red ball bouncing over the ocean at night",
        seed=args.seed,
        frames=d.frames,
        width=d.width,
        height=d.height,
        fps=d.fps,
        steps=steps,
        profile=engine.profile.ref,
    )
    out = {"profile": engine.profile.ref, "execution_class": engine.execution, **measure(engine, spec, other)}
    print(json.dumps(out, indent=1))
    return 0


def serve(args: argparse.Namespace, build: Callable[[argparse.Namespace], Any] | None = None) -> int:
    """Serves the engine that build (default build_engine) makes from args. The server answers
    503 unavailable while it loads; weights that do not match their manifest stop the process
    with exit status 2 and the offending file named."""
    determinism.enforce()
    import torch

    from .server import App, make_server

    if args.threads:
        torch.set_num_threads(args.threads)
    host, _, port = args.addr.rpartition(":")
    app = App(max_body=args.max_body)
    server = make_server(app, host or "127.0.0.1", int(port))
    bound = server.server_address
    print(f"fractal-diffusers listening on http://{bound[0]}:{bound[1]}", flush=True)
    status = [0]

    def stop(*_: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    def refuse(err: Exception) -> None:
        print(f"fractal-diffusers serve: {err}", file=sys.stderr, flush=True)
        status[0] = 2
        stop()

    loader = threading.Thread(
        target=_load, args=(app, args, build or build_engine, refuse), name="load", daemon=True
    )
    loader.start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    sys.stdout.flush()
    os._exit(status[0])  # the loader may still run; torch's threads need no orderly teardown


def _load(
    app: object,
    args: argparse.Namespace,
    build: Callable[[argparse.Namespace], Any],
    refuse: Callable[[Exception], None],
) -> None:
    """Loads and warms the engine; the server answers 503 unavailable until it is done.
    Weights that do not match the manifest, or settings that cannot work, are refused."""
    from .errors import ManifestError
    from .server import App

    assert isinstance(app, App)
    try:
        started = time.monotonic()
        engine = build(args)
        warm_up(engine)
        app.engine = engine
        log.info(
            "engine ready profile=%s digest=%s in %.1fs",
            engine.profile.id,
            engine.digest,
            time.monotonic() - started,
        )
    except (ManifestError, ValueError) as e:
        app.load_error = f"{type(e).__name__}: {e}"
        refuse(e)
    except Exception as e:  # noqa: BLE001 — reported on every call as 503 unavailable
        log.exception("engine failed to load")
        app.load_error = f"{type(e).__name__}: {e}"


def build_engine(args: argparse.Namespace) -> object:
    import torch

    from .components import build_tiny, load
    from .engine import Engine
    from .manifest import LOCAL_NAME, Manifest, check_dir, packaged, scan
    from .profiles import lookup

    profile = lookup(args.profile, args.tiny)
    device = torch.device(args.device or ("cuda:0" if torch.cuda.is_available() else "cpu"))
    if profile.tiny:
        comps = build_tiny(profile)
    else:
        if args.model_dir is None:
            raise ValueError(f"profile {profile.id} needs --model-dir")
        manifest = packaged(profile.id)
        if not manifest.pinned:
            if not args.allow_unpinned:
                raise ValueError(f"the manifest of {profile.id} is not pinned yet; pass --allow-unpinned")
            local = args.model_dir / LOCAL_NAME
            if local.is_file():
                manifest = Manifest.from_json(local.read_text())
            else:
                manifest = Manifest(profile.id, profile.repo_id, "local", scan(args.model_dir))
        weights = check_dir(args.model_dir, manifest)
        comps = load(profile, args.model_dir, weights)
    return Engine(profile, comps, device, prompt_cache=args.prompt_cache, state_budget=args.state_budget)


def warm_up(engine: object) -> None:
    """One step and one decode of the smallest spec, so the first caller meets warm kernels."""
    from .engine import Engine

    assert isinstance(engine, Engine)
    engine.generate(engine.profile.limits.smallest("warm up"))


def fetch(args: argparse.Namespace) -> int:
    from .errors import ManifestError
    from .manifest import fetch as fetch_weights
    from .manifest import packaged
    from .profiles import lookup

    profile = lookup(args.profile)
    try:
        found = fetch_weights(packaged(profile.id), args.dir, args.revision)
    except ManifestError as e:
        print(f"fractal-diffusers fetch: {e}", file=sys.stderr)
        return 1
    print(f"{profile.id}: {len(found.files)} files of {found.repo_id}@{found.revision} in {args.dir}")
    if not packaged(profile.id).pinned:
        print("this profile's manifest is not pinned: review fractal-manifest.json and pin it in the package")
    return 0


if __name__ == "__main__":
    sys.exit(main())
