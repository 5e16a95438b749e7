"""The pinned profiles: model family, limits, scheduler, guidance, dtypes and weights' origin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .limits import CostModel, Limits, Range, Shape
from .spec import MAX_PROMPT_BYTES


@dataclass(frozen=True)
class CrossClass:
    """fractal.CrossClassTolerance: how far a step recomputed in another execution class may lie
    from the miner's (docs/engines.md, "Determinism classes"); measured with `fractal-diffusers
    calibrate`."""

    max_error: float
    min_cosine: float
    frame_levels: int = 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"max_error": self.max_error, "min_cosine": self.min_cosine}
        if self.frame_levels:
            out["frame_levels"] = self.frame_levels
        return out

    def problems(self) -> list[str]:
        out = []
        if not 0 < self.max_error < 1:
            out.append(f"cross_class_tolerance: max_error must be in (0, 1), got {self.max_error}")
        if not 0 < self.min_cosine < 1:
            out.append(f"cross_class_tolerance: min_cosine must be in (0, 1), got {self.min_cosine}")
        if not 0 <= self.frame_levels <= 64:
            out.append(
                f"cross_class_tolerance: frame_levels must be between 0 and 64, got {self.frame_levels}"
            )
        return out


@dataclass(frozen=True)
class ProfileDef:
    """Everything that fixes a profile's output, short of the weights themselves."""

    id: str
    version: str
    family: str  # "wan" or "ltx"
    limits: Limits
    cost: CostModel  # estimates for the GPU profiles until measured (docs/engines.md)
    scheduler: dict[str, Any]  # FlowMatchEulerDiscreteScheduler config
    guidance: float
    max_sequence_length: int
    transformer_dtype: str
    text_encoder_dtype: str
    vae_dtype: str
    attention_backend: str
    licence: str
    tiny: bool = False
    sigmas: tuple[float, ...] = ()  # a pinned schedule; empty: the scheduler's own for the spec's steps
    negative_prompt: str = ""
    decode_timestep: float = 0.0  # LTX timestep-conditioned VAE
    decode_noise_scale: float = 0.0
    repo_id: str = ""
    cross_class: CrossClass | None = None  # None until measured: no checks across classes
    frame_tolerance: int = 0  # levels of 255; 0 for an exact profile

    @property
    def ref(self) -> str:
        """The profile as a spec names it: id@version."""
        return f"{self.id}@{self.version}"

    def rules(self) -> dict[str, Any]:
        """The fields of fractal.Profile that carry the model's rules."""
        out = {
            "frame_tolerance": self.frame_tolerance,
            "limits": self.limits.to_json(),
            "cost": self.cost.to_json(),
        }
        if self.cross_class is not None:
            out["cross_class_tolerance"] = self.cross_class.to_json()
        return out

    def problems(self) -> list[str]:
        """What fractal.Profile.Validate would refuse in the rules."""
        out = self.limits.problems() + self.cost.problems()
        if self.cross_class is not None:
            out += self.cross_class.problems()
        if self.frame_tolerance != 0:
            out.append("frame_tolerance: must be 0 for an exact profile")
        return out

    def pinned(self) -> dict[str, Any]:
        """The fields that enter the profile digest (with the weights' hashes and the code version)."""
        rules = self.rules()
        rules.pop("cross_class_tolerance", None)  # a checker's threshold, not the model's output
        return {
            "id": self.id,
            "version": self.version,
            "family": self.family,
            **rules,
            "scheduler": {"class": "FlowMatchEulerDiscreteScheduler", **self.scheduler},
            "sigmas": list(self.sigmas),
            "guidance": self.guidance,
            "negative_prompt": self.negative_prompt,
            "max_sequence_length": self.max_sequence_length,
            "dtypes": {
                "transformer": self.transformer_dtype,
                "text_encoder": self.text_encoder_dtype,
                "vae": self.vae_dtype,
                "state": "float32",
            },
            "attention_backend": self.attention_backend,
            "decode": {
                "timestep": self.decode_timestep,
                "noise_scale": self.decode_noise_scale,
                "rounding": "u8 = floor(clamp((x + 1) * 127.5 + 0.5, 0, 255)) in float32",
            },
        }


WAN_SCHEDULER: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "shift": 3.0,
    "use_dynamic_shifting": False,
}
# LTX-Video 0.9.8 distilled: a pinned timestep list used as given (no shifting),
# one forward per step (guidance 1.0).
LTX_SCHEDULER: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "shift": 1.0,
    "use_dynamic_shifting": False,
}
LTX_DISTILLED_SIGMAS = (1.0, 0.993, 0.987, 0.981, 0.975, 0.909, 0.725, 0.00003)

WAN_LICENCE = "Apache-2.0 (Wan-AI/Wan2.1-T2V-1.3B-Diffusers)"
LTX_LICENCE = "LTX-Video Open Weights License (Lightricks); read the licence at the pinned revision"

# Sides and frames follow the latent grids: Wan's VAE is 4× in time and 8× in space with 2×2
# patches (frames 4k+1, sides multiples of 16); LTX's is 8× in time and 32× in space (frames 8k+1,
# sides multiples of 32). The default shapes are the models' own: Wan 1.3B at 480p, LTX at 768×512.
WAN_LIMITS = Limits(
    frames=Range(5, 81, 4),
    width=Range(256, 1280, 16),
    height=Range(256, 1280, 16),
    fps=Range(16, 16),
    steps=Range(1, 50),
    prompt_bytes=MAX_PROMPT_BYTES,
    default=Shape(frames=33, width=832, height=480, fps=16, steps=30),
)
LTX_LIMITS = Limits(
    frames=Range(9, 257, 8),
    width=Range(256, 1280, 32),
    height=Range(256, 1280, 32),
    fps=Range.of(24, 25, 30),
    steps=Range(len(LTX_DISTILLED_SIGMAS), len(LTX_DISTILLED_SIGMAS)),
    prompt_bytes=MAX_PROMPT_BYTES,
    default=Shape(frames=121, width=768, height=512, fps=30, steps=len(LTX_DISTILLED_SIGMAS)),
)

# Cost models of the GPU profiles: ESTIMATES from the architectures' FLOPs and public speed figures,
# in seconds of one H100 (docs/engines.md, "Cost models"), to be replaced by gpu_check.py measurements.
WAN_COST = CostModel(fixed=0.5, per_step=0.015, attention=0.0011, decode=0.13)
LTX_COST = CostModel(fixed=0.3, per_step=0.0015, attention=0.0000125, decode=0.015)

WAN_13B = ProfileDef(
    id="wan2.1-t2v-1.3b",
    version="1",
    family="wan",
    limits=WAN_LIMITS,
    cost=WAN_COST,
    scheduler=WAN_SCHEDULER,
    guidance=5.0,
    max_sequence_length=512,
    transformer_dtype="bfloat16",
    text_encoder_dtype="bfloat16",
    vae_dtype="float32",
    attention_backend="_native_flash",
    licence=WAN_LICENCE,
    repo_id="Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
)

LTX_2B_DISTILLED = ProfileDef(
    id="ltx-video-2b-distilled",
    version="1",
    family="ltx",
    limits=LTX_LIMITS,
    cost=LTX_COST,
    scheduler=LTX_SCHEDULER,
    sigmas=LTX_DISTILLED_SIGMAS,
    guidance=1.0,
    max_sequence_length=128,
    transformer_dtype="bfloat16",
    text_encoder_dtype="bfloat16",
    vae_dtype="bfloat16",
    attention_backend="_native_flash",
    decode_timestep=0.05,
    decode_noise_scale=0.025,
    licence=LTX_LICENCE,
    repo_id="Lightricks/LTX-Video",
)

# Tiny random-weight variants for CI: the same code paths on constructor-built
# components. Their frames are any count (the VAE's output is cut to it) and
# their sides small, so the contract suite's shapes fit and tests stay fast.
# Their cost models are CPU measurements in units of the reference engine's default video
# on the same machines (docs/engines.md).
TINY_FRAMES, TINY_FPS = Range(1, 64), Range(1, 60)

WAN_TINY = ProfileDef(
    id="wan2.1-t2v-1.3b-tiny",
    version="1",
    family="wan",
    limits=Limits(
        frames=TINY_FRAMES,
        width=Range(64, 256, 16),
        height=Range(64, 256, 16),
        fps=TINY_FPS,
        steps=Range(1, 50),
        prompt_bytes=MAX_PROMPT_BYTES,
        default=Shape(frames=5, width=96, height=64, fps=8, steps=4),
    ),
    cost=CostModel(fixed=0.03, per_step=0.1, attention=0.0, decode=6.0),
    scheduler=WAN_SCHEDULER,
    guidance=5.0,
    max_sequence_length=32,
    transformer_dtype="float32",
    text_encoder_dtype="float32",
    vae_dtype="float32",
    attention_backend="native",
    licence="Apache-2.0 (random weights generated from a fixed seed)",
    tiny=True,
    # `fractal-diffusers calibrate --tiny --threads 2` on a 2-core x86-64 CPU: honest classes (other
    # thread counts, the math attention kernel) err ≤ 3.0e-6; the cheapest cheat (fp16-cast
    # weights) 2.5e-4.
    cross_class=CrossClass(max_error=3e-5, min_cosine=0.999998, frame_levels=2),
)

LTX_TINY = ProfileDef(
    id="ltx-video-2b-distilled-tiny",
    version="1",
    family="ltx",
    limits=Limits(
        frames=TINY_FRAMES,
        width=Range(64, 256, 32),
        height=Range(64, 256, 32),
        fps=TINY_FPS,
        steps=Range(len(LTX_DISTILLED_SIGMAS), len(LTX_DISTILLED_SIGMAS)),
        prompt_bytes=MAX_PROMPT_BYTES,
        default=Shape(frames=9, width=64, height=64, fps=8, steps=len(LTX_DISTILLED_SIGMAS)),
    ),
    cost=CostModel(fixed=0.05, per_step=0.012, attention=0.0, decode=0.8),
    scheduler=LTX_SCHEDULER,
    sigmas=LTX_DISTILLED_SIGMAS,
    guidance=1.0,
    max_sequence_length=32,
    transformer_dtype="float32",
    text_encoder_dtype="float32",
    vae_dtype="float32",
    attention_backend="native",
    decode_timestep=0.05,
    decode_noise_scale=0.025,
    licence="Apache-2.0 (random weights generated from a fixed seed)",
    tiny=True,
    # As for the tiny Wan: honest classes err ≤ 2.4e-6, fp16-cast weights 1.2e-3.
    cross_class=CrossClass(max_error=5e-5, min_cosine=0.999998, frame_levels=2),
)

PROFILES: dict[str, ProfileDef] = {p.id: p for p in (WAN_13B, LTX_2B_DISTILLED, WAN_TINY, LTX_TINY)}


def lookup(profile_id: str, tiny: bool = False) -> ProfileDef:
    """Returns the profile named, or its tiny variant."""
    if tiny and not profile_id.endswith("-tiny"):
        profile_id += "-tiny"
    try:
        return PROFILES[profile_id]
    except KeyError:
        raise ValueError(f"unknown profile {profile_id!r}; known: {', '.join(sorted(PROFILES))}") from None
