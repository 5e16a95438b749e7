"""GPU measurements for the diffusers engine; prints one JSON object.

On a GPU (H100/H200): the full-size Wan 2.1 T2V 1.3B architecture (the real weights with
--model-dir, else the real configs with random weights drawn on the GPU from a fixed seed) at
480×832, 33 frames, 30 steps:
  a  engine Generate time ÷ the stock WanPipeline.__call__ with the same components and scheduler
  b  one Step ÷ Generate, and Decode ÷ Generate
  c  two runs bit-identical, and three random steps recomputed bit-identically
  d  velocity-space error and cosine of a step recomputed with another attention backend, and with
     fp8-cast transformer weights (a cheat proxy)
  e  state bytes and hashing time per job
  f  the engine protocol's overhead: the HTTP server end to end ÷ a direct engine call (the Go
     miner in front of it is measured with `fractal bench`, not here)
Finishes in well under 8 minutes on an H100. --dry-run runs every part on the tiny profile on
the CPU (no GPU, no weights) to check the script itself.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fractal_diffusers import determinism
from fractal_diffusers.components import Components, build_tiny, dtype_of
from fractal_diffusers.engine import Engine
from fractal_diffusers.profiles import WAN_13B, ProfileDef, lookup
from fractal_diffusers.spec import Spec
from fractal_diffusers.wire import state_digest

PROMPT = "a yellow kite flying over green hills on a windy day"
SEED = 1234


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dry-run", action="store_true", help="the tiny profile on the CPU")
    ap.add_argument("--model-dir", type=Path, help="real Wan 2.1 1.3B weights (diffusers layout)")
    ap.add_argument("--device", default="cuda:0")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--frames", type=int, default=33)
    ap.add_argument("--width", type=int, default=832)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--alt-backend", default="_native_efficient", help="the other attention backend for (d)")
    args = ap.parse_args()

    determinism.enforce()
    started = time.monotonic()
    out: dict[str, Any] = {"check": "fractal-diffusers gpu_check", "dry_run": args.dry_run}
    if args.dry_run:
        profile, device = lookup("wan2.1-t2v-1.3b", tiny=True), torch.device("cpu")
        comps = build_tiny(profile)
        spec = Spec(PROMPT, SEED, 5, 96, 64, 16, 4)
        out["weights"] = "tiny, random from a fixed seed"
    else:
        profile, device = WAN_13B, torch.device(args.device)
        comps, out["weights"] = full_size(profile, device, args.model_dir)
        spec = Spec(PROMPT, SEED, args.frames, args.width, args.height, 16, args.steps)
    engine = Engine(profile, comps, device)
    out["profile"] = {
        "id": profile.id,
        "digest": engine.digest,
        "attention_backend": profile.attention_backend,
    }
    out["execution_class"] = engine.execution
    out["spec"] = spec.to_json()

    engine.generate(replace(spec, steps=1))  # warm-up: kernels, prompt embeddings
    engine._decoded = None
    t_gen, run1 = timed(device, lambda: engine.generate(spec, keep_states=True))
    out["a"] = stock_ratio(engine, comps, profile, spec, device, t_gen, run1)
    out["b"] = step_and_decode(engine, spec, device, t_gen, run1)
    out["c"] = reproducibility(engine, spec, run1)
    out["d"] = velocity_errors(engine, spec, run1, args.alt_backend)
    out["e"] = state_costs(run1)
    out["f"] = protocol_overhead(engine, spec, device, t_gen)
    out["seconds"] = round(time.monotonic() - started, 1)
    json.dump(out, sys.stdout, indent=1, default=str)
    print()
    return 0


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(device: torch.device, fn: Any) -> tuple[float, Any]:
    sync(device)
    t0 = time.perf_counter()
    res = fn()
    sync(device)
    return time.perf_counter() - t0, res


def full_size(profile: ProfileDef, device: torch.device, model_dir: Path | None) -> tuple[Components, str]:
    """The real weights when given, else the real architecture with seeded random weights."""
    if model_dir is not None:
        from fractal_diffusers.components import load
        from fractal_diffusers.manifest import scan

        return load(profile, model_dir, scan(model_dir)), f"real weights from {model_dir.name}"
    from diffusers import AutoencoderKLWan, WanTransformer3DModel
    from transformers import ByT5Tokenizer, UMT5Config, UMT5EncoderModel

    def build(seed: int, make: Any, dtype: torch.dtype) -> torch.nn.Module:
        torch.manual_seed(seed)
        with torch.device(device):
            return make().to(dtype).eval().requires_grad_(False)

    transformer = build(
        1,
        lambda: WanTransformer3DModel(
            patch_size=(1, 2, 2),
            num_attention_heads=12,
            attention_head_dim=128,
            in_channels=16,
            out_channels=16,
            text_dim=4096,
            freq_dim=256,
            ffn_dim=8960,
            num_layers=30,
            cross_attn_norm=True,
            qk_norm="rms_norm_across_heads",
            eps=1e-6,
        ),
        dtype_of(profile.transformer_dtype),
    )
    vae = build(2, lambda: AutoencoderKLWan(), dtype_of(profile.vae_dtype))
    # umT5-XXL's encoder shape (d_model 4096, 24 layers); ByT5's byte tokenizer stands in for
    # its sentencepiece vocabulary, which needs a file.
    tokenizer = ByT5Tokenizer()
    text_cfg = UMT5Config(
        vocab_size=len(tokenizer),
        d_model=4096,
        d_kv=64,
        d_ff=10240,
        num_layers=24,
        num_heads=64,
        feed_forward_proj="gated-gelu",
        dropout_rate=0.0,
    )
    text_encoder = build(3, lambda: UMT5EncoderModel(text_cfg), dtype_of(profile.text_encoder_dtype))
    weights = {"transformer": "random", "vae": "random", "text_encoder": "random"}
    return Components(transformer, vae, text_encoder, tokenizer, weights), "random (real Wan 1.3B configs)"


def stock_ratio(
    engine: Engine,
    comps: Components,
    profile: ProfileDef,
    spec: Spec,
    device: torch.device,
    t_gen: float,
    run1: Any,
) -> dict[str, Any]:
    """(a) The stock pipeline on the same components, scheduler and attention backend."""
    from diffusers import FlowMatchEulerDiscreteScheduler, WanPipeline

    pipe = WanPipeline(
        tokenizer=comps.tokenizer,
        text_encoder=comps.text_encoder,
        transformer=comps.transformer,
        vae=comps.vae,
        scheduler=FlowMatchEulerDiscreteScheduler(**profile.scheduler),
    )
    pipe.set_progress_bar_config(disable=True)

    def stock(output_type: str) -> Any:
        return pipe(
            prompt=spec.prompt,
            negative_prompt=profile.negative_prompt,
            height=spec.height,
            width=spec.width,
            num_frames=spec.frames,
            num_inference_steps=spec.steps,
            guidance_scale=profile.guidance,
            generator=torch.Generator("cpu").manual_seed(spec.seed),
            max_sequence_length=profile.max_sequence_length,
            output_type=output_type,
        ).frames

    t_stock, _ = timed(device, lambda: stock("np"))
    latents = stock("latent")
    same = bool(
        np.array_equal(latents.to(torch.float32).cpu().numpy(), run1.states[spec.steps])
        if spec.steps in run1.states
        else False
    )
    return {
        "engine_generate_s": round(t_gen, 3),
        "stock_call_s": round(t_stock, 3),
        "ratio": round(t_gen / t_stock, 4),
        "goal": "<= 1.03",
        "final_latent_equals_stock": same,
    }


def step_and_decode(
    engine: Engine, spec: Spec, device: torch.device, t_gen: float, run1: Any
) -> dict[str, Any]:
    """(b) One Step (median of three) and one Decode against a whole Generate."""
    steps = []
    for t in (1, spec.steps // 2 or 1, spec.steps):
        dt, _ = timed(device, lambda t=t: engine.step(spec, t, run1.states[t - 1]))
        steps.append(dt)
    t_step = float(np.median(steps))
    engine._decoded = None  # time a real decode, not the cache
    t_dec, _ = timed(device, lambda: engine.decode(spec, run1.states[spec.steps]))
    return {
        "step_s": round(t_step, 4),
        "step_over_generate": round(t_step / t_gen, 5),
        "goal": f"<= {1.2 / spec.steps:.5f} (1.2/steps)",
        "decode_s": round(t_dec, 4),
        "decode_over_generate": round(t_dec / t_gen, 4),
    }


def reproducibility(engine: Engine, spec: Spec, run1: Any) -> dict[str, Any]:
    """(c) A second run, and three random steps recomputed from the committed predecessors."""
    engine._decoded = None  # decode again, not from the cache
    run2 = engine.generate(spec)
    rng = random.Random(SEED)
    picks = sorted(rng.sample(range(1, spec.steps + 1), min(3, spec.steps)))
    recomputed = {
        t: state_digest(engine.step(spec, t, run1.states[t - 1])) == run1.state_digests[t] for t in picks
    }
    return {
        "two_runs_identical": run2.state_digests == run1.state_digests
        and run2.frames_digest == run1.frames_digest,
        "recomputed_steps": picks,
        "recomputed_identical": all(recomputed.values()),
    }


def velocity_metrics(prev: np.ndarray, ref: np.ndarray, got: np.ndarray, dsigma: float) -> dict[str, float]:
    """‖x̂ₜ − xₜ‖₂ / (|Δσ|·‖v‖₂) and cos(v̂, v), with v = (xₜ − xₜ₋₁)/Δσ."""
    v = (ref.astype(np.float64) - prev) / dsigma
    vh = (got.astype(np.float64) - prev) / dsigma
    err = float(np.linalg.norm(got.astype(np.float64) - ref) / (abs(dsigma) * np.linalg.norm(v)))
    cos = float(np.dot(v.ravel(), vh.ravel()) / (np.linalg.norm(v) * np.linalg.norm(vh)))
    return {"rel_velocity_error": err, "velocity_cosine": cos}


def velocity_errors(engine: Engine, spec: Spec, run1: Any, alt_backend: str) -> dict[str, Any]:
    """(d) One step recomputed with another attention backend, and with fp8-cast weights."""
    t = max(1, spec.steps // 2)
    sigmas, _ = engine.schedule(spec.steps)
    ds = float(sigmas[t] - sigmas[t - 1])
    prev, ref = run1.states[t - 1], run1.states[t]
    out: dict[str, Any] = {"t": t}
    tr = engine.comps.transformer
    backend = alt_backend if engine.device.type == "cuda" else "_native_math"
    try:
        tr.set_attention_backend(backend)
        out[f"backend_{backend}"] = velocity_metrics(prev, ref, engine.step(spec, t, prev), ds)
    except Exception as e:  # noqa: BLE001 — report what could not be measured
        out[f"backend_{backend}"] = {"error": f"{type(e).__name__}: {e}"}
    finally:
        tr.set_attention_backend(engine.profile.attention_backend)
    saved = {k: v.detach().to("cpu", copy=True) for k, v in tr.state_dict().items()}
    try:
        with torch.no_grad():
            for m in tr.modules():
                if isinstance(m, torch.nn.Linear):
                    m.weight.copy_(m.weight.to(torch.float8_e4m3fn).to(m.weight.dtype))
        out["fp8_weights"] = velocity_metrics(prev, ref, engine.step(spec, t, prev), ds)
    finally:
        tr.load_state_dict(saved)
    return out


def state_costs(run1: Any) -> dict[str, Any]:
    """(e) Bytes of a job's states and the time to hash them all."""
    states = [run1.states[t] for t in sorted(run1.states)]
    t0 = time.perf_counter()
    for s in states:
        state_digest(s)
    hashing = time.perf_counter() - t0
    return {
        "states": len(states),
        "state_bytes": int(states[0].nbytes),
        "job_state_bytes": int(sum(s.nbytes for s in states)),
        "hash_all_s": round(hashing, 4),
    }


def protocol_overhead(engine: Engine, spec: Spec, device: torch.device, t_gen: float) -> dict[str, Any]:
    """(f) A generation through the HTTP server on loopback ÷ a direct engine call."""
    import http.client

    from fractal_diffusers.server import App, make_server
    from fractal_diffusers.wire import encode_record

    app = App()
    app.engine = engine
    srv = make_server(app, "127.0.0.1", 0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        body = encode_record({"type": "generate", "spec": spec.to_json()})
        conn = http.client.HTTPConnection("127.0.0.1", srv.server_address[1], timeout=600)

        def over_http() -> int:
            conn.request("POST", "/v1/generate", body=body)
            resp = conn.getresponse()
            return len(resp.read())

        engine._decoded = None
        t_http, _ = timed(device, over_http)
        engine._decoded = None
        t_direct, _ = timed(device, lambda: engine.generate(spec))
    finally:
        srv.shutdown()
        srv.server_close()
    return {
        "http_generate_s": round(t_http, 3),
        "direct_generate_s": round(t_direct, 3),
        "ratio": round(t_http / t_direct, 4),
        "miner_end_to_end": "not measured here (run the Go miner in front of the engine)",
    }


if __name__ == "__main__":
    sys.exit(main())
