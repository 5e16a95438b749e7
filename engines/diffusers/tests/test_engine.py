from __future__ import annotations

import numpy as np
import pytest
from conftest import LTX, WAN, spec_for, tiny_engine

from fractal_diffusers.engine import Engine
from fractal_diffusers.errors import Cancelled, Invalid
from fractal_diffusers.wire import frames_digest, state_digest


def test_generate_is_the_composition_of_steps(engine: Engine) -> None:
    spec = spec_for(engine.profile.id)
    gen = engine.generate(spec, keep_states=True)
    state = engine.step(spec, 0, None)
    assert state.dtype == np.float32
    assert state_digest(state) == gen.state_digests[0]
    for t in range(1, spec.steps + 1):
        state = engine.step(spec, t, state)
        assert state_digest(state) == gen.state_digests[t], f"state {t}"
        assert np.array_equal(state, gen.states[t])
        opened = engine.step(spec, t, gen.states[t - 1])  # a spot-check from the committed predecessor
        assert opened.tobytes() == gen.states[t].tobytes()
    pix = engine.decode(spec, state)
    assert pix == gen.frames
    assert frames_digest(pix, spec.frames, spec.height, spec.width, spec.fps) == gen.frames_digest
    assert len(pix) == spec.frames * spec.height * spec.width * 3


def test_same_spec_twice_same_digests(engine: Engine) -> None:
    spec = spec_for(engine.profile.id, seed=11)
    a, b = engine.generate(spec), engine.generate(spec)
    assert a.state_digests == b.state_digests
    assert a.frames_digest == b.frames_digest
    # A fresh engine (weights regenerated from the seed) agrees too.
    c = tiny_engine(engine.profile.id, prompt_cache=1).generate(spec)
    assert c.state_digests == a.state_digests and c.frames_digest == a.frames_digest


def test_seed_and_prompt_matter(engine: Engine) -> None:
    spec = spec_for(engine.profile.id)
    base = engine.generate(spec)
    for other in (spec_for(engine.profile.id, seed=8), spec_for(engine.profile.id, prompt="a green tree")):
        g = engine.generate(other)
        assert g.state_digests[-1] != base.state_digests[-1]
        assert g.frames_digest != base.frames_digest


def test_states_are_bf16_free_float32_latents() -> None:
    e = tiny_engine(WAN)
    spec = spec_for(WAN)
    assert e.state_shape(spec) == (1, 16, 2, 8, 12)
    assert e.step(spec, 0, None).shape == (1, 16, 2, 8, 12)
    assert tiny_engine(LTX).state_shape(spec_for(LTX)) == (1, 8, 2, 2, 2)


@pytest.mark.parametrize(
    "field,change",
    [
        ("prompt", {"prompt": ""}),
        ("prompt", {"prompt": "a red\nball"}),
        ("frames", {"frames": 0}),
        ("frames", {"frames": 65}),
        ("width", {"width": 100}),
        ("height", {"height": 1032}),
        ("fps", {"fps": 0}),
        ("steps", {"steps": 0}),
        ("steps", {"steps": 51}),
    ],
)
def test_out_of_limits_names_the_field(field: str, change: dict[str, object]) -> None:
    e = tiny_engine(WAN)
    with pytest.raises(Invalid) as info:
        e.generate(spec_for(WAN, **change))
    assert info.value.field == field


def test_step_refuses_bad_t_and_state() -> None:
    e = tiny_engine(WAN)
    spec = spec_for(WAN)
    s0 = e.step(spec, 0, None)
    for t, prev, field in [
        (-1, s0, "t"),
        (spec.steps + 1, s0, "t"),
        (2, None, "state"),
        (2, np.zeros((1,), np.float32), "state"),
    ]:
        with pytest.raises(Invalid) as info:
            e.step(spec, t, prev)
        assert info.value.field == field
    with pytest.raises(Invalid):
        e.decode(spec, np.zeros((1, 16, 2, 8, 8), np.float32))


def test_checkpoints_within_the_state_budget() -> None:
    spec = spec_for(WAN, steps=6)
    full = tiny_engine(WAN).generate(spec, keep_states=True)
    size = 4 * int(np.prod(tiny_engine(WAN).state_shape(spec)))
    small = tiny_engine(WAN, state_budget=3 * size)
    gen = small.generate(spec, keep_states=True)
    assert len(gen.states) < spec.steps + 1
    assert sum(s.nbytes for s in gen.states.values()) <= 3 * size
    replayed = list(small.states(gen))
    assert [t for t, _ in replayed] == list(range(spec.steps + 1))
    for t, s in replayed:
        assert s.tobytes() == full.states[t].tobytes()


def test_cancel_stops_between_steps() -> None:
    e = tiny_engine(WAN)
    done: list[int] = []
    with pytest.raises(Cancelled):
        e.generate(spec_for(WAN, steps=10), on_step=done.append, cancelled=lambda: len(done) >= 2)
    assert done == [1, 2]


def test_prompt_cache_is_bounded() -> None:
    e = tiny_engine(WAN, prompt_cache=2)
    for p in ("one", "two", "three", "four"):
        e.text(p)
    assert list(e._prompts) == ["three", "four"]


def test_profile_digest_covers_weights_and_code() -> None:
    from dataclasses import replace

    from fractal_diffusers.engine import profile_digest
    from fractal_diffusers.profiles import lookup

    p = lookup(WAN)
    w = tiny_engine(WAN).comps.weights
    assert set(w) == {"transformer", "vae", "text_encoder"}
    d = profile_digest(p, w)
    assert d == tiny_engine(WAN).digest
    assert profile_digest(p, {**w, "vae": "0" * 64}) != d
    assert profile_digest(replace(p, attention_backend="_native_math"), w) != d
    assert profile_digest(replace(p, transformer_dtype="bfloat16"), w) != d
    assert profile_digest(replace(p, scheduler={**p.scheduler, "shift": 5.0}), w) != d


def test_trajectory_equals_the_stock_wan_pipeline() -> None:
    """The own loop reproduces WanPipeline.__call__ (same components and scheduler) bit for bit."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, WanPipeline

    e = tiny_engine(WAN)
    spec = spec_for(WAN)
    p = e.profile
    pipe = WanPipeline(
        tokenizer=e.comps.tokenizer,
        text_encoder=e.comps.text_encoder,
        transformer=e.comps.transformer,
        vae=e.comps.vae,
        scheduler=FlowMatchEulerDiscreteScheduler(**p.scheduler),
    )
    pipe.set_progress_bar_config(disable=True)
    latents = pipe(
        prompt=spec.prompt,
        negative_prompt=p.negative_prompt,
        height=spec.height,
        width=spec.width,
        num_frames=spec.frames,
        num_inference_steps=spec.steps,
        guidance_scale=p.guidance,
        generator=torch.Generator("cpu").manual_seed(spec.seed),
        max_sequence_length=p.max_sequence_length,
        output_type="latent",
    ).frames
    gen = e.generate(spec, keep_states=True)
    assert latents.to(torch.float32).numpy().tobytes() == gen.states[spec.steps].tobytes()
